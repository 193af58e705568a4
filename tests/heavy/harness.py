"""The heavy suite's machinery: coordinator subprocesses, order feed, store probes, audit."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from dirigent.coordinator import Topology
from dirigent.coordinator.provision import provision_topics, topic_specs
from dirigent.events import Envelope
from dirigent.saga import SagaDefinition, SagaState
from dirigent.store.saga_store import SagaStore
from dirigent.transport import OutgoingRecord, RawProducer, delete_topics
from sagas.contracts.shop import OrderLine, OrderPlaced
from sagas.order_fulfilment import build_order_fulfilment
from tests.heavy.participants import (
    DECLINE,
    FORWARD,
    OK,
    UNDO,
    Effect,
    fault,
    order_id,
    shop_codec,
)
from tests.support.infra import Infra

ROOT = Path(__file__).resolve().parents[2]
DIRIGENT = ROOT / ".venv" / "bin" / "dirigent"
PARTITIONS = 6
TERMINAL = ("COMPLETED", "COMPENSATED", "FAILED")
PARKED = "PARKED"  # waits for an operator, with a reason: an end, not "stuck"
ENDS = (*TERMINAL, PARKED)
IN_FLIGHT = ("RUNNING", "COMPENSATING")


async def wait_until(
    cond: Callable[[], Awaitable[bool]], *, timeout_s: float, what: str, every_s: float = 0.2
) -> None:
    """Poll ``cond`` until it holds; fail with ``what`` at the deadline."""
    deadline = time.monotonic() + timeout_s
    while not await cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")
        await asyncio.sleep(every_s)


@dataclass
class Shop:
    """One test's world: prefix, saga, coordinator group, topics."""

    infra: Infra
    uid: str
    step_timeout_s: float
    # Silent participants trip the circuit breaker once the other traffic has ended, and
    # a half-open breaker with nothing in the outbox never probes: its timers are held
    # for ever (test_breaker_half_open.py). The fault-injection runs are about kills and
    # zombies, so they raise the threshold; None keeps the coordinator's default.
    breaker_threshold: int | None = 1_000_000
    unsent_hold_s: float | None = None  # None: the coordinator's default
    prefix: str = field(init=False)
    group: str = field(init=False)
    saga: SagaDefinition = field(init=False)

    def __post_init__(self) -> None:
        # A dash, not a dot: a step's participant (breaker) is the topic's first dotted
        # segment, and each service must keep its own breaker.
        self.prefix = f"hv{self.uid}-"
        self.group = f"heavy-coord-{self.uid}"
        self.saga = build_order_fulfilment(prefix=self.prefix, step_timeout_s=self.step_timeout_s)

    @property
    def transitions_topic(self) -> str:
        return f"{self.prefix}saga.transitions"

    def topics(self) -> list[str]:
        specs = topic_specs(
            Topology.of([self.saga]), partitions=PARTITIONS,
            transitions_topic=self.transitions_topic,
        )  # fmt: skip
        return [s.name for s in specs]

    async def provision(self) -> None:
        await provision_topics(
            self.infra.kafka_bootstrap, Topology.of([self.saga]),
            partitions=PARTITIONS, transitions_topic=self.transitions_topic,
        )  # fmt: skip

    async def drop_topics(self) -> None:
        await delete_topics(self.infra.kafka_bootstrap, self.topics())

    def coordinator_env(self, **extra: str) -> dict[str, str]:
        """The child's settings; ``breaker_threshold`` is raised (see ``Shop.breaker``)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("DIRIGENT_")}
        env |= {
            "DIRIGENT_KAFKA_BOOTSTRAP": self.infra.kafka_bootstrap,
            "DIRIGENT_REDIS_URL": self.infra.redis_url,
            "DIRIGENT_COORDINATOR_TRANSITIONS_TOPIC": self.transitions_topic,
            # the broker's minimum: a killed or frozen member leaves the group quickly
            "DIRIGENT_COORDINATOR_SESSION_TIMEOUT_MS": "6000",
            "DIRIGENT_COORDINATOR_HEARTBEAT_INTERVAL_MS": "1000",
            "DIRIGENT_LOG_JSON": "true",  # the tests read the child's log lines
            "DIRIGENT_HEAVY_PREFIX": self.prefix,
            "DIRIGENT_HEAVY_STEP_TIMEOUT_S": str(self.step_timeout_s),
            **extra,
        }
        if self.breaker_threshold is not None:
            env["DIRIGENT_COORDINATOR_BREAKER_FAILURE_THRESHOLD"] = str(self.breaker_threshold)
        if self.unsent_hold_s is not None:
            env["DIRIGENT_COORDINATOR_UNSENT_HOLD_S"] = str(self.unsent_hold_s)
        return env


class CoordinatorProcess:
    """``dirigent coordinator`` as a child process; every incarnation logs to one file."""

    def __init__(self, shop: Shop, name: str, log_dir: Path) -> None:
        self.shop, self.name = shop, name
        self.log_path = log_dir / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.incarnations = 0
        self.extra_env: dict[str, str] = {}  # more DIRIGENT_* settings for the child

    def start(self) -> None:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.incarnations += 1
        cmd = [str(DIRIGENT), "coordinator", "--sagas", "tests.heavy.saga_under_test",
               "--group-id", self.shop.group, "--partitions", str(PARTITIONS)]  # fmt: skip
        env = self.shop.coordinator_env(
            DIRIGENT_COORDINATOR_COORDINATOR_ID=f"{self.name}-{self.incarnations}",
            **self.extra_env,
        )
        with self.log_path.open("ab") as log:
            log.write(f"--- {self.name} incarnation {self.incarnations}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def signal(self, sig: signal.Signals) -> None:
        assert self.proc is not None
        assert self.proc.poll() is None, f"{self.name} is not running"
        os.kill(self.proc.pid, sig)

    async def wait_exit(self, timeout_s: float) -> int:
        assert self.proc is not None
        proc = self.proc
        deadline = time.monotonic() + timeout_s
        while proc.poll() is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name} did not exit within {timeout_s}s")
            await asyncio.sleep(0.1)
        return proc.returncode

    async def kill(self) -> None:
        self.signal(signal.SIGKILL)
        assert await self.wait_exit(10) == -signal.SIGKILL

    async def stop(self, timeout_s: float = 30) -> int:
        """SIGTERM: drain, flush the outbox, leave the group. Returns the exit code."""
        self.signal(signal.SIGTERM)
        return await self.wait_exit(timeout_s)

    def cleanup(self) -> None:
        """Never leave a child behind (a failed test included)."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGCONT)
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def events(self, name: str) -> list[dict[str, Any]]:
        """The child's structured log records whose event starts with ``name``."""
        out = []
        for line in self.log().splitlines():
            if line.startswith("{"):
                record = json.loads(line)
                if str(record.get("event", "")).startswith(name):
                    out.append(record)
        return out


class StoreProbe:
    """Reads the coordinator group's saga store the way an operator would."""

    def __init__(self, redis: Redis, group: str) -> None:
        self.redis = redis
        self.store = SagaStore(redis, group)

    async def fences(self) -> list[int]:
        values = [await self.redis.get(self.store.keys(p).fence) for p in range(PARTITIONS)]
        return [int(v) if v is not None else 0 for v in values]

    async def counts(self) -> Counter[str]:
        out: Counter[str] = Counter()
        for p in range(PARTITIONS):
            for status in (*ENDS, *IN_FLIGHT):
                out[status] += await self.store.count_status(p, status)
        return out

    async def ended(self) -> int:
        """Sagas that reached an end: terminal or parked for an operator."""
        counts = await self.counts()
        return sum(counts[s] for s in ENDS)

    async def terminal(self) -> int:
        counts = await self.counts()
        return sum(counts[s] for s in TERMINAL)

    async def outbox(self) -> int:
        return sum([await self.store.outbox_size(p) for p in range(PARTITIONS)])

    async def states(self) -> dict[str, SagaState]:
        out: dict[str, SagaState] = {}
        for p in range(PARTITIONS):
            keys = self.store.keys(p)
            ids: list[str] = []
            for status in (*TERMINAL, *IN_FLIGHT):
                ids += [m.decode() for m in await self.redis.zrange(keys.status(status), 0, -1)]
            for sid, row in zip(ids, await self.store.load_many(p, ids), strict=True):
                assert row is not None, f"saga {sid} is indexed but has no state"
                out[sid] = SagaState.from_json(row.state_json)
        return out


async def place_orders(shop: Shop, ids: Sequence[str], *, per_s: float, chunk: int = 50) -> None:
    """Publish ``OrderPlaced`` for ``ids`` at about ``per_s`` orders a second."""
    codec = shop_codec()
    ref = codec.schema_ref(OrderPlaced)
    start = time.monotonic()
    async with RawProducer(shop.infra.kafka_bootstrap) as producer:
        for n in range(0, len(ids), chunk):
            records = []
            for oid in ids[n : n + chunk]:
                o = OrderPlaced(order_id=oid, customer_id="c1", amount_cents=1000, currency="EUR",
                                items=[OrderLine(sku="sku-1", quantity=1)])  # fmt: skip
                env = Envelope.new(type=o.event_type, source="heavy", saga_id=oid, schema_ref=ref)
                records.append(OutgoingRecord(f"{shop.prefix}orders.events", codec.encode(o),
                                              env.record_key, tuple(env.to_headers())))  # fmt: skip
            await producer.send_batch(records)
            # pacing, not synchronisation: keep sagas in flight over the whole run
            await asyncio.sleep(max(0.0, start + (n + chunk) / per_s - time.monotonic()))


def orders(n: int) -> list[str]:
    return [order_id(i) for i in range(n)]


def expected_status(oid: str) -> str:
    return "COMPLETED" if fault(oid) == OK else "COMPENSATED"


def late_timeouts(ids: Sequence[str], states: dict[str, SagaState]) -> set[str]:
    """Fault-free sagas compensated because a step timed out (see ``assert_sound``)."""
    return {
        i for i in ids
        if fault(i) == OK and i in states and states[i].status.value == "COMPENSATED"
        and "no reply within" in (states[i].reason or "")
    }  # fmt: skip


def audit(
    ids: Sequence[str],
    states: dict[str, SagaState],
    effects: Sequence[Effect],
    applications: dict[str, int],
    tolerated: set[str] = frozenset(),  # type: ignore[assignment]
) -> list[str]:
    """Every violated invariant, one line each (empty: the run is sound)."""
    problems = [f"command {c} applied {n} times" for c, n in applications.items() if n != 1]
    by_saga: dict[str, list[Effect]] = {}
    for e in effects:
        by_saga.setdefault(e.saga_id, []).append(e)
    unknown = set(by_saga) - set(ids)
    problems += [f"effects for unknown saga {s}" for s in sorted(unknown)]
    for oid in ids:
        state = states.get(oid)
        if state is None:
            problems.append(f"{oid}: no saga state")
            continue
        found = _audit_saga(oid, state, by_saga.get(oid, []), oid in tolerated)
        problems += [f"{oid}: {p}" for p in found]
    return problems


def _audit_saga(oid: str, state: SagaState, effects: list[Effect], tolerated: bool) -> list[str]:
    status = state.status.value
    out = []
    if status != expected_status(oid) and not tolerated:
        out.append(f"{status} (reason {state.reason!r}), expected {expected_status(oid)}")
    applied = {e.ref: e for e in effects if e.kind in FORWARD}
    kinds = Counter(e.kind for e in effects)
    for e in effects:
        if e.kind in UNDO:  # a compensation undoes an effect applied earlier, of its kind
            undone = applied.get(e.ref)
            if undone is None or undone.kind != UNDO[e.kind] or undone.seq > e.seq:
                out.append(f"{e.kind} {e.ref!r} matches no earlier {UNDO[e.kind]} effect")
    for kind in UNDO:
        if kinds[kind] > 1:
            out.append(f"{kinds[kind]} {kind} effects")
    if status == "COMPLETED":
        out += _audit_completed(state, applied, kinds)
    elif status == "COMPENSATED":
        out += _audit_compensated(oid, state, effects, kinds, tolerated)
    return out


def _audit_completed(
    state: SagaState, applied: dict[str, Effect], kinds: Counter[str]
) -> list[str]:
    out = []
    if set(kinds) & set(UNDO):
        out.append(f"completed but compensated: {dict(kinds)}")
    for key, kind in (("reservation_id", "reserve"), ("authorization_id", "authorize"),
                      ("shipment_id", "ship")):  # fmt: skip
        if applied.get(state.data.get(key, "")) is None:
            out.append(f"completed, but its {kind} effect {state.data.get(key)!r} is missing")
    if not kinds["approve"]:
        out.append("completed without an approval")
    return out


def _audit_compensated(
    oid: str, state: SagaState, effects: list[Effect], kinds: Counter[str], tolerated: bool
) -> list[str]:
    out = []
    if (kinds["ship"] or kinds["approve"]) and not tolerated:
        out.append(f"compensated after the pivot: {dict(kinds)}")
    # what the saga used must be undone exactly once, newest first
    undo_of = (("void", "authorization_id"), ("release", "reservation_id"))
    expected = [(u, state.data[k]) for u, k in undo_of if k in state.data]
    undos = [(e.kind, e.ref) for e in effects if e.kind in UNDO]
    if undos != expected:
        out.append(f"compensations {undos}, expected {expected} (reverse order)")
    if fault(oid) == DECLINE and kinds["authorize"]:
        out.append("a declined payment was authorized")
    return out


def superseded(states: dict[str, SagaState], effects: Sequence[Effect]) -> int:
    """Forward effects the saga did not build on (a retry after a late reply): reported,
    not failed, since each is a distinct command the saga really sent."""
    used = {v for s in states.values() for k, v in s.data.items() if k.endswith("_id")}
    kinds = ("reserve", "authorize", "ship")
    return sum(1 for e in effects if e.kind in kinds and e.ref not in used)


async def all_fenced(probe: StoreProbe) -> bool:
    return all(await probe.fences())


async def fenced_past(probe: StoreProbe, before: Sequence[int], parts: Sequence[int]) -> bool:
    """Whether every partition in ``parts`` got a newer fencing token than ``before``."""
    now = await probe.fences()
    return all(now[p] > before[p] for p in parts)


async def terminal_at_least(probe: StoreProbe, n: int) -> bool:
    return await probe.terminal() >= n


async def outbox_empty(probe: StoreProbe) -> bool:
    return await probe.outbox() == 0


def assert_sound(
    ids: Sequence[str],
    counts: Counter[str],
    states: dict[str, SagaState],
    effects: Sequence[Effect],
    applications: dict[str, int],
    *,
    tolerate_late_timeouts: bool = False,
) -> set[str]:
    """The acceptance checks every heavy run ends with; returns the tolerated sagas.

    ``tolerate_late_timeouts``: after a coordinator outage longer than a step timeout,
    the timer can fire before the reply that arrived during the outage is read, and a
    fault-free saga is compensated (even after its pivot). That is a known coordinator
    defect (docs/reliability.md, "Known gaps"); with this flag such sagas are reported,
    not failed, while every other check, their compensations included, still applies.
    """
    tolerated = late_timeouts(ids, states) if tolerate_late_timeouts else set()
    problems = audit(ids, states, effects, applications, tolerated)
    assert not problems, f"{len(problems)} violations:\n" + "\n".join(problems[:30])
    assert counts["COMPLETED"] + counts["COMPENSATED"] + counts["FAILED"] == len(ids)
    assert counts["RUNNING"] == counts["COMPENSATING"] == 0
    expected = Counter(expected_status(i) for i in ids)
    assert (counts["COMPLETED"], counts["COMPENSATED"], counts["FAILED"]) == (
        expected["COMPLETED"] - len(tolerated), expected["COMPENSATED"] + len(tolerated), 0,
    )  # fmt: skip
    return tolerated
