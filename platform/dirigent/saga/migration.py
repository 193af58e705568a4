"""Moving running saga instances from one definition version to the next.

A :class:`Migration` is declared on the newer definition and is pure data plus pure
functions over the state, so ``dirigent saga migrate --dry-run`` can show what it would
do, and the coordinator applies it when an instance of the older version next moves.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from dirigent.saga.state import SagaState

__all__ = ["Migration", "apply_migration"]

DataMigration = Callable[[dict[str, Any]], dict[str, Any]]
StateMigration = Callable[[SagaState], SagaState]


@dataclass(frozen=True, slots=True, kw_only=True)
class Migration:
    """From ``from_version`` to ``from_version + 1``.

    - ``renames``: old step name -> new step name (its progress, command ids and timers
      carry over, so a reply or timeout of the old step reaches the new one);
    - ``data``: a pure function over the saga data (its JSON form) for the new version;
    - ``state``: an escape hatch, a pure function over the whole state, applied last.

    Steps that exist only in the new version and come before an instance's position are
    never run for it (it is past them); steps removed without a rename strand instances
    that have started them, and the coordinator refuses to start with such a change.

    Example::

        define_saga("order", version=2, migrations=[
            Migration(from_version=1, renames={"charge_card": "authorize_payment"})], ...)
    """

    from_version: int
    renames: Mapping[str, str] = field(default_factory=dict)
    data: DataMigration | None = None
    state: StateMigration | None = None


def apply_migration(state: SagaState, m: Migration) -> SagaState:
    """``state`` (of version ``m.from_version``) as an instance of the next version."""
    steps = {m.renames.get(n, n): s for n, s in state.steps.items()}
    queue = state.compensation_queue
    if queue is not None:
        queue = tuple(m.renames.get(n, n) for n in queue)
    early = {m.renames.get(n, n): e for n, e in state.early.items()}
    data = m.data(dict(state.data)) if m.data is not None else state.data
    moved = replace(
        state,
        steps=steps,
        compensation_queue=queue,
        early=early,
        data=data,
        definition_version=m.from_version + 1,
    )
    return m.state(moved) if m.state is not None else moved
