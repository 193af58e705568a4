"""The audit and the ledger themselves: each invariant fires on the violation it names.

The fault scenarios are only as good as their checks; these pin what a check reports.
"""

from __future__ import annotations

from redis.asyncio import Redis

from dirigent.transport.reader import partition_for
from tests.faults.invariants import SagaView, audit
from tests.faults.world import Env
from tests.heavy.harness import PARTITIONS
from tests.heavy.participants import Effect, EffectLedger


def view(sid: str, status: str, reason: str = "", **data: str) -> SagaView:
    return SagaView(sid, partition_for(sid, PARTITIONS), status, reason, dict(data))


def effects(*rows: tuple[str, str, str]) -> list[Effect]:
    return [Effect(n, kind, sid, f"c{n}", ref) for n, (kind, sid, ref) in enumerate(rows)]


def completed_effects(sid: str) -> list[tuple[str, str, str]]:
    return [("reserve", sid, "r1"), ("authorize", sid, "a1"), ("ship", sid, "s1"),
            ("approve", sid, "c")]  # fmt: skip


def test_a_sound_completed_and_compensated_pair_passes() -> None:
    done = view("a-ok", "COMPLETED", reservation_id="r1", authorization_id="a1", shipment_id="s1")
    undone = view("b-decline", "COMPENSATED", "payment declined", reservation_id="r2")
    rows = [*completed_effects("a-ok"), ("reserve", "b-decline", "r2"),
            ("release", "b-decline", "r2"), ("void-nothing", "b-decline", "")]  # fmt: skip
    report = audit(["a-ok", "b-decline"], {"a-ok": done, "b-decline": undone}, effects(*rows))
    assert report.ok, report.render()
    assert report.figures["noop_undos"] == 1


def test_each_violation_is_reported_with_its_saga() -> None:
    ids = ["d-ok", "l-ok", "s-ok", "p-ok", "x-ok", "u-ok", "lost-ok"]
    views = {
        "d-ok": view("d-ok", "COMPENSATED", "x"),
        "l-ok": view("l-ok", "COMPENSATED", "x"),
        "s-ok": view("s-ok", "RUNNING"),
        "p-ok": view("p-ok", "PARKED"),
        "x-ok": view("x-ok", "COMPLETED", reservation_id="r9"),
        "u-ok": view("u-ok", "WEIRD"),
    }
    rows = [("reserve", "d-ok", "r1"), ("reserve", "d-ok", "r2"), ("release", "d-ok", "r1"),
            ("release", "d-ok", "r2"), ("reserve", "l-ok", "r3"), ("ship", "l-ok", "s3"),
            ("reserve", "p-ok", "r4"), ("reserve", "x-ok", "r5")]  # fmt: skip
    report = audit(ids, views, effects(*rows))
    expected = {"double": ["d-ok"], "leaked": ["l-ok", "l-ok", "p-ok"], "stuck": ["s-ok"],
                "reason": ["p-ok"], "status": ["u-ok"], "lost": ["lost-ok"]}  # fmt: skip
    for category, sagas in expected.items():
        named = [line.split(":")[0].split(" ")[0] for line in report.violations[category]]
        assert named == sagas, (category, report.violations[category])
    assert "x-ok" in " ".join(report.violations["completed"])


def test_a_saga_parked_at_its_pivot_may_hold_its_earlier_effects() -> None:
    parked = view("p-ok", "PARKED", "step 'schedule_shipment': outcome unknown")
    rows = [("reserve", "p-ok", "r1"), ("authorize", "p-ok", "a1")]
    assert audit(["p-ok"], {"p-ok": parked}, effects(*rows)).ok


async def test_the_ledger_applies_once_per_command_and_undoes_or_finds_nothing(env: Env) -> None:
    ledger = EffectLedger(env.ledger_redis, f"selftest{env.uid}")
    await ledger.apply("reserve", "o1", "cmd-1", "r-1")
    await ledger.apply("reserve", "o1", "cmd-1", "r-1")  # the handler ran again: no effect
    await ledger.undo("release", "o1", "cmd-2", None)  # unknown ref: whatever o1 holds
    await ledger.undo("release", "o1", "cmd-3", "r-1")  # already undone: nothing
    await ledger.undo("void", "o1", "cmd-4", None)  # never authorized: nothing
    kinds = [(e.kind, e.ref) for e in await ledger.effects()]
    assert kinds == [("reserve", "r-1"), ("release", "r-1"), ("release-nothing", "r-1"),
                     ("void-nothing", "")]  # fmt: skip
    assert (await ledger.applications())["cmd-1"] == 2
    await _drop(env.ledger_redis, f"selftest{env.uid}")


async def _drop(redis: Redis, namespace: str) -> None:
    keys = [k async for k in redis.scan_iter(match=f"heavy:{namespace}:*")]
    if keys:
        await redis.delete(*keys)
