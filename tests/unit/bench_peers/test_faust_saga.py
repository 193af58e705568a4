"""The faust peer's hand-written saga: forward, compensation, redeliveries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.peers.faust_app import FaustPeer, internal_topics
from bench.peers.faust_saga import Saga, on_reply, start

ORDER = {"order_id": "o1", "customer_id": "c1", "amount_cents": 1999, "currency": "EUR",
         "items": [{"sku": "sku-1", "quantity": 2}]}  # fmt: skip


def _reply(step: str, *, ok: bool = True) -> dict[str, Any]:
    return {"type": "any", "order_id": "o1", "step": step, "ok": ok}


def test_every_success_moves_to_the_next_command_then_completes() -> None:
    saga, first = start(ORDER, 1.0)
    assert (first.domain, first.value["type"], first.value["items"]) == (
        "inventory", "ReserveStock", [{"sku": "sku-1", "quantity": 2}])  # fmt: skip
    sent = []
    for step, now in (("reserve", 2.0), ("pay", 3.0), ("approve", 4.0)):
        moved, out = on_reply(saga, _reply(step), now)
        assert moved is not None
        saga = moved
        sent += [(o.domain, o.value.get("type"), o.value["after"], o.value["decided_ms"])
                 for o in out]  # fmt: skip
    assert sent == [("payments", "AuthorizePayment", "reserve", 2.0),
                    ("orders", "ApproveOrder", "pay", 3.0),
                    (None, None, "approve", 4.0)]  # fmt: skip
    assert saga.status == "COMPLETED"
    assert on_reply(saga, _reply("approve"), 5.0) == (saga, [])  # a finished saga stays so


def test_a_declined_payment_releases_the_stock() -> None:
    saga, _ = start(ORDER, 1.0)
    at_pay, _ = on_reply(saga, _reply("reserve"), 2.0)
    undoing, out = on_reply(at_pay, _reply("pay", ok=False), 3.0)
    assert undoing is not None
    assert undoing.status == "COMPENSATING"
    assert [(o.domain, o.value["type"]) for o in out] == [("inventory", "ReleaseStock")]
    done, out = on_reply(undoing, _reply("release"), 4.0)
    assert done is not None
    assert done.status == "COMPENSATED"
    assert [o.value["status"] for o in out] == ["COMPENSATED"]


def test_a_redelivered_reply_resends_the_current_command_and_changes_nothing() -> None:
    saga, _ = start(ORDER, 1.0)
    at_pay, _ = on_reply(saga, _reply("reserve"), 2.0)
    again, out = on_reply(at_pay, _reply("reserve"), 9.0)  # replayed after a restart
    assert again == at_pay
    assert [o.value["type"] for o in out] == ["AuthorizePayment"]
    assert on_reply(at_pay, _reply("approve"), 9.0) == (at_pay, [])  # not awaited: ignored


def test_a_reply_for_no_saga_is_ignored() -> None:
    assert on_reply(None, _reply("reserve"), 1.0) == (None, [])


def test_the_stored_form_reads_back_the_same() -> None:
    saga, _ = start(ORDER, 1.0)
    assert Saga.from_json(saga.to_json()) == saga


def test_the_changelog_named_for_clean_up_is_the_one_faust_creates(tmp_path: Path) -> None:
    peer = FaustPeer(bootstrap="127.0.0.1:1", prefix="p1", partitions=2, datadir=tmp_path)
    assert internal_topics("p1")[0] == peer.changelog == "p1-orchestrator-sagas-changelog"
