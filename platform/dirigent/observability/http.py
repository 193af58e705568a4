"""``/metrics``, ``/healthz`` and ``/readyz`` over aiohttp (which faust already brings).

Served by the coordinator (``metrics_port``) and by services (``DIRIGENT_SERVICE_METRICS_PORT``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

__all__ = ["HealthServer"]


class HealthServer:
    """Serves liveness (the loop turns), readiness (partitions owned) and metrics."""

    def __init__(
        self,
        registry: CollectorRegistry,
        *,
        live: Callable[[], bool],
        ready: Callable[[], bool],
        host: str = "127.0.0.1",
        port: int = 9464,
    ) -> None:
        self.registry, self.live, self.ready = registry, live, ready
        self.host, self.port = host, port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        """Listen on ``host:port``."""
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/healthz", self._probe(self.live))
        app.router.add_get("/readyz", self._probe(self.ready))
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()

    async def close(self) -> None:
        """Stop listening (safe twice)."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _metrics(self, request: web.Request) -> web.Response:
        body = generate_latest(self.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    @staticmethod
    def _probe(
        check: Callable[[], bool],
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handler(request: web.Request) -> web.Response:
            ok = check()
            return web.json_response({"ok": ok}, status=200 if ok else 503)

        return handler
