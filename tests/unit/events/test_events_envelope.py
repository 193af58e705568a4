"""The envelope survives Kafka headers, and bad or oversized headers are named."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dirigent.errors import EnvelopeError
from dirigent.events import Envelope, EnvelopeLimits

_IDS = st.text(st.characters(codec="utf-8"), min_size=1, max_size=40)
_TRACE = "00-" + "a" * 32 + "-" + "b" * 16 + "-01"


def _env(**overrides: object) -> Envelope:
    fields: dict[str, object] = {
        "type": "shop.orders.ApproveOrder",
        "source": "coordinator",
        "schema_ref": "fp:0123456789abcdef",
        "saga_id": "order-1",
        "traceparent": _TRACE,
        "time": datetime(2025, 1, 2, 3, 4, 5, 678999, tzinfo=UTC),
    }
    fields.update(overrides)
    return Envelope.new(**fields)  # type: ignore[arg-type]


@given(
    saga_id=st.none() | _IDS,
    causation_id=st.none() | _IDS,
    message_id=_IDS,
    moment=st.datetimes(timezones=st.just(UTC)),
)
def test_headers_round_trip(
    saga_id: str | None, causation_id: str | None, message_id: str, moment: datetime
) -> None:
    env = _env(saga_id=saga_id, causation_id=causation_id, message_id=message_id, time=moment)
    assert Envelope.from_headers(env.to_headers()) == env


def test_header_names_are_the_documented_allow_list() -> None:
    names = [name for name, _ in _env(causation_id="c").to_headers()]
    assert sorted(names) == sorted(
        [
            "dirigent-id",
            "dirigent-type",
            "dirigent-source",
            "dirigent-time",
            "dirigent-correlation-id",
            "dirigent-schema",
            "dirigent-saga-id",
            "dirigent-causation-id",
            "traceparent",
        ]
    )
    assert dict(_env().to_headers())["dirigent-time"] == b"2025-01-02T03:04:05.678Z"


def test_a_reply_is_caused_by_the_command() -> None:
    command = _env()
    reply = command.reply(type="shop.orders.OrderApproved", source="orders", schema_ref="id:7")
    assert reply.causation_id == command.message_id
    assert reply.message_id != command.message_id
    assert (reply.saga_id, reply.correlation_id) == (command.saga_id, command.correlation_id)
    assert reply.traceparent == command.traceparent
    assert reply.record_key == b"order-1"


def test_the_record_key_falls_back_to_the_correlation_id() -> None:
    env = _env(saga_id=None, correlation_id="conversation-9")
    assert env.record_key == b"conversation-9"


def test_foreign_headers_are_ignored_and_a_bad_traceparent_dropped() -> None:
    headers = [*_env(traceparent=None).to_headers(), ("x-other", b"1"), ("traceparent", b"junk")]
    env = Envelope.from_headers(headers)
    assert env.traceparent is None


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (
            lambda h: [x for x in h if x[0] != "dirigent-type"],
            "missing envelope header.*dirigent-type",
        ),
        (lambda h: [*h, ("dirigent-id", b"again")], "dirigent-id appears twice"),
        (
            lambda h: [(n, b"yesterday" if n == "dirigent-time" else v) for n, v in h],
            "bad header dirigent-time",
        ),
        (
            lambda h: [(n, b"x:1" if n == "dirigent-schema" else v) for n, v in h],
            "bad header dirigent-schema",
        ),
        (
            lambda h: [(n, b"\xff" if n == "dirigent-source" else v) for n, v in h],
            "dirigent-source is not UTF-8",
        ),
        (
            lambda h: [(n, None if n == "dirigent-id" else v) for n, v in h],
            "dirigent-id has no value",
        ),
    ],
)
def test_bad_headers_are_named(edit: object, words: str) -> None:
    headers = _env().to_headers()
    with pytest.raises(EnvelopeError, match=words):
        Envelope.from_headers(edit(headers))  # type: ignore[operator]


def test_size_bounds() -> None:
    limits = EnvelopeLimits(max_header_value_bytes=64, max_headers_bytes=400, max_payload_bytes=10)
    with pytest.raises(EnvelopeError, match="header dirigent-saga-id has 65 bytes, over 64"):
        _env(saga_id="s" * 65, correlation_id="c").to_headers(limits)
    headers = [*_env().to_headers(limits), ("x-big", b"z" * 300)]
    with pytest.raises(EnvelopeError, match=r"headers total \d+ bytes, over 400"):
        Envelope.from_headers(headers, limits)
    limits.check_payload(b"x" * 10)
    with pytest.raises(EnvelopeError, match="payload of 11 bytes exceeds 10"):
        limits.check_payload(b"x" * 11)


def test_default_payload_bound_is_one_mebibyte() -> None:
    EnvelopeLimits().check_payload(b"x" * 2**20)
    with pytest.raises(EnvelopeError):
        EnvelopeLimits().check_payload(b"x" * (2**20 + 1))


def test_naive_time_is_refused() -> None:
    with pytest.raises(EnvelopeError, match="timezone-aware"):
        _env(time=datetime(2025, 1, 1))
