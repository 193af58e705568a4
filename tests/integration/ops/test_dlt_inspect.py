"""dlt list / groups / show against the real broker: streaming, filters, ledger, payloads."""

from __future__ import annotations

import asyncio
import time

import pytest
from redis.asyncio import Redis

from dirigent.ops.dlt_ledger import Accounting, LedgerEntry, ensure_ledger, write_ledger
from dirigent.ops.sagas import partition_for
from dirigent.saga.state import SagaState, SagaStatus
from dirigent.store.saga_store import SagaStore, Write
from dirigent.transport import RawProducer
from dirigent.transport.retention import delete_records_before
from dirigent.transport.scan import TopicReader
from sagas.contracts.shop import AuthorizePayment, ReserveStock, StockLine
from tests.integration.conftest import TopicFactory
from tests.integration.ops.dlt_support import (
    cli,
    command,
    dead_letter,
    failure,
    ok_json,
    shop_codec,
)
from tests.support.infra import Infra

FP_A, FP_B, FP_C = "a" * 16, "b" * 16, "c" * 16
CODEC = shop_codec(ReserveStock, AuthorizePayment)
HOUR_MS = 3_600_000


def _reserve(i: int) -> ReserveStock:
    return ReserveStock(order_id=f"o{i}", items=[StockLine(sku="s", quantity=i)])


@pytest.fixture
async def dlt(infra: Infra, make_topic: TopicFactory, uid: str) -> str:
    """Six dead letters over two partitions: three kinds of failure, two topics, two
    consumer groups, two times (one an hour older than the others)."""
    name = await make_topic("mixed.dlt", partitions=2)
    now = int(time.time() * 1000)
    inv, pay = f"inv.{uid}.commands", f"pay.{uid}.commands"
    letters = [
        (command(CODEC, _reserve(0), topic=inv, saga_id=f"o0-{uid}", offset=10),
         failure(FP_A, at_ms=now - HOUR_MS)),
        (command(CODEC, _reserve(1), topic=inv, saga_id=f"o1-{uid}", offset=11),
         failure(FP_A, at_ms=now)),
        (command(CODEC, _reserve(2), topic=inv, saga_id=None, offset=12),
         failure(FP_B, cls="app.errors.Timeout", handler="inventory.release", at_ms=now)),
    ]  # fmt: skip
    pays = [
        (command(CODEC, AuthorizePayment(order_id=f"o{i}", customer_id="c", amount_cents=5,
                                         currency="EUR"), topic=pay, saga_id=f"o{i}-{uid}"),
         failure(FP_C, cls="payments.CardError", handler="payments.authorize", at_ms=now))
        for i in (3, 4, 5)
    ]  # fmt: skip
    await dead_letter(infra.kafka_bootstrap, name, letters, partition=0)
    await dead_letter(infra.kafka_bootstrap, name, pays, group="payments", partition=1)
    return name


def _places(rows: list[dict[str, object]]) -> list[str]:
    return [f"{r['dlt_partition']}:{r['dlt_offset']}" for r in rows]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ((), ["0:0", "0:1", "0:2", "1:0", "1:1", "1:2"]),
        (("--fingerprint", FP_A), ["0:0", "0:1"]),
        (("--fingerprint", FP_A, "--fingerprint", FP_B), ["0:0", "0:1", "0:2"]),
        (("--error-class", "CardError"), ["1:0", "1:1", "1:2"]),
        (("--error-class", "app.errors.Timeout"), ["0:2"]),
        (("--handler", "release"), ["0:2"]),
        (("--consumer-group", "payments"), ["1:0", "1:1", "1:2"]),
        (("--since", "30m"), ["0:1", "0:2", "1:0", "1:1", "1:2"]),
        (("--until", "30m"), ["0:0"]),
        (("--offset", "1:1"), ["1:1"]),
        (("--offset", "1"), ["0:1", "1:1"]),
        (("--fingerprint", FP_C, "--limit", "2"), ["1:0", "1:1"]),
    ],
)
def test_list_filters(infra: Infra, dlt: str, args: tuple[str, ...], expected: list[str]) -> None:
    assert _places(ok_json(cli(infra, "dlt", "list", dlt, "--json", *args))) == expected


def test_list_filters_by_original_topic_and_saga_id(infra: Infra, dlt: str, uid: str) -> None:
    rows = ok_json(cli(infra, "dlt", "list", dlt, "--json", "--topic", f"pay.{uid}.commands"))
    assert _places(rows) == ["1:0", "1:1", "1:2"]
    rows = ok_json(cli(infra, "dlt", "list", dlt, "--json", "--saga-id", f"o4-{uid}"))
    assert _places(rows) == ["1:1"]
    assert rows[0]["type"] == "shop.payments.AuthorizePayment"


def test_filters_apply_to_groups_too(infra: Infra, dlt: str) -> None:
    groups = ok_json(cli(infra, "dlt", "groups", dlt, "--json", "--since", "30m"))
    assert [(g["fingerprint"], g["count"], g["open"]) for g in groups] == [
        (FP_C, 3, 3), (FP_A, 1, 1), (FP_B, 1, 1)]  # fmt: skip


def test_a_bad_time_names_the_option(infra: Infra, dlt: str) -> None:
    result = cli(infra, "dlt", "list", dlt, "--since", "last tuesday")
    assert result.exit_code == 2
    assert "--since" in result.output
    assert "'last tuesday'" in result.output


async def _account(infra: Infra, dlt: str, *entries: tuple[int, int, Accounting]) -> None:
    await ensure_ledger(infra.kafka_bootstrap, dlt)
    async with RawProducer(infra.kafka_bootstrap) as producer:
        await write_ledger(producer, [LedgerEntry(p, o, s, "r1", "alice", 1).record(dlt)
                                      for p, o, s in entries])  # fmt: skip


def test_replayed_and_not_replayed_read_the_ledger(infra: Infra, dlt: str) -> None:
    asyncio.run(_account(infra, dlt, (0, 1, Accounting.REPLAYED), (1, 2, Accounting.JUDGED_DEAD)))
    assert _places(ok_json(cli(infra, "dlt", "list", dlt, "--json", "--replayed"))) == ["0:1"]
    assert _places(ok_json(cli(infra, "dlt", "list", dlt, "--json", "--not-replayed"))) == [
        "0:0", "0:2", "1:0", "1:1"]  # fmt: skip
    assert _places(ok_json(cli(infra, "dlt", "list", dlt, "--json", "--state",
                               "judged-dead"))) == ["1:2"]  # fmt: skip
    groups = {g["fingerprint"]: g for g in ok_json(cli(infra, "dlt", "groups", dlt, "--json"))}
    assert (groups[FP_A]["open"], groups[FP_A]["replayed"]) == (1, 1)
    assert (groups[FP_C]["open"], groups[FP_C]["judged_dead"]) == (2, 1)


async def _put_saga(redis: Redis, group: str, saga_id: str, saga_type: str) -> None:
    store = SagaStore(redis, namespace=group, seen_ttl_s=60)
    p = partition_for(saga_id, 2)
    state = SagaState(saga_id=saga_id, saga_type=saga_type, status=SagaStatus.RUNNING,
                      version=1, data={}, steps={})  # fmt: skip
    token = await store.acquire(p)
    write = Write(message_id=f"m-{saga_id}", saga_id=saga_id, new_version=1,
                  state_json=state.to_json(), new_status="RUNNING", now=1.0)  # fmt: skip
    assert await store.apply(p, token, [write]) == ["OK"]


async def test_saga_type_is_read_from_the_saga_store(
    infra: Infra, dlt: str, uid: str, redis: Redis
) -> None:
    group = f"coord-{uid}"
    await _put_saga(redis, group, f"o1-{uid}", "order_fulfilment")
    await _put_saga(redis, group, f"o3-{uid}", "payment_only")
    args = ("dlt", "list", dlt, "--json", "--group-id", group, "--partitions", "2")
    rows = ok_json(await asyncio.to_thread(cli, infra, *args, "--saga-type", "order_fulfilment"))
    assert _places(rows) == ["0:1"]
    assert rows[0]["saga"]["status"] == "RUNNING"
    rows = ok_json(await asyncio.to_thread(cli, infra, *args, "--with-saga", "--offset", "1:0"))
    assert rows[0]["saga"]["saga_type"] == "payment_only"


def test_show_decodes_the_payload_and_lists_every_header(infra: Infra, dlt: str) -> None:
    [doc] = ok_json(cli(infra, "dlt", "show", dlt, "0:1", "--json"))
    assert doc["payload"]["schema"] == "shop.inventory.ReserveStock"
    assert doc["payload"]["datum"] == {"order_id": "o1", "items": [{"sku": "s", "quantity": 1}]}
    names = [h["name"] for h in doc["headers"]]
    assert names[:2] == ["dirigent-id", "dirigent-type"]  # the original headers first
    assert "dirigent-dlt-stacktrace" in names
    assert doc["diagnostics"]["fingerprint"] == FP_A
    table = cli(infra, "dlt", "show", dlt, "0:1")
    assert table.exit_code == 0, table.output
    assert '"order_id": "o1"' in table.stdout
    assert "dirigent-dlt-error-class" in table.stdout


def test_show_without_the_schema_prints_hex(infra: Infra, dlt: str, tmp_path: object) -> None:
    [doc] = ok_json(cli(infra, "dlt", "show", dlt, "1:0", "--json",
                        DIRIGENT_SCHEMAS_DIR=str(tmp_path)))  # fmt: skip
    assert doc["payload"]["datum"] is None
    assert doc["payload"]["hex"].startswith("c301")
    assert "no schema with fingerprint" in doc["payload"]["error"]


def test_show_with_filters_and_no_match(infra: Infra, dlt: str) -> None:
    [doc] = ok_json(cli(infra, "dlt", "show", dlt, "--fingerprint", FP_B, "--json"))
    assert (doc["dlt_partition"], doc["dlt_offset"]) == (0, 2)
    missing = cli(infra, "dlt", "show", dlt, "--fingerprint", "d" * 16)
    assert missing.exit_code == 1
    assert "no dead letter" in missing.output


async def test_reader_streams_partitions_and_fetches_offsets_named(infra: Infra, dlt: str) -> None:
    await delete_records_before(infra.kafka_bootstrap, dlt, {0: 1})
    async with TopicReader(infra.kafka_bootstrap, dlt, max_records=1) as reader:
        bounds = await reader.bounds()
        assert [(b.partition, b.start, b.end) for b in bounds] == [(0, 1, 3), (1, 0, 3)]
        batches = [b async for b in reader.scan(1, 0, 3)]
        assert [[r.offset for r in b] for b in batches] == [[0], [1], [2]]  # bounded batches
        fetched = [pair async for pairs in reader.fetch(0, [0, 2, 5]) for pair in pairs]
        assert [(o, r is not None) for o, r in fetched] == [(0, False), (2, True), (5, False)]
    assert _places(ok_json(await asyncio.to_thread(cli, infra, "dlt", "list", dlt, "--json",
                                                   "--fingerprint", FP_A))) == ["0:1"]  # fmt: skip


async def test_similar_groups_one_incident_across_fingerprints(
    infra: Infra, make_topic: TopicFactory, uid: str
) -> None:
    name = await make_topic("similar.dlt")
    inv = f"inv.{uid}.commands"
    letters = [
        (command(CODEC, _reserve(i), topic=inv, saga_id=f"o{i}-{uid}", offset=i),
         failure(fp, cls="app.errors.Timeout",
                 message=f"stock service timed out after {ms} ms for order o{i}-{uid}"))
        for i, (fp, ms) in enumerate([(FP_A, 5003), (FP_B, 5011), (FP_C, 4998)])
    ]  # fmt: skip
    letters.append((command(CODEC, _reserve(9), topic=inv, saga_id=f"o9-{uid}", offset=9),
                    failure(FP_A, cls="app.errors.Declined", message="card declined")))  # fmt: skip
    await dead_letter(infra.kafka_bootstrap, name, letters, partition=0)

    exact = ok_json(await asyncio.to_thread(cli, infra, "dlt", "groups", name, "--json"))
    similar = ok_json(await asyncio.to_thread(cli, infra, "dlt", "groups", name, "--json",
                                              "--similar"))  # fmt: skip
    assert len(exact) == 3  # three fingerprints
    counts = sorted((g["count"], sorted(g["fingerprints"])) for g in similar)
    assert counts == [(1, [FP_A]), (3, [FP_A, FP_B, FP_C])]
    table = await asyncio.to_thread(cli, infra, "dlt", "groups", name, "--similar")
    assert table.exit_code == 0, table.output
    assert "2 pattern(s)" in table.output
