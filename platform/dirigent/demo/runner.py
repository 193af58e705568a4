"""``run_demo``: order fulfilment end to end, in one process, against real Kafka and Redis.

Provision per-run topics, start the coordinator and the four shop services, publish
``OrderPlaced`` events, wait (with a deadline) until every saga is terminal, stop what
was started, and read the outcome from Redis: saga states and the effect ledger.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry

from dirigent.config import Settings
from dirigent.coordinator import Coordinator, CoordinatorSettings, Topology
from dirigent.coordinator.provision import provision_topics, topic_specs
from dirigent.demo.census import Census, take_census, terminal_count
from dirigent.demo.fleet import Fleet
from dirigent.demo.options import DemoOptions
from dirigent.demo.orders import make_orders, publish_orders, warmup_order
from dirigent.demo.summary import DemoResult, DemoSummary
from dirigent.saga import SagaDefinition
from dirigent.store.client import redis_client
from dirigent.store.saga_store import SagaStore
from dirigent.transport import delete_topics
from examples.shop import (
    SERVICES,
    EffectLedger,
    EntryKind,
    FaultPlan,
    ShopEnv,
    build_service,
    ledger_problems,
    shop_codec,
)
from sagas.order_fulfilment import build_order_fulfilment

__all__ = ["Progress", "run_demo"]

Progress = Callable[[int, int], None]  # (terminal sagas, all sagas)


def faults_for(service: str, o: DemoOptions) -> FaultPlan:
    rate = {"payments": o.decline_rate, "inventory": o.stock_failure_rate,
            "shipping": o.shipment_failure_rate}.get(service, 0.0)  # fmt: skip
    # A silenced command stays silent when re-sent (same id, same stored outcome), so a
    # silent approval (retried 10 times, minutes of backoff) would only park late: the
    # order service is the reliable one in the demo.
    silent = 0.0 if service == "orders" else o.silent_rate
    return FaultPlan(failure_rate=rate, silent_rate=silent, latency_ms=o.latency_ms,
                     seed=o.seed, spared=frozenset({warmup_order(o).order_id}))  # fmt: skip


async def run_demo(
    options: DemoOptions, settings: Settings, *, progress: Progress | None = None
) -> DemoResult:
    """Run the demo; never raises for sagas left running (see ``summary.running``)."""
    saga = build_order_fulfilment(prefix=options.prefix, step_timeout_s=options.step_timeout_s)
    config = CoordinatorSettings(
        group_id=f"{options.prefix}coordinator",
        transitions_topic=f"{options.prefix}dirigent.saga.transitions",
        seen_ttl_s=options.data_ttl_s, terminal_ttl_s=options.data_ttl_s,
    )  # fmt: skip
    topology = Topology.of([saga])
    await provision_topics(settings.kafka(), topology, partitions=options.partitions,
                           transitions_topic=config.transitions_topic)  # fmt: skip
    redis = redis_client(settings.redis_url, settings.redis_security())
    try:
        ledger = EffectLedger(redis, run_id=options.run_id, ttl_s=options.data_ttl_s)
        env = ShopEnv(
            prefix=options.prefix, bootstrap=settings.kafka(), redis=redis,
            ledger=ledger, codec=shop_codec(), idempotency_ttl_s=options.data_ttl_s,
        )  # fmt: skip
        services = [build_service(n, env, faults_for(n, options)) for n in SERVICES]
        coordinator = Coordinator([saga], settings=settings, config=config)
        store = SagaStore(redis, config.group_id)
        async with Fleet([coordinator, *services]) as fleet:
            # New topics elect leaders and four groups join: a first order proves that
            # every hop works before the clock starts for the batch.
            warmup = warmup_order(options)
            await publish_orders(settings.kafka(), env.codec, [warmup], options)
            await _wait_terminal(store, fleet, options.partitions, 1, deadline_s=options.deadline_s)
            started = time.monotonic()
            await publish_orders(settings.kafka(), env.codec, make_orders(options),
                                 options)  # fmt: skip
            await _wait_terminal(store, fleet, options.partitions, options.sagas + 1,
                                 deadline_s=options.deadline_s, progress=progress)  # fmt: skip
            wall_s = time.monotonic() - started
        census = (await take_census(store, options.partitions)).without(warmup.order_id)
        entries = [e for e in await ledger.entries() if e.order_id != warmup.order_id]
        dead = _dead_letters(coordinator.metrics.registry, *(s.metrics.registry for s in services))
    finally:
        await redis.aclose()
        if not options.keep_topics:
            await _delete_topics(settings, topology, options, saga)
    return _result(census, entries, dead, wall_s, options)


async def _wait_terminal(
    store: SagaStore,
    fleet: Fleet,
    partitions: int,
    expected: int,
    *,
    deadline_s: float,
    progress: Progress | None = None,
) -> None:
    """Until ``expected`` sagas are terminal or the deadline passes (the census tells)."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        fleet.check()
        done = await terminal_count(store, partitions)
        if progress is not None:
            progress(max(0, done - 1), expected - 1)
        if done >= expected:
            return
        await asyncio.sleep(0.2)


def _dead_letters(*registries: CollectorRegistry) -> int:
    names = {"dirigent_dead_letters_total", "dirigent_service_dead_lettered_total"}
    return int(sum(
        s.value for r in registries for m in r.collect() for s in m.samples if s.name in names
    ))  # fmt: skip


async def _delete_topics(
    settings: Settings, topology: Topology, options: DemoOptions, saga: SagaDefinition
) -> None:
    specs = topic_specs(topology, partitions=options.partitions,
                        transitions_topic=f"{options.prefix}dirigent.saga.transitions")  # fmt: skip
    await delete_topics(settings.kafka(), [s.name for s in specs])


def _result(
    census: Census, entries: list[Any], dead: int, wall_s: float, options: DemoOptions
) -> DemoResult:
    problems = ledger_problems(entries, census.statuses)
    kinds = [e.kind for e in entries]
    summary = DemoSummary.of(
        census, sagas=options.sagas, dead_lettered=dead, wall_s=round(wall_s, 2),
        sagas_per_s=round(options.sagas / wall_s, 1) if wall_s else 0.0,
        declined=kinds.count(EntryKind.REFUSAL), silenced=kinds.count(EntryKind.SILENCE),
        effects=kinds.count(EntryKind.EFFECT), ledger_problems=len(problems),
        nothing_to_undo=kinds.count(EntryKind.NOTHING_TO_UNDO),
        run_id=options.run_id,
    )  # fmt: skip
    return DemoResult(summary, census.statuses, entries, problems)
