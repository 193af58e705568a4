"""An interrupted replay resumes and sends nothing twice; --to; --rate; audit chunks."""

from __future__ import annotations

import asyncio
import os
import signal
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import pytest

from dirigent.errors import PublishFailed
from dirigent.ops import (
    DltFilter,
    OffsetRef,
    PlanOptions,
    RunOptions,
    SagaStoreRef,
    plan,
    replay_audit,
    run_selection,
)
from dirigent.ops.replay_audit import parse_positions
from dirigent.transport import OutgoingRecord, RawProducer, SentRecord
from dirigent.transport.reader import read_topic
from sagas.contracts.shop import ReserveStock, StockLine
from tests.integration.conftest import TopicFactory
from tests.integration.ops.dlt_support import (
    DIRIGENT,
    audits,
    cli_process,
    command,
    dead_letter,
    failure,
    ok_json,
    shop_codec,
)
from tests.support.infra import Infra

CODEC = shop_codec(ReserveStock)
FP = "e" * 16


async def _fill(infra: Infra, make_topic: TopicFactory, count: int) -> tuple[str, str]:
    """``count`` dead letters of commands that belong to no saga; returns (original, dlt)."""
    original = await make_topic("inv.commands")
    dlt = await make_topic("inv.commands.dlt")
    letters = [(command(CODEC, ReserveStock(order_id=f"o{i}", items=[StockLine(sku="s",
                quantity=1)]), topic=original, saga_id=None, offset=i), failure(FP))
               for i in range(count)]  # fmt: skip
    for start in range(0, count, 1000):
        await dead_letter(infra.kafka_bootstrap, dlt, letters[start : start + 1000])
    return original, dlt


def _ids(records: Sequence[object]) -> Counter[str]:
    return Counter(dict(r.headers)["dirigent-id"].decode() for r in records)  # type: ignore[attr-defined]


class CrashAfterAck(RawProducer):
    """Acknowledged by the broker, then the process 'dies' before the ledger and the
    progress file are written: the worst moment for an interruption."""

    def __init__(self, bootstrap: str, topic: str, crash_on: int) -> None:
        super().__init__(bootstrap)
        self.topic, self.crash_on, self.calls = topic, crash_on, 0

    async def send_batch(self, records: Sequence[OutgoingRecord]) -> list[SentRecord]:
        sent = await super().send_batch(records)
        if records and records[0].topic == self.topic:
            self.calls += 1
            if self.calls == self.crash_on:
                raise PublishFailed("simulated crash after the broker acknowledged")
        return sent


async def test_a_replay_cut_right_after_an_acknowledgement_resumes_without_duplicates(
    infra: Infra, make_topic: TopicFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original, dlt = await _fill(infra, make_topic, 50)
    options = PlanOptions("t", store=SagaStoreRef(infra.redis_url))
    summary = await plan(infra.kafka_bootstrap, dlt, DltFilter(), tmp_path / "sel.jsonl", options)
    crash = CrashAfterAck(infra.kafka_bootstrap, original, crash_on=3)
    monkeypatch.setattr("dirigent.ops.replay.RawProducer", lambda bootstrap: crash)
    with pytest.raises(PublishFailed, match="simulated crash"):
        await run_selection(infra.kafka_bootstrap, summary.selection, RunOptions("t", batch=10),
                            redis_url=infra.redis_url)  # fmt: skip
    assert sum(_ids(await read_topic(infra.kafka_bootstrap, original)).values()) == 30
    monkeypatch.undo()
    report = await run_selection(infra.kafka_bootstrap, summary.selection,
                                 RunOptions("t", batch=10), redis_url=infra.redis_url)  # fmt: skip
    assert report.resumed
    assert report.outcome == "completed"
    ids = _ids(await read_topic(infra.kafka_bootstrap, original))
    assert len(ids) == 50
    assert set(ids.values()) == {1}  # every record once, the ones of the cut batch included
    assert report.counts["sent"] == 50
    again = await run_selection(infra.kafka_bootstrap, summary.selection, RunOptions("t"),
                                redis_url=infra.redis_url)  # fmt: skip
    assert again.outcome == "already completed"


async def test_a_killed_replay_process_resumes_without_duplicates(
    infra: Infra, make_topic: TopicFactory, tmp_path: Path
) -> None:
    original, dlt = await _fill(infra, make_topic, 120)
    sel = str(tmp_path / "sel.jsonl")
    ok_json(await cli_process(infra, "dlt", "replay", dlt, "--dry-run", "--out", sel, "--json"))
    env = {**os.environ, "DIRIGENT_KAFKA_BOOTSTRAP": infra.kafka_bootstrap,
           "DIRIGENT_REDIS_URL": infra.redis_url}  # fmt: skip
    proc = await asyncio.create_subprocess_exec(
        str(DIRIGENT), "dlt", "replay", "--selection", sel, "--yes", "--rate", "40", env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    while sum(_ids(await read_topic(infra.kafka_bootstrap, original)).values()) < 20:
        await asyncio.sleep(0.1)
    proc.send_signal(signal.SIGKILL)
    await proc.wait()
    cut = sum(_ids(await read_topic(infra.kafka_bootstrap, original)).values())
    assert cut < 120  # killed part-way (at 40 records a second)
    resumed = ok_json(await cli_process(infra, "dlt", "replay", "--selection", sel, "--yes",
                                        "--json"))  # fmt: skip
    assert resumed["resumed"] is True
    ids = _ids(await read_topic(infra.kafka_bootstrap, original))
    assert (len(ids), set(ids.values())) == (120, {1})


async def test_replay_to_another_topic_at_a_rate_with_the_selection_audited_in_chunks(
    infra: Infra, make_topic: TopicFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    original, dlt = await _fill(infra, make_topic, 300)
    elsewhere = await make_topic("inv.v2.commands")
    every_other = DltFilter(offsets=tuple(parse_offset_refs(range(0, 300, 2))))
    options = PlanOptions("t", to=elsewhere, store=SagaStoreRef(infra.redis_url))
    summary = await plan(infra.kafka_bootstrap, dlt, every_other, tmp_path / "s.jsonl", options)
    monkeypatch.setattr(replay_audit, "CHUNK_CHARS", 100)
    loop = asyncio.get_running_loop()
    started = loop.time()
    paced = RunOptions("t", rate_per_s=100)
    report = await run_selection(infra.kafka_bootstrap, summary.selection, paced,
                                 redis_url=infra.redis_url)  # fmt: skip
    assert loop.time() - started >= 1.0  # 150 records at 100/s
    assert report.counts["sent"] == 150
    assert await read_topic(infra.kafka_bootstrap, original) == []
    assert len(_ids(await read_topic(infra.kafka_bootstrap, elsewhere))) == 150
    trail = [a for a in await audits(infra, dlt) if a.details["replay_id"] == report.replay_id]
    chunks = [a for a in trail if a.action == "dlt.replay.selection"]
    assert len(chunks) == int(trail[0].details["chunks"]) > 5
    assert all(len(c.details["positions"]) <= 100 for c in chunks)
    positions = [o for c in chunks for o in parse_positions(c.details["positions"])[0]]
    assert positions == list(range(0, 300, 2))
    assert trail[0].details["to"] == elsewhere


def parse_offset_refs(offsets: range) -> list[OffsetRef]:
    return [OffsetRef(o, 0) for o in offsets]
