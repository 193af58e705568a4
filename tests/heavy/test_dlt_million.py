"""A million dead letters: ``dlt groups`` and a dry-run replay stay under 1 GB of RSS
and report progress. The measured peak RSS and time are printed (run with -s) and
written to bench/results/dlt_million.json."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dirigent.transport import TopicSpec, delete_topics, ensure_topics
from tests.heavy.dlt_fill import FINGERPRINTS, fill
from tests.support.infra import Infra

pytestmark = [pytest.mark.heavy, pytest.mark.timeout(1800)]

ROOT = Path(__file__).resolve().parents[2]
DIRIGENT = ROOT / ".venv" / "bin" / "dirigent"
PARTITIONS, PER_PARTITION = 4, 250_000
TOTAL = PARTITIONS * PER_PARTITION
LIMIT_MB = 1024
# Runs the command as its own child, so that RUSAGE_CHILDREN is that command's peak RSS.
_MEASURE = (
    "import resource, subprocess, sys, time; t = time.monotonic(); "
    "r = subprocess.run(sys.argv[1:], stdout=open(sys.argv[0] + '.out', 'w')); "
    "print('measured', r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, "
    "round(time.monotonic() - t, 1), file=sys.stderr)"
)


def _measure(infra: Infra, tmp: Path, name: str, *args: str) -> tuple[dict[str, float], str, str]:
    env = {
        "DIRIGENT_KAFKA_BOOTSTRAP": infra.kafka_bootstrap,
        "DIRIGENT_REDIS_URL": infra.redis_url,
        "PATH": "/usr/bin:/bin",
    }
    out = tmp / name
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            _MEASURE.replace("sys.argv[0]", repr(str(out))),
            str(DIRIGENT),
            *args,
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    line = next(x for x in proc.stderr.splitlines() if x.startswith("measured"))
    _, code, rss_kb, seconds = line.split()
    figures = {"exit": int(code), "rss_mb": round(int(rss_kb) / 1024), "seconds": float(seconds)}
    return figures, Path(f"{out}.out").read_text(), proc.stderr


@pytest.fixture(scope="module")
def million(infra: Infra) -> Iterator[str]:
    topic = f"heavy-dlt-million.{int(time.time())}"
    asyncio.run(ensure_topics(infra.kafka_bootstrap, [TopicSpec(topic, PARTITIONS)]))
    started = time.monotonic()
    assert fill(infra.kafka_bootstrap, topic, PARTITIONS, PER_PARTITION) == TOTAL
    print(f"\nfilled {TOTAL} dead letters in {time.monotonic() - started:.0f}s")
    yield topic
    asyncio.run(delete_topics(infra.kafka_bootstrap, [topic]))


def _report(name: str, figures: dict[str, float]) -> None:
    print(f"{name}: {figures}")
    results = ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    path = results / "dlt_million.json"
    doc = json.loads(path.read_text()) if path.exists() else {}
    doc[name] = {**figures, "records": TOTAL}
    path.write_text(json.dumps(doc, indent=2))


def test_groups_of_a_million_stay_under_a_gigabyte(
    infra: Infra, million: str, tmp_path: Path
) -> None:
    figures, out, err = _measure(infra, tmp_path, "groups", "dlt", "groups", million, "--json")
    _report("dlt groups", figures)
    assert figures["exit"] == 0, err
    groups = json.loads(out)
    assert len(groups) == FINGERPRINTS
    assert sum(g["count"] for g in groups) == TOTAL
    assert figures["rss_mb"] < LIMIT_MB
    assert f"/{TOTAL} (" in err  # progress lines on stderr


def test_a_dry_run_replay_of_a_million_stays_under_a_gigabyte(
    infra: Infra, million: str, tmp_path: Path
) -> None:
    sel = tmp_path / "sel.jsonl"
    figures, out, err = _measure(
        infra,
        tmp_path,
        "dry-run",
        "dlt",
        "replay",
        million,
        "--dry-run",
        "--out",
        str(sel),
        "--partitions",
        "6",
        "--json",
    )
    _report("dlt replay --dry-run", figures)
    assert figures["exit"] == 0, err
    plan = json.loads(out)
    assert sum(plan["counts"].values()) == TOTAL
    # every third belongs to no saga (replayed on its own merits); the others' sagas are gone
    assert plan["counts"]["replay"] == TOTAL // 3 + (1 if TOTAL % 3 else 0)
    assert plan["skipped"] == {"saga-not-found": TOTAL - plan["counts"]["replay"]}
    assert figures["rss_mb"] < LIMIT_MB
    assert f"/{TOTAL} (" in err
    with sel.open() as lines:
        assert sum(1 for _ in lines) == TOTAL + 2  # header, one line each, trailer
