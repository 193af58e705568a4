"""dlt purge / archive: only the accounted-for head of each partition ever goes."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from dirigent.ops.dlt_ledger import Accounting, LedgerEntry, ensure_ledger, write_ledger
from dirigent.transport import RawProducer
from dirigent.transport.reader import read_topic
from dirigent.transport.scan import TopicReader
from sagas.contracts.shop import ReserveStock, StockLine
from tests.integration.conftest import TopicFactory
from tests.integration.ops.dlt_support import (
    audits,
    cli,
    command,
    dead_letter,
    failure,
    ok_json,
    shop_codec,
)
from tests.support.infra import Infra

CODEC = shop_codec(ReserveStock)
FP_OLD, FP_NEW = "1" * 16, "2" * 16


@pytest.fixture
async def dlt(infra: Infra, make_topic: TopicFactory) -> str:
    """Partition 0: six dead letters, 0, 1 and 3 replayed, 2 (FP_OLD) and 4, 5 (FP_NEW) open.
    Partition 1: two dead letters, both replayed."""
    name = await make_topic("purge.dlt", partitions=2)

    def letters(n: int, fp: str) -> list:  # type: ignore[type-arg]
        return [(command(CODEC, ReserveStock(order_id=f"o{i}", items=[StockLine(sku="s",
                 quantity=1)]), topic="inv.commands", saga_id=None), failure(fp))
                for i in range(n)]  # fmt: skip

    await dead_letter(infra.kafka_bootstrap, name, letters(2, FP_OLD), partition=0)
    await dead_letter(infra.kafka_bootstrap, name, letters(2, FP_OLD), partition=0)
    await dead_letter(infra.kafka_bootstrap, name, letters(2, FP_NEW), partition=0)
    await dead_letter(infra.kafka_bootstrap, name, letters(2, FP_OLD), partition=1)
    await ensure_ledger(infra.kafka_bootstrap, name)
    replayed = ((0, 0), (0, 1), (0, 3), (1, 0), (1, 1))
    entries = [LedgerEntry(p, o, Accounting.REPLAYED, "r1", "t", 1) for p, o in replayed]
    async with RawProducer(infra.kafka_bootstrap) as producer:
        await write_ledger(producer, [e.record(name) for e in entries])
    return name


async def _starts(infra: Infra, topic: str) -> list[tuple[int, int]]:
    async with TopicReader(infra.kafka_bootstrap, topic) as reader:
        return [(b.start, b.end) for b in await reader.bounds()]


def test_a_dry_run_names_what_would_go_and_what_blocks(infra: Infra, dlt: str) -> None:
    plan = ok_json(cli(infra, "dlt", "purge", dlt, "--dry-run", "--json"))
    p0, p1 = plan["partitions"]
    assert (p0["watermark"], p0["deletable"]) == (2, 2)
    assert p0["blocked_by"].startswith(f"0:2 is not accounted for ({FP_OLD}")
    assert (p1["watermark"], p1["deletable"], p1["blocked_by"]) == (2, 2, None)
    assert plan["deletable"] == 4
    assert asyncio.run(_starts(infra, dlt)) == [(0, 6), (0, 2)]  # nothing deleted


def test_purge_deletes_only_the_accounted_head(infra: Infra, dlt: str) -> None:
    result = ok_json(cli(infra, "dlt", "purge", dlt, "--yes", "--json", "--who", "bob"))
    assert result["deleted"] == 4
    assert asyncio.run(_starts(infra, dlt)) == [(2, 6), (2, 2)]
    left = ok_json(cli(infra, "dlt", "list", dlt, "--json"))
    assert [(r["dlt_partition"], r["dlt_offset"]) for r in left] == [(0, 2), (0, 3), (0, 4), (0, 5)]
    # the ledger forgot the purged records; 0:3 stays replayed, behind the open 0:2
    assert [r["accounting"] for r in left] == [None, "replayed", None, None]
    [audit, chunk] = [
        a for a in asyncio.run(audits(infra, dlt)) if a.action.startswith("dlt.purge")
    ]
    assert (audit.who, audit.details["deletable"]) == ("bob", "4")
    assert json.loads(audit.details["watermarks"]) == {"0": 2, "1": 2}
    assert chunk.details["positions"] == "0:0-1;1:0-1"
    again = ok_json(cli(infra, "dlt", "purge", dlt, "--yes", "--json"))
    assert again["deleted"] == 0  # the open record still blocks


def test_archive_judges_dead_copies_then_deletes(infra: Infra, dlt: str) -> None:
    before = {
        (r.partition, r.offset): r for r in asyncio.run(read_topic(infra.kafka_bootstrap, dlt))
    }
    judged = ("--judged-dead", "--reason", "customer account deleted", "--fingerprint", FP_OLD)
    result = ok_json(cli(infra, "dlt", "archive", dlt, *judged, "--yes", "--json"))
    assert result["judged_dead"] == 1  # 0:2 was the only open FP_OLD record
    assert (result["deleted"], result["archived"]) == (6, 6)  # 0:0-3 and 1:0-1
    assert result["archive"] == dlt + ".archive"
    assert asyncio.run(_starts(infra, dlt)) == [(4, 6), (2, 2)]
    copies = asyncio.run(read_topic(infra.kafka_bootstrap, dlt + ".archive"))
    assert len(copies) == 6
    for c in copies:
        headers = dict(c.headers)
        origin = headers["dirigent-archived-from"].decode()
        p, o = int(origin.split("[")[1][0]), int(origin.rsplit("@", 1)[1])
        assert c.partition == p
        assert (c.key, c.value) == (before[p, o].key, before[p, o].value)
        assert c.headers[: len(before[p, o].headers)] == before[p, o].headers
        expected = "judged-dead" if (p, o) == (0, 2) else "replayed"
        assert headers["dirigent-archived-as"].decode() == expected
    actions = [a.action for a in asyncio.run(audits(infra, dlt))]
    assert actions[:2] == ["dlt.judged-dead", "dlt.judged-dead.positions"]
    assert "dlt.archive" in actions


def test_archive_to_a_file(infra: Infra, dlt: str, tmp_path: Path) -> None:
    path = tmp_path / "archive.jsonl"
    result = ok_json(cli(infra, "dlt", "archive", dlt, "--file", str(path), "--yes", "--json"))
    assert (result["archived"], result["deleted"]) == (4, 4)
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(r["partition"], r["offset"], r["accounted"]) for r in rows] == [
        (0, 0, "replayed"), (0, 1, "replayed"), (1, 0, "replayed"), (1, 1, "replayed")]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--fingerprint", FP_OLD), "the filters choose what --judged-dead judges"),
        (("--judged-dead",), "--judged-dead needs --reason"),
    ],
)
def test_refused_without_a_judgement(
    infra: Infra, dlt: str, args: tuple[str, ...], message: str
) -> None:
    result = cli(infra, "dlt", "purge", dlt, "--yes", *args)
    assert result.exit_code == 2
    assert message in result.output
    assert asyncio.run(_starts(infra, dlt)) == [(0, 6), (0, 2)]


def test_purge_asks_first(infra: Infra, dlt: str) -> None:
    result = cli(infra, "dlt", "purge", dlt, input="n\n")
    assert result.exit_code == 1
    assert asyncio.run(_starts(infra, dlt)) == [(0, 6), (0, 2)]
