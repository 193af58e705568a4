"""``python -m bench``: run the saga benchmark and the raw pipe baseline, print, save."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
from dataclasses import asdict
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

from redis.asyncio import RedisCluster

from bench.run import Params, new_run_id, run_pipe, run_sagas
from dirigent.config import DevSettings, Settings
from dirigent.coordinator.settings import CoordinatorSettings
from dirigent.store import redis_client
from dirigent.transport.producer import ProducerSettings

RESULTS = Path(__file__).parent / "results"


def _args() -> argparse.Namespace:
    s = Settings()  # DIRIGENT_KAFKA_BOOTSTRAP / DIRIGENT_REDIS_URL, else the local stack
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--sagas", type=int, default=5000, help="measured sagas (3 steps each)")
    parser.add_argument("--warmup", type=int, default=500, help="sagas finished before timing")
    parser.add_argument("--in-flight", type=int, default=500, help="sagas running at once")
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument(
        "--profile",
        choices=("none", "pyinstrument", "cprofile"),
        default="none",
        help="profile the coordinator (bench/results/profile.txt)",
    )
    parser.add_argument("--coordinators", type=int, default=1, help="processes in one group")
    parser.add_argument("--uvloop", action="store_true", help="coordinators on uvloop")
    parser.add_argument("--skip-pipe", action="store_true", help="no pipe baselines")
    parser.add_argument("--skip-avro-pipe", action="store_true", help="no Avro pipe baseline")
    parser.add_argument(
        "--skip-half-load",
        action="store_true",
        help="no open-loop run at half the measured maximum (latency under load)",
    )
    parser.add_argument(
        "--fsync-always",
        action="store_true",
        help="run the sagas once more with Redis appendfsync always (restored after)",
    )
    parser.add_argument("--bootstrap", default=s.kafka_bootstrap)
    parser.add_argument("--redis", default=s.redis_url)
    parser.add_argument("--out", type=Path, default=RESULTS / "latest.json")
    return parser.parse_args()


async def _main(a: argparse.Namespace) -> dict[str, Any]:
    RESULTS.mkdir(parents=True, exist_ok=True)
    p = Params(a.bootstrap, a.redis, a.sagas, a.warmup, a.in_flight, a.partitions, a.profile,
               RESULTS, coordinators=a.coordinators, uvloop=a.uvloop)  # fmt: skip
    run = new_run_id()
    load_before = os.getloadavg()[0]
    durability = await _durability(a.redis)
    saga, stats = await run_sagas(p, run)
    always = await _fsync_always(p, a.redis) if a.fsync_always else None
    half = None if a.skip_half_load else await _half_load(p, saga.sagas_per_s / 2)
    pipe, pipe_stats = (None, {}) if a.skip_pipe else await run_pipe(p, run)
    skip_avro = a.skip_pipe or a.skip_avro_pipe
    avro, avro_stats = (None, {}) if skip_avro else await run_pipe(p, run, avro=True)
    result: dict[str, Any] = {
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "steps_per_s": round(saga.steps_per_s, 1),
        "sagas_per_s": round(saga.sagas_per_s, 1),
        "p50_step_ms": saga.p50_step_ms,
        "p99_step_ms": saga.p99_step_ms,
        "raw_pipe_steps_per_s": round(pipe.steps_per_s, 1) if pipe else None,
        "raw_pipe_p50_step_ms": pipe.p50_step_ms if pipe else None,
        "raw_pipe_p99_step_ms": pipe.p99_step_ms if pipe else None,
        "ratio_vs_raw": round(pipe.steps_per_s / saga.steps_per_s, 2) if pipe else None,
        "avro_pipe_steps_per_s": round(avro.steps_per_s, 1) if avro else None,
        "avro_pipe_p99_step_ms": avro.p99_step_ms if avro else None,
        "ratio_vs_avro_pipe": round(avro.steps_per_s / saga.steps_per_s, 2) if avro else None,
        "params": {
            "sagas": a.sagas, "warmup_sagas": a.warmup, "in_flight": a.in_flight,
            "partitions": a.partitions, "steps_per_saga": 3, "profile": a.profile,
            "coordinators": a.coordinators, "uvloop": a.uvloop,
            "redis_cluster": "cluster" in a.redis,
            "coordinator": "subprocess", "run_id": run,
        },
        "saga_detail": asdict(saga),
        "raw_pipe_detail": asdict(pipe) if pipe else None,
        "coordinator_stats": stats,
        "raw_pipe_stats": pipe_stats,
        "avro_pipe_detail": asdict(avro) if avro else None,
        "avro_pipe_stats": avro_stats,
        "env": await _environment(a.redis),
        "durability": durability,
        "fsync_always": always,
        "half_load": half,
        "load_avg_1m": {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)},
    }  # fmt: skip
    return result


async def _durability(redis_url: str) -> dict[str, Any]:
    """Every setting the figures depend on for durability, as they were during the run."""
    redis = redis_client(redis_url)
    try:
        aof: dict[Any, Any] = await redis.config_get("appendonly")
        fsync: dict[Any, Any] = await redis.config_get("appendfsync")
    finally:
        await redis.aclose()
    return {
        "producer": {"acks": "all", "enable_idempotence": True, **_producer_tuning()},
        "coordinator": _coordinator_tuning(),
        "consumer": {"isolation_level": "read_committed", "commit": "after the outcome is durable"},
        "kafka": {"nodes": 1, "replication_factor": 1, "note": "single KRaft node"},
        "redis": {"appendonly": aof.get("appendonly"), "appendfsync": fsync.get("appendfsync")},
    }


def _producer_tuning() -> dict[str, Any]:
    """The producer settings every dirigent producer in the run used (defaults or env)."""
    p = ProducerSettings()
    return {"linger_ms": p.linger_ms, "max_batch_bytes": p.max_batch_bytes,
            "compression": p.compression}  # fmt: skip


def _coordinator_tuning() -> dict[str, Any]:
    """The coordinator's batching knobs as the benchmark's coordinator ran with them."""
    c = CoordinatorSettings(group_id="bench")
    return {"max_batch_records": c.max_batch_records, "poll_timeout_ms": c.poll_timeout_ms,
            "relay_interval_s": c.relay_interval_s,
            "batch_transitions": c.batch_transitions}  # fmt: skip


async def _half_load(p: Params, rate: float) -> dict[str, Any]:
    """Open loop at ``rate`` sagas/s (half the closed loop's maximum): the latencies a
    service sees when the coordinator is not the bottleneck."""
    saga, _ = await run_sagas(p, new_run_id(), rate=rate)
    return {
        "sagas_per_s_offered": round(rate, 1), "steps_per_s": round(saga.steps_per_s, 1),
        "p50_step_ms": saga.p50_step_ms, "p99_step_ms": saga.p99_step_ms,
        "p99_saga_ms": saga.p99_saga_ms,
    }  # fmt: skip


async def _fsync_always(p: Params, redis_url: str) -> dict[str, Any]:
    """The saga run again with ``appendfsync always``; the setting is restored after."""
    redis = redis_client(redis_url)
    try:
        before: dict[Any, Any] = await redis.config_get("appendfsync")
        await _config_set(redis, "appendfsync", "always")
        try:
            saga, stats = await run_sagas(p, new_run_id())
        finally:
            await _config_set(redis, "appendfsync", before.get("appendfsync", "everysec"))
    finally:
        await redis.aclose()
    return {
        "steps_per_s": round(saga.steps_per_s, 1), "p50_step_ms": saga.p50_step_ms,
        "p99_step_ms": saga.p99_step_ms, "cpu_ms_per_step": stats.get("cpu_ms_per_step"),
    }  # fmt: skip


async def _config_set(redis: Any, name: str, value: str) -> None:
    if isinstance(redis, RedisCluster):
        await redis.config_set(name, value, target_nodes=RedisCluster.ALL_NODES)
    else:
        await redis.config_set(name, value)


async def _environment(redis_url: str) -> dict[str, Any]:
    redis = redis_client(redis_url)
    try:
        info: dict[str, Any] = await redis.info("server")
    finally:
        await redis.aclose()
    return {
        "python": platform.python_version(),
        "aiokafka": version("aiokafka"),
        "redis_py": version("redis"),
        "redis_server": info.get("redis_version"),
        "kafka": _kafka_version(),
        "cores": os.cpu_count(),
        "machine": platform.machine(),
        "cpu_model": _cpu_model(),
        "system": platform.platform(terse=True),
    }


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def _kafka_version() -> str | None:
    """The local broker's version, from its jars (the ``dirigent dev up`` stack)."""
    pid_file = DevSettings().state_dir / "kafka" / "kafka.pid"
    try:
        pid = pid_file.read_text().strip()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return None
    found = re.search(r"kafka-server-(\d[\w.\-]*?)\.jar", cmdline)
    if found is None and (cp := re.search(r"-cp\x00([^\x00]+)", cmdline)) is not None:
        for entry in cp.group(1).split(":"):
            jars = sorted(Path(entry.removesuffix("*")).glob("kafka-server-*.jar"))
            names = [re.fullmatch(r"kafka-server-(\d[\w.\-]*?)\.jar", j.name) for j in jars]
            found = next((n for n in names if n is not None), None)
            if found is not None:
                break
    return found.group(1) if found else None


def _table(r: dict[str, Any]) -> str:
    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:,.2f}" if abs(v) < 10 else f"{v:,.1f}"
        return "-" if v is None else str(v)

    rows = [
        ("saga steps/s", r["steps_per_s"], "raw pipe steps/s", r["raw_pipe_steps_per_s"]),
        ("sagas/s", r["sagas_per_s"], "ratio vs raw", r["ratio_vs_raw"]),
        ("p50 step ms", r["p50_step_ms"], "raw p50 step ms", r["raw_pipe_p50_step_ms"]),
        ("p99 step ms", r["p99_step_ms"], "raw p99 step ms", r["raw_pipe_p99_step_ms"]),
        ("", None, "Avro pipe steps/s", r["avro_pipe_steps_per_s"]),
        ("", None, "ratio vs Avro pipe", r["ratio_vs_avro_pipe"]),
        ("half-load p99 step", (r["half_load"] or {}).get("p99_step_ms"),
         "half-load p99 saga", (r["half_load"] or {}).get("p99_saga_ms")),
        ("fsync always st/s", (r["fsync_always"] or {}).get("steps_per_s"),
         "load avg before", r["load_avg_1m"]["before"]),
        ("coord CPU ms/step", r["coordinator_stats"].get("cpu_ms_per_step"),
         "Redis trips/step", r["coordinator_stats"].get("redis_round_trips_per_step")),
    ]  # fmt: skip
    p, e = r["params"], r["env"]
    head = (
        f"{p['sagas']} sagas x 3 steps, {p['in_flight']} in flight, {p['partitions']} "
        f"partitions, {e['cores']} cores, Python {e['python']}, Kafka {e['kafka']}"
    )
    lines = [head, "-" * len(head)]
    lines += [f"{a:<18}{fmt(b) if a else '':>10}    {c:<18}{fmt(d):>12}" for a, b, c, d in rows]
    d = r["durability"]
    tuning = {**d["producer"], **d["coordinator"], "appendfsync": d["redis"]["appendfsync"]}
    lines.append("settings: " + ", ".join(f"{k}={v}" for k, v in tuning.items()))
    return "\n".join(lines)


def main() -> None:
    args = _args()
    result = asyncio.run(_main(args))
    print(_table(result))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwritten to {args.out}")


if __name__ == "__main__":
    main()
