"""Opt-in breaker advice: open a participant's breaker when ``dirigent watch`` says so.

``dirigent watch`` publishes an ``Anomaly`` when a step's timeout rate or latency
leaves its normal. With ``breaker_advice`` on, every coordinator process reads
``anomalies_topic`` (a consumer group of its own, so each sees every record; no
offsets are committed, so it reads the small topic from its start and ignores old
records) and opens the breaker
of the step's participant at once, instead of waiting for ``breaker_failure_threshold``
timeouts. From there the breaker runs as usual: after ``breaker_reset_s`` one probe
goes out and its reply closes the breaker. Records older than ``max_age_s`` are
ignored, and an unreadable record is logged and skipped (the advice is advisory).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from dirigent.coordinator.participants import ParticipantHealth
from dirigent.coordinator.topology import Topology
from dirigent.errors import ContractError, DirigentError
from dirigent.events import Anomaly, SchemaCatalog, SingleObjectCodec
from dirigent.observability import get_logger
from dirigent.transport import BatchConsumer, ConsumerSettings
from dirigent.transport.security import Bootstrap

__all__ = ["ADVISED_METRICS", "BreakerAdvice", "step_participants"]

log = get_logger("dirigent.coordinator.advice")

ADVISED_METRICS = frozenset({"timeout_rate", "latency_p95_s"})  # a breaker's concern


def step_participants(topology: Topology) -> dict[tuple[str, str], str]:
    """(saga type, step) -> the participant behind its command, over every version."""
    out: dict[tuple[str, str], str] = {}
    for versions in topology.catalog.versions.values():
        for d in versions.values():
            for s in d.steps.values():
                if s.sends and s.participant:
                    out[(d.name, s.name)] = s.participant
    return out


class BreakerAdvice:
    """``apply`` decides (pure but for the breaker); ``run`` feeds it from Kafka."""

    def __init__(self, health: ParticipantHealth, participants: dict[tuple[str, str], str], *,
                 clock: Callable[[], float], max_age_s: float = 120.0) -> None:  # fmt: skip
        self.health, self.participants = health, participants
        self.clock, self.max_age_s = clock, max_age_s
        self.codec = SingleObjectCodec(SchemaCatalog(), models=[Anomaly])

    def apply(self, a: Anomaly) -> str | None:
        """The participant whose breaker ``a`` opened, if any."""
        now = self.clock()
        if a.status != "open" or a.direction != "high" or a.metric not in ADVISED_METRICS:
            return None
        if a.at.timestamp() < now - self.max_age_s:
            return None
        participant = self.participants.get((a.saga_type, a.step))
        if participant is None or not self.health.trip(participant, now):
            return None
        log.warning("breaker opened on advice", participant=participant, saga_type=a.saga_type,
                    step=a.step, metric=a.metric, score=a.score)  # fmt: skip
        return participant

    async def run(self, bootstrap: Bootstrap, topic: str, group_id: str) -> None:
        """Read ``topic`` until cancelled; a Kafka fault only pauses the advice (it is
        advice: the coordinator's own breakers work without it), and nothing is
        committed, so nothing can be lost."""
        backoff = 1.0
        while True:
            try:
                await self._read(bootstrap, topic, group_id)
            except DirigentError as exc:
                log.warning("breaker advice paused", error=str(exc), retry_in_s=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)

    async def _read(self, bootstrap: Bootstrap, topic: str, group_id: str) -> None:
        consumer = BatchConsumer(bootstrap, [topic], group_id=group_id,
                                 settings=ConsumerSettings(client_id=group_id))  # fmt: skip
        async with consumer:
            while True:
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    for r in records:
                        self._one(r.value, f"{r.topic}[{r.partition}]@{r.offset}")

    def _one(self, value: bytes | None, where: str) -> None:
        try:
            a = self.codec.decode(value or b"", reader=Anomaly)
        except ContractError as exc:
            log.warning("unreadable anomaly skipped", where=where, error=str(exc))
            return
        assert isinstance(a, Anomaly)
        self.apply(a)
