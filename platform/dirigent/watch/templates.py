"""Message templates: mask the variable parts of an error message (pure).

``uuid``, hex ids, IPs, numbers, quoted values and ``key=value`` values become
placeholders, so ``order 'A-17' declined after 3012 ms`` and ``order 'B-9' declined
after 15 ms`` share the template ``order <str> declined after <num> ms``.
"""

from __future__ import annotations

import re

__all__ = ["WILDCARD", "mask", "tokens"]

WILDCARD = "<*>"

_MASKS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"'[^']*'|\"[^\"]*\"|`[^`]*`"), "<str>"),
    (re.compile(r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"),
     "<uuid>"),
    (re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b"), "<ip>"),
    (re.compile(r"\b0x[0-9a-fA-F]+\b|\b(?=[0-9a-fA-F]*\d)(?=[0-9a-fA-F]*[a-fA-F])[0-9a-fA-F]{8,}\b"),
     "<hex>"),
    (re.compile(r"(?<==)[^\s,;)]+"), "<val>"),
    (re.compile(r"\b[A-Za-z]+[-_]?\d+[\w-]*\b"), "<id>"),  # ord-1234, user_42, A17
    (re.compile(r"[-+]?\b\d+(?:[.,]\d+)?(?:ms|s|%)?\b"), "<num>"),
)  # fmt: skip


def mask(message: str) -> str:
    """``message`` with its variable parts replaced by placeholders, on one line."""
    out = " ".join(message.split())
    for pattern, placeholder in _MASKS:
        out = pattern.sub(placeholder, out)
    return out


def tokens(message: str) -> tuple[str, ...]:
    """The masked message's words (what the template miner compares)."""
    return tuple(mask(message).split())
