"""W3C trace context strings: ``00-<32 hex trace id>-<16 hex span id>-<2 hex flags>``.

Pure and dependency-free: the coordinator derives span ids from what the saga state
already holds (its root span, a step, a phase and an attempt), so a span that is
emitted days after its command was sent needs no id of its own in the state.
"""

from __future__ import annotations

import hashlib

__all__ = ["child", "derive", "format", "parse", "sampled"]


def derive(hex_digits: int, *parts: object) -> str:
    """A non-zero id of ``hex_digits`` (16 or 32) hex digits, the same for the same parts."""
    key = "\x1f".join(str(p) for p in parts).encode()
    digest = hashlib.blake2b(key, digest_size=hex_digits // 2).hexdigest()
    return digest if digest.strip("0") else "1".rjust(hex_digits, "0")


def format(trace_id: str, span_id: str, flags: str) -> str:
    return f"00-{trace_id}-{span_id}-{flags}"


def parse(traceparent: str) -> tuple[str, str, str]:
    """(trace id, span id, flags) of a traceparent the envelope has validated."""
    return traceparent[3:35], traceparent[36:52], traceparent[53:55]


def child(traceparent: str, span_id: str) -> str:
    """The same trace and flags, with span ``span_id``."""
    return f"{traceparent[:36]}{span_id}{traceparent[52:]}"


def sampled(traceparent: str) -> bool:
    return bool(int(traceparent[53:55], 16) & 1)
