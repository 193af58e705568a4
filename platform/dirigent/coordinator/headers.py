"""Envelope headers for the coordinator's own records, built from precomputed bytes.

``Envelope.to_headers`` formats every field of every record (a datetime, ``str()`` and
``encode()`` per header, then a size check). The coordinator writes thousands of
records a second of a handful of (type, schema) pairs, all stamped with the decision
time of their batch: the constant headers are encoded once per type, the time once per
distinct decision time. The result is exactly what ``Envelope.new(...).to_headers()``
gives (a test holds them equal).
"""

from __future__ import annotations

from datetime import UTC, datetime

from dirigent.errors import EnvelopeError
from dirigent.events import DEFAULT_LIMITS, Envelope, EnvelopeLimits
from dirigent.events.envelope import envelope_time

__all__ = ["HeaderMaker"]

Headers = tuple[tuple[str, bytes], ...]


class HeaderMaker:
    """Headers of records from one ``source`` (the coordinator id)."""

    def __init__(self, source: str, limits: EnvelopeLimits = DEFAULT_LIMITS) -> None:
        self.source = source.encode()
        self.limits = limits
        self._constants: dict[tuple[str, str], tuple[bytes, bytes]] = {}
        self._time_at: float | None = None
        self._time = b""

    def make(
        self,
        *,
        type: str,
        schema_ref: str,
        message_id: str,
        saga_id: str | None,
        at: float,
        causation_id: str | None = None,
        correlation_id: str | None = None,
        traceparent: str | None = None,
    ) -> Headers:
        """The headers of ``Envelope.new(...)`` with ``time`` = ``at`` (epoch seconds)."""
        constants = self._constants.get((type, schema_ref))
        if constants is None:
            constants = self._constants[(type, schema_ref)] = (type.encode(), schema_ref.encode())
        if at != self._time_at:
            self._time_at, self._time = at, _time_bytes(at)
        mid = message_id.encode()
        sid = saga_id.encode() if saga_id is not None else None
        corr = correlation_id.encode() if correlation_id is not None else sid or mid
        headers: tuple[tuple[str, bytes], ...] = (
            ("dirigent-id", mid), ("dirigent-type", constants[0]),
            ("dirigent-source", self.source), ("dirigent-time", self._time),
            ("dirigent-correlation-id", corr), ("dirigent-schema", constants[1]),
        )  # fmt: skip
        if sid is not None:
            headers += (("dirigent-saga-id", sid),)
        if causation_id is not None:
            headers += (("dirigent-causation-id", causation_id.encode()),)
        if traceparent is not None:
            headers += (("traceparent", traceparent.encode()),)
        self._check(headers)
        return headers

    def _check(self, headers: Headers) -> None:
        longest = max(len(v) for _, v in headers)
        total = sum(len(n) + len(v) for n, v in headers)
        if longest > self.limits.max_header_value_bytes or total > self.limits.max_headers_bytes:
            Envelope.check_sizes(headers, self.limits)  # raises, naming the header
            raise EnvelopeError(f"headers of {total} bytes are over the limits")


def _time_bytes(at: float) -> bytes:
    return envelope_time(datetime.fromtimestamp(at, UTC)).encode()
