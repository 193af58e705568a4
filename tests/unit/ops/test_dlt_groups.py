"""Grouping by fingerprint in one pass: counts, open/replayed/returned, time span."""

from __future__ import annotations

from dirigent.ops.dlt import REPLAY_ID_HEADER, REPLAYED_HEADER
from dirigent.ops.dlt_groups import GroupCounter
from dirigent.ops.dlt_ledger import Accounting
from tests.unit.ops.dlt_fixtures import failure, letter

RETURNED = ((REPLAYED_HEADER, b"1"), (REPLAY_ID_HEADER, b"r1"))


def test_groups_count_open_replayed_judged_and_returned() -> None:
    a, b = failure("a" * 16, last_ms=5_000), failure("b" * 16, cls="app.Other", last_ms=7_000)
    counter = GroupCounter()
    counter.add(letter(0, fail=a), Accounting.REPLAYED)
    counter.add(letter(1, fail=failure("a" * 16, last_ms=9_000), extra_headers=RETURNED))
    counter.add(letter(2, fail=a), Accounting.JUDGED_DEAD)
    counter.add(letter(3, fail=b, topic="shop.payments.commands"))
    first, second = counter.groups()
    assert (first.fingerprint, first.count, first.open) == ("a" * 16, 3, 1)
    assert (first.replayed, first.judged_dead, first.returned) == (1, 1, 1)
    assert (first.first_failure_ms, first.last_failure_ms) == (5_000, 9_000)
    assert (second.fingerprint, second.count, second.error_class) == ("b" * 16, 1, "app.Other")
    assert second.topics == ("shop.payments.commands",)
    assert counter.total == 4
