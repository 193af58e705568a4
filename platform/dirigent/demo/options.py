"""What one demo run does: how many sagas, which faults, how long to wait."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

__all__ = ["DemoOptions"]


def _run_id() -> str:
    return uuid.uuid4().hex[:8]


@dataclass(frozen=True, kw_only=True)
class DemoOptions:
    """Options of ``run_demo``. Rates are fractions in [0, 1].

    ``decline_rate``: payments declined (the saga compensates). ``silent_rate``: commands
    of inventory, payments and shipping never answered (the step times out after
    ``step_timeout_s``; its re-sends carry the same id and stay unanswered too, so the
    saga compensates, or parks when the silent step is the pivot).
    ``latency_ms``: mean handling time per command. Topics, consumer groups and Redis
    keys carry ``prefix`` (``demo-<run_id>-``), so a rerun never sees old messages.
    """

    sagas: int = 200
    decline_rate: float = 0.10
    silent_rate: float = 0.02
    latency_ms: float = 5.0
    stock_failure_rate: float = 0.0
    shipment_failure_rate: float = 0.0
    partitions: int = 6
    step_timeout_s: float = 10.0
    timeout_s: float | None = None  # default: 240 s, plus 0.1 s per saga above 1000
    seed: str = "dirigent"
    keep_topics: bool = False
    data_ttl_s: int = 3600  # saga state, idempotency keys and the ledger of this run
    run_id: str = field(default_factory=_run_id)

    @property
    def deadline_s(self) -> float:
        """How long to wait for the batch to end (then sagas still running fail the run)."""
        if self.timeout_s is not None:
            return self.timeout_s
        # Every saga sends about five commands, each holding a participant partition for
        # ``latency_ms``; steps that time out are re-sent (answered from the store) and
        # compensated, which queues behind the rest: allow for that work too.
        # The slowest saga that still settles: a silent step's attempts and a silent
        # compensation's (3 + 5 step timeouts of 10 s, plus backoffs), with the tail's
        # breaker holding re-sends for up to unsent_hold_s (60 s): about 200 s.
        queued_s = self.sagas * 5 * self.latency_ms / 1000 / max(1, self.partitions) * 4
        return 240.0 + 0.1 * max(0, self.sagas - 1000) + queued_s

    @property
    def prefix(self) -> str:
        return f"demo-{self.run_id}-"
