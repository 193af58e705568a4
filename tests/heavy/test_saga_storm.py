"""1,000 order sagas with 10% payment declines and 2% silent participants."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from redis.asyncio import Redis

from tests.heavy.harness import (
    CoordinatorProcess,
    Shop,
    StoreProbe,
    all_fenced,
    assert_sound,
    orders,
    outbox_empty,
    place_orders,
    superseded,
    terminal_at_least,
    wait_until,
)
from tests.heavy.participants import running_participants
from tests.support.infra import Infra

pytestmark = [pytest.mark.heavy, pytest.mark.timeout(300)]

SAGAS = 1000


async def test_a_thousand_sagas_all_end_and_every_effect_is_applied_once(
    infra: Infra, redis: Redis, uid: str, tmp_path: Path
) -> None:
    shop = Shop(infra, uid, step_timeout_s=2.0)
    await shop.provision()
    probe = StoreProbe(redis, shop.group)
    coordinator = CoordinatorProcess(shop, "coord", tmp_path)
    ids = orders(SAGAS)
    started = time.monotonic()
    try:
        async with running_participants(infra.kafka_bootstrap, redis, uid, shop.prefix) as (
            ledger, _services,
        ):  # fmt: skip
            coordinator.start()
            await wait_until(lambda: all_fenced(probe), timeout_s=60, what="partitions owned")
            await place_orders(shop, ids, per_s=100)
            await wait_until(lambda: terminal_at_least(probe, SAGAS), timeout_s=180,
                             what=f"{SAGAS} terminal sagas")  # fmt: skip
            await wait_until(lambda: outbox_empty(probe), timeout_s=30, what="empty outbox")
            assert await coordinator.stop() == 0, coordinator.log()[-3000:]
        elapsed = time.monotonic() - started
        counts = await probe.counts()
        states = await probe.states()
        effects, applications = await ledger.effects(), await ledger.applications()
    finally:
        coordinator.cleanup()
        await shop.drop_topics()

    assert_sound(ids, counts, states, effects, applications)
    assert (counts["COMPLETED"], counts["COMPENSATED"]) == (880, 120)
    # Each silent command reached its handler once: its two re-sends after the timeouts
    # carried the same command id and were answered from the idempotency store.
    assert ledger.silenced == 20
    print(f"\nstorm: {SAGAS} sagas in {elapsed:.1f}s, {dict(counts)}, "
          f"{len(effects)} effects, {superseded(states, effects)} superseded")  # fmt: skip
