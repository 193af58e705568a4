"""A dashboard served by uvicorn on a free loopback port, in its own thread and loop."""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType

import uvicorn

from dirigent.config import Settings
from dirigent.dashboard import DashboardSettings, create_app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class DashboardServer:
    """``with DashboardServer(settings, config) as url:`` serves until the block ends."""

    def __init__(self, settings: Settings, config: DashboardSettings) -> None:
        self.port = free_port()
        app = create_app(settings, config)
        cfg = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", ws="none", lifespan="on"
        )
        self.server = uvicorn.Server(cfg)
        self.thread = threading.Thread(target=self.server.run, name="dashboard", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the dashboard did not start")
            time.sleep(0.05)
        return self.url

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)
