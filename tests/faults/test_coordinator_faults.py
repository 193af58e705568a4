"""Coordinator processes killed with SIGKILL under load: alone, and two in one group."""

from __future__ import annotations

import pytest

from tests.faults.world import Env, Run, Scenario, execute

pytestmark = pytest.mark.timeout(300)

KILLS = 4


async def test_two_coordinators_killed_beyond_the_session_timeout_lose_nothing(env: Env) -> None:
    """The rebalance race: each kill moves partitions twice (the dead member's session
    expires, then its restart rejoins); records a new owner fetches before it holds the
    partition's fencing token must be applied later, not skipped. Redis writes are
    paused most of the time after each kill, so the tokens come slowly."""

    async def script(run: Run) -> None:
        feed = run.start_feed()
        for k in range(KILLS):
            await run.progress(40 * (k + 1))
            await run.spaced(10)  # beyond the 6 s session timeout
            await run.kill_coordinator(run.coordinators[k % 2])
            await run.slow_redis_writes(9)  # both rebalances of this kill fall in here
        await feed

    # a backlog on every partition at each rebalance: ~200 records per kill interval
    scenario = Scenario("rb", sagas=1000, per_s=20, coordinators=2)
    _run, report = await execute(scenario, env, script)
    assert report.ok, report.render()


async def test_a_coordinator_killed_and_restarted_twice_loses_nothing(env: Env) -> None:
    async def script(run: Run) -> None:
        feed = run.start_feed()
        for k in range(2):
            await run.progress(50 * (k + 1))
            await run.spaced(6)
            await run.kill_coordinator(run.coordinators[0], down_s=1)
        await feed

    _run, report = await execute(Scenario("ck", sagas=300, per_s=20), env, script)
    assert report.ok, report.render()
