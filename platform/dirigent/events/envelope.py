"""The envelope: who sent what, when, why and in which saga, carried in Kafka headers.

Header names are an allow-list; ours start with ``dirigent-`` and ``traceparent`` keeps its
W3C name so that tracing tools find it. Other headers are ignored, never rejected.

==========================  ==========  ====================================
header                      required    value (UTF-8)
==========================  ==========  ====================================
``dirigent-id``             yes         message id (unique, deterministic for commands)
``dirigent-type``           yes         Avro full name, e.g. ``shop.orders.OrderPlaced``
``dirigent-source``         yes         the producing service
``dirigent-time``           yes         RFC 3339 UTC, milliseconds
``dirigent-correlation-id`` yes         the business conversation (often = saga id)
``dirigent-schema``         yes         ``fp:<16 hex>`` or ``id:<registry id>``
``dirigent-saga-id``        no          the saga this message belongs to
``dirigent-causation-id``   no          the message id that caused this one
``traceparent``             no          W3C trace context (ignored if malformed)
==========================  ==========  ====================================
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from dirigent.errors import EnvelopeError

__all__ = ["DEFAULT_LIMITS", "HEADERS", "Envelope", "EnvelopeLimits"]

_FIELDS = {  # header name -> Envelope attribute
    "dirigent-id": "message_id",
    "dirigent-type": "type",
    "dirigent-source": "source",
    "dirigent-time": "time",
    "dirigent-correlation-id": "correlation_id",
    "dirigent-schema": "schema_ref",
    "dirigent-saga-id": "saga_id",
    "dirigent-causation-id": "causation_id",
    "traceparent": "traceparent",
}
HEADERS = frozenset(_FIELDS)
_REQUIRED = (
    "dirigent-id",
    "dirigent-type",
    "dirigent-source",
    "dirigent-time",
    "dirigent-correlation-id",
    "dirigent-schema",
)
_SCHEMA_REF = re.compile(r"fp:[0-9a-f]{16}|id:[0-9]{1,10}")
_TRACEPARENT = re.compile(r"[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}")


@dataclass(frozen=True, kw_only=True)
class EnvelopeLimits:
    """Size bounds; a record over any of them is rejected (and dead-lettered upstream)."""

    max_header_value_bytes: int = 1024
    max_headers_bytes: int = 16 * 1024  # names + values of all headers, ours or not
    max_payload_bytes: int = 1024 * 1024

    def check_payload(self, payload: bytes | None) -> None:
        size = len(payload or b"")
        if size > self.max_payload_bytes:
            raise EnvelopeError(f"payload of {size} bytes exceeds {self.max_payload_bytes}")


DEFAULT_LIMITS = EnvelopeLimits()


@dataclass(frozen=True, kw_only=True)
class Envelope:
    """Metadata of one message.

    Example::

        env = Envelope.new(type=OrderPlaced.event_type, source="shop", schema_ref="fp:...")
        headers = env.to_headers()              # [("dirigent-id", b"..."), ...]
        assert Envelope.from_headers(headers) == env
        reply = command_env.reply(type="shop.inventory.StockReserved", source="inventory",
                                  schema_ref="fp:...")
    """

    message_id: str
    type: str
    source: str
    time: datetime
    correlation_id: str
    schema_ref: str
    saga_id: str | None = None
    causation_id: str | None = None
    traceparent: str | None = None

    @classmethod
    def new(
        cls,
        *,
        type: str,
        source: str,
        schema_ref: str,
        saga_id: str | None = None,
        correlation_id: str | None = None,
        causation_id: str | None = None,
        traceparent: str | None = None,
        message_id: str | None = None,
        time: datetime | None = None,
    ) -> Envelope:
        """A fresh envelope; ids default to new UUIDs, correlation to saga id or message id."""
        message_id = message_id or str(uuid.uuid4())
        return cls(
            message_id=message_id,
            type=type,
            source=source,
            time=_millis(time or datetime.now(UTC)),
            correlation_id=correlation_id or saga_id or message_id,
            schema_ref=schema_ref,
            saga_id=saga_id,
            causation_id=causation_id,
            traceparent=traceparent,
        )

    def reply(
        self,
        *,
        type: str,
        source: str,
        schema_ref: str,
        message_id: str | None = None,
        time: datetime | None = None,
        traceparent: str | None = None,
    ) -> Envelope:
        """The envelope of a reply (or any message caused by this one); it keeps this
        message's ``traceparent`` unless the replier's own span is given."""
        return replace(
            self,
            message_id=message_id or str(uuid.uuid4()),
            type=type,
            source=source,
            schema_ref=schema_ref,
            causation_id=self.message_id,
            time=_millis(time or datetime.now(UTC)),
            traceparent=traceparent or self.traceparent,
        )

    @property
    def record_key(self) -> bytes:
        """The Kafka record key: the saga id, else the correlation id."""
        return (self.saga_id or self.correlation_id).encode()

    def to_headers(self, limits: EnvelopeLimits = DEFAULT_LIMITS) -> list[tuple[str, bytes]]:
        """aiokafka-style headers; raises ``EnvelopeError`` if a bound is exceeded."""
        headers: list[tuple[str, bytes]] = []
        for name, attr in _FIELDS.items():
            value = getattr(self, attr)
            if value is None:
                continue
            text = _format_time(value) if attr == "time" else str(value)
            headers.append((name, text.encode()))
        _check_sizes(headers, limits)
        return headers

    @staticmethod
    def check_sizes(
        headers: Sequence[tuple[str, bytes | None]], limits: EnvelopeLimits = DEFAULT_LIMITS
    ) -> None:
        """``EnvelopeError`` naming the header over a bound, if any is."""
        _check_sizes(headers, limits)

    @classmethod
    def from_headers(
        cls,
        headers: Iterable[tuple[str, bytes | None]],
        limits: EnvelopeLimits = DEFAULT_LIMITS,
    ) -> Envelope:
        """Parse Kafka headers; ``EnvelopeError`` names the missing, bad or oversized one."""
        headers = list(headers)
        _check_sizes(headers, limits)
        values: dict[str, str] = {}
        for name, raw in headers:
            if name not in HEADERS:
                continue
            if name in values:
                raise EnvelopeError(f"header {name} appears twice")
            values[name] = _decode(name, raw)
        missing = [name for name in _REQUIRED if not values.get(name)]
        if missing:
            raise EnvelopeError(f"missing envelope header(s): {', '.join(missing)}")
        return cls(**_typed(values))


def _typed(values: dict[str, str]) -> dict[str, Any]:
    if not _SCHEMA_REF.fullmatch(values["dirigent-schema"]):
        raise EnvelopeError(f"bad header dirigent-schema: {values['dirigent-schema']!r}")
    trace = values.get("traceparent")
    if trace is not None and not _TRACEPARENT.fullmatch(trace):
        del values["traceparent"]  # W3C: a malformed traceparent starts a new trace
    out: dict[str, Any] = {_FIELDS[name]: value or None for name, value in values.items()}
    out["time"] = _parse_time(values["dirigent-time"])
    return out


def _decode(name: str, raw: bytes | None) -> str:
    if raw is None:
        raise EnvelopeError(f"header {name} has no value")
    try:
        return raw.decode()
    except UnicodeDecodeError as exc:
        raise EnvelopeError(f"header {name} is not UTF-8") from exc


def _check_sizes(headers: Sequence[tuple[str, bytes | None]], limits: EnvelopeLimits) -> None:
    total = 0
    for name, raw in headers:
        size = len(raw or b"")
        total += len(name) + size
        if name in HEADERS and size > limits.max_header_value_bytes:
            raise EnvelopeError(
                f"header {name} has {size} bytes, over {limits.max_header_value_bytes}"
            )
    if total > limits.max_headers_bytes:
        raise EnvelopeError(f"headers total {total} bytes, over {limits.max_headers_bytes}")


def _millis(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise EnvelopeError("envelope time must be timezone-aware")
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def envelope_time(moment: datetime) -> str:
    """``moment`` as the ``dirigent-time`` header writes it: RFC 3339 UTC, milliseconds."""
    return _format_time(_millis(moment))


def _format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _parse_time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise EnvelopeError(f"bad header dirigent-time: {text!r}") from exc
    if moment.tzinfo is None:
        raise EnvelopeError(f"bad header dirigent-time: {text!r} has no time zone")
    try:
        return moment.astimezone(UTC)
    except OverflowError as exc:  # e.g. 0001-01-01T00:00:00+01:00 is before year 1 in UTC
        raise EnvelopeError(f"bad header dirigent-time: {text!r} is out of range") from exc
