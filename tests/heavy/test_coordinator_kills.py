"""The 1,000-saga run while the coordinator process is killed with SIGKILL three times."""

from __future__ import annotations

import asyncio
import time
from functools import partial
from pathlib import Path

import pytest
from redis.asyncio import Redis

from tests.heavy.harness import (
    PARTITIONS,
    CoordinatorProcess,
    Shop,
    StoreProbe,
    all_fenced,
    assert_sound,
    fenced_past,
    orders,
    outbox_empty,
    place_orders,
    superseded,
    terminal_at_least,
    wait_until,
)
from tests.heavy.participants import duplicates_answered, running_participants
from tests.support.infra import Infra

pytestmark = [pytest.mark.heavy, pytest.mark.timeout(420)]

SAGAS = 1000
KILLS = 3
PROGRESS = 40  # sagas that must end under each incarnation before it is killed
IN_FLIGHT = 3  # ... and sagas that must be under way when it is


async def _busy(probe: StoreProbe, terminal: int) -> bool:
    counts = await probe.counts()
    done = sum(counts[s] for s in ("COMPLETED", "COMPENSATED", "FAILED"))
    return done >= terminal and counts["RUNNING"] + counts["COMPENSATING"] >= IN_FLIGHT


async def test_sigkill_three_times_loses_nothing_and_applies_nothing_twice(
    infra: Infra, redis: Redis, uid: str, tmp_path: Path
) -> None:
    shop = Shop(infra, uid, step_timeout_s=2.0)
    await shop.provision()
    probe = StoreProbe(redis, shop.group)
    coordinator = CoordinatorProcess(shop, "coord", tmp_path)
    ids = orders(SAGAS)
    in_flight_at_kill: list[int] = []
    started = time.monotonic()
    try:
        async with running_participants(infra.kafka_bootstrap, redis, uid, shop.prefix) as (
            ledger, services,
        ):  # fmt: skip
            coordinator.start()
            await wait_until(lambda: all_fenced(probe), timeout_s=60, what="partitions owned")
            feed = asyncio.create_task(place_orders(shop, ids, per_s=40))
            for _ in range(KILLS):
                done = await probe.terminal()
                await wait_until(partial(_busy, probe, done + PROGRESS), timeout_s=90,
                                 what="progress, and sagas in flight, before the kill")  # fmt: skip
                counts = await probe.counts()
                in_flight_at_kill.append(counts["RUNNING"] + counts["COMPENSATING"])
                fences = await probe.fences()
                await coordinator.kill()
                coordinator.start()  # the dead member's session must expire first (6 s)
                await wait_until(partial(fenced_past, probe, fences, range(PARTITIONS)),
                                 timeout_s=60, what="the new owner of every partition")  # fmt: skip
            await feed
            await wait_until(lambda: terminal_at_least(probe, SAGAS), timeout_s=180,
                             what=f"{SAGAS} terminal sagas")  # fmt: skip
            await wait_until(lambda: outbox_empty(probe), timeout_s=30, what="an empty outbox")
            assert await coordinator.stop() == 0, coordinator.log()[-3000:]
            duplicates = duplicates_answered(services)
        elapsed = time.monotonic() - started
        counts, states = await probe.counts(), await probe.states()
        effects, applications = await ledger.effects(), await ledger.applications()
        outbox, fences = await probe.outbox(), await probe.fences()
    finally:
        coordinator.cleanup()
        await shop.drop_topics()

    assert all(n >= IN_FLIGHT for n in in_flight_at_kill), in_flight_at_kill  # mid-flight
    assert all(f >= KILLS + 1 for f in fences), fences  # every incarnation fenced the last
    assert outbox == 0  # nothing left unsent, also after the final drain
    late = assert_sound(ids, counts, states, effects, applications, tolerate_late_timeouts=True)
    print(f"\nkills: {SAGAS} sagas in {elapsed:.1f}s, in flight at the kills {in_flight_at_kill}, "
          f"fences {fences}, {dict(counts)}, {len(effects)} effects, "
          f"{duplicates} duplicate deliveries answered from the idempotency store, "
          f"{superseded(states, effects)} superseded, late timeouts {sorted(late)}")  # fmt: skip
