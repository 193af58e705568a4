"""Idempotency: a handled message's replies, stored by message id with a TTL.

A duplicate delivery finds the stored replies and re-sends them byte for byte instead
of running the handler again. The first writer wins (``SET NX``), so two racing
deliveries of one message publish the same bytes.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from dirigent.observability import get_logger
from dirigent.store import keys
from dirigent.store._errors import map_redis_errors
from dirigent.store.client import RedisClient
from dirigent.transport.producer import OutgoingRecord

__all__ = ["IdempotencySettings", "IdempotencyStore", "decode_replies", "encode_replies"]

_DAY_S = 24 * 3600
log = get_logger(__name__)


class IdempotencySettings(BaseSettings):
    """How long replies are kept (env prefix ``DIRIGENT_IDEMPOTENCY_``).

    ``ttl_s`` must cover a dead letter's whole life: a record replayed from the DLT on
    its last retained day must still be recognised, so ``ttl_s`` should be at least
    ``dlt_retention_s + replay_window_s``.
    """

    model_config = SettingsConfigDict(
        env_prefix="DIRIGENT_IDEMPOTENCY_", frozen=True, extra="ignore"
    )

    ttl_s: int = Field(default=8 * _DAY_S, gt=0)
    dlt_retention_s: int = 7 * _DAY_S
    replay_window_s: int = 1 * _DAY_S


class IdempotencyStore:
    """Stored replies per message id, for one namespace (the consumer group).

    Example::

        store = IdempotencyStore(redis, namespace="inventory")
        if (replies := await store.get(message_id)) is None:
            replies = await store.put(message_id, handle(...))  # the winner's replies
    """

    def __init__(
        self, redis: RedisClient, *, namespace: str, settings: IdempotencySettings | None = None
    ) -> None:
        self.redis = redis
        self.namespace = namespace
        self.settings = settings or IdempotencySettings()
        floor = self.settings.dlt_retention_s + self.settings.replay_window_s
        if self.settings.ttl_s < floor:
            log.warning(
                "idempotency TTL shorter than DLT retention + replay window: a replayed "
                "dead letter may run its handler twice",
                ttl_s=self.settings.ttl_s,
                recommended_min_s=floor,
            )

    async def get(self, message_id: str) -> list[OutgoingRecord] | None:
        """The stored replies, or None if ``message_id`` was not handled (or expired)."""
        with map_redis_errors(f"idempotency lookup of {message_id} failed"):
            raw = await self.redis.get(keys.idempotency(self.namespace, message_id))
        return None if raw is None else decode_replies(raw)

    async def put(self, message_id: str, replies: Sequence[OutgoingRecord]) -> list[OutgoingRecord]:
        """Store ``replies`` unless some are stored already; return the ones that count."""
        key = keys.idempotency(self.namespace, message_id)
        with map_redis_errors(f"storing the reply to {message_id} failed"):
            previous = await self.redis.set(
                key, encode_replies(replies), nx=True, get=True, ex=self.settings.ttl_s
            )
        if isinstance(previous, bytes | str):
            return decode_replies(previous)
        return list(replies)


def encode_replies(replies: Sequence[OutgoingRecord]) -> bytes:
    doc = [
        {
            "t": r.topic,
            "k": _b64(r.key),
            "v": _b64(r.value),
            "h": [[name, _b64(value)] for name, value in r.headers],
        }
        for r in replies
    ]
    return json.dumps(doc, separators=(",", ":")).encode()


def decode_replies(raw: bytes | str) -> list[OutgoingRecord]:
    doc: list[dict[str, Any]] = json.loads(raw)
    return [
        OutgoingRecord(
            topic=d["t"],
            key=_unb64(d["k"]),
            value=_unb64(d["v"]),
            headers=tuple((name, _unb64(value) or b"") for name, value in d["h"]),
        )
        for d in doc
    ]


def _b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode()


def _unb64(text: str | None) -> bytes | None:
    return None if text is None else base64.b64decode(text)
