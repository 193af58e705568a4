"""Client lifecycle shared by the Kafka clients: new -> open -> closed, never reopened."""

from __future__ import annotations

import enum

from dirigent.errors import TransportError

__all__ = ["ClientState", "Lifecycle"]


class ClientState(enum.Enum):
    NEW = "new"
    OPEN = "open"
    CLOSED = "closed"


class Lifecycle:
    """Tracks one client's state and names the client in its errors."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.state = ClientState.NEW

    def opening(self) -> bool:
        """True if the caller should start the client now (False if already open)."""
        if self.state is ClientState.CLOSED:
            raise TransportError(f"{self.what} is closed and cannot be reopened")
        return self.state is ClientState.NEW

    def opened(self) -> None:
        self.state = ClientState.OPEN

    def closing(self) -> bool:
        """True if the caller should close the client now (False if nothing to do)."""
        was_open = self.state is ClientState.OPEN
        self.state = ClientState.CLOSED
        return was_open

    def check_open(self) -> None:
        if self.state is not ClientState.OPEN:
            state = "closed" if self.state is ClientState.CLOSED else "not started"
            raise TransportError(f"{self.what} is {state}: use `async with` or `await start()`")
