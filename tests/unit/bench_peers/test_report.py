"""The peers' report: ratios against dirigent, and a skipped peer said plainly."""

from __future__ import annotations

from bench.peers.report import PeerRun, peers_json, ratios, skipped, table
from bench.tally import Figures


def _run(name: str, sagas_per_s: float) -> PeerRun:
    figures = Figures(3 * sagas_per_s, sagas_per_s, 10.0, 20.0, 5.0, 100)
    return PeerRun(name, figures, durability={"acks": "all"}, summary="acks=all")


def test_ratios_are_dirigent_over_each_peer() -> None:
    runs = [_run("dirigent", 300.0), _run("faust-tuned", 200.0), _run("temporal", 20.0)]
    assert ratios(runs) == {"dirigent_vs_faust_tuned": 1.5, "dirigent_vs_temporal": 15.0}


def test_a_skipped_peer_has_no_ratio_and_says_why() -> None:
    runs = [_run("dirigent", 300.0), skipped("temporal", "no Go toolchain")]
    assert ratios(runs) == {"dirigent_vs_temporal": None}
    assert "temporal  skipped: no Go toolchain" in table(runs)
    doc = peers_json(runs, params={}, env={}, timestamp="t", command="c")
    assert doc["peers"]["temporal"] == {"skipped": "no Go toolchain", "durability": {}}


def test_without_dirigent_there_is_no_ratio() -> None:
    assert ratios([_run("faust", 100.0)]) == {"dirigent_vs_faust": None}


def test_the_json_keeps_each_peers_durability_beside_its_figures() -> None:
    doc = peers_json([_run("faust", 100.0)], params={}, env={}, timestamp="t", command="c")
    faust = doc["peers"]["faust"]
    assert (faust["workflows_per_s"], faust["steps_per_s"], faust["durability"]) == (
        100.0, 300.0, {"acks": "all"})  # fmt: skip
