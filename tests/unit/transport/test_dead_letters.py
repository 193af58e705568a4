"""Dead letters always fit: full form when it fits, reduced form (with a reference) if not."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from aiokafka.record.default_records import _DefaultRecordBatchBuilderPy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dirigent.transport import Failure, InboundRecord, dead_letter_record
from dirigent.transport.deadletter import DEFAULT_MAX_BYTES, SIZE_MARGIN, wire_size
from dirigent.transport.producer import OutgoingRecord

LIMIT = DEFAULT_MAX_BYTES - SIZE_MARGIN


def _failure(message: str = "boom", stack: str = "Traceback ...") -> Failure:
    return Failure("builtins.ValueError", message, stack, "0" * 16, "h", 1, 1, 2)


def _diag(record: OutgoingRecord) -> dict[str, bytes]:
    return {
        k[len("dirigent-dlt-") :]: v for k, v in record.headers if k.startswith("dirigent-dlt-")
    }


def _record(value: bytes | None, headers: tuple = (), key: bytes | None = b"k") -> InboundRecord:
    return InboundRecord("shop.cmd", 0, 7, 1, key, value, headers)


def _builds(record: OutgoingRecord) -> None:
    """aiokafka can serialise it (header names encode, key or value present)."""
    builder = _DefaultRecordBatchBuilderPy(2, 0, 0, -1, -1, -1, 64 << 20)
    assert record.key is not None or record.value is not None
    assert builder.append(0, 0, record.key, record.value, list(record.headers)) is not None


def test_a_record_near_the_limit_is_reduced_with_its_size_and_hash() -> None:
    value = b"\x01" * 1_047_500  # fits the broker; the diagnostics would push it over
    dead = dead_letter_record(_record(value), _failure(stack="x" * 20_000), group="g")
    diag = _diag(dead)
    assert wire_size(dead) <= LIMIT
    assert diag["original-size"] == b"1047500"
    assert diag["original-sha256"] == hashlib.sha256(value).hexdigest().encode()
    assert b"exceeds" in diag["reduced"]
    assert dead.value == value[: int(diag["value-kept"])]
    assert 0 < len(dead.value or b"") < 8192
    assert (diag["topic"], diag["partition"], diag["offset"]) == (b"shop.cmd", b"0", b"7")
    assert diag["error-message"] == b"boom"
    assert len(diag["stacktrace"]) <= 8 * 1024


def test_a_small_record_is_copied_whole() -> None:
    dead = dead_letter_record(_record(b"v", (("h", b"1"),)), _failure(), group="g")
    assert (dead.value, dead.headers[0]) == (b"v", ("h", b"1"))
    assert "reduced" not in _diag(dead)


def test_asking_for_the_reduced_form_gives_it_even_when_the_full_one_fits() -> None:
    dead = dead_letter_record(_record(b"v" * 10_000), _failure(), group="g", reduce="refused")
    assert _diag(dead)["reduced"] == b"refused"
    assert len(dead.value or b"") == 4096


def test_header_names_that_are_not_utf8_are_escaped_and_counted() -> None:
    headers = (("\udcff\udcfe", b"x"), ("ok", b"1"))
    dead = dead_letter_record(_record(b"v", headers), _failure(), group="g")
    assert dead.headers[:2] == ((r"\xff\xfe", b"x"), ("ok", b"1"))
    assert _diag(dead)["headers-escaped"] == b"1"
    _builds(dead)


def test_an_oversized_original_header_is_dropped_and_counted() -> None:
    headers = (("huge", b"h" * 200_000), ("ok", b"1"))
    dead = dead_letter_record(_record(b"v", headers), _failure(), group="g")
    assert dead.headers[0] == ("ok", b"1")
    assert _diag(dead)["headers-dropped"] == b"1"


def test_a_keyless_tombstone_gets_an_empty_value_so_it_can_be_sent() -> None:
    dead = dead_letter_record(_record(None, key=None), _failure(), group="g")
    assert dead.value == b""
    assert _diag(dead)["null-value"] == b"1"
    _builds(dead)


def test_the_defect_of_a_record_is_part_of_the_diagnostics() -> None:
    record = InboundRecord("t", 0, 1, 1, None, None, (), defect="header name(s) not valid UTF-8")
    assert _diag(dead_letter_record(record, _failure(), group="g"))["defect"].startswith(b"header")


NAMES = st.one_of(
    st.text(max_size=30),
    st.binary(min_size=1, max_size=8).map(lambda b: b.decode("utf-8", "surrogateescape")),
)
BLOBS = st.one_of(
    st.none(),
    st.binary(max_size=64),
    st.tuples(st.binary(min_size=1, max_size=8), st.integers(1, 300_000)).map(
        lambda t: t[0] * t[1]
    ),
)


@settings(max_examples=150, deadline=timedelta(seconds=2), suppress_health_check=list(HealthCheck))
@given(
    key=BLOBS,
    value=BLOBS,
    headers=st.lists(st.tuples(NAMES, BLOBS), max_size=8),
    message=st.text(max_size=3000),
    stack=st.text(max_size=20_000),
    handler=st.text(max_size=600),
    defect=st.none() | st.text(max_size=3000),
    max_bytes=st.sampled_from([64 * 1024, 256 * 1024, DEFAULT_MAX_BYTES, 4 * DEFAULT_MAX_BYTES]),
)
def test_any_record_gives_a_dead_letter_that_fits_and_can_be_sent(
    key: bytes | None,
    value: bytes | None,
    headers: list[tuple[str, bytes | None]],
    message: str,
    stack: str,
    handler: str,
    defect: str | None,
    max_bytes: int,
) -> None:
    record = InboundRecord("t", 1, 2, 3, key, value, tuple(headers), defect=defect)  # type: ignore[arg-type]
    failure = Failure("c", message, stack, "f" * 16, handler, 1, 1, 1)
    dead = dead_letter_record(record, failure, group="g", max_bytes=max_bytes)
    assert wire_size(dead) <= max_bytes - SIZE_MARGIN
    _builds(dead)
    diag = _diag(dead)
    if "reduced" in diag:
        assert diag["original-sha256"] == hashlib.sha256(value or b"").hexdigest().encode()
    else:
        expected = value if value is not None or key is not None else b""
        assert (dead.key, dead.value) == (key, expected)
