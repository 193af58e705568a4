"""A consumer-group member for the coordinator: co-partitioned topics, rebalance hooks,
pause/resume, lag.

Topics that one saga reads share a partition count and key = saga id, so partition
``p`` of every topic must land on the same member: the range assignor does that.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.coordinator.assignors.range import RangePartitionAssignor

from dirigent.transport._errors import map_kafka_errors
from dirigent.transport.consumer import BatchConsumer, ConsumerSettings
from dirigent.transport.security import Bootstrap

__all__ = ["GroupConsumer", "RebalanceHook"]

RebalanceHook = Callable[[set[TopicPartition]], Awaitable[None]]


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, on_assigned: RebalanceHook, on_revoked: RebalanceHook) -> None:
        self._assigned, self._revoked = on_assigned, on_revoked

    async def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        await self._revoked(set(revoked))

    async def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        await self._assigned(set(assigned))


class GroupConsumer(BatchConsumer):
    """A ``BatchConsumer`` whose hooks run on every rebalance (awaited by aiokafka).

    Example::

        consumer = GroupConsumer(bootstrap, ["orders.events"], group_id="coord",
                                 on_assigned=acquire, on_revoked=release)
        await consumer.start()
        batch = await consumer.getmany(100)
        await consumer.commit({tp: next_offset})
    """

    def __init__(
        self,
        bootstrap: Bootstrap,
        topics: Sequence[str],
        *,
        group_id: str,
        on_assigned: RebalanceHook,
        on_revoked: RebalanceHook,
        settings: ConsumerSettings | None = None,
    ) -> None:
        super().__init__(bootstrap, topics, group_id=group_id, settings=settings)
        self._listener = _Listener(on_assigned, on_revoked)

    def _options(self) -> dict[str, Any]:
        return {
            **super()._options(),
            "isolation_level": "read_committed",
            "partition_assignment_strategy": (RangePartitionAssignor,),
        }

    def _build(self) -> Any:
        return AIOKafkaConsumer(**self._options())

    def _subscribe(self) -> None:
        self._consumer.subscribe(self.topics, listener=self._listener)

    def assignment(self) -> set[TopicPartition]:
        """The partitions assigned to this member now (empty before start)."""
        if self._consumer is None:
            return set()
        with map_kafka_errors(f"assignment of group {self.group_id}"):
            return set(self._consumer.assignment())

    def pause(self, partitions: Iterable[TopicPartition]) -> None:
        """Stop fetching ``partitions`` until ``resume``."""
        with map_kafka_errors(f"pause in group {self.group_id}"):
            self._consumer.pause(*partitions)

    def resume(self, partitions: Iterable[TopicPartition]) -> None:
        """Fetch ``partitions`` again."""
        with map_kafka_errors(f"resume in group {self.group_id}"):
            self._consumer.resume(*partitions)

    def paused(self) -> set[TopicPartition]:
        """The partitions paused now."""
        with map_kafka_errors(f"paused partitions of group {self.group_id}"):
            return set(self._consumer.paused())

    async def lag(self) -> dict[TopicPartition, int]:
        """Records not yet consumed per assigned partition (highwater - position)."""
        out: dict[TopicPartition, int] = {}
        for tp in self.assignment():
            with map_kafka_errors(f"lag of {tp.topic}[{tp.partition}]"):
                high = self._consumer.highwater(tp)
                if high is not None:
                    out[tp] = max(0, high - await self._consumer.position(tp))
        return out

    async def behind(self) -> set[int]:
        """Partition numbers with records not read yet (or not fetched at all yet)."""
        out: set[int] = set()
        for tp in self.assignment() - self.paused():  # a paused one is not read anyway
            with map_kafka_errors(f"position of {tp.topic}[{tp.partition}]"):
                high = self._consumer.highwater(tp)
                if high is None or high > await self._consumer.position(tp):
                    out.add(tp.partition)
        return out
