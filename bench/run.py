"""One benchmark run: topics, the child process, the load, the figures, the clean-up."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.drivers import Feeder, chain_record, observe_pipe, observe_sagas, order_record
from bench.participant import Participant
from bench.shop import DOMAINS, bench_codec
from bench.tally import Figures, Tally
from dirigent.store import PartitionKeys, redis_client
from dirigent.transport import (
    BatchConsumer,
    ConsumerSettings,
    RawProducer,
    TopicSpec,
    delete_topics,
    ensure_topics,
)

__all__ = ["Params", "run_pipe", "run_sagas"]


@dataclass(frozen=True)
class Params:
    bootstrap: str
    redis_url: str
    sagas: int
    warmup: int
    in_flight: int
    partitions: int
    profile: str
    results: Path
    coordinators: int = 1  # coordinator processes in one consumer group
    uvloop: bool = False  # run the coordinators on uvloop


@dataclass
class Child:
    """``python -m bench.child`` with its ready file, stats file and log."""

    proc: asyncio.subprocess.Process
    ready: Path
    stats: Path

    @classmethod
    async def spawn(
        cls, role: str, p: Params, prefix: str, group: str, *, name: str = "", share: int = 0
    ) -> Child:
        name = name or role
        ready, stats = p.results / f"{name}.ready", p.results / f"{name}-stats.json"
        for f in (ready, stats):
            f.unlink(missing_ok=True)
        args = [sys.executable, "-m", "bench.child", role, "--bootstrap", p.bootstrap,
                "--redis", p.redis_url, "--prefix", prefix, "--group", group,
                "--partitions", str(p.partitions), "--ready", str(ready),
                "--stats", str(stats), "--share", str(share or p.partitions)]  # fmt: skip
        if p.uvloop:
            args.append("--uvloop")
        if p.profile != "none" and name == "coordinator":
            args += ["--profile", p.profile, "--profile-out", str(p.results / "profile.txt")]
        log = (p.results / f"{name}.log").open("w")
        proc = await asyncio.create_subprocess_exec(*args, stdout=log, stderr=log)
        log.close()
        child = cls(proc, ready, stats)
        async with asyncio.timeout(90):
            while not ready.exists():
                if proc.returncode is not None:
                    raise RuntimeError(f"bench child {name} exited; see {p.results}/{name}.log")
                await asyncio.sleep(0.1)
        return child

    async def stop(self) -> dict[str, Any]:
        """SIGTERM, then SIGKILL after 120 s (reported: a coordinator must stop in time)."""
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(120):
                await self.proc.wait()
        except TimeoutError:
            print(f"bench child pid {self.proc.pid} ignored SIGTERM for 120 s: killed",
                  file=sys.stderr)  # fmt: skip
            self.proc.kill()
            await self.proc.wait()
        self.ready.unlink(missing_ok=True)
        if not self.stats.exists():
            return {}
        stats: dict[str, Any] = json.loads(self.stats.read_text())
        return stats


def _deadline_s(p: Params) -> float:
    return 120 + (p.warmup + p.sagas + p.in_flight) / 100  # a generous floor of 100 sagas/s


async def run_sagas(
    p: Params, run: str, *, rate: float | None = None
) -> tuple[Figures, dict[str, Any]]:
    """The saga run: closed loop (``p.in_flight`` at once), or open loop at ``rate``
    sagas/s."""
    prefix, codec = f"bench{run}", bench_codec()
    topics = [f"{prefix}-{d}.{k}" for d in DOMAINS for k in ("commands", "events")]
    topics.append(f"{prefix}.transitions")
    await ensure_topics(p.bootstrap, [TopicSpec(t, p.partitions) for t in topics])
    group = f"bench-coord-{run}"
    tally = Tally(warmup=p.warmup, measured=p.sagas)
    commands = [t for t in topics if t.endswith(".commands")]
    try:
        async with Participant(p.bootstrap, commands, codec, group=f"bench-part-{run}") as part:
            observer = BatchConsumer(p.bootstrap, [f"{prefix}.transitions"],
                                     group_id=f"bench-obs-{run}",
                                     settings=ConsumerSettings(max_poll_records=2000))  # fmt: skip
            share = p.partitions // p.coordinators  # each owns at least this many when ready
            names = ["coordinator"] + [f"coordinator{i}" for i in range(2, p.coordinators + 1)]
            children = [await Child.spawn("coordinator", p, prefix, group, name=n, share=share)
                        for n in names]  # fmt: skip
            await asyncio.sleep(2 if p.coordinators > 1 else 0)  # the group settles
            try:
                async with observer, RawProducer(p.bootstrap) as producer:
                    total = p.warmup + p.sagas + (p.in_flight if rate is None else 0)
                    feeder = Feeder(producer, order_record(prefix, codec, run), total=total,
                                    in_flight=p.in_flight, rate=rate)  # fmt: skip
                    await _drive(feeder.run, lambda: observe_sagas(
                        observer, codec, part.sent_at, feeder, tally), _deadline_s(p))  # fmt: skip
            except BaseException as exc:  # said before the child's stop, which may hide it
                print(f"bench saga run failed: {exc!r}", file=sys.stderr)
                raise
            finally:
                stats = _summed_stats([await c.stop() for c in children])
    finally:
        await delete_topics(p.bootstrap, topics)
        await _forget_redis(p, group)
    return tally.figures(), stats


def _summed_stats(each: list[dict[str, Any]]) -> dict[str, Any]:
    """One coordinator's stats as they are; several: totals, and CPU and round trips
    per step over all of them."""
    if len(each) == 1:
        return each[0]
    steps = sum(s.get("steps_measured") or 0 for s in each)
    cpu = sum((s.get("cpu_ms_per_step") or 0) * (s.get("steps_measured") or 0) for s in each)
    trips = sum((s.get("redis_round_trips_per_step") or 0) * (s.get("steps_measured") or 0)
                for s in each)  # fmt: skip
    return {
        "coordinators": len(each),
        "cpu_ms_per_step": round(cpu / steps, 4) if steps else None,
        "redis_round_trips_per_step": round(trips / steps, 3) if steps else None,
        "steps_measured": steps,
        "commands_relayed": sum(s.get("commands_relayed", 0) for s in each),
        "each": each,
    }


async def run_pipe(p: Params, run: str, *, avro: bool = False) -> tuple[Figures, dict[str, Any]]:
    """The raw byte pipe, or (``avro``) the Avro decode/encode pipe, same shape."""
    prefix = f"bench{run}{'a' if avro else ''}"
    topics = [f"{prefix}-pipe.in", f"{prefix}-pipe.out"]
    await ensure_topics(p.bootstrap, [TopicSpec(t, p.partitions) for t in topics])
    tally = Tally(warmup=p.warmup, measured=p.sagas)
    try:
        echo = BatchConsumer(p.bootstrap, [f"{prefix}-pipe.out"], group_id=f"bench-echo-{run}",
                             settings=ConsumerSettings(max_poll_records=1000))  # fmt: skip
        role = "avro-pipe" if avro else "pipe"
        child = await Child.spawn(role, p, prefix, f"bench-{role}-{run}")
        try:
            async with echo, RawProducer(p.bootstrap) as producer:
                codec = bench_codec() if avro else None
                feeder = Feeder(producer, chain_record(prefix, run, codec),
                                total=p.warmup + p.sagas + p.in_flight,
                                in_flight=p.in_flight)  # fmt: skip
                await _drive(feeder.run, lambda: observe_pipe(echo, producer, feeder, tally),
                             _deadline_s(p))  # fmt: skip
        finally:
            stats = await child.stop()
    finally:
        await delete_topics(p.bootstrap, topics)
    return tally.figures(), stats


async def _drive(feed: Callable[[], Coroutine[Any, Any, None]],
                 observe: Callable[[], Coroutine[Any, Any, None]],
                 deadline_s: float) -> None:  # fmt: skip
    async with asyncio.timeout(deadline_s), asyncio.TaskGroup() as tasks:
        feeding = tasks.create_task(feed())
        await observe()
        feeding.cancel()  # the cool-down starts are not needed any more


async def _forget_redis(p: Params, namespace: str) -> None:
    redis = redis_client(p.redis_url)
    try:
        for partition in range(p.partitions):
            pattern = PartitionKeys(namespace, partition).tag + "*"
            batch: list[bytes] = []
            async for key in redis.scan_iter(match=pattern, count=1000):
                batch.append(key)
                if len(batch) >= 1000:
                    await redis.unlink(*batch)
                    batch = []
            if batch:
                await redis.unlink(*batch)
    finally:
        await redis.aclose()


def new_run_id() -> str:
    return f"{os.getpid()}x{uuid.uuid4().hex[:6]}"
