"""Deterministic ids and jitter: the same saga, step, phase and attempt give the same values."""

from __future__ import annotations

import hashlib
import uuid

__all__ = [
    "DEADLINE_TIMER_SUFFIX",
    "command_id",
    "deadline_timer_id",
    "jitter_fraction",
    "timer_id",
]

# A fixed namespace: command ids must not change between releases.
_NAMESPACE = uuid.UUID("6f2f3c1e-4a5b-5d7e-9c1a-2b3c4d5e6f70")
# How every saga deadline's timer id ends (the coordinator counts them in the store).
DEADLINE_TIMER_SUFFIX = "::saga_deadline"


def command_id(saga_id: str, step: str, phase: str, attempt: int) -> str:
    """A UUIDv5 of the saga, step, phase and attempt."""
    return str(uuid.uuid5(_NAMESPACE, f"{saga_id}\x1f{step}\x1f{phase}\x1f{attempt}"))


def timer_id(saga_id: str, step: str, phase: str, kind: str, attempt: int) -> str:
    return f"{saga_id}:{step}:{phase}:{kind}:{attempt}"


def deadline_timer_id(saga_id: str) -> str:
    return saga_id + DEADLINE_TIMER_SUFFIX


def jitter_fraction(saga_id: str, step: str, phase: str, attempt: int) -> float:
    """A fraction in ``[0, 1)`` that looks random across sagas but never changes."""
    key = f"{saga_id}\x1f{step}\x1f{phase}\x1f{attempt}".encode()
    digest = hashlib.blake2b(key, digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0**64
