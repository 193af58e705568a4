"""Models, codec and helpers shared by the service integration tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from dirigent.events import Event, Record, SchemaCatalog, SingleObjectCodec
from dirigent.events.catalog import parse_standalone
from dirigent.service import HandlerRetry, Service
from dirigent.transport import BatchConsumer, Bootstrap, InboundRecord

SCHEMAS = Path(__file__).resolve().parents[3] / "schemas" / "shop"


class StockLine(Record):
    sku: str
    quantity: int


class ReserveStock(Event, schema=SCHEMAS / "ReserveStock.avsc"):
    order_id: str
    items: list[StockLine]


class StockReserved(Event, schema=SCHEMAS / "StockReserved.avsc"):
    order_id: str
    reservation_id: str


_V2 = {
    "type": "record",
    "name": "ReserveStock",
    "namespace": "shop.inventory",
    "fields": [
        {"name": "order_id", "type": "string"},
        {
            "name": "items",
            "type": {
                "type": "array",
                "items": {
                    "type": "record",
                    "name": "StockLine",
                    "fields": [
                        {"name": "sku", "type": "string"},
                        {"name": "quantity", "type": "int"},
                    ],
                },
            },
        },
        {"name": "priority", "type": "int", "default": 0},
    ],
}


class ReserveStockV2(Event, schema=parse_standalone(_V2)):
    order_id: str
    items: list[StockLine]
    priority: int = 0


def codec() -> SingleObjectCodec:
    catalog = SchemaCatalog()
    catalog.add(parse_standalone(_V2))  # a newer writer's schema, known to the reader
    return SingleObjectCodec(catalog, models=[ReserveStock, StockReserved])


def reserve(order_id: str) -> ReserveStock:
    return ReserveStock(order_id=order_id, items=[StockLine(sku="sku-1", quantity=2)])


FAST = HandlerRetry(max_attempts=3, initial_backoff_s=0.01, max_backoff_s=0.05)


def make_service(
    bootstrap: Bootstrap, redis: Redis, uid: str, topic: str, replies: str, **kw: Any
) -> Service:
    return Service(
        f"inventory-{uid}",
        codec=codec(),
        topics=[topic],
        reply_topic=replies,
        bootstrap=bootstrap,
        redis=redis,
        retry=kw.pop("retry", FAST),
        **kw,
    )


@asynccontextmanager
async def running(service: Service) -> AsyncIterator[asyncio.Task[None]]:
    """Run ``service`` in the background; stop it (drain + commit) on exit."""
    task = asyncio.create_task(service.run())
    try:
        yield task
    finally:
        service.stop()
        if not task.done():
            await asyncio.wait_for(task, 30)
        elif not task.cancelled() and task.exception() is None:
            task.result()


async def wait_for(cond: Callable[[], bool], timeout_s: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or cond}")
        await asyncio.sleep(0.05)


async def read_topic(
    bootstrap: Bootstrap, topic: str, count: int, *, timeout_s: float = 30.0, settle_s: float = 0.0
) -> list[InboundRecord]:
    """At least ``count`` records of ``topic`` from the start (then ``settle_s`` more)."""
    out: list[InboundRecord] = []
    group = f"reader-{topic}-{time.monotonic_ns()}"
    async with BatchConsumer(bootstrap, [topic], group_id=group) as consumer:
        deadline = time.monotonic() + timeout_s
        while len(out) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{topic}: {len(out)} of {count} records before deadline")
            for records in (await consumer.getmany(timeout_ms=200)).values():
                out.extend(records)
        settle_until = time.monotonic() + settle_s
        while time.monotonic() < settle_until:
            for records in (await consumer.getmany(timeout_ms=200)).values():
                out.extend(records)
    return out
