"""Dead-letter pages (topics, groups by cause, one group's records, replay) and their API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse

from dirigent.dashboard import actions
from dirigent.dashboard.actions import Actor
from dirigent.dashboard.auth import client_address, require_api_token, require_read
from dirigent.dashboard.context import Dashboard
from dirigent.dashboard.forms import confirm_page, page, refusal, remember_token
from dirigent.dashboard.models import (
    DeadLetterDoc,
    DltGroupsDoc,
    PlanDoc,
    ReplayDoc,
    ReplayRequest,
    errors,
)
from dirigent.dashboard.reads import dlt_groups, dlt_records, dlt_topic_exists

__all__ = ["router"]

router = APIRouter()
Reader = Annotated[Dashboard, Depends(require_read)]
Operator = Annotated[Dashboard, Depends(require_api_token)]
# A dead-letter topic: legal Kafka topic characters, ending in ".dlt".
Topic = Annotated[str, Path(pattern=r"^[A-Za-z0-9._-]{1,245}\.dlt$")]
Fingerprint = Annotated[str, Path(min_length=1, max_length=200)]
_ERRORS = errors(401, 403, 404)
RECORDS = 100  # shown per group


async def _existing(d: Dashboard, topic: str) -> str:
    if not await dlt_topic_exists(d, topic):
        raise HTTPException(404, f"no dead-letter topic {topic}")
    return topic


@router.get("/dlt", response_class=HTMLResponse, include_in_schema=False)
async def dlt_index(
    request: Request, d: Reader, topic: Annotated[str | None, Query(max_length=250)] = None
) -> HTMLResponse:
    """The configured dead-letter topics, and the groups of the one chosen."""
    if topic and not topic.endswith(".dlt"):
        raise HTTPException(400, f"{topic} is not a dead-letter topic (<topic>.dlt)")
    groups = await dlt_groups(d, await _existing(d, topic)) if topic else None
    return page(request, "dlt.html", d, topics=d.config.dlt_topics, topic=topic or "", found=groups)


@router.get("/dlt/{topic}/{fingerprint}", response_class=HTMLResponse, include_in_schema=False)
async def dlt_group(
    request: Request, d: Reader, topic: Topic, fingerprint: Fingerprint
) -> HTMLResponse:
    records = await dlt_records(d, await _existing(d, topic), fingerprint, limit=RECORDS)
    return page(
        request,
        "dlt_group.html",
        d,
        topic=topic,
        fingerprint=fingerprint,
        records=records,
        limit=RECORDS,
    )


@router.post(
    "/dlt/{topic}/{fingerprint}/dry-run/confirm",
    response_class=HTMLResponse,
    include_in_schema=False,
)
async def dry_run_confirm(
    request: Request,
    d: Reader,
    topic: Topic,
    fingerprint: Fingerprint,
    why: Annotated[str, Form()],
    who: Annotated[str, Form()] = "operator",
    token: Annotated[str | None, Form()] = None,
) -> HTMLResponse:
    refused = refusal(request, d, token)
    if refused is not None:
        return refused
    facts = {
        "dead letters": topic,
        "fingerprint": fingerprint,
        "who": who,
        "why": why,
        "effect": "decides each record against its saga and writes a selection file; "
        "nothing is produced",
    }
    return confirm_page(
        request,
        d,
        title=f"dry run of a replay of {fingerprint}?",
        facts=facts,
        target=f"/dlt/{topic}/{fingerprint}/dry-run",
        fields={"why": why, "who": who},
        token=token,
    )


@router.post(
    "/dlt/{topic}/{fingerprint}/dry-run", response_class=HTMLResponse, include_in_schema=False
)
async def dry_run(
    request: Request,
    d: Reader,
    topic: Topic,
    fingerprint: Fingerprint,
    why: Annotated[str, Form()],
    who: Annotated[str, Form()] = "operator",
    token: Annotated[str | None, Form()] = None,
) -> HTMLResponse:
    refused = refusal(request, d, token)
    if refused is not None:
        return refused
    summary = await actions.dry_run(
        d, await _existing(d, topic), fingerprint, Actor(who, why, client_address(request))
    )
    response = page(
        request,
        "plan.html",
        d,
        p=PlanDoc.of(summary),
        who=who,
        why=why,
        back=f"/dlt/{topic}/{fingerprint}",
    )
    return remember_token(request, response, token)


@router.post("/replays/{selection}/confirm", response_class=HTMLResponse, include_in_schema=False)
async def replay_confirm(
    request: Request,
    d: Reader,
    selection: str,
    why: Annotated[str, Form()],
    who: Annotated[str, Form()] = "operator",
    canary: Annotated[int, Form(ge=0)] = 0,
    reply_topics: Annotated[str, Form()] = "",
    token: Annotated[str | None, Form()] = None,
) -> HTMLResponse:
    refused = refusal(request, d, token)
    if refused is not None:
        return refused
    sel = actions.load_selection(d, selection)
    kind = f"canary of {canary} record(s), then the rest" if canary else "replay"
    facts = {
        "selection": selection,
        "dead letters": sel.dlt,
        "records": str(sel.replay_count),
        "to": ", ".join(sel.targets) or "-",
        "mode": kind,
        "who": who,
        "why": why,
    }
    return confirm_page(
        request,
        d,
        title=f"{kind} of {sel.replay_count} record(s)?",
        facts=facts,
        target=f"/replays/{selection}",
        fields={"why": why, "who": who, "canary": str(canary), "reply_topics": reply_topics},
        token=token,
    )


@router.post("/replays/{selection}", response_class=HTMLResponse, include_in_schema=False)
async def replay_run(
    request: Request,
    d: Reader,
    selection: str,
    why: Annotated[str, Form()],
    who: Annotated[str, Form()] = "operator",
    canary: Annotated[int, Form(ge=0)] = 0,
    reply_topics: Annotated[str, Form()] = "",
    token: Annotated[str | None, Form()] = None,
) -> HTMLResponse:
    refused = refusal(request, d, token)
    if refused is not None:
        return refused
    sel = actions.load_selection(d, selection)
    report = await actions.replay(
        d,
        sel,
        Actor(who, why, client_address(request)),
        canary=canary,
        reply_topics=tuple(reply_topics.split()),
    )
    response = page(request, "replay.html", d, r=ReplayDoc.of(report), dlt=sel.dlt)
    return remember_token(request, response, token)


@router.get(
    "/api/dlt/{topic}/groups", response_model=DltGroupsDoc, responses=_ERRORS, tags=["dead letters"]
)
async def api_groups(d: Reader, topic: Topic) -> DltGroupsDoc:
    """Dead letters of TOPIC counted by fingerprint (one kind of failure each)."""
    return DltGroupsDoc.of(await dlt_groups(d, await _existing(d, topic)))


@router.get(
    "/api/dlt/{topic}/groups/{fingerprint}",
    response_model=list[DeadLetterDoc],
    responses=_ERRORS,
    tags=["dead letters"],
)
async def api_group(
    d: Reader,
    topic: Topic,
    fingerprint: Fingerprint,
    limit: Annotated[int, Query(ge=1, le=1000)] = RECORDS,
) -> list[DeadLetterDoc]:
    """The dead letters of one fingerprint, with ledger state and saga."""
    found = await dlt_records(d, await _existing(d, topic), fingerprint, limit=limit)
    return [DeadLetterDoc.of(f) for f in found]


@router.post(
    "/api/dlt/{topic}/groups/{fingerprint}/dry-run",
    response_model=PlanDoc,
    responses=errors(400, 401, 403, 404),
    tags=["actions"],
)
async def api_dry_run(
    request: Request, d: Operator, topic: Topic, fingerprint: Fingerprint, body: ReplayRequest
) -> PlanDoc:
    """Plan a replay of one fingerprint: writes a selection, produces nothing."""
    if not body.confirm:
        raise HTTPException(400, f"dry run of {fingerprint}: send again with confirm: true")
    summary = await actions.dry_run(
        d,
        await _existing(d, topic),
        fingerprint,
        Actor(body.who, body.why, client_address(request)),
    )
    return PlanDoc.of(summary)


@router.post(
    "/api/replays/{selection}",
    response_model=ReplayDoc,
    responses=errors(400, 401, 403, 404),
    tags=["actions"],
)
async def api_replay(
    request: Request, d: Operator, selection: str, body: ReplayRequest
) -> ReplayDoc:
    """Replay a selection a dry run wrote (``canary``: that many first, then the rest)."""
    if not body.confirm:
        raise HTTPException(400, f"replay of {selection}: send again with confirm: true")
    sel = actions.load_selection(d, selection)
    report = await actions.replay(
        d,
        sel,
        Actor(body.who, body.why, client_address(request)),
        canary=body.canary,
        reply_topics=tuple(body.reply_topics),
    )
    return ReplayDoc.of(report)
