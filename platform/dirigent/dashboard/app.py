"""The dashboard application: pages, the JSON API under ``/api``, errors shown plainly."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from dirigent.config import Settings
from dirigent.dashboard import routes_dlt, routes_sagas
from dirigent.dashboard.context import open_dashboard, templates
from dirigent.dashboard.settings import DashboardSettings
from dirigent.errors import ConfigurationError, ContractError, DirigentError

__all__ = ["create_app"]


def create_app(settings: Settings, config: DashboardSettings) -> FastAPI:
    """The ASGI app; it connects (Redis, the partition count) when it starts serving.

    Example::

        app = create_app(Settings(), DashboardSettings(partitions=6))
        uvicorn.run(app, host="127.0.0.1", port=8700)
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.dashboard = await open_dashboard(settings, config)
        try:
            yield
        finally:
            await app.state.dashboard.close()

    app = FastAPI(
        title="dirigent dashboard",
        version="1",
        lifespan=lifespan,
        docs_url="/api/docs",
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    app.include_router(routes_sagas.router)
    app.include_router(routes_dlt.router)
    app.add_exception_handler(HTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(DirigentError, _dirigent_error)  # type: ignore[arg-type]
    return app


def _error(request: Request, status: int, detail: str) -> Response:
    if request.url.path.startswith("/api/"):
        return JSONResponse({"detail": detail}, status_code=status)
    return templates.TemplateResponse(
        request,
        "error.html",
        {"status": status, "detail": detail, "actions_enabled": False},
        status_code=status,
    )


async def _http_error(request: Request, exc: HTTPException) -> Response:
    response = _error(request, exc.status_code, str(exc.detail))
    response.headers.update(exc.headers or {})
    return response


async def _dirigent_error(request: Request, exc: DirigentError) -> Response:
    """Bad input (a selection, a contract) is the client's; the rest is the backend's."""
    status = 400 if isinstance(exc, ConfigurationError | ContractError) else 502
    return _error(request, status, str(exc))
