"""Apply a batch of inputs of one partition: engine decisions, one pipelined store call.

For each input, in order: find the saga (cache, else one pipelined read for the batch),
run the pure engine, and turn the decision into one atomic store write. A lost
compare-and-set (``CONFLICT``) or a duplicate reloads those sagas and decides again.
An input that landed on the wrong partition is forwarded (an outbox record to its home
partition, written with the same atomic duplicate check); a reply whose saga does not
exist is an orphan, handed back for the dead-letter topic.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from dirigent.coordinator.inputs import Routed
from dirigent.coordinator.outbound import OutboundEncoder
from dirigent.coordinator.partition import OwnedPartition
from dirigent.coordinator.topology import Topology
from dirigent.coordinator.trace_context import command_traceparent
from dirigent.errors import FencedOut, VersionConflict
from dirigent.saga import AdminRequested, Decision, EventReceived, SagaState, TimerFired, decide
from dirigent.store import OutboxRecord, SagaStorePort, Write, WriteOutcome

__all__ = ["Applied", "BatchProcessor", "BatchResult", "Orphan", "Rejected"]


@dataclass(frozen=True, slots=True)
class Applied:
    """An input whose decision is now durable."""

    routed: Routed
    before: SagaState | None
    decision: Decision


@dataclass(frozen=True, slots=True)
class Rejected:
    """An input the saga's own code failed on (a command builder, updater or id function).

    Nothing was written for it: a record goes to the dead-letter topic, a timer is retried.
    """

    routed: Routed
    error: Exception


@dataclass(frozen=True, slots=True)
class Orphan:
    """A reply whose saga does not exist here (or is of a type not deployed here).

    A saga's state is durable before its first command is sent, and replies come back
    on the saga's own partition (forwarded there if not), so a reply can never arrive
    before its saga: an orphan is dead-lettered at once, with ``reason``.
    """

    routed: Routed
    reason: str


@dataclass
class BatchResult:
    applied: list[Applied] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    orphans: list[Orphan] = field(default_factory=list)
    duplicates: int = 0  # inputs the store had already applied (redelivery)
    forwarded: int = 0  # inputs sent on to the partition their saga lives on
    # (entry id, record) the store made durable, in outbox order: for the relay
    outbox: list[tuple[bytes, OutboxRecord]] = field(default_factory=list)


@dataclass
class _Pending:
    routed: Routed
    before: SagaState | None
    decision: Decision
    write: Write


@dataclass
class BatchProcessor:
    topology: Topology
    store: SagaStorePort
    encoder: OutboundEncoder
    clock: Callable[[], float]
    conflict_retries: int = 3
    spans: bool = False  # tracing on: commands carry their attempt's span

    async def process(self, owner: OwnedPartition, items: Sequence[Routed]) -> BatchResult:
        """Make every input's outcome durable; returns the applied decisions in order."""
        result = BatchResult()
        todo = list(items)
        for _ in range(self.conflict_retries + 1):
            if not todo:
                return result
            todo = await self._round(owner, todo, result)
        raise VersionConflict(
            f"partition {owner.number}: sagas kept changing under us "
            f"({', '.join(sorted({r.saga_id for r in todo})[:5])})"
        )

    async def _round(
        self, owner: OwnedPartition, items: list[Routed], result: BatchResult
    ) -> list[Routed]:
        states = await self._load(owner, items)
        now = self.clock()
        pending = []
        for r in items:
            orphan = self._orphan(owner.number, r, states)
            if orphan is not None:
                result.orphans.append(orphan)
                continue
            try:
                pending.append(self._decide(owner.number, states, r, now))
            except Exception as exc:  # noqa: BLE001 - user saga code: any error rejects the input
                result.rejected.append(Rejected(r, exc))
        writes = [p.write for p in pending]
        outcomes = await self.store.apply_batch(owner.number, owner.token, writes)
        retry: list[Routed] = []
        for p, res in zip(pending, outcomes, strict=True):
            if res.outcome is WriteOutcome.FENCED:
                raise FencedOut(f"partition {owner.number} is owned by a newer coordinator")
            if res.outcome is WriteOutcome.OK:
                result.outbox += zip(res.entry_ids, p.write.outbox, strict=True)
            self._settle(owner, p, res.outcome, result, retry)
        return retry

    @staticmethod
    def _settle(
        owner: OwnedPartition,
        p: _Pending,
        outcome: WriteOutcome,
        result: BatchResult,
        retry: list[Routed],
    ) -> None:
        sid = p.routed.saga_id
        if outcome is WriteOutcome.OK:  # the CAS held, so this state is what Redis has
            if p.routed.forward_to is not None:
                result.forwarded += 1
                return
            if p.decision.state is not None:
                owner.remember(sid, p.decision.state)
            result.applied.append(Applied(p.routed, p.before, p.decision))
            return
        owner.forget(sid)  # the tentative state did not land: reload next round
        if outcome is WriteOutcome.DUPLICATE:
            result.duplicates += 1
        else:
            retry.append(p.routed)

    def _orphan(
        self, partition: int, r: Routed, states: dict[str, SagaState | None]
    ) -> Orphan | None:
        """A reply (not a start, not forwarded) with no saga here of a type we run."""
        if r.definition is not None or r.forward_to is not None:
            return None
        if isinstance(r.input, AdminRequested):
            return None  # refused and audited, never dead-lettered
        state = states.get(r.saga_id)
        if state is None:
            awaited = (
                isinstance(r.input, EventReceived) and r.input.event_type in self.topology.by_wait
            )
            kind = "awaited event" if awaited else "reply"
            return Orphan(r, f"orphan {kind}: no saga {r.saga_id!r} on partition {partition}")
        if state.saga_type not in self.topology.by_name:
            return Orphan(r, f"saga {r.saga_id!r} is of type {state.saga_type!r}, not run here")
        return None

    async def _load(
        self, owner: OwnedPartition, items: list[Routed]
    ) -> dict[str, SagaState | None]:
        states: dict[str, SagaState | None] = {}
        missing = []
        for r in items:
            if r.forward_to is not None:
                continue  # not applied here: its saga lives on another partition
            if owner.has(r.saga_id):
                states[r.saga_id] = owner.cached(r.saga_id)
            elif r.saga_id not in states:
                states[r.saga_id] = None
                missing.append(r.saga_id)
        if missing:
            stored = await self.store.load_many(owner.number, missing)
            for sid, row in zip(missing, stored, strict=True):
                states[sid] = SagaState.from_json(row.state_json) if row is not None else None
        return states

    def _decide(
        self, partition: int, states: dict[str, SagaState | None], r: Routed, now: float
    ) -> _Pending:
        if r.forward_to is not None:
            decision = Decision(None, ignored=f"forwarded to partition {r.forward_to}")
            return _Pending(r, None, decision, self._forward(r))
        before = states[r.saga_id]
        definition = r.definition
        if before is not None and before.saga_type in self.topology.by_name:
            definition = self.topology.catalog.for_state(before)  # raises if stranded
        if isinstance(r.input, AdminRequested) and definition is None:
            where = "no saga" if before is None else f"saga type {before.saga_type!r} is not run"
            decision = Decision(
                None, ignored=f"{r.input.action} refused: {where} {r.saga_id!r} here"
            )
            return _Pending(r, before, decision, self._write(partition, r, before, decision, now))
        assert definition is not None  # a reply: _orphan made sure its saga is here
        decision = decide(definition, before, r.input, now)
        if decision.state is not None:
            states[r.saga_id] = decision.state  # later inputs of this batch build on it
        return _Pending(r, before, decision, self._write(partition, r, before, decision, now))

    def _forward(self, r: Routed) -> Write:
        """Send the record on, unchanged, to its saga's partition (same message id, so a
        second forward is a duplicate there)."""
        assert r.record is not None
        assert r.forward_to is not None
        watermark = (r.record.topic, r.record.offset + 1)
        forward = self.encoder.forward(r.record, r.saga_id, r.forward_to)
        return Write(
            r.message_id, r.saga_id, outbox=[forward], watermark=watermark, now=self.clock()
        )

    def _write(
        self, partition: int, r: Routed, before: SagaState | None, d: Decision, now: float
    ) -> Write:
        fired = [r.input.timer.timer_id] if isinstance(r.input, TimerFired) else []
        watermark = (r.record.topic, r.record.offset + 1) if r.record is not None else None
        admin: list[OutboxRecord] = []
        if isinstance(r.input, AdminRequested):  # applied or refused: always audited
            admin = [self.encoder.admin_outcome(r.input, saga_id=r.saga_id, before=before,
                                                decision=d, at=now)]  # fmt: skip
        if d.state is None:
            return Write(r.message_id, r.saga_id, outbox=admin, cancel_timers=fired,
                         watermark=watermark, now=now)  # fmt: skip
        causation = r.message_id
        trace = d.state.trace
        if trace is None:
            outbox = [self.encoder.command(c, causation_id=causation, at=now) for c in d.commands]
        else:
            outbox = [
                self.encoder.command(c, causation_id=causation, at=now, traceparent=(
                    command_traceparent(trace, c.step, c.phase, c.attempt, spans=self.spans)))
                for c in d.commands
            ]  # fmt: skip
        if d.transition is not None:
            audit = self.encoder.transition(
                d.transition, message_id=r.message_id, causation_id=causation, partition=partition
            )
            if audit is not None:
                outbox.append(audit)
        outbox += admin
        return Write(
            message_id=r.message_id,
            saga_id=r.saga_id,
            expected_version=before.version if before is not None else 0,
            new_version=d.state.version,
            state_json=d.state.to_json(),
            old_status=before.status.value if before is not None else None,
            new_status=d.state.status.value,
            terminal=d.state.is_terminal,
            outbox=outbox,
            timers=[(t.timer_id, t.due_at, t.to_json()) for t in d.timers],
            cancel_timers=[*d.cancel_timers, *fired],
            watermark=watermark,
            now=now,
        )
