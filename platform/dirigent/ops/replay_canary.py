"""The canary: were the first replayed records processed, or did they fail again?

A canary record is *processed* when its saga no longer expects it (the step it fed
moved on, or the saga now exists, for a start event: ``replay_rule.expects`` says
skip), or when a record caused by it (``dirigent-causation-id`` = its message id)
appears on one of ``reply_topics``. It has *failed* when it comes back to the dead-letter
topic of where it was sent, carrying this replay's id. The check polls until every
canary record is processed, one fails, or the timeout passes.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from dirigent.ops.dlt import DeadLetter
from dirigent.ops.replay_rule import expects
from dirigent.ops.saga_join import SagaJoin
from dirigent.transport import dlt_topic, missing_topics
from dirigent.transport.scan import TopicReader
from dirigent.transport.security import Bootstrap

__all__ = ["CanaryResult", "Watch", "verify_canary"]

POLL_S = 0.5


@dataclass
class Watch:
    """Topics to read from where they ended before the canary was sent."""

    bootstrap: Bootstrap
    positions: dict[str, dict[int, int]] = field(default_factory=dict)

    @classmethod
    async def start(cls, bootstrap: Bootstrap, topics: Sequence[str]) -> Watch:
        watch = cls(bootstrap)
        for t in sorted(set(topics) - set(await missing_topics(bootstrap, topics))):
            async with TopicReader(bootstrap, t) as reader:
                watch.positions[t] = {b.partition: b.end for b in await reader.bounds()}
        return watch

    async def new_records(self, topic: str) -> list[tuple[str | None, str | None, DeadLetter]]:
        """``(message id, causation id, as a dead letter)`` of records since last time."""
        if topic not in self.positions:
            return []
        out = []
        async with TopicReader(self.bootstrap, topic) as reader:
            for b in await reader.bounds():
                start = self.positions[topic].get(b.partition, b.start)
                async for batch in reader.scan(b.partition, max(start, b.start), b.end):
                    for r in batch:
                        d = DeadLetter.of(r)
                        out.append((d.message_id, d.causation_id, d))
                self.positions[topic][b.partition] = b.end
        return out


@dataclass(frozen=True)
class CanaryResult:
    """``passed``, or ``detail`` says which record was not processed and why."""

    passed: bool
    detail: str


async def verify_canary(
    letters: Sequence[DeadLetter],
    *,
    sagas: SagaJoin | None,
    watch: Watch,
    targets: Sequence[str],
    reply_topics: Sequence[str],
    replay_id: str,
    timeout_s: float,
) -> CanaryResult:
    """Poll until every letter is processed (``passed``), one fails again, or time is up."""
    pending = {d.message_id: d for d in letters}
    why: dict[str | None, str] = {}
    deadline = time.monotonic() + timeout_s
    while True:
        returned = await _returned(watch, targets, replay_id, pending)
        if returned is not None:
            return CanaryResult(False, returned)
        for topic in reply_topics:
            for _, cause, _ in await watch.new_records(topic):
                pending.pop(cause, None)
        if sagas is not None:
            await _moved_on(sagas, pending, why)
        if not pending:
            return CanaryResult(True, f"{len(letters)} canary record(s) processed")
        if time.monotonic() >= deadline:
            waiting = "; ".join(f"{d.where}: {why.get(mid, 'no reply seen')}"
                                for mid, d in list(pending.items())[:5])  # fmt: skip
            return CanaryResult(False, f"{len(pending)} of {len(letters)} canary record(s) "
                                f"not processed within {timeout_s:.0f}s ({waiting})")  # fmt: skip
        await asyncio.sleep(POLL_S)


async def _returned(
    watch: Watch, targets: Sequence[str], replay_id: str, pending: dict[str | None, DeadLetter]
) -> str | None:
    for target in targets:
        for mid, _, d in await watch.new_records(dlt_topic(target)):
            if d.replay_id == replay_id and mid in pending:
                return (f"canary record {pending[mid].where} failed again: "
                        f"{d.error_class}: {d.message} (now at {d.where})")  # fmt: skip
    return None


async def _moved_on(
    sagas: SagaJoin, pending: dict[str | None, DeadLetter], why: dict[str | None, str]
) -> None:
    bound = [d for d in pending.values() if d.saga_id is not None]
    for d, found in zip(bound, await sagas.lookup(bound), strict=True):
        v = expects(saga_id=d.saga_id, message_id=d.message_id, causation_id=d.causation_id,
                    state=found.state)  # fmt: skip
        if not v.replay and v.code != "saga-not-found":
            pending.pop(d.message_id, None)
        else:
            why[d.message_id] = f"saga still waits: {v.reason}"
