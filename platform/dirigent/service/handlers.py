"""Handler registration: one handler per command/event type, per ``Service``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from dirigent.errors import ConfigurationError
from dirigent.events import Event
from dirigent.service.context import HandlerContext
from dirigent.service.retry import HandlerRetry

__all__ = ["Handler", "HandlerSpec", "HandlerTable", "Reply"]

E = TypeVar("E", bound=Event)
Reply = Event | Sequence[Event] | None
Handler = Callable[[E, HandlerContext], Awaitable[Reply]]


@dataclass(frozen=True, slots=True)
class HandlerSpec:
    """A registered handler: what it reads, where its replies go, how it is retried."""

    model: type[Event]
    func: Callable[[Any, HandlerContext], Awaitable[Reply]]
    name: str
    reply_topic: str
    retry: HandlerRetry


class HandlerTable:
    """Handlers by event type; registering a type twice is a configuration error."""

    def __init__(self) -> None:
        self._by_type: dict[str, HandlerSpec] = {}

    def add(self, spec: HandlerSpec) -> None:
        if not spec.model.event_type:
            raise ConfigurationError(f"{spec.model.__qualname__} is not bound to a schema")
        if spec.model.event_type in self._by_type:
            other = self._by_type[spec.model.event_type].name
            raise ConfigurationError(f"{spec.model.event_type} already handled by {other}")
        self._by_type[spec.model.event_type] = spec

    def get(self, event_type: str) -> HandlerSpec | None:
        return self._by_type.get(event_type)

    def __len__(self) -> int:
        return len(self._by_type)

    @property
    def reply_topics(self) -> list[str]:
        """Every handler's reply topic."""
        return [s.reply_topic for s in self._by_type.values()]

    @property
    def models(self) -> list[type[Event]]:
        return [s.model for s in self._by_type.values()]


def handler_name(func: Callable[..., Any]) -> str:
    return f"{func.__module__}.{getattr(func, '__qualname__', repr(func))}"
