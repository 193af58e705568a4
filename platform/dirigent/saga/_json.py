"""Saga state JSON: orjson on the hot path, the standard library where orjson differs.

orjson is 10-20x faster than ``json`` here (docs/performance.md) but differs in three
places, each sent to the standard library so that stored bytes mean what they did:

- ``NaN`` and infinities: orjson writes ``null``; ``json`` writes ``NaN`` / ``Infinity``,
  which both readers below accept, so the value survives the round trip;
- keys that are not strings and integers beyond 64 bits: orjson's writer refuses them;
- reading: orjson refuses ``NaN`` and reads integers of 19 digits or more as floats, so a
  document with such a run of digits is read by ``json`` (floats never print one).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import orjson

__all__ = ["dumps", "loads"]

_LONG_DIGITS = re.compile(rb"\d{19}")


def dumps(doc: dict[str, Any], *untrusted: Any) -> bytes:
    """Compact JSON of ``doc``; ``untrusted`` are the parts of it user code filled."""
    if not any(_non_finite(part) for part in untrusted):
        try:
            return orjson.dumps(doc)
        except orjson.JSONEncodeError:
            pass
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()


def loads(raw: bytes | str) -> Any:
    """Parse ``raw`` exactly as ``json.loads`` would."""
    if isinstance(raw, str):
        raw = raw.encode()
    if _LONG_DIGITS.search(raw) is None:
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
    return json.loads(raw)


def _non_finite(value: Any) -> bool:
    """Whether a float that is not finite sits anywhere in ``value``."""
    kind = type(value)
    if kind is float:
        return not math.isfinite(value)
    if kind is dict:
        return any(_non_finite(v) for v in value.values())
    if kind is list or kind is tuple:
        return any(_non_finite(v) for v in value)
    return False
