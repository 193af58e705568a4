"""Every error dirigent raises, under one root.

Hierarchy::

    DirigentError
    ├── ConfigurationError            bad settings or a missing tool (java, mvn, redis-server)
    ├── InfrastructureError           local Kafka/Redis could not be fetched, started or reached
    ├── ContractError                 an event model, schema or envelope is wrong
    │   ├── SchemaMismatch            a pydantic model disagrees with its Avro schema
    │   ├── IncompatibleSchemaChange  a schema change breaks readers (or writers)
    │   ├── UnknownSchema             no schema for a fingerprint, id or type name
    │   ├── DecodeError               bytes that are not a valid event (poison input)
    │   └── EnvelopeError             missing, unknown or oversized headers / payload
    ├── SagaDefinitionError           a saga is defined wrongly (names the saga and step)
    ├── SagaCodeError                 a saga's own function raised or returned the wrong thing
    ├── SagaVersionError              running instances a deployed definition cannot continue
    ├── TransportError                Kafka said no
    │   └── PublishFailed             a record could not be produced
    ├── StoreError                    Redis said no
    │   ├── FencedOut                 a newer owner holds the partition (zombie writer)
    │   └── VersionConflict           a saga changed under us (compare-and-set lost)
    └── HandlerError                  raised by user handlers to steer retries
        ├── RetryableError            try again (optionally after ``next_retry_delay_s``)
        └── NonRetryableError         do not retry; dead-letter or fail the step now

Retryability lives on the error (``retryable``), never in if-chains at call sites.
Library errors are translated at the boundary with ``raise X(...) from exc``.
"""

from __future__ import annotations

__all__ = [
    "ConfigurationError",
    "ContractError",
    "DecodeError",
    "DirigentError",
    "EnvelopeError",
    "FencedOut",
    "HandlerError",
    "IncompatibleSchemaChange",
    "InfrastructureError",
    "NonRetryableError",
    "PublishFailed",
    "RetryableError",
    "SagaCodeError",
    "SagaDefinitionError",
    "SagaVersionError",
    "SchemaMismatch",
    "StoreError",
    "TransportError",
    "UnknownSchema",
    "VersionConflict",
]


class DirigentError(Exception):
    """Root of every dirigent error.

    ``retryable`` says whether trying the same thing again may succeed. Each class has a
    default; an adapter that translates a library error passes ``retryable=`` to keep the
    library's own verdict (aiokafka's ``retriable``, a Redis connection error), and loops
    decide by reading it, not by catching types.
    """

    retryable: bool = False

    def __init__(self, *args: object, retryable: bool | None = None) -> None:
        super().__init__(*args)
        if retryable is not None:
            self.retryable = retryable


class ConfigurationError(DirigentError):
    """Settings are invalid or a required tool is missing."""


class InfrastructureError(DirigentError):
    """Local infrastructure could not be fetched, started or reached."""

    retryable = True


class ContractError(DirigentError):
    """An event contract (schema, model, envelope) is violated."""


class SchemaMismatch(ContractError):
    """A typed model disagrees with the Avro schema it is bound to."""


class IncompatibleSchemaChange(ContractError):
    """A schema change would break existing readers or writers."""


class UnknownSchema(ContractError):
    """No schema is known for a fingerprint, registry id or type name."""


class DecodeError(ContractError):
    """Bytes could not be decoded into an event: poison input."""


class EnvelopeError(ContractError):
    """Envelope headers are missing, unknown or too large."""


class SagaDefinitionError(DirigentError):
    """A saga definition is invalid; the message names the saga and the step."""


class SagaCodeError(DirigentError):
    """A saga's own code failed on an input: a command builder, data updater, condition,
    correlation or id function raised, or returned something of the wrong type.

    The message names the saga, the step and the function, as in
    ``saga 'order', step 'reserve_stock': command builder returned None, expected an Event``.
    The engine raises it identically in the test harness and under the coordinator (which
    dead-letters the input with this message).
    """


class SagaVersionError(DirigentError):
    """Running saga instances that the deployed definitions cannot continue (a renamed or
    removed step with no migration); the message names the saga, version and step."""


class TransportError(DirigentError):
    """Kafka refused or failed an operation."""

    retryable = True


class PublishFailed(TransportError):
    """A record could not be produced to Kafka."""


class StoreError(DirigentError):
    """Redis refused or failed an operation."""

    retryable = True


class FencedOut(StoreError):
    """Our fencing token is stale: another coordinator owns the partition now."""

    retryable = False


class VersionConflict(StoreError):
    """The saga's version changed between read and write."""


class HandlerError(DirigentError):
    """Base for errors raised by user handlers to steer retries."""


class RetryableError(HandlerError):
    """A transient failure: retry, after ``next_retry_delay_s`` if given."""

    retryable = True

    def __init__(self, message: str, *, next_retry_delay_s: float | None = None) -> None:
        super().__init__(message, retryable=True)
        self.next_retry_delay_s = next_retry_delay_s


class NonRetryableError(HandlerError):
    """A permanent failure: do not retry."""

    retryable = False
