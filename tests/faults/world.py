"""One fault scenario end to end: shop, participants, coordinators, feed, faults, audit.

A test gives a ``Scenario`` and a script (feed the orders, inject the faults); ``execute``
builds the world, runs the script, lets every saga settle under a deadline, stops the
coordinators, and returns the audit (``invariants.Report``), process problems included:
a coordinator that exits on its own, or a participant that dies, is a violation.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from redis.asyncio import Redis
from redis.exceptions import RedisError

from dirigent.coordinator import Topology
from dirigent.errors import DirigentError
from dirigent.events import Envelope, SingleObjectCodec
from dirigent.transport import OutgoingRecord, RawProducer
from sagas.contracts.shop import OrderLine, OrderPlaced
from tests.faults.invariants import Report, audit, expect_outcomes, load_views
from tests.faults.lag import groups_stable, time_to_catch_up
from tests.faults.poison import Poison, missing_dead_letters
from tests.heavy.harness import ENDS, CoordinatorProcess, Shop, StoreProbe, all_fenced, wait_until
from tests.heavy.participants import (
    DECLINE,
    LATE_INVENTORY,
    LATE_PAYMENTS,
    MUTE_PAYMENTS,
    OK,
    EffectLedger,
    running_participants,
    shop_codec,
)
from tests.support.faultstack import FaultStack, free_port
from tests.support.infra import Infra

Tags = Callable[[int], str]
SUMMARIES: list[str] = []  # one line per scenario run, printed at the end of the session
SOFT_ERRORS = (RedisError, DirigentError, OSError, AssertionError)


def mixed(i: int) -> str:
    """10% declined payments, 2% silent payments (unknown outcome), the rest fine."""
    if i % 10 == 3:
        return DECLINE
    return MUTE_PAYMENTS if i % 50 == 17 else OK


def with_late(i: int) -> str:
    """``mixed`` plus 10% late replies (5% inventory, 5% payments)."""
    return {5: LATE_INVENTORY, 15: LATE_PAYMENTS}.get(i % 20, mixed(i))


@dataclass(frozen=True)
class Scenario:
    name: str  # letters only: it prefixes the order ids
    sagas: int
    per_s: float = 20.0
    step_timeout_s: float = 2.0
    coordinators: int = 1
    late_s: float = 0.0
    tags: Tags = mixed
    duplicate_starts: bool = False
    settle_s: float = 60.0  # after the script: every saga must end by then


@dataclass
class Env:
    """What the session provides: the private stack and clients to it."""

    stack: FaultStack
    infra: Infra
    redis: Redis
    ledger_redis: Redis
    uid: str
    log_dir: Path


@dataclass
class Run:
    scenario: Scenario
    env: Env
    shop: Shop = field(init=False)
    probe: StoreProbe = field(init=False)
    coordinators: list[CoordinatorProcess] = field(init=False)
    ids: list[str] = field(init=False)
    poison: list[Poison] = field(default_factory=list)
    expected: dict[str, str] = field(default_factory=dict)  # saga id -> the status it must end in
    problems: list[str] = field(default_factory=list)
    faults: Counter[str] = field(default_factory=Counter)
    catch_up_s: list[float | None] = field(default_factory=list)
    last_fault_end: float = 0.0
    settled: bool = False  # every saga ended within the settle deadline
    down: set[str] = field(default_factory=set)  # coordinators killed on purpose
    participant_tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _background: set[asyncio.Task[object]] = field(default_factory=set)

    def __post_init__(self) -> None:
        sc = self.scenario
        self.shop = Shop(self.env.infra, self.env.uid, step_timeout_s=sc.step_timeout_s)
        self.probe = StoreProbe(self.env.redis, self.shop.group)
        self.coordinators = [CoordinatorProcess(self.shop, n, self.env.log_dir)
                             for n in "ab"[: sc.coordinators]]  # fmt: skip
        self.ids = [f"{sc.name}{i:05d}-{sc.tags(i)}" for i in range(sc.sagas)]
        for c in self.coordinators:  # /readyz: degraded during an outage, ready after
            c.extra_env["DIRIGENT_COORDINATOR_METRICS_PORT"] = str(free_port())

    @property
    def start_topic(self) -> str:
        return f"{self.shop.prefix}orders.events"

    def topic(self, domain_topic: str) -> str:
        return f"{self.shop.prefix}{domain_topic}"

    # --- feeding -------------------------------------------------------------------
    def start_feed(
        self, ids: Sequence[str] | None = None, per_s: float | None = None
    ) -> asyncio.Task[None]:
        return asyncio.create_task(self.feed(self.ids if ids is None else ids,
                                             per_s or self.scenario.per_s))  # fmt: skip

    async def feed(self, ids: Sequence[str], per_s: float, chunk: int = 10) -> None:
        """Publish ``OrderPlaced`` for ``ids`` (twice each if ``duplicate_starts``)."""
        codec = shop_codec()
        ref = codec.schema_ref(OrderPlaced)
        start = time.monotonic()
        async with RawProducer(self.env.infra.kafka_bootstrap) as producer:
            for n in range(0, len(ids), chunk):
                records = [_start(self.start_topic, oid, codec, ref) for oid in ids[n : n + chunk]]
                copies = 2 if self.scenario.duplicate_starts else 1
                for _ in range(copies):
                    await _send_until_acked(producer, records)
                if copies == 2:
                    self.faults["duplicate start"] += len(records)
                # pacing, not synchronisation: keep sagas in flight over the whole run
                await asyncio.sleep(max(0.0, start + (n + chunk) / per_s - time.monotonic()))

    # --- faults --------------------------------------------------------------------
    async def kill_coordinator(self, c: CoordinatorProcess, *, down_s: float = 0.0) -> None:
        """SIGKILL ``c``, keep it down ``down_s``, start it again."""
        self.down.add(c.name)
        try:
            if c.proc is not None and c.proc.poll() is None:
                await c.kill()
            self.faults["coordinator SIGKILL"] += 1
            await asyncio.sleep(down_s)  # the outage itself, not a synchronisation
            c.start()
        finally:
            self.down.discard(c.name)
        self.fault_ended()

    async def kill_infra(self, name: str, *, down_s: float) -> None:
        """SIGKILL Redis or the broker under load, keep it down ``down_s``, restart it.

        Each coordinator must keep running, report not-ready (/readyz 503) during a Redis
        outage, and be ready again within 30 s of the restart.
        """
        await self.env.stack.kill(name)
        self.faults[f"{name} SIGKILL"] += 1
        degraded = await self._watch_readiness(down_s)  # for the length of the outage
        await self.env.stack.start(name)
        self.fault_ended()
        for c in self.coordinators:
            if name == "redis" and down_s >= 2 and c.name not in degraded:
                self.problems.append(f"coordinator {c.name} reported ready (/readyz 200) "
                                     f"throughout a {down_s:.1f} s Redis outage")  # fmt: skip
            if not await soft_wait(lambda c=c: self._ready(c), 30):
                self.problems.append(f"coordinator {c.name} not ready 30 s after {name} "
                                     f"came back")  # fmt: skip

    async def slow_redis_writes(self, duration_s: float, pause_ms: int = 400) -> None:
        """Pause every client's Redis writes (CLIENT PAUSE WRITE) most of ``duration_s``:
        a rebalance in that window takes its fencing tokens slowly, while the consumer
        already fetches the new partitions' records."""
        self.faults["redis write pauses"] += 1
        deadline = time.monotonic() + duration_s
        while time.monotonic() < deadline:
            with contextlib.suppress(RedisError):
                await self.env.redis.execute_command("CLIENT", "PAUSE", pause_ms, "WRITE")
            await asyncio.sleep(pause_ms / 1000 + 0.1)

    async def _watch_readiness(self, duration_s: float) -> set[str]:
        """Poll every coordinator's /readyz for ``duration_s``; the names seen not ready."""
        seen: set[str] = set()
        deadline = time.monotonic() + duration_s
        while time.monotonic() < deadline:
            for c in self.coordinators:
                if await readiness(c) is False:
                    seen.add(c.name)
            await asyncio.sleep(0.2)
        return seen

    async def _ready(self, c: CoordinatorProcess) -> bool:
        return await readiness(c) is True

    def fault_ended(self) -> None:
        """Note the end of a fault, and measure how long the coordinators take to commit
        everything written up to now (``catch_up_s``, one slot per fault, None: never)."""
        self.last_fault_end = time.monotonic()
        self.catch_up_s.append(None)
        self.background(self._measure_catch_up(len(self.catch_up_s) - 1))

    async def _measure_catch_up(self, slot: int) -> None:
        topics = sorted(Topology.of([self.shop.saga]).input_topics)
        self.catch_up_s[slot] = await time_to_catch_up(
            self.env.infra.kafka_bootstrap, self.shop.group, topics,
            timeout_s=self.scenario.settle_s,
        )  # fmt: skip

    def background(self, coro: Awaitable[object]) -> None:
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # --- waiting -------------------------------------------------------------------
    async def spaced(self, gap_s: float) -> None:
        """Let at least ``gap_s`` pass since the last fault ended (fault scheduling)."""
        await asyncio.sleep(max(0.0, self.last_fault_end + gap_s - time.monotonic()))

    async def ended(self) -> int:
        return await self.probe.ended()

    async def progress(self, n: int, timeout_s: float = 30.0) -> bool:
        """Wait (softly) until ``n`` sagas ended; False at the deadline, the audit will say why."""
        return await soft_wait(lambda: self._at_least(n), timeout_s)

    async def _at_least(self, n: int) -> bool:
        return await self.ended() >= n

    # --- watching ------------------------------------------------------------------
    async def watch(self) -> None:
        """A coordinator that exits, or a participant that dies, is a defect: note it,
        restart the coordinator so the run goes on, and let the audit report it."""
        noted: set[int] = set()
        while True:
            for c in self.coordinators:
                if c.name not in self.down and c.proc is not None and c.proc.poll() is not None:
                    tail = " | ".join(c.log().splitlines()[-3:])[-600:]
                    rc, n = c.proc.returncode, c.incarnations
                    self.problems.append(
                        f"coordinator {c.name} #{n} exited by itself ({rc}): {tail}"
                    )
                    c.start()
            for t in self.participant_tasks:
                if t.done() and id(t) not in noted:
                    noted.add(id(t))
                    exc = None if t.cancelled() else t.exception()
                    self.problems.append(f"participant {t.get_name()} stopped: {exc!r}")
            await asyncio.sleep(0.5)


async def readiness(c: CoordinatorProcess) -> bool | None:
    """/readyz of ``c``: True (200), False (503), None (no answer: down or starting)."""
    url = f"http://127.0.0.1:{c.extra_env['DIRIGENT_COORDINATOR_METRICS_PORT']}/readyz"

    def get() -> bool | None:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                return bool(response.status == 200)
        except urllib.error.HTTPError as exc:
            return False if exc.code == 503 else None
        except OSError:
            return None

    return await asyncio.to_thread(get)


def _start(topic: str, oid: str, codec: SingleObjectCodec, ref: str) -> OutgoingRecord:
    o = OrderPlaced(order_id=oid, customer_id="c1", amount_cents=1000, currency="EUR",
                    items=[OrderLine(sku="sku-1", quantity=1)])  # fmt: skip
    env = Envelope.new(type=o.event_type, source="faults", saga_id=oid, schema_ref=ref)
    return OutgoingRecord(topic, codec.encode(o), env.record_key, tuple(env.to_headers()))


async def soft_wait(cond: Callable[[], Awaitable[bool]], timeout_s: float) -> bool:
    """Like ``wait_until``, but infrastructure errors count as "not yet" and the deadline
    returns False: during an outage the probes themselves fail."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(*SOFT_ERRORS):
            if await cond():
                return True
        await asyncio.sleep(0.5)
    return False


async def _send_until_acked(producer: RawProducer, records: list[OutgoingRecord]) -> None:
    """An outage does not lose the feed: resend (same message ids) until acknowledged."""
    deadline = time.monotonic() + 120
    while True:
        try:
            await producer.send_batch(records)
            return
        except Exception:  # any producer error during an outage: resend
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(1)


Script = Callable[[Run], Awaitable[None]]


async def execute(scenario: Scenario, env: Env, script: Script) -> tuple[Run, Report]:
    """Build the world, run ``script``, settle, stop, audit. Cleans up whatever happens."""
    run = Run(scenario, env)
    await run.shop.provision()
    try:
        ledger = await _run_world(run, script)
        report = await _audit(run, ledger)
    finally:
        for c in run.coordinators:
            c.cleanup()
        for task in list(run._background):
            task.cancel()
        await asyncio.gather(*run._background, return_exceptions=True)
        with contextlib.suppress(Exception):
            await run.shop.drop_topics()
    return run, report


async def _run_world(run: Run, script: Script) -> EffectLedger:
    env, sc = run.env, run.scenario
    participants = contextlib.AsyncExitStack()
    ledger, _services = await participants.enter_async_context(running_participants(
        env.infra.kafka_bootstrap, env.redis, env.uid, run.shop.prefix,
        ledger_redis=env.ledger_redis, late_s=sc.late_s, tasks_out=run.participant_tasks,
    ))  # fmt: skip
    try:
        groups = [f"heavy-{d}-{env.uid}" for d in ("inventory", "payments", "shipping", "orders")]
        await wait_until(lambda: groups_stable(env.infra.kafka_bootstrap, groups), timeout_s=90,
                         what="the participants' consumer groups")  # fmt: skip
        for c in run.coordinators:
            c.start()
        await wait_until(lambda: all_fenced(run.probe), timeout_s=60, what="partitions owned")
        if len(run.coordinators) > 1:
            await wait_until(lambda: _all_assigned(run), timeout_s=60,
                             what="every coordinator owning partitions")  # fmt: skip
        watcher = asyncio.create_task(run.watch())
        try:
            await script(run)
            run.settled = await soft_wait(lambda: _all_ended(run), sc.settle_s)
            await soft_wait(lambda: _outbox_empty(run), 20)
            await soft_wait(lambda: _measured(run), 30)
        finally:
            watcher.cancel()
        for c in run.coordinators:
            await _stop(run, c)
    finally:
        try:
            await participants.aclose()
        except Exception as exc:  # a participant that failed: the audit still runs  # noqa: BLE001
            run.problems.append(f"participants ended with {exc!r}")
    return ledger


async def _stop(run: Run, c: CoordinatorProcess) -> None:
    if c.proc is None or c.proc.poll() is not None:
        run.problems.append(f"coordinator {c.name} was not running at the end; log {c.log_path}")
        return
    # a coordinator restarted by the last fault may still be starting: SIGTERM it once up
    if not await soft_wait(lambda: run._ready(c), 60):
        run.problems.append(f"coordinator {c.name} #{c.incarnations} not ready (/readyz) "
                            f"60 s after its start; log {c.log_path}")  # fmt: skip
    try:
        rc = await c.stop()
    except AssertionError:  # did not exit: the audit still runs, cleanup() kills it
        run.problems.append(f"coordinator {c.name} did not exit within 30 s of SIGTERM "
                            f"(stalled?); log {c.log_path}")  # fmt: skip
        return
    if rc != 0:
        run.problems.append(f"coordinator {c.name} exited {rc} on SIGTERM (expected 0); "
                            f"log {c.log_path}")  # fmt: skip


async def _all_assigned(run: Run) -> bool:
    latest = [c.events("partitions assigned")[-1:] for c in run.coordinators]
    return all(ev and ev[0].get("partitions") for ev in latest)


async def _all_ended(run: Run) -> bool:
    return await run.ended() >= len(run.ids)


async def _measured(run: Run) -> bool:
    return not run._background


async def _outbox_empty(run: Run) -> bool:
    return await run.probe.outbox() == 0


async def _audit(run: Run, ledger: EffectLedger) -> Report:
    views = await load_views(run.probe.store, run.ids)
    report = audit(run.ids, views, await ledger.effects())
    expect_outcomes(report, views, run.expected)
    for line in run.problems:
        report.add("process", line)
    if run.poison:
        for line in missing_dead_letters(run.env.infra.kafka_bootstrap, run.poison):
            report.add("dead_letters", line)
    if run.scenario.late_s > 0:
        run.faults["late reply (orders)"] = sum(1 for i in run.ids if "-late-" in i)
    fenced = sum(len(c.events("fenced out")) for c in run.coordinators)
    applications = await ledger.applications()
    report.figures |= {
        "faults": dict(run.faults),
        "fenced_out_log_lines": fenced,
        "handler_reruns_absorbed": sum(n - 1 for n in applications.values() if n > 1),
        "catch_up_s": [None if t is None else round(t, 1) for t in run.catch_up_s],
        "ends": {s: report.statuses[s] for s in ENDS},
        "logs": str(run.env.log_dir),
    }
    bad = {c: n for c, n in report.counts.items() if n}
    SUMMARIES.append(f"{run.scenario.name}: {report.sagas} sagas {dict(report.statuses)}, "
                     f"faults {dict(run.faults)}, violations {bad or 0}, "
                     f"catch-up {report.figures['catch_up_s']}")  # fmt: skip
    return report
