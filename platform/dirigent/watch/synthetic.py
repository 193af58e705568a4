"""Seeded synthetic saga traffic as transitions, with injectable incidents (pure).

Used by the unit tests and ``python -m dirigent.watch.eval``. Each saga runs its steps
in order; a step replies after a log-normal latency, fails or times out with a small
probability, and a failure or timeout turns the saga to compensation. An ``Incident``
changes the parameters of one step (or the arrival rate) from ``start`` on.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from dirigent.events.builtin import SagaTransition

__all__ = ["Incident", "StepProfile", "Traffic", "transitions"]


@dataclass(frozen=True, slots=True)
class StepProfile:
    name: str
    latency_s: float = 0.2  # median
    failure_p: float = 0.01
    timeout_p: float = 0.002
    timeout_s: float = 10.0


@dataclass(frozen=True, slots=True)
class Incident:
    """From ``start`` s on, ``step`` (or the arrival rate) changes; ``ramp_s`` > 0 ramps it in.

    ``latency_x`` multiplies latency, ``failure_p``/``timeout_p`` are added, ``rate_x``
    multiplies the arrival rate of every saga.
    """

    name: str
    start: float
    step: str | None = None
    latency_x: float = 1.0
    failure_p: float = 0.0
    timeout_p: float = 0.0
    rate_x: float = 1.0
    ramp_s: float = 0.0

    def weight(self, t: float) -> float:
        if t < self.start:
            return 0.0
        return 1.0 if self.ramp_s <= 0 else min(1.0, (t - self.start) / self.ramp_s)


@dataclass(frozen=True, slots=True)
class Traffic:
    saga_type: str = "order"
    steps: tuple[StepProfile, ...] = (
        StepProfile("reserve", 0.05), StepProfile("pay", 0.3), StepProfile("ship", 0.15),
    )  # fmt: skip
    rate_per_s: float = 2.0
    duration_s: float = 3600.0
    seed: int = 1
    epoch: float = 1_790_000_000.0
    incidents: tuple[Incident, ...] = field(default=())

    def at(self, step: StepProfile, t: float) -> StepProfile:
        """The step's parameters at ``t`` s, incidents applied."""
        for i in self.incidents:
            w = i.weight(t)
            if w and i.step == step.name:
                step = replace(step, latency_s=step.latency_s * (1 + (i.latency_x - 1) * w),
                               failure_p=step.failure_p + i.failure_p * w,
                               timeout_p=step.timeout_p + i.timeout_p * w)  # fmt: skip
        return step

    def rate(self, t: float) -> float:
        r = self.rate_per_s
        for i in self.incidents:
            r *= 1 + (i.rate_x - 1) * i.weight(t)
        return r


def transitions(traffic: Traffic) -> Iterator[SagaTransition]:
    """Every transition of the traffic, in timestamp order."""
    rng = random.Random(traffic.seed)
    heap: list[tuple[float, int, SagaTransition]] = []
    t, n = 0.0, 0
    while t < traffic.duration_s:
        t += rng.expovariate(traffic.rate(t))
        n += 1
        for tr in _saga(traffic, rng, f"s{n}", t):
            heapq.heappush(heap, (tr.timestamp.timestamp(), len(heap) + n * 100, tr))
        while heap and heap[0][0] < traffic.epoch + t:
            yield heapq.heappop(heap)[2]
    while heap:
        yield heapq.heappop(heap)[2]


def _saga(tf: Traffic, rng: random.Random, sid: str, t: float) -> Iterator[SagaTransition]:
    version = 1
    yield _tr(tf, sid, t, version, None, "RUNNING", None, "start", [tf.steps[0].name])
    for i, base in enumerate(tf.steps):
        p = tf.at(base, t)
        roll = rng.random()
        if roll < p.timeout_p:
            t += p.timeout_s
            version += 1
            reason = f"step {p.name!r}: no reply after 1 attempt(s), outcome unknown"
            yield _tr(tf, sid, t, version, "RUNNING", "COMPENSATING", p.name,
                      "timer:step_timeout", [], reason)  # fmt: skip
            return
        t += p.latency_s * math.exp(rng.gauss(0.0, 0.35))
        version += 1
        if roll < p.timeout_p + p.failure_p:
            reason = (
                f"step {p.name!r} failed: declined by {p.name} service (code {rng.randint(1, 999)})"
            )
            yield _tr(tf, sid, t, version, "RUNNING", "COMPENSATING", p.name,
                      f"reply:{p.name}Failed", [], reason)  # fmt: skip
            return
        nxt = [tf.steps[i + 1].name] if i + 1 < len(tf.steps) else []
        to = "RUNNING" if nxt else "COMPLETED"
        yield _tr(tf, sid, t, version, "RUNNING", to, p.name, f"reply:{p.name}Done", nxt,
                  f"step {p.name!r} succeeded")  # fmt: skip


def _tr(tf: Traffic, sid: str, t: float, version: int, frm: str | None, to: str,
        step: str | None, cause: str, sends: list[str], reason: str | None = None,
        ) -> SagaTransition:  # fmt: skip
    return SagaTransition.model_construct(
        saga_id=sid, saga_type=tf.saga_type, from_status=frm, to_status=to, step=step,
        message_id=f"{sid}-{version}", causation_id=None, version=version,
        timestamp=datetime.fromtimestamp(tf.epoch + t, UTC), reason=reason,
        coordinator_id="synthetic", partition=0, skipped=[], definition_version=1,
        cause=cause, commands=[f"{s}/forward#1 {s}Command (c-{sid}-{s})" for s in sends],
    )  # fmt: skip
