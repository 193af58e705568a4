"""The filter every dlt command shares: each condition on its own, and the time parser."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dirigent.ops import OffsetRef
from dirigent.ops.dlt_filter import DltFilter, parse_moment
from dirigent.ops.dlt_ledger import Accounting
from tests.unit.ops.dlt_fixtures import failure, letter

D = letter(3, fail=failure("a" * 16, cls="app.errors.Declined", handler="inv.reserve",
                           last_ms=5_000), saga_id="o-7", group="inventory")  # fmt: skip


@pytest.mark.parametrize(
    ("f", "expected"),
    [
        (DltFilter(), True),
        (DltFilter(topics=frozenset({"shop.inventory.commands"})), True),
        (DltFilter(topics=frozenset({"shop.payments.commands"})), False),
        (DltFilter(error_classes=frozenset({"app.errors.Declined"})), True),
        (DltFilter(error_classes=frozenset({"Declined"})), True),
        (DltFilter(error_classes=frozenset({"errors.Declined"})), False),
        (DltFilter(fingerprints=frozenset({"a" * 16})), True),
        (DltFilter(fingerprints=frozenset({"b" * 16})), False),
        (DltFilter(handlers=frozenset({"reserve"})), True),
        (DltFilter(handlers=frozenset({"release"})), False),
        (DltFilter(groups=frozenset({"inventory"})), True),
        (DltFilter(groups=frozenset({"payments"})), False),
        (DltFilter(saga_ids=frozenset({"o-7"})), True),
        (DltFilter(saga_ids=frozenset({"o-8"})), False),
        (DltFilter(since_ms=5_000), True),
        (DltFilter(since_ms=5_001), False),
        (DltFilter(until_ms=5_001), True),
        (DltFilter(until_ms=5_000), False),
        (DltFilter(offsets=(OffsetRef(3),)), True),
        (DltFilter(offsets=(OffsetRef(3, 1),)), False),
        (DltFilter(offsets=(OffsetRef(4), OffsetRef(3, 0))), True),
        (DltFilter(fingerprints=frozenset({"a" * 16}), saga_ids=frozenset({"o-8"})), False),
    ],
)
def test_each_header_condition(f: DltFilter, expected: bool) -> None:
    assert f.matches(D) is expected


@pytest.mark.parametrize(
    ("accounting", "state", "expected"),
    [
        (None, None, True),
        (None, Accounting.REPLAYED, True),
        ("open", None, True),
        ("open", Accounting.JUDGED_DEAD, False),
        ("replayed", Accounting.REPLAYED, True),
        ("replayed", None, False),
        ("replayed", Accounting.JUDGED_DEAD, False),
        ("judged-dead", Accounting.JUDGED_DEAD, True),
        ("accounted", Accounting.JUDGED_DEAD, True),
        ("accounted", None, False),
    ],
)
def test_ledger_condition(accounting: str | None, state: Accounting | None, expected: bool) -> None:
    assert DltFilter(accounting=accounting).matches_accounting(state) is expected


def test_saga_type_condition_needs_the_store() -> None:
    f = DltFilter(saga_types=frozenset({"order_fulfilment"}))
    assert f.needs_sagas
    assert not DltFilter().needs_sagas
    assert f.matches_saga("order_fulfilment")
    assert not f.matches_saga("trip_booking")
    assert not f.matches_saga(None)  # no saga stored: not of that type


def test_a_record_without_headers_matches_only_an_empty_filter() -> None:
    bare = letter(0, saga_id=None)
    assert not DltFilter(saga_ids=frozenset({"saga-1"})).matches(bare)
    assert DltFilter().matches(bare)


NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01T10:00:00Z", datetime(2024, 5, 1, 10, tzinfo=UTC)),
        ("2024-05-01T10:00", datetime(2024, 5, 1, 10, tzinfo=UTC)),  # no zone: UTC
        ("2024-05-01T12:00:00+02:00", datetime(2024, 5, 1, 10, tzinfo=UTC)),
        ("2024-04-30", datetime(2024, 4, 30, tzinfo=UTC)),
        ("90s", datetime(2024, 5, 1, 11, 58, 30, tzinfo=UTC)),
        ("15m", datetime(2024, 5, 1, 11, 45, tzinfo=UTC)),
        ("2h", datetime(2024, 5, 1, 10, tzinfo=UTC)),
        ("1d", datetime(2024, 4, 30, 12, tzinfo=UTC)),
        ("1w", datetime(2024, 4, 24, 12, tzinfo=UTC)),
    ],
)
def test_moments(text: str, expected: datetime) -> None:
    assert parse_moment(text, now=NOW) == int(expected.timestamp() * 1000)


@pytest.mark.parametrize("text", ["yesterday", "2h ago", "-1h", ""])
def test_a_bad_moment_names_the_input(text: str) -> None:
    with pytest.raises(ValueError, match=repr(text)):
        parse_moment(text, now=NOW)


def test_to_dict_lists_only_the_conditions_set() -> None:
    f = DltFilter(fingerprints=frozenset({"b", "a"}), offsets=(OffsetRef(3, 1), OffsetRef(4)))
    assert f.to_dict() == {"fingerprints": ["a", "b"], "offsets": ["1:3", "4"]}
