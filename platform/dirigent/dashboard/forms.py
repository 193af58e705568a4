"""The confirm-then-act flow of the HTML forms: review page, refusal page, token cookie."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from dirigent.dashboard.auth import COOKIE, DISABLED, form_token_ok
from dirigent.dashboard.context import Dashboard, templates

__all__ = ["confirm_page", "page", "refusal", "remember_token"]


def page(
    request: Request, name: str, d: Dashboard, status_code: int = 200, **context: Any
) -> HTMLResponse:
    """Render ``name`` with what every page needs."""
    return templates.TemplateResponse(
        request,
        name,
        {"actions_enabled": d.actions_enabled, "group_id": d.group_id, **context},
        status_code=status_code,
    )


def refusal(request: Request, d: Dashboard, token: str | None) -> HTMLResponse | None:
    """A refusal page (401 wrong or missing token, 403 actions disabled), or ``None``."""
    why = form_token_ok(request, d, token)
    if why is None:
        return None
    return page(request, "refused.html", d, 403 if why == DISABLED else 401, reason=why)


def confirm_page(
    request: Request,
    d: Dashboard,
    *,
    title: str,
    facts: Mapping[str, str],
    target: str,
    fields: Mapping[str, str],
    token: str | None,
) -> HTMLResponse:
    """The review step: what will be done; its button posts ``fields`` to ``target``."""
    response = page(
        request, "confirm.html", d, title=title, facts=facts, target=target, fields=fields
    )
    return remember_token(request, response, token)


def remember_token(request: Request, response: HTMLResponse, token: str | None) -> HTMLResponse:
    """Keep a token given in a form field in a cookie, so the next form needs none."""
    if token:
        response.set_cookie(
            COOKIE, token, httponly=True, samesite="strict", secure=request.url.scheme == "https"
        )
    return response
