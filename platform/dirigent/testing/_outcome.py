"""``Outcome``: how a saga ends when one of its steps fails (a row of the author's table)."""

from __future__ import annotations

from dataclasses import dataclass

from dirigent.saga import SagaStatus

__all__ = ["Outcome"]


@dataclass(frozen=True, slots=True, init=False)
class Outcome:
    """The saga's end ``status`` and the steps ``compensated``, in the order compensated.

    Example::

        Outcome("COMPENSATED", "authorize_payment", "reserve_stock")  # newest first
        Outcome("PARKED")                                             # nothing undone

    ``status`` is a ``SagaStatus`` or its name; an unknown name raises ``ValueError``,
    a step name that is not a ``str`` raises ``TypeError``.
    """

    status: SagaStatus
    compensated: tuple[str, ...]

    def __init__(self, status: SagaStatus | str, *compensated: str) -> None:
        try:
            saga_status = SagaStatus(status)
        except ValueError:
            names = ", ".join(s.value for s in SagaStatus)
            raise ValueError(f"Outcome: no saga status {status!r} (one of {names})") from None
        for name in compensated:
            if not isinstance(name, str):
                raise TypeError(
                    f"Outcome({status!r}, ...): compensated steps are names, one per "
                    f"argument, not {name!r}"
                )
        object.__setattr__(self, "status", saga_status)
        object.__setattr__(self, "compensated", compensated)

    def __str__(self) -> str:
        return f"{self.status.value} {list(self.compensated)}"
