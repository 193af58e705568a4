"""What participants and outside producers do wrong: late replies, duplicates, poison."""

from __future__ import annotations

import asyncio

import pytest

from tests.faults.duplicates import redeliver
from tests.faults.poison import lands_elsewhere, produce_poison, produce_starts
from tests.faults.world import Env, Run, Scenario, execute, with_late
from tests.heavy.participants import DECLINE, fault

pytestmark = pytest.mark.timeout(300)


def _plain_outcome(oid: str) -> str:
    """Without delays or outages, a fine order completes and a declined one compensates."""
    return "COMPENSATED" if fault(oid) == DECLINE else "COMPLETED"


async def test_replies_after_the_step_timeout_apply_nothing_twice(env: Env) -> None:
    """10% of the orders get their reserve or authorize reply after the step timeout: the
    re-send must carry the same command id (answered from the participant's store), and a
    saga that compensates anyway must undo what the slow participant did."""

    async def script(run: Run) -> None:
        await run.start_feed()

    scenario = Scenario("lt", sagas=200, per_s=20, tags=with_late, late_s=3.5)
    _run, report = await execute(scenario, env, script)
    assert report.ok, report.render()


async def test_records_delivered_twice_apply_nothing_twice(env: Env) -> None:
    """Every start event produced twice, and every 4th record of the command and reply
    topics produced again (same bytes, same message id)."""

    async def script(run: Run) -> None:
        run.expected = {i: _plain_outcome(i) for i in run.ids if "mute" not in i}
        domains = ("orders", "inventory", "payments", "shipping")
        topics = [run.topic(f"{d}.{kind}") for d in domains for kind in ("events", "commands")]
        copier = asyncio.create_task(
            redeliver(run.env.infra.kafka_bootstrap, topics, every=4, counts=run.faults)
        )
        try:
            await run.start_feed()
            await run.progress(len(run.ids), timeout_s=60)
        finally:
            copier.cancel()

    scenario = Scenario("dp", sagas=200, per_s=20, duplicate_starts=True)
    _run, report = await execute(scenario, env, script)
    assert report.ok, report.render()


async def test_outside_producers_poison_and_misrouted_starts(env: Env) -> None:
    """kcat (librdkafka) as the outside client: start events with a null key and with its
    CRC32 partitioner (a partition other than the saga id's) must complete with no leaked
    effect; each poison record (non-UTF-8 header name, 1,047,500 bytes, a gzip batch of
    5 MB inflated, an unknown event type, bad Avro) must end in ``<topic>.dlt``, and the
    good records after it must be processed."""
    bootstrap = env.infra.kafka_bootstrap

    async def script(run: Run) -> None:
        await run.progress(0)
        null_keyed = [f"nk{i:05d}-ok" for i in range(10)]
        misrouted = [oid for oid in (f"ke{i:05d}-ok" for i in range(40)) if lands_elsewhere(oid)]
        run.ids += null_keyed + misrouted[:10]
        run.expected |= dict.fromkeys(null_keyed + misrouted[:10], "COMPLETED")
        await produce_starts(bootstrap, run.start_topic, null_keyed, null_key=True)
        await produce_starts(bootstrap, run.start_topic, misrouted[:10], null_key=False)
        run.poison += await produce_poison(bootstrap, run.start_topic, f"pz{run.env.uid}",
                                           coordinator=True)  # fmt: skip
        run.poison += await produce_poison(bootstrap, run.topic("inventory.commands"),
                                           f"pi{run.env.uid}", coordinator=False)  # fmt: skip
        run.faults["poison record"] += sum(p.records for p in run.poison)
        run.faults["misrouted start"] += len(null_keyed) + 10
        await run.start_feed()  # the good records after the poison
        run.expected |= {i: _plain_outcome(i) for i in run.ids if i[:2] == "pz" and "mute" not in i}

    _run, report = await execute(Scenario("pz", sagas=60, per_s=20), env, script)
    assert report.ok, report.render()
