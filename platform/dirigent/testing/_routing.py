"""Where the coordinator would route an event the harness is given (its one saga or not)."""

from __future__ import annotations

from dirigent.errors import DecodeError
from dirigent.events import Event
from dirigent.saga import SagaDefinition

__all__ = ["routed_elsewhere"]

# What a correlation field or function raises on an event it cannot read (as inputs.py).
_ID_ERRORS = (AttributeError, KeyError, TypeError, ValueError)


def routed_elsewhere(definition: SagaDefinition, event: Event, saga_id: str) -> str | None:
    """Why the coordinator would not hand ``event`` to saga ``saga_id`` (``None``: it would).

    An event a wait step takes goes to the saga its correlation names; replies follow
    their saga id, which the harness sets to its own. Like the coordinator, an awaited
    event whose correlation cannot be read raises ``DecodeError``.
    """
    step = definition.wait_types.get(event.event_type)
    if step is None or step.awaits is None:
        return None
    try:
        target = step.awaits.saga_id_of(event)
    except _ID_ERRORS as exc:
        raise DecodeError(
            f"saga {definition.name}, step {step.name}: cannot correlate "
            f"{event.event_type}: {exc!r}"
        ) from exc
    if target == saga_id:
        return None
    return (
        f"{event.event_type} correlates to saga {target!r}, not {saga_id!r}: "
        "the coordinator routes it there"
    )
