"""Pure pieces of the client library: backoff, classification, fingerprints, DLT headers."""

from __future__ import annotations

import random

import pytest
from aiokafka.errors import KafkaConnectionError, UnsupportedVersionError

from dirigent.errors import (
    ConfigurationError,
    NonRetryableError,
    RetryableError,
    StoreError,
    TransportError,
)
from dirigent.service import HandlerRetry, is_retryable
from dirigent.store import keys
from dirigent.store.idempotency import decode_replies, encode_replies
from dirigent.transport import (
    Failure,
    InboundRecord,
    OutgoingRecord,
    ProducerSettings,
    RawProducer,
    dead_letter_record,
    fingerprint,
)


@pytest.mark.parametrize("attempt", [1, 2, 3, 5, 10, 200])
def test_full_jitter_delay_stays_within_the_exponential_ceiling(attempt: int) -> None:
    policy = HandlerRetry(initial_backoff_s=0.1, max_backoff_s=2.0, multiplier=2.0)
    rng = random.Random(attempt)
    delays = [policy.delay_s(attempt, ValueError(), rng) for _ in range(500)]
    ceiling = min(2.0, 0.1 * 2 ** (attempt - 1))
    assert policy.ceiling_s(attempt) == pytest.approx(ceiling)
    assert all(0.0 <= d <= ceiling for d in delays)
    assert max(delays) > ceiling * 0.8  # jitter spreads over the whole range


def test_an_error_can_ask_for_its_own_delay_capped_by_the_policy() -> None:
    policy = HandlerRetry(max_backoff_s=5.0)
    assert policy.delay_s(1, RetryableError("x", next_retry_delay_s=1.5)) == 1.5
    assert policy.delay_s(1, RetryableError("x", next_retry_delay_s=60)) == 5.0


def test_attempts_are_bounded_and_non_retryable_errors_skip_retries() -> None:
    policy = HandlerRetry(max_attempts=3)
    assert policy.should_retry(2, RetryableError("busy"))
    assert not policy.should_retry(3, RetryableError("busy"))
    assert not policy.should_retry(1, NonRetryableError("no"))
    assert not HandlerRetry(retry_unclassified=False).should_retry(1, KeyError("bug"))
    with pytest.raises(ValueError, match="max_attempts"):
        HandlerRetry(max_attempts=0)


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (RetryableError("x"), True),
        (NonRetryableError("x"), False),
        (StoreError("redis down"), True),
        (TransportError("kafka"), True),
        (KafkaConnectionError(), True),
        (UnsupportedVersionError(), False),
        (TimeoutError(), True),
        (ConnectionResetError(), True),
    ],
)
def test_retryability_comes_from_the_error(exc: BaseException, expected: bool) -> None:
    assert is_retryable(exc, unclassified=False) is expected


def _raise(exc: Exception) -> Exception:
    try:
        raise exc
    except Exception as caught:  # noqa: BLE001 - capturing a traceback for the test
        return caught


def test_fingerprint_depends_on_class_handler_and_top_frame_not_message() -> None:
    a = fingerprint(_raise(ValueError("order 1")), "h")
    assert a == fingerprint(_raise(ValueError("order 2")), "h")
    assert a != fingerprint(_raise(KeyError("order 1")), "h")
    assert a != fingerprint(_raise(ValueError("order 1")), "other")
    assert len(a) == 16


def test_dead_letter_keeps_the_original_bytes_and_adds_bounded_diagnostics() -> None:
    record = InboundRecord("shop.cmd", 3, 42, 1700, b"key", b"\x00value", (("h", b"\xff"),))
    exc = _raise(ValueError("m" * 5000))
    failure = Failure.of(exc, handler="inv.reserve", attempts=4, first_ms=1, last_ms=9)
    dead = dead_letter_record(record, failure, group="inventory")
    diag = {k: v for k, v in dead.headers if k.startswith("dirigent-dlt-")}
    assert (dead.topic, dead.key, dead.value) == ("shop.cmd.dlt", b"key", b"\x00value")
    assert dead.headers[0] == ("h", b"\xff")
    assert diag["dirigent-dlt-offset"] == b"42"
    assert diag["dirigent-dlt-partition"] == b"3"
    assert diag["dirigent-dlt-attempts"] == b"4"
    assert diag["dirigent-dlt-error-class"] == b"builtins.ValueError"
    assert len(diag["dirigent-dlt-error-message"]) == 1024
    assert diag["dirigent-dlt-fingerprint"] == failure.fingerprint.encode()
    assert b"ValueError" in diag["dirigent-dlt-stacktrace"]


def test_stored_replies_round_trip_byte_for_byte() -> None:
    replies = [
        OutgoingRecord("t", b"\x00\xffv", b"k", (("a", b"\x01"), ("a", b""))),
        OutgoingRecord("u", None, None, ()),
    ]
    assert decode_replies(encode_replies(replies)) == replies


def test_idempotency_keys_are_hash_tagged_on_the_message_id() -> None:
    assert keys.idempotency("inventory", "m-1") == "dirigent:idem:inventory:{m-1}"
    with pytest.raises(ValueError, match="Redis key"):
        keys.idempotency("inventory", "a{b}")


async def test_a_producer_does_no_io_until_started_and_cannot_be_reopened() -> None:
    producer = RawProducer("127.0.0.1:1")  # nothing listens there: the constructor must not care
    with pytest.raises(TransportError, match="not started"):
        await producer.send(OutgoingRecord("t", b"v"))
    await producer.close()
    await producer.close()
    with pytest.raises(TransportError, match="cannot be reopened"):
        await producer.start()


def test_an_unavailable_compression_codec_is_a_configuration_error() -> None:
    from aiokafka.codec import has_zstd

    if has_zstd():
        pytest.skip("zstd codec installed")
    with pytest.raises(ConfigurationError, match="zstd"):
        RawProducer("x:1", settings=ProducerSettings(compression="zstd"))
    RawProducer("x:1", settings=ProducerSettings(compression="gzip"))
