"""Committed offsets and log ends of consumer groups: their lag and arrival counts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient

from dirigent.transport._errors import map_kafka_errors
from dirigent.transport.security import Bootstrap, kafka_options

__all__ = ["GroupLag", "LagProbe"]


@dataclass(frozen=True, slots=True)
class GroupLag:
    """``lag``: records not yet committed by ``group``; ``end``: sum of its log ends."""

    group: str
    lag: int
    end: int


class LagProbe:
    """``async with LagProbe(bootstrap) as p: await p.sample(["inventory"])``."""

    def __init__(self, bootstrap: Bootstrap) -> None:
        self.bootstrap = bootstrap
        self._admin: Any = None
        self._consumer: Any = None

    async def __aenter__(self) -> Self:
        with map_kafka_errors(f"lag probe on {self.bootstrap}"):
            self._admin = AIOKafkaAdminClient(**kafka_options(self.bootstrap))
            await self._admin.start()
            self._consumer = AIOKafkaConsumer(**kafka_options(self.bootstrap))
            await self._consumer.start()
        return self

    async def __aexit__(self, et: type[BaseException] | None, e: BaseException | None,
                        tb: TracebackType | None) -> None:  # fmt: skip
        with map_kafka_errors(f"closing the lag probe on {self.bootstrap}"):
            if self._consumer is not None:
                await self._consumer.stop()
            if self._admin is not None:
                await self._admin.close()

    async def sample(self, groups: Sequence[str]) -> list[GroupLag]:
        """One ``GroupLag`` per group that has committed offsets."""
        out: list[GroupLag] = []
        for g in groups:
            with map_kafka_errors(f"offsets of group {g}"):
                committed = await self._admin.list_consumer_group_offsets(g)
                if not committed:
                    continue
                ends = await self._consumer.end_offsets(list(committed))
            lag = sum(max(0, ends[tp] - max(om.offset, 0)) for tp, om in committed.items())
            out.append(GroupLag(g, lag, sum(ends.values())))
        return out
