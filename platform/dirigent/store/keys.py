"""Every Redis key dirigent uses, built here and nowhere else.

Keys carry a ``{hash tag}`` so that each atomic call touches exactly one Redis Cluster
slot. The tag is the narrowest id a call needs: the message id for a participant's
idempotency record; the (namespace, partition) for the coordinator's saga store, whose
one Lua call per input touches fence, saga, outbox, timers, index and watermark together.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ROOT", "PartitionKeys", "idempotency"]

ROOT = "dirigent"


def idempotency(namespace: str, message_id: str) -> str:
    """The stored reply of ``message_id`` as handled by ``namespace`` (a consumer group).

    Example::

        idempotency("inventory", "5f1c...")  # "dirigent:idem:inventory:{5f1c...}"
    """
    _check_part("namespace", namespace)
    _check_part("message id", message_id)
    return f"{ROOT}:idem:{namespace}:{{{message_id}}}"


def _check_part(what: str, value: str) -> None:
    # A brace would move the hash tag; an empty part would merge key spaces.
    if not value or "{" in value or "}" in value:
        raise ValueError(f"{what} {value!r} cannot be part of a Redis key")


@dataclass(frozen=True, slots=True)
class PartitionKeys:
    """The keys of one (namespace, partition)."""

    namespace: str
    partition: int

    def __post_init__(self) -> None:
        _check_part("namespace", self.namespace)

    @property
    def tag(self) -> str:
        return f"{{dg:{self.namespace}:{self.partition}}}"

    @property
    def fence(self) -> str:
        return f"{self.tag}:fence"

    @property
    def outbox(self) -> str:
        return f"{self.tag}:outbox"

    @property
    def timers(self) -> str:
        return f"{self.tag}:timers"

    @property
    def timer_docs(self) -> str:
        return f"{self.tag}:timer"

    @property
    def watermark(self) -> str:
        return f"{self.tag}:wm"

    def seen(self, message_id: str) -> str:
        return f"{self.tag}:seen:{message_id}"

    def saga(self, saga_id: str) -> str:
        return f"{self.tag}:saga:{saga_id}"

    def status(self, status: str) -> str:
        return f"{self.tag}:status:{status}"

    @property
    def saga_prefix(self) -> str:
        return f"{self.tag}:saga:"
