"""dirigent dlt: list, groups and replay against the real broker (records of no saga)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from dirigent.cli import main
from dirigent.events import OpsAudit, SchemaCatalog, SingleObjectCodec
from dirigent.ops import (
    AUDIT_TOPIC,
    DltFilter,
    PlanOptions,
    RunOptions,
    SagaStoreRef,
    plan,
    run_selection,
)
from dirigent.transport import (
    Failure,
    InboundRecord,
    OutgoingRecord,
    RawProducer,
    dead_letter_record,
)
from dirigent.transport.reader import read_topic
from tests.integration.conftest import TopicFactory
from tests.support.infra import Infra

FP_A, FP_B = "a" * 16, "b" * 16


@dataclass
class Dlt:
    original_topic: str
    dlt: str
    originals: list[InboundRecord]


def _original(topic: str, i: int) -> InboundRecord:
    headers = (("dg-id", f"msg-{i}".encode()), ("bin", b"\x00\x01\xfe\xff"), ("dg-id", b"again"))
    value = b"\xc3\x01" + bytes([i]) * 5
    return InboundRecord(topic, 0, 100 + i, 1_000 + i, f"saga-{i}".encode(), value, headers)


@pytest.fixture
async def filled(infra: Infra, make_topic: TopicFactory) -> Dlt:
    """Five dead letters: fingerprint A at offsets 0, 2, 4 and B at 1, 3."""
    original_topic = await make_topic("orders")
    dlt = await make_topic("orders-dlt")
    originals = [_original(original_topic, i) for i in range(5)]
    dead = []
    for i, r in enumerate(originals):
        failure = Failure("app.errors.Declined", f"no stock {i}", "Traceback ...",
                          FP_A if i % 2 == 0 else FP_B, "reserve", 4, 10, 20)  # fmt: skip
        out = dead_letter_record(r, failure, group="g")
        dead.append(OutgoingRecord(dlt, out.value, out.key, out.headers))
    async with RawProducer(infra.kafka_bootstrap) as producer:
        await producer.send_batch(dead)
    return Dlt(original_topic, dlt, originals)


def _cli(infra: Infra, *args: str, input: str | None = None) -> Result:
    env = {"DIRIGENT_KAFKA_BOOTSTRAP": infra.kafka_bootstrap, "DIRIGENT_REDIS_URL": infra.redis_url}
    return CliRunner().invoke(main, list(args), env=env, input=input, catch_exceptions=False)


def _marked(headers: tuple[tuple[str, bytes], ...]) -> tuple[tuple[str, bytes], ...]:
    """The headers without the replay marker (checked on its own)."""
    return tuple(h for h in headers if not h[0].startswith("dirigent-replay"))


async def _audits(infra: Infra, target: str) -> list[OpsAudit]:
    codec = SingleObjectCodec(SchemaCatalog(), models=[OpsAudit])
    records = await read_topic(infra.kafka_bootstrap, AUDIT_TOPIC)
    events = [codec.decode(r.value or b"", reader=OpsAudit) for r in records]
    return [e for e in events if isinstance(e, OpsAudit) and e.target == target]


def _json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_list_shows_every_dead_letter_with_its_diagnostics(infra: Infra, filled: Dlt) -> None:
    rows = _json(_cli(infra, "dlt", "list", filled.dlt, "--json"))
    assert [r["dlt_offset"] for r in rows] == [0, 1, 2, 3, 4]
    first = rows[0]
    assert (first["topic"], first["partition"], first["offset"]) == (filled.original_topic, 0, 100)
    assert (first["error_class"], first["message"]) == ("app.errors.Declined", "no stock 0")
    assert (first["fingerprint"], first["attempts"]) == (FP_A, 4)
    assert _json(_cli(infra, "dlt", "list", filled.dlt, "--json", "--limit", "2"))[-1][
        "dlt_offset"] == 1  # fmt: skip


def test_list_does_not_commit_or_join_a_group(infra: Infra, filled: Dlt) -> None:
    # Reading twice returns everything twice: nothing was consumed for good.
    for _ in range(2):
        assert len(_json(_cli(infra, "dlt", "list", filled.dlt, "--json"))) == 5


def test_list_as_a_table_names_the_failures(infra: Infra, filled: Dlt) -> None:
    result = _cli(infra, "dlt", "list", filled.dlt)
    assert result.exit_code == 0
    assert "5 dead letter(s)" in result.output
    assert "Declined" in result.output


def test_groups_count_by_fingerprint(infra: Infra, filled: Dlt) -> None:
    groups = _json(_cli(infra, "dlt", "groups", filled.dlt, "--json"))
    assert [(g["fingerprint"], g["count"], g["sample_message"]) for g in groups] == [
        (FP_A, 3, "no stock 0"), (FP_B, 2, "no stock 1")]  # fmt: skip
    assert groups[0]["error_class"] == "app.errors.Declined"


def test_a_missing_topic_is_a_clear_error(infra: Infra, uid: str) -> None:
    result = _cli(infra, "dlt", "list", f"nope-{uid}.dlt")
    assert result.exit_code == 1
    assert f"topic nope-{uid}.dlt does not exist" in result.output


def test_replay_puts_the_original_bytes_back_marked_and_audits(
    infra: Infra, filled: Dlt, tmp_path: Path
) -> None:
    sel = str(tmp_path / "sel.jsonl")
    result = _cli(infra, "dlt", "replay", filled.dlt, "--fingerprint", FP_B, "--yes",
                  "--who", "alice", "--out", sel)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "replayed 2 record(s)" in result.output
    back = asyncio.run(read_topic(infra.kafka_bootstrap, filled.original_topic))
    expected = [filled.originals[1], filled.originals[3]]
    assert [(r.key, r.value, _marked(r.headers)) for r in back] == [
        (r.key, r.value, r.headers) for r in expected]  # fmt: skip
    markers = [dict(r.headers[len(r.headers) - 3 :]) for r in back]
    assert [m["dirigent-replay-of"] for m in markers] == [
        f"{filled.dlt}[0]@1".encode(), f"{filled.dlt}[0]@3".encode()]  # fmt: skip
    assert {m["dirigent-replayed"] for m in markers} == {b"1"}
    planned, chunk, done = asyncio.run(_audits(infra, filled.dlt))
    assert (planned.who, planned.action) == ("alice", "dlt.replay.planned")
    assert planned.details["to_replay"] == "2"
    assert json.loads(planned.details["filters"]) == {"fingerprints": [FP_B]}
    assert (chunk.action, chunk.details["positions"]) == ("dlt.replay.selection", "0:1,3")
    assert (done.action, done.details["outcome"], done.details["sent"]) == (
        "dlt.replay.done", "completed", "2")  # fmt: skip
    replay_id = markers[0]["dirigent-replay-id"].decode()
    assert planned.details["replay_id"] == done.details["replay_id"] == replay_id


def test_replay_by_offset_asks_and_stops_when_refused(
    infra: Infra, filled: Dlt, tmp_path: Path
) -> None:
    refused = _cli(infra, "dlt", "replay", filled.dlt, "--offset", "0:2", "--out",
                   str(tmp_path / "a.jsonl"), input="n\n")  # fmt: skip
    assert refused.exit_code == 1
    assert asyncio.run(read_topic(infra.kafka_bootstrap, filled.original_topic)) == []
    accepted = _cli(infra, "dlt", "replay", filled.dlt, "--offset", "2", "--offset", "4",
                    "--out", str(tmp_path / "b.jsonl"), input="y\n")  # fmt: skip
    assert accepted.exit_code == 0, accepted.output
    back = asyncio.run(read_topic(infra.kafka_bootstrap, filled.original_topic))
    assert [r.value for r in back] == [filled.originals[2].value, filled.originals[4].value]


def test_dry_run_produces_nothing(infra: Infra, filled: Dlt, tmp_path: Path) -> None:
    result = _cli(infra, "dlt", "replay", filled.dlt, "--dry-run", "--out",
                  str(tmp_path / "sel.jsonl"))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "5 record(s) would be replayed" in result.output
    assert asyncio.run(read_topic(infra.kafka_bootstrap, filled.original_topic)) == []
    assert asyncio.run(_audits(infra, filled.dlt)) == []


def test_no_match_is_an_error(infra: Infra, filled: Dlt, tmp_path: Path) -> None:
    out = tmp_path / "sel.jsonl"
    result = _cli(infra, "dlt", "replay", filled.dlt, "--fingerprint", "c" * 16, "--yes",
                  "--out", str(out))  # fmt: skip
    assert result.exit_code == 1
    assert "no dead letter" in result.output
    assert not out.exists()


async def test_replay_library_call_keeps_the_saga_partition(
    infra: Infra, make_topic: TopicFactory, tmp_path: Path
) -> None:
    original_topic = await make_topic("multi", partitions=4)
    dlt = await make_topic("multi-dlt", partitions=4)
    async with RawProducer(infra.kafka_bootstrap) as producer:
        sent = await producer.send(OutgoingRecord(original_topic, b"v", b"saga-42"))
        origin = InboundRecord(original_topic, sent.partition, sent.offset, 1, b"saga-42", b"v", ())
        out = dead_letter_record(origin, Failure("E", "m", "", FP_A, "h", 1, 1, 1), group="g")
        await producer.send(OutgoingRecord(dlt, out.value, out.key, out.headers))
    options = PlanOptions("t", store=SagaStoreRef(infra.redis_url))
    summary = await plan(infra.kafka_bootstrap, dlt, DltFilter(fingerprints=frozenset({FP_A})),
                         tmp_path / "sel.jsonl", options)  # fmt: skip
    assert summary.counts == {"replay": 1}
    report = await run_selection(infra.kafka_bootstrap, summary.selection, RunOptions("t"),
                                 redis_url=infra.redis_url)  # fmt: skip
    assert [(s.topic, s.partition) for _, s in report.sent] == [(original_topic, sent.partition)]
