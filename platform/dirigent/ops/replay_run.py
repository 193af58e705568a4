"""The real run of a replay: the selection's ``replay`` entries, each checked once more,
sent in acknowledged batches, recorded in the ledger and the progress file, audited.

Per batch: fetch the records at the selected offsets; skip one that is missing or is
not the record the dry run saw (another message id), one the ledger now accounts for,
one whose saga no longer expects it; apply the edits; wait for the rate limit; send;
once the broker acknowledged every record, write their ledger entries, then the
progress file. An interruption at any point resumes from the progress file; records
acknowledged after its last rewrite are found in the target topics by their
``dirigent-replay-id`` and not sent again.
"""

from __future__ import annotations

import re
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field

from dirigent.errors import ConfigurationError, ContractError
from dirigent.ops.audit import AUDIT_TOPIC
from dirigent.ops.dlt import REPLAY_ID_HEADER, REPLAY_OF_HEADER, DeadLetter, replay_record
from dirigent.ops.dlt_ledger import Accounting, LedgerEntry, ensure_ledger, write_ledger
from dirigent.ops.dlt_scan import Found
from dirigent.ops.dlt_session import DltSession
from dirigent.ops.payload import PayloadCodec
from dirigent.ops.replay_audit import audit_done, audit_planned, audit_resumed
from dirigent.ops.replay_canary import Watch, verify_canary
from dirigent.ops.replay_checkpoint import Checkpoint, checkpoint_path
from dirigent.ops.replay_edit import edit_payload, parse_edit
from dirigent.ops.replay_plan import decide
from dirigent.ops.replay_rate import RateLimiter
from dirigent.ops.replay_select import ReplayList, Selection, message_hash
from dirigent.ops.saga_join import SagaLookup
from dirigent.transport import OutgoingRecord, RawProducer, SentRecord, dlt_topic, missing_topics
from dirigent.transport.consumer import InboundRecord
from dirigent.transport.scan import TopicReader

__all__ = ["ReplayRun", "RunOptions", "RunReport"]

_PLACE = re.compile(r"(?P<topic>.*)\[(?P<p>\d+)\]@(?P<o>\d+)")
SHOWN = 200  # sent records kept for the report


@dataclass(frozen=True)
class RunOptions:
    """How the run goes (what it replays is fixed by the selection)."""

    who: str
    again: bool = False
    canary: int = 0
    canary_timeout_s: float = 60.0
    reply_topics: tuple[str, ...] = ()
    rate_per_s: float | None = None
    batch: int = 200
    audit_topic: str = AUDIT_TOPIC


@dataclass
class RunReport:
    """What the run did; ``outcome`` is ``completed``, ``already completed`` or why it
    stopped."""

    replay_id: str
    outcome: str
    counts: Counter[str]
    resumed: bool = False
    canary: str = "none"
    sent: list[tuple[str, SentRecord]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.outcome in ("completed", "already completed")


class ReplayRun:
    """Runs one selection once (or resumes it); see the module docstring."""

    def __init__(
        self,
        session: DltSession,
        selection: Selection,
        options: RunOptions,
        producer: RawProducer,
        *,
        payloads: PayloadCodec | None = None,
    ) -> None:
        self.session, self.selection, self.options = session, selection, options
        self.producer = producer
        self.payloads = payloads
        h = selection.header
        self.again = options.again or bool(h.get("again"))
        self.to: str | None = h.get("to")
        self.edits = [parse_edit(e) for e in h.get("edits", [])]
        if self.edits and payloads is None:
            raise ValueError("a selection with edits needs the payload codec")
        self.rate = RateLimiter(options.rate_per_s)
        self.ckpt: Checkpoint | None = None
        self.report = RunReport("", "", Counter())
        self._recovered: set[tuple[int, int]] = set()

    async def run(self) -> RunReport:
        """Replay (or resume) the selection; returns what was done."""
        ckpt = self._checkpoint()
        self.report = RunReport(ckpt.replay_id, "", ckpt.counts, canary=ckpt.canary)
        if ckpt.finished:
            self.report.outcome = "already completed"
            return self.report
        chosen = self.selection.replay_list()
        if self._canary_pending:
            self._check_canary_plan()
        await self._begin(ckpt, chosen)
        progress = self.session.progress
        progress.start(f"replaying {self.selection.dlt}", len(chosen))
        try:
            for p in sorted(chosen.offsets):
                stopped = await self._partition(p, chosen, ckpt)
                if stopped:
                    return await self._end(ckpt, stopped)
        finally:
            progress.finish()
        ckpt.finished = True
        ckpt.save()
        return await self._end(ckpt, "completed")

    def _checkpoint(self) -> Checkpoint:
        path = checkpoint_path(self.selection.path)
        found = Checkpoint.load(path)
        if found is not None and found.selection_sha256 != self.selection.sha256:
            raise ContractError(f"progress file {path} belongs to another selection: "
                                f"move it away to replay {self.selection.path}")  # fmt: skip
        if found is not None and not (found.finished and self.options.again):
            self.ckpt = found
            return found
        replay_id = f"{self.selection.id}-{uuid.uuid4().hex[:6]}"
        self.ckpt = Checkpoint(path, replay_id, self.selection.id, self.selection.sha256)
        return self.ckpt

    async def _begin(self, ckpt: Checkpoint, chosen: ReplayList) -> None:
        dlt, who = self.selection.dlt, self.options.who
        await ensure_ledger(self.session.bootstrap, dlt)
        if ckpt.targets or ckpt.done:  # an interrupted run: resume it
            self.report.resumed = True
            self._recovered = await self._recover(ckpt)
            await audit_resumed(self.producer, dlt, ckpt.replay_id, who=who, done=ckpt.counts,
                                topic=self.options.audit_topic)  # fmt: skip
            return
        targets = self.selection.targets
        if missing := await missing_topics(self.session.bootstrap, targets):
            raise ConfigurationError(f"cannot replay to {', '.join(missing)}: no such topic")
        watch = await Watch.start(self.session.bootstrap, targets)
        ckpt.targets = watch.positions
        settings = {"canary": self.options.canary, "rate_per_s": self.options.rate_per_s or "",
                    "again": self.again}  # fmt: skip
        await audit_planned(self.producer, self.selection, ckpt.replay_id, chosen, who=who,
                            settings=settings, topic=self.options.audit_topic)  # fmt: skip
        ckpt.save()

    async def _recover(self, ckpt: Checkpoint) -> set[tuple[int, int]]:
        """Dead letters this replay sent after the progress file was last written."""
        found: set[tuple[int, int]] = set()
        watch = Watch(self.session.bootstrap, {t: dict(e) for t, e in ckpt.targets.items()})
        for topic in ckpt.targets:
            for _, _, d in await watch.new_records(topic):
                place = _replayed_from(d.record, ckpt.replay_id, self.selection.dlt)
                if place is not None and not ckpt.is_done(*place):
                    found.add(place)
        return found

    async def _partition(self, p: int, chosen: ReplayList, ckpt: Checkpoint) -> str | None:
        offsets, hashes = chosen.offsets[p], chosen.hashes[p]
        start = next((i for i, o in enumerate(offsets) if not ckpt.is_done(p, o)), len(offsets))
        self.session.progress.advance(start)
        async with TopicReader(self.session.bootstrap, self.selection.dlt) as reader:
            items = _records(reader, p, offsets[start:], hashes[start:], self._limit)
            async for batch in items:
                stopped = await self._batch(p, batch, chosen, ckpt)
                if stopped:
                    return stopped
        return None

    def _limit(self) -> int:
        if self._canary_pending:
            return self.options.canary
        return self.rate.batch_size(self.options.batch)

    @property
    def _canary_pending(self) -> bool:
        return self.options.canary > 0 and self.ckpt is not None and self.ckpt.canary == "none"

    async def _batch(
        self, p: int, items: list[tuple[int, int, InboundRecord | None]], chosen: ReplayList,
        ckpt: Checkpoint,
    ) -> str | None:  # fmt: skip
        letters = self._present(items, ckpt)
        sagas = self.session.sagas
        lookups: Sequence[SagaLookup | None] = (
            await sagas.lookup(letters) if sagas else [None] * len(letters)
        )
        out: list[tuple[DeadLetter, OutgoingRecord]] = []
        entries: list[LedgerEntry] = []
        for d, saga in zip(letters, lookups, strict=True):
            if d.position in self._recovered:
                ckpt.counts["sent"] += 1
                entries.append(self._entry(d.position, "sent before an interruption"))
                entries += [self._entry(dup, f"same message id as {d.position}")
                            for dup in chosen.dups.get(d.position, ())]  # fmt: skip
                continue
            record = await self._outgoing(d, saga, ckpt)
            if record is not None:
                out.append((d, record))
        canary = self._canary_pending and bool(out)
        if canary:
            self._check_verifiable([d for d, _ in out])
            watch = await Watch.start(
                self.session.bootstrap,
                [dlt_topic(t) for t in self.selection.targets] + list(self.options.reply_topics),
            )
        await self.rate.acquire(len(out))
        sent = await self.producer.send_batch([r for _, r in out]) if out else []
        ckpt.counts["sent"] += len(sent)
        for (d, _), s in zip(out, sent, strict=True):
            entries.append(self._entry(d.position, f"{s.topic}[{s.partition}]@{s.offset}"))
            entries += [self._entry(dup, f"same message id as {d.position}")
                        for dup in chosen.dups.get(d.position, ())]  # fmt: skip
            if len(self.report.sent) < SHOWN:
                self.report.sent.append((d.where, s))
        await self._settle(p, items, entries, ckpt)
        if canary:
            return await self._canary([d for d, _ in out], watch, ckpt)
        return None

    def _present(
        self, items: list[tuple[int, int, InboundRecord | None]], ckpt: Checkpoint
    ) -> list[DeadLetter]:
        """The records still there and still the ones the dry run chose."""
        letters = []
        for _, expected, record in items:
            if record is None:
                ckpt.counts["missing"] += 1
                continue
            d = DeadLetter.of(record)
            if message_hash(d.message_id) != expected:
                ckpt.counts["changed"] += 1
                continue
            letters.append(d)
        return letters

    async def _outgoing(
        self, d: DeadLetter, saga: SagaLookup | None, ckpt: Checkpoint
    ) -> OutgoingRecord | None:
        accounting = self.session.ledger.state(*d.position)
        verdict = decide(Found(d, accounting, saga), again=self.again)
        if not verdict.replay:
            ckpt.counts[f"skipped:{verdict.code}"] += 1
            return None
        value = None
        if self.edits:
            assert self.payloads is not None
            try:
                value, _ = await edit_payload(self.payloads, d.record.value, self.edits)
            except ContractError:
                ckpt.counts["skipped:edit-failed"] += 1
                return None
            ckpt.counts["edited"] += 1
        return replay_record(d, replay_id=self.report.replay_id, to=self.to, value=value)

    def _entry(self, place: tuple[int, int], note: str) -> LedgerEntry:
        return LedgerEntry(*place, Accounting.REPLAYED, self.report.replay_id, self.options.who,
                           int(time.time() * 1000), note)  # fmt: skip

    async def _settle(
        self, p: int, items: list[tuple[int, int, InboundRecord | None]],
        entries: list[LedgerEntry], ckpt: Checkpoint,
    ) -> None:  # fmt: skip
        await write_ledger(self.producer, [e.record(self.selection.dlt) for e in entries])
        for e in entries:
            self.session.ledger.add(e)
        ckpt.done[p] = items[-1][0]
        ckpt.save()
        self.session.progress.advance(len(items))

    def _check_canary_plan(self) -> None:
        """Refuse before anything is sent if the first records cannot be checked."""
        replays = sorted((e.partition, e.offset, e.saga_id) for e in self.selection.entries()
                         if e.act == "replay")  # fmt: skip
        for p, o, saga_id in replays[: self.options.canary]:
            if saga_id is None and not self.options.reply_topics:
                raise ContractError(f"canary record {self.selection.dlt}[{p}]@{o} belongs to "
                                    f"no saga: pass --reply-topic to check it by the "
                                    f"participant's reply, or --canary 0")  # fmt: skip

    def _check_verifiable(self, letters: Sequence[DeadLetter]) -> None:
        if self.options.reply_topics:
            return
        for d in letters:
            if d.saga_id is None or self.session.sagas is None:
                raise ContractError(f"canary record {d.where} belongs to no saga: pass "
                                    f"--reply-topic to check it by the participant's reply, "
                                    f"or --canary 0")  # fmt: skip

    async def _canary(
        self, letters: list[DeadLetter], watch: Watch, ckpt: Checkpoint
    ) -> str | None:
        result = await verify_canary(
            letters, sagas=self.session.sagas, watch=watch, targets=self.selection.targets,
            reply_topics=self.options.reply_topics, replay_id=ckpt.replay_id,
            timeout_s=self.options.canary_timeout_s,
        )  # fmt: skip
        # After a failure the next run (once the cause is fixed) starts with a canary again.
        ckpt.canary = "passed" if result.passed else "none"
        self.report.canary = "passed" if result.passed else f"failed: {result.detail}"
        ckpt.counts["canary_passed" if result.passed else "canary_failed"] += 1
        ckpt.save()
        return None if result.passed else f"stopped: canary failed: {result.detail}"

    async def _end(self, ckpt: Checkpoint, outcome: str) -> RunReport:
        await audit_done(self.producer, self.selection.dlt, ckpt.replay_id, who=self.options.who,
                         outcome=outcome, counts=ckpt.counts,
                         topic=self.options.audit_topic)  # fmt: skip
        self.report.outcome = outcome
        return self.report


async def _records(
    reader: TopicReader,
    p: int,
    offsets: Sequence[int],
    hashes: Sequence[int],
    limit: Callable[[], int],
) -> AsyncIterator[list[tuple[int, int, InboundRecord | None]]]:
    """``(offset, expected message hash, record)`` in batches of ``limit()`` entries."""
    batch: list[tuple[int, int, InboundRecord | None]] = []
    i = 0
    async for pairs in reader.fetch(p, offsets):
        for offset, record in pairs:
            batch.append((offset, hashes[i], record))
            i += 1
            if len(batch) >= limit():
                yield batch
                batch = []
    if batch:
        yield batch


def _replayed_from(record: InboundRecord, replay_id: str, dlt: str) -> tuple[int, int] | None:
    headers = dict(record.headers)
    if headers.get(REPLAY_ID_HEADER) != replay_id.encode():
        return None
    m = _PLACE.fullmatch((headers.get(REPLAY_OF_HEADER) or b"").decode(errors="replace"))
    if m is None or m["topic"] != dlt:
        return None
    return int(m["p"]), int(m["o"])
