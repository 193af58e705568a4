"""``python -m bench.peers``: dirigent, faust-streaming and Temporal run the same saga.

One session, one machine: dirigent's saga benchmark (``bench.run.run_sagas``, unchanged),
then the faust peer, then the Temporal peer, each with the same sagas, warm-up and
in-flight count; a table, and ``bench/results/peers.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shlex
import subprocess
import sys
import traceback
from dataclasses import replace
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from bench.__main__ import RESULTS, _environment
from bench.peers.faust_run import run_faust
from bench.peers.report import PeerRun, peers_json, skipped, table
from bench.run import Params, new_run_id, run_sagas
from dirigent.config import Settings

PEERS = ("dirigent", "faust", "faust-tuned", "temporal")
FAUST_TUNED_FETCH_WAIT_MS = 100  # faust-tuned's one change (bench/peers/faust_child.py)
BUILD_FAILED = Path(__file__).resolve().parents[2] / ".dirigent" / "tools" / "temporal-build.failed"


def _args() -> argparse.Namespace:
    s = Settings()  # DIRIGENT_KAFKA_BOOTSTRAP / DIRIGENT_REDIS_URL, else the local stack
    parser = argparse.ArgumentParser(prog="python -m bench.peers", description=__doc__)
    parser.add_argument("--sagas", type=int, default=5000, help="measured sagas (3 steps each)")
    parser.add_argument("--warmup", type=int, default=500, help="sagas finished before timing")
    parser.add_argument("--in-flight", type=int, default=500, help="sagas running at once")
    parser.add_argument("--partitions", type=int, default=6, help="Kafka partitions per topic")
    parser.add_argument("--peers", default=",".join(PEERS),
                        help=f"comma-separated, in this order: {','.join(PEERS)}")  # fmt: skip
    parser.add_argument("--temporal-sagas", type=int, help="measured sagas for Temporal only "
                        "(default: --sagas)")  # fmt: skip
    parser.add_argument("--temporal-warmup", type=int, help="warm-up for Temporal only "
                        "(default: --warmup)")  # fmt: skip
    parser.add_argument("--temporal-bin", default="", help="the temporal CLI binary "
                        "(bench/peers/build_temporal.sh prints its path)")  # fmt: skip
    parser.add_argument("--temporal-db", choices=("wal", "file", "memory"), default="wal",
                        help="the dev server's store (docs/peers.md)")  # fmt: skip
    parser.add_argument("--faust-guarantee", choices=("at_least_once", "exactly_once"),
                        default="at_least_once")  # fmt: skip
    parser.add_argument("--bootstrap", default=s.kafka_bootstrap)
    parser.add_argument("--redis", default=s.redis_url)
    parser.add_argument("--out", type=Path, default=RESULTS / "peers.json")
    args = parser.parse_args()
    unknown = set(args.peers.split(",")) - set(PEERS)
    if unknown:
        parser.error(f"--peers: unknown {', '.join(sorted(unknown))} (known: {', '.join(PEERS)})")
    return args


async def _dirigent(p: Params, run: str) -> PeerRun:
    figures, stats = await run_sagas(p, run)
    redis = Redis.from_url(p.redis_url)
    try:
        aof: dict[Any, Any] = await redis.config_get("append*")
    finally:
        await redis.aclose()
    durability = {
        "producer_acks": "all", "producer_idempotent": True,
        "redis_appendonly": aof.get("appendonly"), "redis_appendfsync": aof.get("appendfsync"),
        "state": "Redis: saga state and outbox in one atomic script call per input",
        "offsets": "committed after the state write and the broker's acks",
    }  # fmt: skip
    summary = (
        f"acks=all, idempotent, Redis AOF {durability['redis_appendonly']}/"
        f"{durability['redis_appendfsync']}, commit after state"
    )
    return PeerRun("dirigent", figures, durability=durability, summary=summary,
                   detail={"coordinator_stats": stats})  # fmt: skip


def _temporal_binary(given: str) -> tuple[Path | None, str]:
    if given and Path(given).is_file():
        return Path(given), ""
    why = (
        BUILD_FAILED.read_text().strip()
        if BUILD_FAILED.exists()
        else ("no temporal binary (run bench/peers/build_temporal.sh, or pass --temporal-bin)")
    )
    return None, why  # fmt: skip


async def _temporal(p: Params, run: str, a: argparse.Namespace) -> PeerRun:
    binary, why = _temporal_binary(a.temporal_bin)
    if binary is None:
        return skipped("temporal", why)
    try:
        from bench.peers.temporal_run import run_temporal  # the optional extra "peers"
    except ImportError as exc:
        return skipped("temporal", f"the temporalio SDK is not installed ({exc}): "
                       "pip install -e '.[peers]'")  # fmt: skip
    sagas = a.sagas if a.temporal_sagas is None else a.temporal_sagas
    warmup = a.warmup if a.temporal_warmup is None else a.temporal_warmup
    q = Params(p.bootstrap, p.redis_url, sagas, warmup, p.in_flight, p.partitions, "none",
               p.results)  # fmt: skip
    return await run_temporal(q, run, binary=binary, db=a.temporal_db)


async def _main(a: argparse.Namespace) -> list[PeerRun]:
    RESULTS.mkdir(parents=True, exist_ok=True)
    p = Params(a.bootstrap, a.redis, a.sagas, a.warmup, a.in_flight, a.partitions, "none",
               RESULTS)  # fmt: skip
    runs: list[PeerRun] = []
    for name in [n for n in PEERS if n in a.peers.split(",")]:
        print(f"bench-peers: running {name} ...", file=sys.stderr, flush=True)
        load_before = os.getloadavg()[0]
        try:
            done = await _one(name, p, new_run_id(), a)
        except Exception as exc:  # noqa: BLE001  # said and recorded; the other peers still run
            traceback.print_exc()
            done = skipped(name, f"failed: {exc!r}")
        if done.skipped:
            print(f"bench-peers: {name} skipped: {done.skipped}", file=sys.stderr)
        # Other work on a shared machine shows here: the 1-minute load around each run.
        load = {"load_1min_before": load_before, "load_1min_after": os.getloadavg()[0]}
        runs.append(replace(done, detail={**done.detail, **load}))
    return runs


async def _one(name: str, p: Params, run: str, a: argparse.Namespace) -> PeerRun:
    if name == "dirigent":
        return await _dirigent(p, run)
    if name == "faust":
        return await run_faust(p, run, guarantee=a.faust_guarantee)
    if name == "faust-tuned":
        return await run_faust(p, run, guarantee=a.faust_guarantee,
                               fetch_wait_ms=FAUST_TUNED_FETCH_WAIT_MS)  # fmt: skip
    return await _temporal(p, run, a)


def _versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for dist in ("faust-streaming", "temporalio"):
        try:
            out[dist.replace("-", "_")] = version(dist)
        except PackageNotFoundError:
            out[dist.replace("-", "_")] = None
    return out


def _source() -> dict[str, Any]:
    """The commit measured, and the files changed in the work tree (they were measured too)."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], capture_output=True, text=True, check=False)
        return done.stdout

    changed = git("status", "--porcelain", "--untracked-files=no", "--", "platform", "bench")
    return {"git_head": git("rev-parse", "--short", "HEAD").strip() or None,
            "changed_files": [line[3:] for line in changed.splitlines()]}  # fmt: skip


def main() -> None:
    a = _args()
    source = _source()  # before the run: what was measured
    runs = asyncio.run(_main(a))
    env = {**asyncio.run(_environment(a.redis)), **_versions(), **source}
    params = {"sagas": a.sagas, "warmup_sagas": a.warmup, "in_flight": a.in_flight,
              "partitions": a.partitions, "steps_per_saga": 3,
              "temporal_sagas": a.temporal_sagas or a.sagas,
              "temporal_warmup_sagas": a.temporal_warmup or a.warmup,
              "temporal_db": a.temporal_db, "faust_guarantee": a.faust_guarantee}  # fmt: skip
    command = shlex.join(["python", "-m", "bench.peers", *sys.argv[1:]])
    result = peers_json(runs, params=params, env=env, command=command,
                        timestamp=datetime.now(UTC).isoformat(timespec="seconds"))  # fmt: skip
    head = (f"{a.sagas} sagas x 3 steps, {a.in_flight} in flight, {a.partitions} partitions, "
            f"{env['cores']} cores, Python {env['python']}, Kafka {env['kafka']}, "
            f"Redis {env['redis_server']}")  # fmt: skip
    print(head, "", table(runs), sep="\n")
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwritten to {a.out}")


if __name__ == "__main__":
    main()
