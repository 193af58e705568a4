"""Where the coordinator would route an event the harness is given (its one saga or not)."""

from __future__ import annotations

from dirigent.coordinator.inputs import wait_saga_id
from dirigent.events import Event
from dirigent.saga import SagaDefinition

__all__ = ["routed_elsewhere"]


def routed_elsewhere(definition: SagaDefinition, event: Event, saga_id: str) -> str | None:
    """Why the coordinator would not hand ``event`` to saga ``saga_id`` (``None``: it would).

    An event a wait step takes goes to the saga its correlation names; replies follow
    their saga id, which the harness sets to its own. Like the coordinator, an awaited
    event whose correlation cannot be read raises ``DecodeError``.
    """
    step = definition.wait_types.get(event.event_type)
    if step is None or step.awaits is None:
        return None
    target = wait_saga_id(definition, step, event)  # the router's own rule
    if target == saga_id:
        return None
    return (
        f"{event.event_type} correlates to saga {target!r}, not {saga_id!r}: "
        "the coordinator routes it there"
    )
