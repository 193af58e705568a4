"""What a peer run gives back, the ratios, the printed table and ``peers.json``'s layout."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from bench.tally import Figures

__all__ = ["PeerRun", "peers_json", "ratios", "skipped", "table"]


@dataclass(frozen=True)
class PeerRun:
    """One peer's figures (None if it did not run: ``skipped`` says why) and settings."""

    name: str
    figures: Figures | None
    durability: dict[str, Any] = field(default_factory=dict)
    summary: str = ""  # the durability settings in a few words, for the table
    detail: dict[str, Any] = field(default_factory=dict)
    skipped: str | None = None


def skipped(name: str, why: str) -> PeerRun:
    return PeerRun(name, None, skipped=why)


def ratios(runs: list[PeerRun]) -> dict[str, float | None]:
    """dirigent's sagas/s over each peer's (the same as the steps/s ratio: 3 steps each).

    None where either side did not run.
    """
    base = next((r.figures for r in runs if r.name == "dirigent"), None)
    out: dict[str, float | None] = {}
    for r in runs:
        if r.name == "dirigent":
            continue
        key = f"dirigent_vs_{r.name.replace('-', '_')}"
        if base is None or r.figures is None or r.figures.sagas_per_s <= 0:
            out[key] = None
        else:
            out[key] = round(base.sagas_per_s / r.figures.sagas_per_s, 2)
    return out


def _entry(r: PeerRun) -> dict[str, Any]:
    if r.figures is None:
        return {"skipped": r.skipped, "durability": r.durability}
    f = r.figures
    return {
        "workflows_per_s": round(f.sagas_per_s, 1),
        "steps_per_s": round(f.steps_per_s, 1),
        "p50_step_ms": round(f.p50_step_ms, 1),
        "p99_step_ms": round(f.p99_step_ms, 1),
        "durability": r.durability,
        "figures": asdict(f),
        "detail": r.detail,
    }


def peers_json(runs: list[PeerRun], *, params: dict[str, Any], env: dict[str, Any],
               timestamp: str, command: str) -> dict[str, Any]:  # fmt: skip
    return {
        "timestamp": timestamp,
        "command": command,
        "params": params,
        "peers": {r.name: _entry(r) for r in runs},
        "ratios": ratios(runs),
        "env": env,
    }


def table(runs: list[PeerRun]) -> str:
    """The figures side by side, then the ratios; a skipped peer says why."""
    head = f"{'peer':<10}{'workflows/s':>12}{'steps/s':>10}{'p50 ms':>9}{'p99 ms':>9}  durability"
    lines = [head, "-" * len(head)]
    for r in runs:
        if r.figures is None:
            lines.append(f"{r.name:<10}{'skipped: ' + (r.skipped or '?')}")
            continue
        f = r.figures
        lines.append(f"{r.name:<10}{f.sagas_per_s:>12,.1f}{f.steps_per_s:>10,.1f}"
                     f"{f.p50_step_ms:>9,.1f}{f.p99_step_ms:>9,.1f}  {r.summary}")  # fmt: skip
    parts = [f"{k.replace('_vs_', ' / ').replace('_', '-')}: {'-' if v is None else f'{v:,.2f}x'}"
             for k, v in ratios(runs).items()]  # fmt: skip
    lines += ["", "workflows/s ratio  " + "   ".join(parts)]
    return "\n".join(lines)
