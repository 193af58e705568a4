"""One mapper from aiokafka's errors to dirigent's, used around every aiokafka call.

``with map_kafka_errors("commit for group g"):`` turns whatever aiokafka (or the asyncio
and socket layers under it) raises into a ``TransportError`` (``PublishFailed`` for
sends), keeps the cause (``raise ... from exc``) and sets ``retryable``:

- aiokafka's own ``retriable`` flag is kept, except for the table below;
- permanent: authentication/SASL, authorization, invalid configuration, a record or
  request too large (``MessageSizeTooLargeError``, ``RecordTooLargeError``,
  ``RecordListTooLargeError``), ``IllegalStateError``, unsupported versions/codecs;
- transient although aiokafka does not flag them: timeouts, a commit refused by a
  rebalance (``CommitFailedError``, ``RebalanceInProgressError``, stale generation or
  member id), a broker that is not available;
- ``TimeoutError``/``OSError`` leaking from the network layer: transient.

An unknown topic stays retryable here (metadata can lag behind a topic's creation);
whoever knows the topic must exist checks it once (``missing_topics``) and raises
``ConfigurationError``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from aiokafka import errors as kerr

from dirigent.errors import DirigentError, PublishFailed, TransportError

__all__ = ["PERMANENT", "TRANSIENT", "map_kafka_errors", "translate"]

PERMANENT: tuple[type[BaseException], ...] = (
    kerr.AuthenticationFailedError,
    kerr.AuthenticationMethodNotSupported,
    kerr.SaslAuthenticationFailed,
    kerr.UnsupportedSaslMechanismError,
    kerr.IllegalSaslStateError,
    kerr.TopicAuthorizationFailedError,
    kerr.GroupAuthorizationFailedError,
    kerr.ClusterAuthorizationFailedError,
    kerr.TransactionalIdAuthorizationFailed,
    kerr.KafkaConfigurationError,
    kerr.InvalidConfigurationError,
    kerr.MessageSizeTooLargeError,
    kerr.RecordTooLargeError,
    kerr.RecordListTooLargeError,
    kerr.IllegalStateError,
    kerr.IllegalArgumentError,
    kerr.UnsupportedVersionError,
    kerr.UnsupportedCodecError,
    kerr.IncompatibleBrokerVersion,
    kerr.InvalidTopicError,
)
TRANSIENT: tuple[type[BaseException], ...] = (
    kerr.KafkaTimeoutError,
    kerr.CommitFailedError,
    kerr.RebalanceInProgressError,
    kerr.IllegalGenerationError,
    kerr.UnknownMemberIdError,
    kerr.BrokerNotAvailableError,
    kerr.KafkaUnavailableError,
    kerr.ConsumerStoppedError,
)
# Errors of the asyncio/socket layers that aiokafka lets through.
_NETWORK = (TimeoutError, OSError, ConnectionError)


def translate(exc: BaseException, what: str, *, publish: bool = False) -> DirigentError:
    """The dirigent error for ``exc`` raised while doing ``what`` (cause not yet set)."""
    cls = PublishFailed if publish else TransportError
    return cls(f"{what} failed: {_describe(exc)}", retryable=_retryable(exc))


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, PERMANENT):
        return False
    if isinstance(exc, (*TRANSIENT, *_NETWORK)):
        return True
    return bool(getattr(exc, "retriable", False))


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


@contextlib.contextmanager
def map_kafka_errors(what: str, *, publish: bool = False) -> Iterator[None]:
    """Translate aiokafka/asyncio/socket errors raised inside the block.

    Example::

        with map_kafka_errors(f"commit for group {group}"):
            await consumer.commit(offsets)

    dirigent's own errors pass through unchanged; so does cancellation.
    """
    try:
        yield
    except DirigentError:
        raise
    except (kerr.KafkaError, kerr.ConsumerStoppedError, kerr.IllegalOperation, *_NETWORK) as exc:
        raise translate(exc, what, publish=publish) from exc
    except AssertionError as exc:  # aiokafka asserts its preconditions (key or value, ...)
        cls = PublishFailed if publish else TransportError
        raise cls(f"{what} refused by aiokafka: {exc!r}", retryable=False) from exc
