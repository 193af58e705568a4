"""What the benchmark runs in a subprocess: the coordinator, or the raw pipe.

A process of its own, like in production (``dirigent coordinator``): it gets its own
interpreter lock, the scripted participant in the parent does not steal its CPU time
slices, and a profile of it shows the coordinator only. ``ready`` is a file the child
creates once it owns every partition; SIGTERM stops it and it writes ``stats`` (JSON).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from redis.asyncio import Redis, RedisCluster
from redis.asyncio.client import Pipeline
from redis.asyncio.cluster import ClusterPipeline

from bench.pipe import RawPipe
from bench.profiling import Profile
from bench.shop import bench_codec, bench_saga
from dirigent.config import Settings
from dirigent.coordinator import Coordinator, CoordinatorSettings


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.child")
    parser.add_argument("role", choices=("coordinator", "pipe", "avro-pipe"))
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--redis", required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--partitions", type=int, required=True)
    parser.add_argument("--ready", type=Path, required=True)
    parser.add_argument("--stats", type=Path, required=True)
    parser.add_argument("--profile", choices=("none", "pyinstrument", "cprofile"), default="none")
    parser.add_argument("--profile-out", type=Path)
    parser.add_argument("--share", type=int, default=0, help="partitions to own before ready")
    parser.add_argument("--uvloop", action="store_true", help="run on uvloop")
    args = parser.parse_args()
    run = _coordinator if args.role == "coordinator" else _pipe
    loop_factory = None
    if args.uvloop:
        import uvloop

        loop_factory = uvloop.new_event_loop
    with Profile(args.profile, args.profile_out), asyncio.Runner(loop_factory=loop_factory) as r:
        stats = r.run(run(args))
    args.stats.write_text(json.dumps(stats, indent=2))


async def _until_sigterm(ready: Path, is_ready: Callable[[], bool], stop: Callable[[], None],
                         task: Awaitable[None],
                         measure: Callable[[str], None] = lambda _: None) -> None:  # fmt: skip
    stopping = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopping.set)
    while not is_ready():
        await asyncio.sleep(0.05)
    measure("ready")
    await asyncio.to_thread(ready.touch)
    await stopping.wait()
    measure("stop")
    stop()
    await task


def _steps(coordinator: Coordinator) -> float:
    """Steps applied so far: the step latency histogram counts one per reply applied."""
    total = 0.0
    for metric in coordinator.metrics.step_latency.collect():
        for sample in metric.samples:
            if sample.name.endswith("_count"):
                total += sample.value
    return total


class _RoundTrips:
    """Counts the coordinator's Redis round trips: one per command, one per pipeline."""

    def __init__(self) -> None:
        self.count = 0
        command: Any = Redis.execute_command
        pipeline: Any = Pipeline.execute
        trips = self

        async def counted_command(client: Redis, *args: Any, **kw: Any) -> Any:
            trips.count += 1
            return await command(client, *args, **kw)

        async def counted_pipeline(pipe: Pipeline, *args: Any, **kw: Any) -> Any:
            trips.count += 1
            return await pipeline(pipe, *args, **kw)

        Redis.execute_command = counted_command  # type: ignore[method-assign,assignment]
        Pipeline.execute = counted_pipeline  # type: ignore[method-assign,assignment]
        cluster_command: Any = RedisCluster.execute_command
        cluster_pipeline: Any = ClusterPipeline.execute

        async def counted_cluster(client: RedisCluster, *args: Any, **kw: Any) -> Any:
            trips.count += 1
            return await cluster_command(client, *args, **kw)

        async def counted_cluster_pipeline(pipe: ClusterPipeline, *args: Any, **kw: Any) -> Any:
            trips.count += 1  # one per node it reaches, really: a lower bound
            return await cluster_pipeline(pipe, *args, **kw)

        RedisCluster.execute_command = counted_cluster  # type: ignore[method-assign,assignment]
        ClusterPipeline.execute = counted_cluster_pipeline  # type: ignore[method-assign,assignment]


async def _coordinator(args: argparse.Namespace) -> dict[str, Any]:
    trips = _RoundTrips()
    coordinator = Coordinator(
        [bench_saga(args.prefix)],
        settings=Settings(kafka_bootstrap=args.bootstrap, redis_url=args.redis),
        config=CoordinatorSettings(
            group_id=args.group, transitions_topic=f"{args.prefix}.transitions",
            seen_ttl_s=3600, terminal_ttl_s=3600,
        ),
        codec=bench_codec(),
    )  # fmt: skip
    task = asyncio.create_task(coordinator.run())

    def ready() -> bool:
        if task.done():
            task.result()  # raises what stopped it
        parts = coordinator.parts
        share = int(args.share) or int(args.partitions)
        return parts is not None and len(parts.ownership.owned) >= share

    marks: dict[str, float] = {}

    def measure(at: str) -> None:
        marks[f"{at}_cpu_s"], marks[f"{at}_trips"] = time.process_time(), trips.count
        marks[f"{at}_steps"] = _steps(coordinator)

    await _until_sigterm(args.ready, ready, coordinator.stop, task, measure)
    hist = coordinator.metrics.step_latency
    samples: dict[str, float] = {}
    for metric in hist.collect():  # one series per (saga type, step): add them up
        for s in metric.samples:
            samples[s.name] = samples.get(s.name, 0.0) + s.value
    assert coordinator.parts is not None
    duplicates = coordinator.metrics.inputs.labels("duplicate")._value.get()
    steps = marks["stop_steps"] - marks["ready_steps"]
    return {
        # from ready to SIGTERM: what the coordinator spent on its steps (all threads)
        "cpu_ms_per_step": round(1000 * (marks["stop_cpu_s"] - marks["ready_cpu_s"]) / steps, 4)
        if steps
        else None,
        "redis_round_trips_per_step": round((marks["stop_trips"] - marks["ready_trips"]) / steps, 3)
        if steps
        else None,
        "steps_measured": steps,
        "outbox_read_backs": getattr(coordinator.parts.relay, "read_backs", None),
        "commands_relayed": coordinator.parts.relay.sent,
        "duplicates": int(duplicates),
        "step_latency_histogram": _summed(samples),
    }


def _summed(samples: dict[str, float]) -> dict[str, float]:
    count = samples.get("dirigent_step_latency_seconds_count", 0.0)
    total = samples.get("dirigent_step_latency_seconds_sum", 0.0)
    return {"count": count, "mean_ms": 1000 * total / count if count else 0.0}


async def _pipe(args: argparse.Namespace) -> dict[str, Any]:
    codec = bench_codec() if args.role == "avro-pipe" else None
    pipe = RawPipe(args.bootstrap, f"{args.prefix}-pipe.in", f"{args.prefix}-pipe.out",
                   group=args.group, codec=codec)  # fmt: skip
    task = asyncio.create_task(pipe.run())

    def ready() -> bool:
        if task.done():
            task.result()
        return pipe.assigned == int(args.partitions)

    await _until_sigterm(args.ready, ready, pipe.stop, task)
    return {"records_piped": pipe.piped}


if __name__ == "__main__":
    main()
