"""The ledger: entries and tombstones folded in log order, kept as offsets."""

from __future__ import annotations

from dirigent.ops.dlt_ledger import Accounting, Ledger, LedgerEntry, ledger_topic, tombstone
from dirigent.transport import InboundRecord, OutgoingRecord


def _in(out: OutgoingRecord, offset: int = 0) -> InboundRecord:
    return InboundRecord(out.topic, 0, offset, 1, out.key, out.value, out.headers)


def _entry(p: int, o: int, state: Accounting = Accounting.REPLAYED, **kw: str) -> LedgerEntry:
    return LedgerEntry(p, o, state, kw.get("id", "r1"), "alice", 1_000, kw.get("note", ""))


def test_an_entry_round_trips_through_its_record() -> None:
    e = _entry(2, 17, Accounting.JUDGED_DEAD, note="customer deleted")
    out = e.record("orders.events.dlt")
    assert out.topic == ledger_topic("orders.events.dlt") == "orders.events.dlt.ledger"
    assert out.key == b"2:17"
    assert LedgerEntry.parse(_in(out)) == e


def test_later_records_win_and_tombstones_forget() -> None:
    ledger = Ledger(keep=[(0, 1)])
    ledger.apply(_in(_entry(0, 1).record("d")))
    ledger.apply(_in(_entry(0, 2).record("d")))
    ledger.apply(_in(_entry(1, 1, Accounting.JUDGED_DEAD).record("d")))
    assert ledger.state(0, 1) is Accounting.REPLAYED
    assert ledger.state(1, 1) is Accounting.JUDGED_DEAD
    assert ledger.state(1, 2) is None
    ledger.apply(_in(_entry(0, 1, Accounting.JUDGED_DEAD, id="j9").record("d")))
    assert ledger.state(0, 1) is Accounting.JUDGED_DEAD
    assert ledger.entry(0, 1) is not None
    assert ledger.entry(0, 1).action_id == "j9"
    assert ledger.entry(0, 2) is None  # only positions in `keep` keep their entry
    assert (ledger.count(Accounting.REPLAYED), ledger.count(Accounting.JUDGED_DEAD)) == (1, 2)
    ledger.apply(_in(tombstone("d", 0, 1)))
    assert ledger.state(0, 1) is None
    assert ledger.entry(0, 1) is None
    assert len(ledger) == 2
    assert sorted(ledger.offsets(0)) == [(2, Accounting.REPLAYED)]


def test_foreign_or_broken_records_are_ignored() -> None:
    ledger = Ledger()
    for key, value in ((b"nope", b"{}"), (b"0:1", b"not json"), (b"0:2", b'{"s":"weird"}'),
                       (None, b"{}")):  # fmt: skip
        ledger.apply(InboundRecord("d.ledger", 0, 0, 1, key, value, ()))
    assert len(ledger) == 0
