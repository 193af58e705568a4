"""The demo end to end: every saga terminal, and the effect ledger proves the guarantees."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path

import pytest

from dirigent.config import Settings
from dirigent.demo import DemoOptions, DemoResult, run_demo
from examples.shop import EntryKind, LedgerEntry, ledger_problems, refused_orders
from examples.shop.checks import COMPENSATES, silences_by_order
from sagas.order_fulfilment import build_order_fulfilment
from tests.support.infra import Infra

ROOT = Path(__file__).resolve().parents[3]
N = 100


@pytest.fixture(scope="module")
async def result(infra: Infra) -> DemoResult:
    """One demo run shared by the tests of this module (it takes ~10 s)."""
    uid = uuid.uuid4().hex[:10]
    options = DemoOptions(sagas=N, decline_rate=0.1, silent_rate=0.02, latency_ms=2,
                          step_timeout_s=3, timeout_s=90, run_id=uid, seed=uid)  # fmt: skip
    settings = Settings(kafka_bootstrap=infra.kafka_bootstrap, redis_url=infra.redis_url)
    return await run_demo(options, settings)


def effects(result: DemoResult) -> list[LedgerEntry]:
    return [e for e in result.ledger if e.kind is EntryKind.EFFECT]


def owing_a_compensation(result: DemoResult) -> dict[str, set[str]]:
    """Orders with a silenced compensation command, and which compensations."""
    return {
        order_id: owed
        for order_id, silenced in silences_by_order(result.ledger).items()
        if (owed := set(silenced) & set(COMPENSATES))
    }


def test_every_saga_ends_and_the_ledger_is_consistent(result: DemoResult) -> None:
    s = result.summary

    assert s.running == 0, result.statuses
    assert s.completed + s.compensated + s.failed + s.parked == N
    assert s.completed > 0  # the run exercised both paths
    assert s.compensated > 0
    assert result.problems == []

    applied = Counter((e.order_id, e.name) for e in effects(result))
    assert [k for k, n in applied.items() if n > 1] == []  # no effect applied twice

    undo_of = {"reserve_stock": "release_stock", "authorize_payment": "void_payment"}
    owing = owing_a_compensation(result)
    for order_id, status in result.statuses.items():
        names = [e.name for e in effects(result) if e.order_id == order_id]
        undo = [n for n in names if n in undo_of.values()]
        expected = [undo_of[n] for n in reversed(names) if n in undo_of]
        if status == "COMPENSATED":  # every effect that took place is undone, newest first
            assert undo == expected, (order_id, names)
        elif status == "PARKED" and order_id in owing:
            # A compensation that never answers is owed: the saga parks with it, after
            # the others ran (their order is checked by ledger_problems above).
            assert set(undo) <= set(expected), (order_id, names)
            assert set(expected) - set(undo) <= set(owing[order_id]), (order_id, names)
        else:
            assert undo == [], (order_id, status, names)


def test_compensations_match_the_refusals_in_the_ledger(result: DemoResult) -> None:
    compensated = {o for o, st in result.statuses.items() if st == "COMPENSATED"}
    refused = refused_orders(result.ledger)
    # A silenced command stays silent when re-sent (same command id, same stored
    # outcome), so its step runs out of attempts: compensated, or parked after the pivot.
    steps = build_order_fulfilment().steps
    silenced = {o for o, c in silences_by_order(result.ledger).items()
                if any(step in steps for step in c)}  # fmt: skip

    owing = set(owing_a_compensation(result))
    parked_owing = {o for o, st in result.statuses.items() if st == "PARKED"} & owing
    assert refused <= compensated | parked_owing  # every declined order was undone, or owes it
    assert compensated - refused <= silenced  # ...and nothing else, but silenced steps
    parked = {o for o, st in result.statuses.items() if st == "PARKED"}
    assert parked <= silenced | {o for o, c in silences_by_order(result.ledger).items()}
    assert result.summary.declined == len(refused)


def test_the_ledger_check_catches_a_double_effect_and_a_wrong_order() -> None:
    def e(name: str, cid: str, ref: str) -> LedgerEntry:
        return LedgerEntry("svc", EntryKind.EFFECT, name, "o1", cid, ref)

    bad = [
        e("reserve_stock", "c1", "r1"), e("authorize_payment", "c2", "a1"),
        e("release_stock", "c3", "r1"), e("void_payment", "c4", "a1"),  # wrong order
        e("reserve_stock", "c5", "r2"),  # applied twice, after a compensation
        e("release_stock", "c6", "nope"),  # undoes nothing
    ]  # fmt: skip
    problems = "\n".join(ledger_problems(bad, {"o1": "COMPENSATED"}))
    assert "reserve_stock applied 2 times" in problems
    assert "not in reverse order" in problems
    assert "undoes no applied reserve_stock" in problems
    assert "applied after a compensation" in problems


def test_cli_prints_the_summary_as_json(infra: Infra) -> None:
    # No silences: the CLI's 10 s step timeouts would make the run's length a matter of
    # luck (a silent step, then a silent compensation: 80 s); the fixture covers them.
    env = {**os.environ, "DIRIGENT_KAFKA_BOOTSTRAP": infra.kafka_bootstrap,
           "DIRIGENT_REDIS_URL": infra.redis_url}  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-c", "from dirigent.cli import main; main()",
         "demo", "--sagas", "20", "--json", "--timeout-s", "60", "--silent-rate", "0"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=110, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    for key in ("completed", "compensated", "failed", "dead_lettered", "p50_ms", "p99_ms"):
        assert key in summary
    settled = ("completed", "compensated", "failed", "parked")
    assert sum(summary[k] for k in settled) == 20
