"""What a handler learns about the message besides the event itself."""

from __future__ import annotations

from dataclasses import dataclass

from dirigent.events.envelope import Envelope

__all__ = ["HandlerContext"]


@dataclass(frozen=True, slots=True)
class HandlerContext:
    """The incoming message's envelope and position, and the attempt number.

    ``idempotency_key`` (= the command's message id) is the same on every delivery and
    every attempt: pass it to your own side effects (a payment API's idempotency key, a
    unique column) so that a handler run twice after a crash still acts once.
    """

    envelope: Envelope
    topic: str
    partition: int
    offset: int
    attempt: int

    @property
    def idempotency_key(self) -> str:
        return self.envelope.message_id

    @property
    def saga_id(self) -> str | None:
        return self.envelope.saga_id
