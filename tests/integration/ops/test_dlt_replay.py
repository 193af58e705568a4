"""Saga-aware replay against the real broker, Redis, a coordinator and a participant.

The inventory service is broken: the reserve commands of four orders end in its
dead-letter topic while their sagas wait. An operator compensates one of them. After
the fix, a replay completes the three others and skips the compensated one.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from redis.asyncio import Redis

from dirigent.ops.saga_admin import request_action
from dirigent.saga import AdminAction, SagaStatus
from tests.integration.ops.dlt_support import Run, audits, cli_process, ok_json
from tests.integration.ops.replay_world import Shop, running_shop, wait_status, wait_until
from tests.support.infra import Infra

C, R = SagaStatus.COMPLETED, SagaStatus.RUNNING


def _sagas(uid: str, *names: str) -> list[str]:
    return [f"{n}-{uid}" for n in names]


async def _cli(infra: Infra, *args: str) -> Run:
    return await cli_process(infra, *args)


async def _dead_lettered(shop: Shop, count: int) -> None:
    async def enough() -> bool:
        return await shop.dead_letters() >= count

    await wait_until(enough, f"{count} dead letters in {shop.dlt}")


async def test_replay_after_a_fix_completes_the_sagas_and_skips_the_compensated_one(
    infra: Infra, uid: str, redis: Redis, tmp_path: Path
) -> None:
    o1, o2, o3, o4 = _sagas(uid, "o1", "o2", "o3", "o4")
    async with running_shop(infra, uid, redis) as shop:
        await shop.place(o1, o2, o3, o4)
        await shop.command_without_saga(f"bare-{uid}")
        await _dead_lettered(shop, 5)
        await wait_status(shop, {o: R for o in (o1, o2, o3, o4)})
        # The customer cancelled o4: stop it (its reserve outcome is unknown) and undo it.
        for action in (AdminAction.ABORT, AdminAction.COMPENSATE):
            answer = await request_action(
                infra.kafka_bootstrap, shop.group, o4, action, who="ops", why="cancelled"
            )
            assert answer.applied, answer.detail
        await wait_status(shop, {o4: SagaStatus.COMPENSATED})
        shop.broken = False  # the fix is deployed

        sel = str(tmp_path / "sel.jsonl")
        plan = ok_json(await _cli(infra, "dlt", "replay", shop.dlt, *shop.saga_args(),
                                  "--dry-run", "--out", sel, "--json"))  # fmt: skip
        assert plan["counts"] == {"replay": 4, "skip": 1}
        assert plan["skipped"] == {"saga-terminal": 1}
        by_saga = {e["saga"]: e for e in plan["entries"]}
        assert by_saga[o4]["reason"] == f"saga {o4} is COMPENSATED"
        assert by_saga[o1]["why"] == "command-awaited"
        assert by_saga[None]["why"] == "not-saga-bound"
        assert shop.reserved == {}  # the dry run produced nothing

        canary = ("--canary", "1", "--reply-topic", f"{shop.prefix}-inventory.events")
        done = ok_json(await _cli(infra, "dlt", "replay", "--selection", sel, "--yes", *canary,
                                  "--json", "--who", "alice"))  # fmt: skip
        assert done["outcome"] == "completed"
        assert done["canary"] == "passed"
        assert done["counts"]["sent"] == 4
        await wait_status(shop, {o1: C, o2: C, o3: C, o4: SagaStatus.COMPENSATED})
        assert shop.reserved == {o1: 1, o2: 1, o3: 1, f"bare-{uid}": 1}
        assert o4 not in shop.reserved  # no stock reserved that nobody would release
        assert shop.released == {o4: 1}

        rows = ok_json(await _cli(infra, "dlt", "list", shop.dlt, "--replayed", "--json"))
        assert sorted(r["saga_id"] or "-" for r in rows) == sorted(["-", o1, o2, o3])
        open_rows = ok_json(await _cli(infra, "dlt", "list", shop.dlt, "--not-replayed", "--json"))
        assert [r["saga_id"] for r in open_rows] == [o4]

        # The same replay again: nothing left to do, nothing happens.
        again = await _cli(infra, "dlt", "replay", shop.dlt, *shop.saga_args(), "--yes",
                           "--out", str(tmp_path / "again.jsonl"))  # fmt: skip
        assert again.exit_code == 0, again.output
        assert "nothing to replay" in again.stdout
        assert "4 already-replayed" in again.stdout
        # --again: the record of no saga goes once more; the service knows its message id.
        forced_out = str(tmp_path / "forced.jsonl")
        forced = ok_json(await _cli(infra, "dlt", "replay", shop.dlt, *shop.saga_args(), "--yes",
                                    "--again", "--json", "--out", forced_out))  # fmt: skip
        assert forced["counts"]["sent"] == 1
        assert forced["skipped_in_plan"] == {"saga-terminal": 4}  # the sagas have ended
        assert shop.inventory is not None
        handler = next(iter(shop.inventory.handlers._by_type.values())).name
        await wait_until(lambda: shop.inventory.metrics.value("duplicates", handler) == 1,  # type: ignore[union-attr]
                         "the service to see the duplicate")  # fmt: skip
        assert shop.reserved[f"bare-{uid}"] == 1

    replay_id = done["replay_id"]
    trail = [a for a in await audits(infra, shop.dlt) if a.details["replay_id"] == replay_id]
    assert [a.action for a in trail] == ["dlt.replay.planned", "dlt.replay.selection",
                                         "dlt.replay.done"]  # fmt: skip
    planned, chunk, final = trail
    assert planned.who == "alice"
    assert (planned.details["to_replay"], planned.details["chunks"]) == ("4", "1")
    assert json.loads(planned.details["skipped"]) == {"saga-terminal": 1}
    assert chunk.details["positions"].count(",") + chunk.details["positions"].count("-") >= 1
    assert (final.details["outcome"], final.details["sent"]) == ("completed", "4")


async def test_a_failing_canary_stops_the_replay_and_the_return_is_recognised(
    infra: Infra, uid: str, redis: Redis, tmp_path: Path
) -> None:
    o1, o2, o3 = _sagas(uid, "o1", "o2", "o3")
    async with running_shop(infra, uid, redis) as shop:
        await shop.place(o1, o2, o3)
        await _dead_lettered(shop, 3)
        await wait_status(shop, {o: R for o in (o1, o2, o3)})
        # Not fixed yet: the canary fails again and comes back, marked.
        result = await _cli(infra, "dlt", "replay", shop.dlt, *shop.saga_args(), "--yes",
                            "--canary", "1", "--out", str(tmp_path / "sel.jsonl"))  # fmt: skip
        assert result.exit_code == 1
        assert "canary failed" in result.output
        assert "failed again: dirigent.errors.NonRetryableError" in result.output
        await _dead_lettered(shop, 4)
        [group] = ok_json(await _cli(infra, "dlt", "groups", shop.dlt, "--json"))
        assert (group["count"], group["open"], group["replayed"], group["returned"]) == (4, 3, 1, 1)

        shop.broken = False
        done = ok_json(await _cli(infra, "dlt", "replay", shop.dlt, *shop.saga_args(), "--yes",
                                  "--json", "--out", str(tmp_path / "fixed.jsonl")))  # fmt: skip
        assert done["counts"]["sent"] == 3  # the two left and the returned one: once each
        await wait_status(shop, {o1: C, o2: C, o3: C})
        assert shop.reserved == {o1: 1, o2: 1, o3: 1}
        [group] = ok_json(await _cli(infra, "dlt", "groups", shop.dlt, "--json"))
        assert (group["count"], group["open"]) == (4, 0)
    stopped = [a for a in await audits(infra, shop.dlt) if a.action == "dlt.replay.done"]
    assert stopped[0].details["outcome"].startswith("stopped: canary failed")


@pytest.mark.parametrize("quantity", [0])
async def test_an_edit_fixes_the_payload_and_is_audited(
    infra: Infra, uid: str, redis: Redis, tmp_path: Path, quantity: int
) -> None:
    [o1] = _sagas(uid, "o1")
    async with running_shop(infra, uid, redis) as shop:
        shop.broken = False
        await shop.place(o1, quantity=quantity)  # the service refuses a quantity of 0
        await _dead_lettered(shop, 1)
        bad = ok_json(await _cli(infra, "dlt", "replay", shop.dlt, *shop.saga_args(), "--dry-run",
                                 "--edit", "items.0.colour=red", "--json",
                                 "--out", str(tmp_path / "bad.jsonl")))  # fmt: skip
        assert bad["skipped"] == {"edit-failed": 1}
        assert "no field items.0.colour" in bad["entries"][0]["reason"]
        done = ok_json(await _cli(infra, "dlt", "replay", shop.dlt, *shop.saga_args(), "--yes",
                                  "--edit", "items.0.quantity=2", "--json",
                                  "--out", str(tmp_path / "sel.jsonl")))  # fmt: skip
        assert (done["counts"]["sent"], done["counts"]["edited"]) == (1, 1)
        await wait_status(shop, {o1: C})
        assert shop.reserved == {o1: 1}
    [planned] = [a for a in await audits(infra, shop.dlt) if a.action == "dlt.replay.planned"]
    assert json.loads(planned.details["edits"]) == ["items.0.quantity=2"]
