"""Dead-letter parsing, selection, grouping and the replayed record (pure)."""

from __future__ import annotations

import pytest

from dirigent.errors import ContractError
from dirigent.ops import (
    DeadLetter,
    OffsetRef,
    group_by_fingerprint,
    original_headers,
    parse_offset,
    replay_record,
    select,
)
from dirigent.transport import Failure, InboundRecord, dead_letter_record

ORIGINAL_HEADERS = (("dg-id", b"m-1"), ("trace", b"\x00\xff"), ("dg-id", b"dup-kept"))


def _failure(fp: str = "f" * 16, message: str = "boom", cls: str = "app.Boom") -> Failure:
    return Failure(cls, message, "Traceback...", fp, "reserve", 3, 1_000, 2_000)


def _letter(offset: int, *, failure: Failure | None = None, key: bytes | None = b"saga-1",
            dlt_partition: int = 0) -> DeadLetter:  # fmt: skip
    original = InboundRecord("orders.events", 2, 40 + offset, 123, key, b"\x01body",
                             ORIGINAL_HEADERS)  # fmt: skip
    out = dead_letter_record(original, failure or _failure(), group="orders")
    stored = InboundRecord(out.topic, dlt_partition, offset, 9_000, out.key, out.value,
                           out.headers)  # fmt: skip
    return DeadLetter.of(stored)


def test_diagnostic_headers_are_parsed() -> None:
    d = _letter(5)
    assert (d.topic, d.partition, d.offset) == ("orders.events", 2, 45)
    assert (d.error_class, d.message, d.fingerprint) == ("app.Boom", "boom", "f" * 16)
    assert (d.attempts, d.handler, d.group) == (3, "reserve", "orders")
    assert (d.first_failure_ms, d.last_failure_ms) == (1_000, 2_000)
    assert d.where == "orders.events.dlt[0]@5"


def test_a_record_without_diagnostics_parses_with_gaps() -> None:
    d = DeadLetter.of(
        InboundRecord("x.dlt", 0, 0, 1, None, b"v", (("dirigent-dlt-attempts", b"x"),))
    )
    assert (d.topic, d.fingerprint, d.attempts) == (None, None, None)


def test_original_headers_drop_only_diagnostics_and_keep_order() -> None:
    d = _letter(0)
    assert original_headers(d.record.headers) == ORIGINAL_HEADERS


def test_replay_record_is_the_original_bytes_for_the_original_topic() -> None:
    out = replay_record(_letter(0))
    assert (out.topic, out.key, out.value, out.headers) == (
        "orders.events", b"saga-1", b"\x01body", ORIGINAL_HEADERS)  # fmt: skip
    assert out.partition is None  # the key decides, as it did the first time


def test_replay_of_a_keyless_record_returns_to_its_partition() -> None:
    assert replay_record(_letter(0, key=None)).partition == 2


def test_replay_without_origin_names_the_record() -> None:
    d = DeadLetter.of(InboundRecord("x.dlt", 1, 7, 1, b"k", b"v", ()))
    with pytest.raises(ContractError, match=r"x\.dlt\[1\]@7"):
        replay_record(d)


def test_parse_offset() -> None:
    assert parse_offset("12") == OffsetRef(12)
    assert parse_offset("3:12") == OffsetRef(12, 3)
    with pytest.raises(ValueError, match="'a:b'"):
        parse_offset("a:b")


def test_select_by_fingerprint_and_offsets() -> None:
    a, b = _failure("a" * 16), _failure("b" * 16)
    letters = [_letter(0, failure=a), _letter(1, failure=b), _letter(2, failure=a),
               _letter(2, failure=a, dlt_partition=1)]  # fmt: skip
    assert [d.record.offset for d in select(letters, fingerprint="a" * 16)] == [0, 2, 2]
    assert select(letters, offsets=[OffsetRef(2, 1)]) == [letters[3]]
    assert select(letters, offsets=[OffsetRef(2)]) == [letters[2], letters[3]]
    assert select(letters, fingerprint="b" * 16, offsets=[OffsetRef(0), OffsetRef(1)]) == [
        letters[1]
    ]
    assert select(letters) == letters


def test_groups_count_by_fingerprint_largest_first_with_first_sample() -> None:
    a = _failure("a" * 16, "first a")
    b = _failure("b" * 16, "only b", "app.Other")
    letters = [_letter(0, failure=b), _letter(1, failure=a),
               _letter(2, failure=_failure("a" * 16, "second a"))]  # fmt: skip
    groups = group_by_fingerprint(letters)
    assert [(g.fingerprint[0], g.count, g.sample_message) for g in groups] == [
        ("a", 2, "first a"), ("b", 1, "only b")]  # fmt: skip
    assert groups[1].error_class == "app.Other"
    assert groups[0].topics == ("orders.events",)


def test_a_reduced_dead_letter_is_never_replayed_as_if_it_were_the_original() -> None:
    original = InboundRecord("orders.events", 2, 41, 123, b"saga-1", b"x" * 2_000_000, ())
    out = dead_letter_record(original, _failure(), group="orders")
    assert len(out.value or b"") < 2_000_000  # stored reduced: it would not fit
    stored = DeadLetter.of(InboundRecord(out.topic, 0, 3, 9_000, out.key, out.value, out.headers))
    with pytest.raises(ContractError, match=r"reduced copy .* orders\.events\[2\]@41"):
        replay_record(stored)
