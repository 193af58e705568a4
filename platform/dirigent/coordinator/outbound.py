"""Encoding what the engine decided into outbox records: commands, transitions, forwards."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime

from dirigent.coordinator.headers import HeaderMaker
from dirigent.events import (
    AvroCodec,
    Envelope,
    Event,
    OpsAudit,
    SagaTransition,
    SagaTransitionBatch,
    batch_transitions,
)
from dirigent.saga import AdminRequested, Command, Decision, SagaState, Transition
from dirigent.store import OutboxRecord
from dirigent.transport import InboundRecord, OutgoingRecord

__all__ = ["OutboundEncoder", "TransitionBatcher"]


class OutboundEncoder:
    """Builds the Kafka records of commands (message id = command id) and transitions."""

    def __init__(
        self,
        codec: AvroCodec,
        *,
        source: str,
        transitions_topic: str | None,
        audit_topic: str = "dirigent.ops.audit",
    ) -> None:
        self.codec = codec
        self.source = source
        self.transitions_topic = transitions_topic
        self.audit_topic = audit_topic
        self._headers = HeaderMaker(source)
        self.clock = time.time
        self._refs: dict[type[Event], str] = {}

    def command(
        self, cmd: Command, *, causation_id: str, at: float, traceparent: str | None = None
    ) -> OutboxRecord:
        """The record of ``cmd``, stamped with its decision time ``at``."""
        headers = self._headers.make(
            type=cmd.event.event_type, schema_ref=self._ref(type(cmd.event)),
            message_id=cmd.command_id, saga_id=cmd.saga_id, at=at, causation_id=causation_id,
            traceparent=traceparent,
        )  # fmt: skip
        value = self.codec.encode(cmd.event)
        rearm = (cmd.timeout_timer_id, cmd.timeout_s) if cmd.timeout_timer_id else None
        return OutboxRecord(cmd.topic, cmd.key.encode(), value, headers, rearm=rearm)

    def _ref(self, model: type[Event]) -> str:
        ref = self._refs.get(model)
        if ref is None:
            ref = self._refs[model] = self.codec.schema_ref(model)
        return ref

    @staticmethod
    def forward(record: InboundRecord, saga_id: str, partition: int) -> OutboxRecord:
        """``record`` as it is, keyed by its saga id, for the partition the saga lives on."""
        return OutboxRecord(
            record.topic, saga_id.encode(), record.value or b"", record.headers,
            partition=partition,
        )  # fmt: skip

    def transition(
        self, t: Transition, *, message_id: str, causation_id: str | None, partition: int
    ) -> OutboxRecord | None:
        """The ``SagaTransition`` record of ``t`` (``None`` if transitions are off).

        Built as a plain datum for the schema (no model validation: every field is
        dirigent's own), with precomputed headers: the hot path writes one per input.
        """
        if self.transitions_topic is None:
            return None
        datum = {
            "saga_id": t.saga_id,
            "saga_type": t.saga_type,
            "from_status": t.from_status.value if t.from_status else None,
            "to_status": t.to_status.value,
            "step": t.step,
            "message_id": message_id,
            "causation_id": causation_id,
            "version": t.version,
            "timestamp": datetime.fromtimestamp(t.at, UTC),  # as the model would write it
            "reason": t.reason,
            "coordinator_id": self.source,
            "partition": partition,
            "skipped": list(t.skipped),
            "definition_version": t.definition_version,
            "cause": t.cause,
            "commands": list(t.commands),
        }
        headers = self._headers.make(
            type=SagaTransition.event_type, schema_ref=self._ref(SagaTransition),
            message_id=f"{t.saga_id}:v{t.version}", saga_id=t.saga_id, at=t.at,
            causation_id=message_id,
        )  # fmt: skip
        value = self.codec.encode_trusted(SagaTransition, datum)
        return OutboxRecord(self.transitions_topic, t.saga_id.encode(), value, headers)

    def admin_outcome(
        self,
        req: AdminRequested,
        *,
        saga_id: str,
        before: SagaState | None,
        decision: Decision,
        at: float,
    ) -> OutboxRecord:
        """The audit record of an operator's request: who, why, and what came of it."""
        after = decision.state
        details = {
            "request_id": req.request_id,
            "why": req.why,
            "outcome": "refused" if after is None else "applied",
            "detail": decision.ignored or _note(decision),
            "from_status": before.status.value if before is not None else "",
            "to_status": after.status.value if after is not None else "",
            "saga_type": before.saga_type if before is not None else "",
            "step": req.step or "",
            "coordinator": self.source,
            "commands": str(len(decision.commands)),
        }
        record = OpsAudit(
            who=req.who, action=f"saga.{req.action}", target=saga_id, details=details,
            timestamp=datetime.fromtimestamp(at, UTC),
        )  # fmt: skip
        env = Envelope.new(
            type=OpsAudit.event_type,
            source=self.source,
            schema_ref=self.codec.schema_ref(OpsAudit),
            saga_id=saga_id,
            causation_id=req.request_id,
            message_id=f"{req.request_id}:outcome",
        )
        value = self.codec.encode(record)
        return OutboxRecord(self.audit_topic, saga_id.encode(), value, tuple(env.to_headers()))


class TransitionBatcher:
    """Joins the transitions among records the relay sends for one partition into
    ``SagaTransitionBatch`` records (``events/transitions.py``), at most ``max_items``
    or about ``max_bytes`` each, sent to that partition; other records pass unchanged.
    """

    def __init__(
        self, encoder: OutboundEncoder, *, max_items: int = 500, max_bytes: int = 512 * 1024
    ) -> None:
        self.encoder, self.max_items, self.max_bytes = encoder, max_items, max_bytes
        self.topic = encoder.transitions_topic

    def __call__(self, partition: int, records: Sequence[OutboxRecord]) -> list[OutgoingRecord]:
        out: list[OutgoingRecord] = []
        run: list[OutboxRecord] = []
        size = 0
        for r in records:
            if r.topic != self.topic:
                out.append(
                    OutgoingRecord(r.topic, r.value, r.key, r.headers, partition=r.partition)
                )
                continue
            if run and (len(run) >= self.max_items or size + len(r.value) > self.max_bytes):
                out.append(self._batch(partition, run))
                run, size = [], 0
            run.append(r)
            size += len(r.value)
        if run:
            out.append(self._batch(partition, run))
        return out

    def _batch(self, partition: int, run: list[OutboxRecord]) -> OutgoingRecord:
        first = run[0]
        if len(run) == 1:
            return OutgoingRecord(first.topic, first.value, first.key, first.headers)
        e = self.encoder
        value = batch_transitions(e.codec, [r.value for r in run])
        first_id = next((v.decode() for n, v in first.headers if n == "dirigent-id"), "")
        headers = e._headers.make(
            type=SagaTransitionBatch.event_type, schema_ref=e._ref(SagaTransitionBatch),
            message_id=f"{first_id}+{len(run) - 1}", saga_id=None, at=e.clock(),
        )  # fmt: skip
        return OutgoingRecord(
            first.topic, value, str(partition).encode(), headers, partition=partition
        )


def _note(decision: Decision) -> str:
    """What an applied decision says it did (its transition's note)."""
    return (decision.transition.reason or "") if decision.transition is not None else ""
