"""dirigent's own records (saga transitions, operator audit, anomalies), bound to the packaged
schemas."""

from __future__ import annotations

from datetime import datetime
from importlib.resources import files
from pathlib import Path

from dirigent.events.model import Event

__all__ = [
    "BUILTIN_SCHEMAS",
    "Anomaly",
    "OpsAudit",
    "SagaAdmin",
    "SagaTransition",
    "SagaTransitionBatch",
]

BUILTIN_SCHEMAS = Path(str(files("dirigent.events") / "avro"))


class SagaTransition(Event, schema=BUILTIN_SCHEMAS / "SagaTransition.avsc"):
    """One state change of one saga instance (topic ``dirigent.saga.transitions``)."""

    saga_id: str
    saga_type: str
    from_status: str | None = None
    to_status: str
    step: str | None = None
    message_id: str
    causation_id: str | None = None
    version: int
    timestamp: datetime
    reason: str | None = None
    coordinator_id: str
    partition: int
    skipped: list[str] = []
    definition_version: int = 1
    cause: str = ""
    commands: list[str] = []


class SagaTransitionBatch(Event, schema=BUILTIN_SCHEMAS / "SagaTransitionBatch.avsc"):
    """Consecutive transitions of one coordinator partition, in order, in one record."""

    transitions: list[SagaTransition]


class OpsAudit(Event, schema=BUILTIN_SCHEMAS / "OpsAudit.avsc"):
    """An operator action (topic ``dirigent.ops.audit``)."""

    who: str
    action: str
    target: str
    details: dict[str, str]
    timestamp: datetime


class SagaAdmin(Event, schema=BUILTIN_SCHEMAS / "SagaAdmin.avsc"):
    """An operator's request for one saga (topic ``<coordinator group id>.admin``)."""

    saga_id: str
    action: str
    step: str | None = None
    who: str
    why: str
    requested_at: datetime


class Anomaly(Event, schema=BUILTIN_SCHEMAS / "Anomaly.avsc"):
    """A step behaving unlike its recent past (topic ``dirigent.anomalies``)."""

    anomaly_id: str
    status: str
    saga_type: str
    step: str
    metric: str
    direction: str
    value: float
    baseline: float
    scale: float
    score: float
    window_s: float
    since: datetime
    at: datetime
    detector: str = "robust_z"
    participant: str | None = None
