"""Saga pages (list with filters, one saga's timeline, actions) and their JSON API."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from dirigent.dashboard import actions
from dirigent.dashboard.actions import SAGA_ACTIONS, Actor
from dirigent.dashboard.auth import client_address, require_api_token, require_read
from dirigent.dashboard.context import Dashboard
from dirigent.dashboard.forms import confirm_page, page, refusal, remember_token
from dirigent.dashboard.models import (
    ActionRequest,
    OutcomeDoc,
    SagaDoc,
    SagaRowDoc,
    errors,
)
from dirigent.dashboard.reads import saga_page, timeline
from dirigent.saga import AdminAction
from dirigent.saga.state import SagaStatus

__all__ = ["router"]

router = APIRouter()
Reader = Annotated[Dashboard, Depends(require_read)]
Operator = Annotated[Dashboard, Depends(require_api_token)]
_ACTIONS = {a.value: a for a in SAGA_ACTIONS}
_ERRORS = errors(401, 403)


def _action(name: str) -> AdminAction:
    if name not in _ACTIONS:
        raise HTTPException(404, f"no saga action {name!r} (one of {', '.join(_ACTIONS)})")
    return _ACTIONS[name]


@router.get("/", include_in_schema=False)
async def home() -> RedirectResponse:
    return RedirectResponse("/sagas", status_code=303)


@router.get("/sagas", response_class=HTMLResponse, include_in_schema=False)
async def sagas_page(
    request: Request,
    d: Reader,
    status: Annotated[list[SagaStatus], Query()] = [],  # noqa: B006
    saga_type: Annotated[str | None, Query(alias="type", max_length=200)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """The saga list; ``q`` (a saga id) opens that saga if it is stored or has history."""
    if q and q.strip():
        return RedirectResponse(f"/sagas/{quote(q.strip(), safe='')}", status_code=303)
    found = await saga_page(d, statuses=tuple(status), saga_type=saga_type or None)
    return page(
        request,
        "sagas.html",
        d,
        page_=found,
        statuses=[s.value for s in SagaStatus],
        chosen={s.value for s in status},
        saga_type=saga_type or "",
    )


@router.get("/sagas/{saga_id}", response_class=HTMLResponse, include_in_schema=False)
async def saga_timeline(request: Request, d: Reader, saga_id: str) -> HTMLResponse:
    t = await timeline(d, saga_id)
    status = 404 if t.view is None and not t.entries else 200
    return page(request, "saga.html", d, status, t=t, actions=list(_ACTIONS))


@router.post(
    "/sagas/{saga_id}/{name}/confirm", response_class=HTMLResponse, include_in_schema=False
)
async def saga_confirm(
    request: Request,
    d: Reader,
    saga_id: str,
    name: str,
    why: Annotated[str, Form()],
    who: Annotated[str, Form()] = "operator",
    step: Annotated[str, Form()] = "",
    token: Annotated[str | None, Form()] = None,
) -> HTMLResponse:
    """The review step of a saga action (nothing is sent yet)."""
    action = _action(name)
    refused = refusal(request, d, token)
    if refused is not None:
        return refused
    facts = {
        "saga": saga_id,
        "action": action.value,
        "group": d.group_id,
        "who": who,
        "why": why,
        **({"step": step} if step else {}),
    }
    return confirm_page(
        request,
        d,
        title=f"{action.value} saga {saga_id}?",
        facts=facts,
        target=f"/sagas/{saga_id}/{name}",
        fields={"why": why, "who": who, "step": step},
        token=token,
    )


@router.post("/sagas/{saga_id}/{name}", response_class=HTMLResponse, include_in_schema=False)
async def saga_act(
    request: Request,
    d: Reader,
    saga_id: str,
    name: str,
    why: Annotated[str, Form()],
    who: Annotated[str, Form()] = "operator",
    step: Annotated[str, Form()] = "",
    token: Annotated[str | None, Form()] = None,
) -> HTMLResponse:
    """The confirmed action: sent to the coordinator, its answer shown."""
    action = _action(name)
    refused = refusal(request, d, token)
    if refused is not None:
        return refused
    outcome = await actions.saga_action(
        d, saga_id, action, Actor(who, why, client_address(request)), step=step or None
    )
    response = page(request, "outcome.html", d, o=OutcomeDoc.of(outcome), back=f"/sagas/{saga_id}")
    return remember_token(request, response, token)


@router.get("/api/sagas", response_model=list[SagaRowDoc], responses=_ERRORS, tags=["sagas"])
async def api_sagas(
    d: Reader,
    status: Annotated[list[SagaStatus], Query()] = [],  # noqa: B006
    saga_type: Annotated[str | None, Query(alias="type", max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> list[SagaRowDoc]:
    """Sagas of the group, newest first, by status (repeatable) and type."""
    found = await saga_page(d, statuses=tuple(status), saga_type=saga_type or None, limit=limit)
    return [SagaRowDoc.of(r) for r in found.rows]


@router.get(
    "/api/sagas/{saga_id}",
    response_model=SagaDoc,
    responses=errors(401, 403, 404),
    tags=["sagas"],
)
async def api_saga(d: Reader, saga_id: str) -> SagaDoc:
    """One saga: stored state and its timeline (transitions, operator actions)."""
    t = await timeline(d, saga_id)
    if t.view is None and not t.entries:
        raise HTTPException(404, f"saga {saga_id} is neither stored nor in the history")
    return SagaDoc.of(t)


@router.post(
    "/api/sagas/{saga_id}/actions/{name}",
    response_model=OutcomeDoc,
    responses=errors(400, 401, 403, 404),
    tags=["actions"],
)
async def api_saga_act(
    request: Request, d: Operator, saga_id: str, name: str, body: ActionRequest
) -> OutcomeDoc:
    """Retry, compensate, abort or resume a saga (``confirm: true`` required)."""
    action = _action(name)
    if not body.confirm:
        raise HTTPException(400, f"{action.value} saga {saga_id}: send again with confirm: true")
    actor = Actor(body.who, body.why, client_address(request))
    return OutcomeDoc.of(await actions.saga_action(d, saga_id, action, actor, step=body.step))
