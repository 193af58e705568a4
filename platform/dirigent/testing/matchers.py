"""What ``expect_commands`` compares sent commands with: a value, a type, or ``like(...)``.

Example::

    h.expect_commands(
        ReserveStock(order_id="o-1", items=[StockLine(sku="sku-1", quantity=2)]),  # equal
        AuthorizePayment,                                      # any AuthorizePayment
        like(ReleaseStock, order_id="o-1"),                    # type plus these fields
    )
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dirigent.events import Event
from dirigent.saga import Command

__all__ = ["CommandPattern", "Like", "like", "mismatch"]


@dataclass(frozen=True, slots=True)
class Like:
    """A command of ``type`` whose ``fields`` equal the given values; build it with :func:`like`."""

    type: type[Event]
    fields: tuple[tuple[str, Any], ...]

    def matches(self, event: Event) -> bool:
        """Whether ``event`` is a ``type`` with every named field equal."""
        return isinstance(event, self.type) and all(
            getattr(event, name) == value for name, value in self.fields
        )

    def __repr__(self) -> str:
        named = "".join(f", {name}={value!r}" for name, value in self.fields)
        return f"like({self.type.__name__}{named})"


CommandPattern = Event | type[Event] | Like
"""One expected command: an event (equal in full), an event class (any command of that
type, ``Event`` itself matching anything), or a :class:`Like` (type plus chosen fields)."""


def like(event_type: type[Event], /, **fields: Any) -> Like:
    """Match commands of ``event_type`` whose named fields equal these values.

    Fields not named are not compared. A name that is no field of ``event_type`` raises
    ``TypeError`` naming it, so a typo cannot make the match vacuous.

    Example::

        h.expect_command(like(ReserveStock, order_id="o-1"))
    """
    if not (isinstance(event_type, type) and issubclass(event_type, Event)):
        raise TypeError(f"like() takes an Event class first, not {event_type!r}")
    known = event_type.model_fields
    unknown = [name for name in fields if name not in known]
    if unknown:
        names = ", ".join(repr(n) for n in unknown)
        raise TypeError(
            f"like({event_type.__name__}, ...): {event_type.__name__} has no field {names} "
            f"(its fields: {', '.join(known) or 'none'})"
        )
    return Like(event_type, tuple(fields.items()))


def mismatch(patterns: Sequence[CommandPattern], sent: Sequence[Command]) -> str | None:
    """A readable comparison of ``patterns`` with ``sent``, or ``None`` when they match."""
    n = max(len(patterns), len(sent))
    rows = [_row(i, _at(patterns, i), _at(sent, i)) for i in range(n)]
    if all(ok for ok, _ in rows):
        return None
    head = f"commands differ: expected {len(patterns)}, sent {len(sent)}\n"
    return head + "".join(text for _, text in rows)


def _at(items: Sequence[Any], i: int) -> Any:
    return items[i] if i < len(items) else None


def _row(i: int, pattern: CommandPattern | None, command: Command | None) -> tuple[bool, str]:
    sent = "nothing" if command is None else _describe_sent(command)
    if pattern is not None and command is not None and _matches(pattern, command.event):
        return True, f"  {i + 1}. ok    {sent}\n"
    expected = "nothing" if pattern is None else _describe(pattern)
    text = f"  {i + 1}. FAIL  expected {expected}\n        sent     {sent}\n"
    if pattern is not None and command is not None:
        text += "".join(f"        {d}\n" for d in _differences(pattern, command.event))
    return False, text


def _matches(pattern: CommandPattern, event: Event) -> bool:
    if isinstance(pattern, Like):
        return pattern.matches(event)
    if isinstance(pattern, Event):
        return pattern == event
    return isinstance(event, pattern)


def _describe(pattern: CommandPattern) -> str:
    return f"any {pattern.__name__}" if isinstance(pattern, type) else repr(pattern)


def _describe_sent(command: Command) -> str:
    return f"{command.step}/{command.phase}#{command.attempt}: {command.event!r}"


def _differences(pattern: CommandPattern, event: Event) -> list[str]:
    """Why ``event`` does not match: its type, or each compared field that differs."""
    if isinstance(pattern, Like):
        want, fields = pattern.type, pattern.fields
    elif isinstance(pattern, Event):
        model = type(pattern)
        want, fields = model, tuple((n, getattr(pattern, n)) for n in model.model_fields)
    else:
        want, fields = pattern, ()
    if not isinstance(event, want):
        return [f"type: expected {want.__name__}, sent {type(event).__name__}"]
    return [
        f"{name}: expected {value!r}, sent {getattr(event, name)!r}"
        for name, value in fields
        if getattr(event, name) != value
    ]
