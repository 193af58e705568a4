"""``make chaos``: the long fault profile, seeded, with a table of what held.

At least 2,000 sagas through two coordinators on a private Kafka + Redis, while a
seeded schedule injects at least 40 faults: coordinator SIGKILLs (spaced beyond the
session timeout, half of them followed by paused Redis writes, so that the rebalances
take their fencing tokens slowly), Redis and broker SIGKILLs with restarts, and rounds
of outside poison and misrouted starts (kcat); all the while 4% of the orders get late
replies, every start event is produced twice and every 10th record of the other saga
topics again.
The effect ledger is audited at the end (tests/faults/invariants.py). Exit 0 only if
every invariant held.

    CHAOS_SEED=1234 make chaos        # replay a schedule; the seed is always printed
    CHAOS_SAGAS=3000 make chaos       # more sagas (at least 2,000)
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

import structlog
from redis.asyncio import Redis

from tests.faults.duplicates import redeliver
from tests.faults.invariants import Report
from tests.faults.poison import lands_elsewhere, produce_poison, produce_starts
from tests.faults.world import Env, Run, Scenario, Script, execute, mixed
from tests.heavy.participants import LATE_INVENTORY, LATE_PAYMENTS
from tests.support.faultstack import FaultStack
from tests.support.infra import Infra

HARD_LIMIT_S = 25 * 60
MIN_SAGAS = 2000
SCHEDULE = {"coordinator": 12, "redis": 8, "broker": 6, "poison": 8}  # the 34 fixed ones
EXTRA_FAULTS = 8  # drawn by the seed among the same types
GAP_S = 7.0  # between faults: beyond the coordinators' 6 s session timeout


def chaos_tags(i: int) -> str:
    """``mixed`` plus 4% late replies (2% inventory, 2% payments)."""
    return {5: LATE_INVENTORY, 30: LATE_PAYMENTS}.get(i % 50, mixed(i))


def schedule(rng: random.Random) -> list[str]:
    kinds = [k for k, n in SCHEDULE.items() for _ in range(n)]
    kinds += rng.choices(list(SCHEDULE), k=EXTRA_FAULTS)
    rng.shuffle(kinds)
    return kinds


async def inject(run: Run, kind: str, rng: random.Random, n: int) -> None:
    if kind == "coordinator":
        await run.kill_coordinator(rng.choice(run.coordinators), down_s=rng.uniform(0, 3))
        if rng.random() < 0.5:  # and the rebalances that follow take their tokens slowly
            await run.slow_redis_writes(rng.uniform(4, 9))
    elif kind == "redis":
        await run.kill_infra("redis", down_s=rng.uniform(1, 4))
    elif kind == "broker":
        await run.kill_infra("kafka", down_s=rng.uniform(2, 6))
    else:
        await poison_round(run, rng, n)
        run.fault_ended()


async def poison_round(run: Run, rng: random.Random, n: int) -> None:
    """Every poison case on a coordinator or a participant topic, plus misrouted starts."""
    bootstrap = run.env.infra.kafka_bootstrap
    on_coordinator = rng.random() < 0.5
    topic = run.start_topic if on_coordinator else run.topic("inventory.commands")
    run.poison += (new := await produce_poison(bootstrap, topic, f"cz{n}x{run.env.uid}",
                                               coordinator=on_coordinator))  # fmt: skip
    run.faults["poison record"] += sum(p.records for p in new)
    null_keyed = [f"nk{n:03d}x{i}-ok" for i in range(2)]
    misrouted = [o for o in (f"ke{n:03d}x{i}-ok" for i in range(20)) if lands_elsewhere(o)][:2]
    run.ids += null_keyed + misrouted
    await produce_starts(bootstrap, run.start_topic, null_keyed, null_key=True)
    await produce_starts(bootstrap, run.start_topic, misrouted, null_key=False)
    run.faults["misrouted start"] += len(null_keyed) + len(misrouted)


def make_script(seed: int) -> tuple[list[str], Script]:
    rng = random.Random(seed)
    kinds = schedule(rng)

    async def script(run: Run) -> None:
        # not the poisoned topics (orders.events, inventory.commands): aiokafka, which the
        # copier uses, cannot read a header name that is not UTF-8
        clean = ("inventory.events", "payments.events", "shipping.events", "orders.commands",
                 "payments.commands", "shipping.commands")  # fmt: skip
        topics = [run.topic(t) for t in clean]
        copier = asyncio.create_task(
            redeliver(run.env.infra.kafka_bootstrap, topics, every=10, counts=run.faults)
        )
        feed = run.start_feed()
        try:
            await run.progress(50)
            for n, kind in enumerate(kinds):
                await run.spaced(GAP_S)
                await inject(run, kind, rng, n)
            await feed
            await run.progress(len(run.ids), timeout_s=run.scenario.settle_s)
        finally:
            copier.cancel()

    return kinds, script


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]


def table(seed: int, run: Run, report: Report, wall_s: float, last_lag_s: float | None) -> str:
    lags = [t for t in run.catch_up_s if t is not None]
    never = sum(1 for t in run.catch_up_s if t is None)
    lag = f"p50 {percentile(lags, 0.5):.1f} s, p99 {percentile(lags, 0.99):.1f} s" if lags else "-"
    others = ("completed", "misplaced", "reason", "status", "dead_letters", "process")
    other = {c: report.counts[c] for c in others if report.counts[c]}
    rows = [
        ("seed", seed),
        ("sagas", f"{report.sagas} ({dict(report.statuses)})"),
        ("faults", ", ".join(f"{k} {v}" for k, v in sorted(run.faults.items()))),
        ("lost", report.counts["lost"]),
        ("duplicate effects", report.counts["double"]),
        ("leaked effects", report.counts["leaked"]),
        ("stuck", report.counts["stuck"]),
        ("other violations", other or 0),
        (
            "fenced writes rejected",
            f"{report.figures['fenced_out_log_lines']} ('fenced out' lines)",
        ),
        ("fault -> zero lag", f"{lag} over {len(lags)} faults, {never} never caught up"),
        ("last fault -> zero lag", "never" if last_lag_s is None else f"{last_lag_s:.1f} s"),
        ("noop compensations", report.figures["noop_undos"]),
        ("wall time", f"{wall_s:.0f} s"),
    ]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


async def chaos(seed: int, sagas: int) -> int:
    started = time.monotonic()
    root = Path(tempfile.mkdtemp(prefix="dirigent-chaos-"))
    print(f"chaos: seed {seed}, {sagas} sagas, state and logs in {root}", flush=True)
    stack = FaultStack(root / "stack")
    try:
        await stack.up()
        infra = Infra(stack.bootstrap, stack.redis.url)
        redis, ledger = Redis.from_url(infra.redis_url), Redis.from_url(stack.ledger.url)
        env = Env(stack, infra, redis, ledger, uuid.uuid4().hex[:8], root / "logs")
        env.log_dir.mkdir()
        kinds, script = make_script(seed)
        print(f"schedule: {dict(Counter(kinds))}", flush=True)
        scenario = Scenario("cx", sagas=sagas, per_s=sagas / (len(kinds) * (GAP_S + 3)),
                            coordinators=2, tags=chaos_tags, late_s=3.5, settle_s=240,
                            duplicate_starts=True)  # fmt: skip
        run, report = await execute(scenario, env, script)
        last_lag = run.catch_up_s[-1] if run.catch_up_s else None  # the last fault's
        await redis.aclose()
        await ledger.aclose()
    finally:
        await stack.ensure_up()
        await stack.down()
    print(table(seed, run, report, time.monotonic() - started, last_lag))
    if not report.ok:
        print("\nVIOLATIONS\n" + report.render(examples=15))
        return 1
    return 0


def quiet() -> None:
    """The table is the output: in-process clients log only errors (every refused
    connection of an outage would be a line), the coordinators log to their files."""
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))


def main() -> int:
    quiet()
    seed = int(os.environ.get("CHAOS_SEED") or random.SystemRandom().randrange(1, 10**6))
    sagas = max(MIN_SAGAS, int(os.environ.get("CHAOS_SAGAS") or MIN_SAGAS))

    async def bounded() -> int:
        async with asyncio.timeout(HARD_LIMIT_S):
            return await chaos(seed, sagas)

    try:
        return asyncio.run(bounded())
    except TimeoutError:
        print(f"chaos: seed {seed} did not finish within {HARD_LIMIT_S} s")
        return 2


if __name__ == "__main__":
    sys.exit(main())
