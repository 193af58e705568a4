"""Redis and the broker killed with SIGKILL and restarted under load.

The coordinator process must survive both (a coordinator that exits is a violation:
"faults degrade, never kill"), and the invariants must hold afterwards.
"""

from __future__ import annotations

import pytest

from tests.faults.world import Env, Run, Scenario, execute

pytestmark = pytest.mark.timeout(300)


async def test_redis_killed_twice_under_load(env: Env) -> None:
    async def script(run: Run) -> None:
        feed = run.start_feed()
        for k in range(2):
            await run.progress(50 * (k + 1))
            await run.spaced(6)
            await run.kill_infra("redis", down_s=3)
        await feed

    _run, report = await execute(Scenario("rd", sagas=300, per_s=20), env, script)
    assert report.ok, report.render()


async def test_broker_killed_under_load(env: Env) -> None:
    async def script(run: Run) -> None:
        feed = run.start_feed()
        await run.progress(60)
        await run.kill_infra("kafka", down_s=5)
        await feed

    _run, report = await execute(Scenario("bk", sagas=300, per_s=20), env, script)
    assert report.ok, report.render()
