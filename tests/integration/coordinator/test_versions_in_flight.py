"""A v1 saga in flight when v2 is deployed: refused if stranded, finished on v1, or migrated."""

from __future__ import annotations

import asyncio
import dataclasses
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from redis.asyncio import Redis

from dirigent.cli import main as cli
from dirigent.coordinator import Coordinator
from dirigent.errors import SagaVersionError
from dirigent.ops import find_saga
from dirigent.saga import Migration, SagaDefinition, SagaState, SagaStatus, Step, define_saga
from tests.integration.coordinator.test_coordinator_e2e import (
    PARTITIONS,
    Shop,
    config,
    order,
    place,
    reply_to,
    shop,  # noqa: F401 - fixture
    wait_terminal,
)
from tests.support.responder import Responder


def renamed(v1: SagaDefinition, *, migrate: bool) -> SagaDefinition:
    """v2: step ``reserve`` is now ``hold_stock``; with or without a Migration."""
    steps = [dataclasses.replace(s, name="hold_stock") if s.name == "reserve" else s
             for s in v1.items if isinstance(s, Step)]  # fmt: skip
    migrations = [Migration(from_version=1, renames={"reserve": "hold_stock"})] if migrate else []
    return define_saga(v1.name, start=v1.start, saga_id="order_id", steps=steps, version=2,
                       migrations=migrations, deadline_s=v1.deadline_s)  # fmt: skip


async def _leave_one_in_flight(sh: Shop, uid: str) -> None:
    """Run v1 with no participant answering: order o1 stays RUNNING, its command out."""
    coordinator = Coordinator([sh.saga], settings=sh.settings, config=config(sh, uid))
    task = asyncio.create_task(coordinator.run())
    await place(sh, [order(1)])
    async with asyncio.timeout(30):
        await coordinator.started.wait()
        assert coordinator.parts is not None
        while sum([await coordinator.parts.store.count_status(p, "RUNNING")
                   for p in range(PARTITIONS)]) < 1:  # fmt: skip
            await asyncio.sleep(0.1)
    coordinator.stop()
    await task


async def _state(sh: Shop, uid: str, saga_id: str) -> SagaState:
    redis = Redis.from_url(sh.settings.redis_url)
    try:
        view = await find_saga(redis, f"coord-{uid}", saga_id, partitions=PARTITIONS)
    finally:
        await redis.aclose()
    assert view is not None
    return view.state


async def _run_to_the_end(sh: Shop, uid: str, sagas: list[SagaDefinition], n: int) -> None:
    coordinator = Coordinator(sagas, settings=sh.settings, config=config(sh, uid))
    async with Responder(sh.settings.kafka_bootstrap, sorted(sh.saga.command_topics),
                         sh.codec, reply_to, group=f"resp-{uid}") as _:  # fmt: skip
        task = asyncio.create_task(coordinator.run())
        if n > 1:
            await place(sh, [order(2)])
        counts = await wait_terminal(coordinator, n)
        coordinator.stop()
        await task
    assert counts[SagaStatus.COMPLETED] == n


async def test_a_stranding_deploy_is_refused_and_side_by_side_versions_finish_it(
    shop: Shop,  # noqa: F811
    uid: str,
) -> None:
    await _leave_one_in_flight(shop, uid)
    v2 = renamed(shop.saga, migrate=False)

    refused = Coordinator([v2], settings=shop.settings, config=config(shop, uid))
    with pytest.raises(SagaVersionError) as caught:
        async with asyncio.timeout(30):
            await refused.run()
    message = str(caught.value)
    assert "o1" in message
    assert "'shop_order'" in message
    assert "version 1" in message

    await _run_to_the_end(shop, uid, [shop.saga, v2], n=2)  # v1 loaded beside v2
    assert (await _state(shop, uid, "o1")).definition_version == 1  # finished on v1
    late = await _state(shop, uid, "o2")
    assert late.definition_version == 2  # a new order starts on the newest
    assert "hold_stock" in late.steps


async def test_a_declared_migration_moves_the_instance_and_its_reply_reaches_the_new_step(
    shop: Shop,  # noqa: F811
    uid: str,
) -> None:
    await _leave_one_in_flight(shop, uid)
    await _run_to_the_end(shop, uid, [renamed(shop.saga, migrate=True)], n=1)
    state = await _state(shop, uid, "o1")
    assert state.status is SagaStatus.COMPLETED
    assert state.definition_version == 2
    assert "reserve" not in state.steps
    assert state.step("hold_stock").status.done


async def test_migrate_dry_run_lists_the_plan_and_fails_on_a_stranded_instance(
    shop: Shop,  # noqa: F811
    uid: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await _leave_one_in_flight(shop, uid)
    for name, migrate in (("bare", False), ("moving", True)):
        package = tmp_path / f"v2_{name}_{uid}"
        package.mkdir()
        (package / "__init__.py").write_text(
            textwrap.dedent(f"""
            from tests.integration.coordinator.test_coordinator_e2e import shop_saga
            from tests.integration.coordinator.test_versions_in_flight import renamed
            v2 = renamed(shop_saga("{shop.prefix}"), migrate={migrate})
        """)
        )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DIRIGENT_REDIS_URL", shop.settings.redis_url)
    args = ["saga", "migrate", "--dry-run", "--group-id", f"coord-{uid}",
            "--partitions", str(PARTITIONS)]  # fmt: skip

    def invoke(argv: list[str]) -> Result:  # in a thread: the CLI runs its own event loop
        return CliRunner().invoke(cli, argv)

    stranded = await asyncio.to_thread(invoke, [*args, "--sagas", f"v2_bare_{uid}"])
    assert stranded.exit_code == 1, stranded.output
    assert "stranded" in stranded.output
    assert "o1" in stranded.output

    moving = await asyncio.to_thread(invoke, [*args, "--sagas", f"v2_moving_{uid}", "--json"])
    assert moving.exit_code == 0, moving.output
    assert '"plan": "migrates v1 -> v2"' in moving.output

    no_flag = invoke(["saga", "migrate", "--group-id", "g", "--partitions", "1"])
    assert no_flag.exit_code == 2
    assert "--dry-run" in no_flag.output


async def test_migrate_now_moves_an_idle_instance_through_the_coordinator(
    shop: Shop,  # noqa: F811
    uid: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await _leave_one_in_flight(shop, uid)
    package = tmp_path / f"v2_now_{uid}"
    package.mkdir()
    (package / "__init__.py").write_text(
        textwrap.dedent(f"""
        from tests.integration.coordinator.test_coordinator_e2e import shop_saga
        from tests.integration.coordinator.test_versions_in_flight import renamed
        v2 = renamed(shop_saga("{shop.prefix}"), migrate=True)
    """)
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DIRIGENT_REDIS_URL", shop.settings.redis_url)
    monkeypatch.setenv("DIRIGENT_KAFKA_BOOTSTRAP", shop.settings.kafka_bootstrap)
    v2 = renamed(shop.saga, migrate=True)
    coordinator = Coordinator([v2], settings=shop.settings, config=config(shop, uid))
    task = asyncio.create_task(coordinator.run())  # no participant answers: o1 stays put
    await coordinator.started.wait()
    args = ["saga", "migrate", "--sagas", f"v2_now_{uid}", "--group-id", f"coord-{uid}",
            "--partitions", str(PARTITIONS), "--why", "v2 is deployed", "--yes"]  # fmt: skip
    result = await asyncio.to_thread(CliRunner().invoke, cli, args)
    state = await _state(shop, uid, "o1")
    coordinator.stop()
    await task
    assert result.exit_code == 0, result.output
    assert "o1: migrate applied: migrated v1 -> v2" in result.output
    assert state.definition_version == 2
    assert state.status is SagaStatus.RUNNING
    assert "hold_stock" in state.steps
