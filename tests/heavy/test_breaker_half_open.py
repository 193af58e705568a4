"""A permanently silent participant, with the coordinator's default circuit breaker.

What it proves: breakers never strand a saga. The silent payments service trips the
breaker open; the commands it then holds keep their step timeouts on hold (they were
not sent), but only for ``unsent_hold_s`` (5 s here); past that their timeouts and the
saga's deadline run, so every saga reaches an end (COMPENSATED, or FAILED/PARKED with a
reason) within a bound, with nothing leaked. Before issue 7's fix an open or half-open
breaker held the sagas' timers without a bound, and they stayed RUNNING for ever.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest
from redis.asyncio import Redis

from tests.faults.invariants import audit, load_views
from tests.heavy.harness import (
    ENDS,
    IN_FLIGHT,
    CoordinatorProcess,
    Shop,
    StoreProbe,
    all_fenced,
    place_orders,
    wait_until,
)
from tests.heavy.participants import order_id, running_participants
from tests.support.infra import Infra

pytestmark = [pytest.mark.heavy, pytest.mark.timeout(180)]

SILENT = [order_id(57 + 100 * k) for k in range(10)]  # all "mute-pay"


async def _all_ended(probe: StoreProbe) -> bool:
    return await probe.ended() >= len(SILENT)


async def test_sagas_of_a_silent_participant_end_with_the_default_breaker(
    infra: Infra, redis: Redis, uid: str, tmp_path: Path
) -> None:
    shop = Shop(infra, uid, step_timeout_s=1.0, breaker_threshold=None, unsent_hold_s=5.0)
    await shop.provision()
    probe = StoreProbe(redis, shop.group)
    coordinator = CoordinatorProcess(shop, "coord", tmp_path)
    try:
        async with running_participants(infra.kafka_bootstrap, redis, uid, shop.prefix) as (
            ledger, _services,
        ):  # fmt: skip
            coordinator.start()
            await wait_until(partial(all_fenced, probe), timeout_s=60, what="partitions owned")
            await place_orders(shop, SILENT, per_s=100)
            # without the breaker they end in ~6 s; held ones wait 5 s more per step at most
            ended = True
            try:
                await wait_until(partial(_all_ended, probe), timeout_s=60,
                                 what="every saga of the silent participant to end")  # fmt: skip
            except AssertionError:
                ended = False
            counts = await probe.counts()
            report = audit(SILENT, await load_views(probe.store, SILENT), await ledger.effects())
            assert await coordinator.stop() == 0, coordinator.log()[-3000:]
    finally:
        coordinator.cleanup()
        await shop.drop_topics()
    in_flight = {s: counts[s] for s in IN_FLIGHT if counts[s]}
    assert ended, f"stranded by the breaker after 60 s: {in_flight}\n{report.render()}"
    assert sum(counts[s] for s in ENDS) == len(SILENT), dict(counts)
    assert counts["COMPLETED"] == 0, "a saga whose payment never answered cannot complete"
    assert report.ok, report.render()
