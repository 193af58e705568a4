"""``make eval-anomaly``: seeded synthetic incidents through the detector and the miner.

Prints (and with ``--write PATH`` puts between the markers of PATH) a table of detection
delay per incident, false positives per hour on clean traffic, and clustering purity
on mixed failures. Deterministic: every generator is seeded.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dirigent.events.builtin import Anomaly
from dirigent.observability import configure_logging
from dirigent.watch.core import StepWatch
from dirigent.watch.detector import DetectorSettings
from dirigent.watch.patterns import PatternMiner
from dirigent.watch.synthetic import Incident, Traffic, transitions

__all__ = ["main"]

START = 3600.0  # incidents begin after one hour of normal traffic
WINDOW_S = 60.0
BEGIN, END = "<!-- eval-anomaly:begin -->", "<!-- eval-anomaly:end -->"


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    incident: Incident
    steps: frozenset[str]  # where a detection counts (empty: any step)
    metrics: frozenset[str]


CASES = (
    Case("participant slows down (pay x3 latency)",
         Incident("slow", START, step="pay", latency_x=3), frozenset({"pay"}),
         frozenset({"latency_p95_s"})),
    Case("deploy breaks one event type (ship fails 30%)",
         Incident("deploy", START, step="ship", failure_p=0.3), frozenset({"ship"}),
         frozenset({"failure_rate", "compensation_rate"})),
    Case("traffic surge (arrivals x3)", Incident("surge", START, rate_x=3), frozenset(),
         frozenset({"throughput_per_s"})),
    Case("slow leak of timeouts (reserve +5% over 30 min)",
         Incident("leak", START, step="reserve", timeout_p=0.05, ramp_s=1800),
         frozenset({"reserve"}), frozenset({"timeout_rate", "latency_p95_s", "compensation_rate"})),
)  # fmt: skip


def detect(traffic: Traffic, settings: DetectorSettings) -> list[Anomaly]:
    """Every anomaly record the detector emits on ``traffic``."""
    watch = StepWatch(window_s=WINDOW_S, settings=settings)
    found = [a for t in transitions(traffic) for a in watch.feed(t)]
    return found + watch.tick(traffic.epoch + traffic.duration_s)


def incident_traffic(case: Case, seed: int) -> Traffic:
    return Traffic(duration_s=START + 3600, seed=seed, incidents=(case.incident,))


def incident_row(case: Case, settings: DetectorSettings, seed: int,
                 found: list[Anomaly] | None = None) -> list[str]:  # fmt: skip
    """One row of the table; ``found``: the anomalies (else the core is run here)."""
    tf = incident_traffic(case, seed)
    found = detect(tf, settings) if found is None else found
    opened = [a for a in found if a.status == "open"]
    before = [a for a in opened if a.at.timestamp() - tf.epoch <= START]
    hits = [a for a in opened if a.at.timestamp() - tf.epoch > START
            and (not case.steps or a.step in case.steps) and a.metric in case.metrics]  # fmt: skip
    if not hits:
        return [case.name, "**missed**", "-", str(len(before))]
    first = hits[0]
    delay = first.at.timestamp() - tf.epoch - START
    return [case.name, f"{delay:.0f} s", f"{first.step}/{first.metric} (z={first.score:.1f})",
            str(len(before))]  # fmt: skip


def false_positives(settings: DetectorSettings, hours: float, seeds: Sequence[int]) -> float:
    """Anomalies opened per hour of incident-free traffic."""
    opened = 0
    for seed in seeds:
        tf = Traffic(duration_s=hours * 3600, seed=seed)
        opened += sum(a.status == "open" for a in detect(tf, settings))
    return opened / (hours * len(seeds))


# Mixed failures: (error class, message generator, stack frames) per true kind.
_KINDS = (
    ("GatewayTimeout", "gateway 10.0.3.{a}:8443 timed out after {ms} ms charging order 'ord-{n}'",
     ("handlers.py:authorize", "gateway.py:charge")),
    ("DatabaseError", "deadlock detected on relation 'stock' txid={hex}",
     ("handlers.py:reserve", "db.py:fetch_one")),
    ("DatabaseError", "connection to 10.0.9.{a}:5432 refused after {n} retries",
     ("handlers.py:reserve", "pool.py:acquire")),
    ("Rejected", "card {n} declined: insufficient funds (balance {ms}.{a} EUR)",
     ("handlers.py:authorize",)),
    ("KeyError", "sku 'SKU-{n}' not found in warehouse 'wh-{a}'",
     ("handlers.py:reserve", "catalog.py:lookup")),
    # the same words from another code path: only the stack tells them apart
    ("KeyError", "sku 'SKU-{n}' not found in warehouse 'wh-{a}'",
     ("handlers.py:price", "pricing.py:quote", "cache.py:get")),
    # one incident whose message sometimes carries a suffix (another word count)
    ("GatewayTimeout", "gateway 10.0.3.{a}:8443 timed out after {ms} ms charging order "
     "'ord-{n}' (circuit half-open)", ("handlers.py:authorize", "gateway.py:charge")),
)  # fmt: skip
_TRUE_KINDS = 6  # the last entry is the first kind again


def clustering(n: int, seed: int) -> tuple[float, int, int, int]:
    """Purity, patterns found, true kinds, and distinct exact messages of ``n`` failures."""
    rng = random.Random(seed)
    miner, truth = PatternMiner(), dict[int, Counter[int]]()
    messages: set[str] = set()
    for _ in range(n):
        k = rng.randrange(len(_KINDS))
        cls, text, fr = _KINDS[k]
        k = 0 if k == len(_KINDS) - 1 else k
        msg = text.format(a=rng.randint(1, 250), ms=rng.randint(2900, 3100),
                          n=rng.randint(1, 99999), hex=f"{rng.getrandbits(40):010x}")  # fmt: skip
        stack = "".join(f'  File "/app/{f.split(":")[0]}", line {rng.randint(10, 99)}, '
                        f"in {f.split(':')[1]}\n" for f in fr)  # fmt: skip
        messages.add(msg)
        p = miner.add(cls, msg, stack)
        truth.setdefault(p.pattern_id, Counter())[k] += 1
    purity = sum(max(c.values()) for c in truth.values()) / n
    return purity, len(miner.patterns()), _TRUE_KINDS, len(messages)


def table(rows: Sequence[Sequence[str]], head: Sequence[str]) -> str:
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def kafka_rows(bootstrap: str) -> list[list[str]]:
    """The incidents through real Kafka (default settings, seed 1)."""
    from dirigent.watch.eval_kafka import through_kafka  # needs a broker

    rows = []
    for c in CASES:
        found = asyncio.run(through_kafka(bootstrap, incident_traffic(c, 1)))
        rows.append(incident_row(c, DetectorSettings(), 1, found))
    return rows


def report(*, hours: float = 8.0, seeds: Sequence[int] = (11, 12, 13),
           kafka: str | None = None) -> str:  # fmt: skip
    """The evaluation as Markdown; ``kafka``: a bootstrap to replay the incidents through."""
    default = DetectorSettings()
    parts = [f"Detector: windows of {WINDOW_S:.0f} s, sensitivity {default.sensitivity}, "
             f"cold start {default.min_windows} windows; traffic 2 sagas/s of 3 steps, "
             f"incidents start after {START / 3600:.0f} h (seed 1).", "",
             table([incident_row(c, default, seed=1) for c in CASES],
                   ["incident", "detection delay", "first detection", "false alarms before"]),
             ""]  # fmt: skip
    if kafka is not None:
        parts += ["The same incidents through real Kafka (transitions topic -> `Watcher` -> "
                  "anomalies topic, records decoded with the shipped schema):", "",
                  table(kafka_rows(kafka), ["incident", "detection delay", "first detection",
                                            "false alarms before"]), ""]  # fmt: skip
    fp_rows = []
    for sens in (3.0, 4.0, 5.0):
        s = DetectorSettings(sensitivity=sens)
        delays = [incident_row(c, s, seed=1)[1] for c in CASES]
        fph = false_positives(s, hours, seeds)
        fp_rows.append([f"{sens}", f"{fph:.2f}", ", ".join(delays)])
    parts += [f"False positives on {hours * len(seeds):.0f} h of clean traffic "
              f"(seeds {', '.join(map(str, seeds))}), and the delays above, by sensitivity:", "",
              table(fp_rows, ["sensitivity", "false positives / hour",
                              "delays (slow, deploy, surge, leak)"]), ""]  # fmt: skip
    purity, found, kinds, distinct = clustering(2000, seed=5)
    head = ["purity", "patterns found", "true kinds", "distinct exact messages"]
    parts += ["Failure-pattern clustering of 2,000 mixed dead letters (seed 5):", "",
              table([[f"{purity:.3f}", str(found), str(kinds), str(distinct)]], head)]  # fmt: skip
    return "\n".join(parts) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    """Print the report; ``--write docs/anomaly.md`` also replaces it there."""
    ap = argparse.ArgumentParser(prog="python -m dirigent.watch.eval")
    ap.add_argument("--write", type=Path, default=None)
    ap.add_argument("--hours", type=float, default=8.0, help="clean hours per seed")
    ap.add_argument("--kafka", default=None, metavar="BOOTSTRAP",
                    help="also replay the incidents through this Kafka")  # fmt: skip
    args = ap.parse_args(argv)
    configure_logging(json=False, level="WARNING")  # the watcher's info lines are the table's
    text = report(hours=args.hours, kafka=args.kafka)
    print(text)
    if args.write is not None:
        doc = args.write.read_text()
        pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
        args.write.write_text(pattern.sub(lambda _: f"{BEGIN}\n{text}{END}", doc))


if __name__ == "__main__":
    main()
