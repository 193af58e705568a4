"""The Kafka error mapper: every aiokafka error becomes a TransportError with a verdict."""

from __future__ import annotations

import asyncio

import pytest
from aiokafka import errors as kerr

from dirigent.errors import PublishFailed, TransportError
from dirigent.transport._errors import map_kafka_errors

TABLE: list[tuple[BaseException, bool]] = [
    # aiokafka's own retriable flag is kept
    (kerr.KafkaConnectionError("down"), True),
    (kerr.NodeNotReadyError(), True),
    (kerr.RequestTimedOutError(), True),
    (kerr.NotLeaderForPartitionError(), True),
    (kerr.LeaderNotAvailableError(), True),
    (kerr.NotEnoughReplicasError(), True),
    (kerr.UnknownTopicOrPartitionError(), True),  # metadata may lag a new topic
    (kerr.GroupCoordinatorNotAvailableError(), True),
    (kerr.CorruptRecordException(), False),
    (kerr.UnknownError(), False),
    # permanent: retrying cannot help
    (kerr.SaslAuthenticationFailed(), False),
    (kerr.AuthenticationFailedError(), False),
    (kerr.UnsupportedSaslMechanismError(), False),
    (kerr.TopicAuthorizationFailedError(), False),
    (kerr.GroupAuthorizationFailedError(), False),
    (kerr.ClusterAuthorizationFailedError(), False),
    (kerr.KafkaConfigurationError("bad option"), False),
    (kerr.InvalidConfigurationError(), False),
    (kerr.MessageSizeTooLargeError(), False),
    (kerr.RecordTooLargeError(), False),
    (kerr.RecordListTooLargeError(), False),
    (kerr.IllegalStateError("no"), False),
    (kerr.UnsupportedVersionError(), False),
    (kerr.IllegalOperation("not in a transaction"), False),
    # transient although aiokafka does not flag them
    (kerr.KafkaTimeoutError(), True),
    (kerr.CommitFailedError("rebalanced"), True),
    (kerr.RebalanceInProgressError(), True),
    (kerr.IllegalGenerationError(), True),
    (kerr.UnknownMemberIdError(), True),
    (kerr.ConsumerStoppedError(), True),
    # what the asyncio and socket layers leak
    (TimeoutError(), True),
    (TimeoutError(), True),
    (ConnectionResetError("reset"), True),
    (OSError("network unreachable"), True),
]


@pytest.mark.parametrize(("exc", "retryable"), TABLE, ids=lambda v: type(v).__name__)
def test_each_error_is_translated_with_its_retryability_and_cause(
    exc: BaseException, retryable: bool
) -> None:
    with pytest.raises(TransportError) as caught, map_kafka_errors("commit for group g"):
        raise exc
    assert caught.value.retryable is retryable
    assert caught.value.__cause__ is exc
    assert str(caught.value).startswith("commit for group g failed: ")
    assert type(exc).__name__ in str(caught.value)


def test_sends_raise_publish_failed() -> None:
    with pytest.raises(PublishFailed) as caught, map_kafka_errors("send", publish=True):
        raise kerr.MessageSizeTooLargeError()
    assert caught.value.retryable is False


def test_an_aiokafka_assertion_is_a_permanent_error() -> None:
    with pytest.raises(PublishFailed) as caught, map_kafka_errors("send", publish=True):
        raise AssertionError("Need at least one: key or value")
    assert caught.value.retryable is False


def test_dirigent_errors_and_cancellation_pass_through_unchanged() -> None:
    own = TransportError("ours", retryable=False)
    with pytest.raises(TransportError) as caught, map_kafka_errors("x"):
        raise own
    assert caught.value is own
    with pytest.raises(asyncio.CancelledError), map_kafka_errors("x"):
        raise asyncio.CancelledError


def test_no_aiokafka_call_in_transport_is_left_unwrapped() -> None:
    """Every module that awaits aiokafka uses the mapper (a cheap structural check)."""
    from pathlib import Path

    import dirigent.transport as transport

    root = Path(transport.__file__).parent
    # security.py awaits only the user's OAUTHBEARER token function (guarded there)
    not_calls = {"security.py"}
    for path in root.glob("*.py"):
        text = path.read_text()
        if "from aiokafka" in text and "await " in text and path.name not in not_calls:
            assert "map_kafka_errors" in text, path.name
        assert "except KafkaError" not in text, path.name
