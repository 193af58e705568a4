"""Who may read and who may act.

Reads: loopback clients always; others only with the token. Actions: only with the
token, and never when none is configured. The API takes ``Authorization: Bearer``;
forms take a ``token`` field, remembered in an HTTP-only, same-site cookie.
"""

from __future__ import annotations

import hmac
import ipaddress

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from dirigent.dashboard.context import Dashboard, dashboard

__all__ = [
    "COOKIE",
    "client_address",
    "form_token_ok",
    "is_loopback",
    "require_api_token",
    "require_read",
    "token_matches",
]

COOKIE = "dirigent_dashboard_token"
DISABLED = "actions are disabled: no DIRIGENT_DASHBOARD_TOKEN is configured"

_bearer = HTTPBearer(auto_error=False, description="The dashboard token (DIRIGENT_DASHBOARD_TOKEN)")


def client_address(request: Request) -> str:
    """The client's address, as recorded in the audit."""
    return request.client.host if request.client else "unknown"


def is_loopback(request: Request) -> bool:
    """Whether the client connected from this machine."""
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def token_matches(d: Dashboard, given: str | None) -> bool:
    """Constant-time comparison with the configured token (``False`` if none is)."""
    if d.config.token is None or not given:
        return False
    return hmac.compare_digest(given.encode(), d.config.token.get_secret_value().encode())


def _presented(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value:
        return value.strip()
    return request.cookies.get(COOKIE)


def require_read(request: Request, d: Dashboard = Depends(dashboard)) -> Dashboard:  # noqa: B008
    """Dependency of every page and read: loopback, or the token (bearer or cookie)."""
    if is_loopback(request) or token_matches(d, _presented(request)):
        return d
    raise HTTPException(403, "reads from other hosts need the dashboard token")


def require_api_token(
    d: Dashboard = Depends(require_read),  # noqa: B008
    credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),  # noqa: B008
) -> Dashboard:
    """Dependency of every API action: the bearer token (401 without one, 403 when actions
    are disabled)."""
    if credentials is not None and not d.actions_enabled:
        raise HTTPException(403, DISABLED)
    if credentials is None or not token_matches(d, credentials.credentials):
        raise HTTPException(
            401,
            "this action needs the dashboard token (Authorization: Bearer)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return d


def form_token_ok(request: Request, d: Dashboard, field: str | None) -> str | None:
    """Why a form action is refused (``None``: allowed). The field wins over the cookie."""
    if not d.actions_enabled:
        return DISABLED
    if token_matches(d, field or request.cookies.get(COOKIE)):
        return None
    return "this action needs the dashboard token"
