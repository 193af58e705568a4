"""A consumer-group member for the coordinator: co-partitioned topics, rebalance hooks,
pause/resume, manual commits.

Topics that one saga reads share a partition count and key = saga id, so partition
``p`` of every topic must land on the same member: the range assignor does that.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRebalanceListener, TopicPartition
from aiokafka.coordinator.assignors.range import RangePartitionAssignor
from aiokafka.errors import KafkaError

from dirigent.errors import TransportError
from dirigent.transport._lifecycle import Lifecycle
from dirigent.transport.consumer import ConsumerSettings, InboundRecord, _inbound

__all__ = ["GroupConsumer", "RebalanceHook"]

RebalanceHook = Callable[[set[TopicPartition]], Awaitable[None]]


class _Listener(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, on_assigned: RebalanceHook, on_revoked: RebalanceHook) -> None:
        self._assigned, self._revoked = on_assigned, on_revoked

    async def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        await self._revoked(set(revoked))

    async def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        await self._assigned(set(assigned))


class GroupConsumer:
    """``getmany`` batches with hooks called on every rebalance (awaited by aiokafka).

    Example::

        consumer = GroupConsumer(bootstrap, ["orders.events"], group_id="coord",
                                 on_assigned=acquire, on_revoked=release)
        await consumer.start()
        batch = await consumer.getmany()
        await consumer.commit({tp: next_offset})
    """

    def __init__(
        self,
        bootstrap: str,
        topics: Sequence[str],
        *,
        group_id: str,
        on_assigned: RebalanceHook,
        on_revoked: RebalanceHook,
        settings: ConsumerSettings | None = None,
    ) -> None:
        self.bootstrap, self.topics, self.group_id = bootstrap, list(topics), group_id
        self.settings = settings or ConsumerSettings()
        self._listener = _Listener(on_assigned, on_revoked)
        self._life = Lifecycle(f"coordinator consumer {group_id}")
        self._consumer: Any = None

    async def start(self) -> None:
        if not self._life.opening():
            return
        s = self.settings
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=self.group_id,
            client_id=s.client_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            max_poll_records=s.max_poll_records,
            max_partition_fetch_bytes=s.max_partition_fetch_bytes,
            session_timeout_ms=s.session_timeout_ms,
            heartbeat_interval_ms=s.heartbeat_interval_ms,
            max_poll_interval_ms=s.max_poll_interval_ms,
            partition_assignment_strategy=(RangePartitionAssignor,),
        )
        try:
            await self._consumer.start()
            self._consumer.subscribe(self.topics, listener=self._listener)
        except KafkaError as exc:
            await self._consumer.stop()
            self._life.closing()
            raise TransportError(f"cannot start consumer {self.group_id}: {exc}") from exc
        self._life.opened()

    async def close(self) -> None:
        """Leave the group (revoke hooks run); safe twice."""
        if self._life.closing():
            await self._consumer.stop()

    async def getmany(self, timeout_ms: int) -> dict[TopicPartition, list[InboundRecord]]:
        self._life.check_open()
        try:
            raw = await self._consumer.getmany(
                timeout_ms=timeout_ms, max_records=self.settings.max_poll_records
            )
        except KafkaError as exc:
            raise TransportError(f"fetch failed for group {self.group_id}: {exc!r}") from exc
        return {tp: [_inbound(m) for m in msgs] for tp, msgs in raw.items() if msgs}

    async def commit(self, offsets: Mapping[TopicPartition, int]) -> None:
        """Commit next-offsets; only offsets whose outcome is durable may be passed."""
        self._life.check_open()
        if offsets:
            try:
                await self._consumer.commit(dict(offsets))
            except KafkaError as exc:
                raise TransportError(f"commit failed for {self.group_id}: {exc!r}") from exc

    def assignment(self) -> set[TopicPartition]:
        return set(self._consumer.assignment()) if self._consumer is not None else set()

    def pause(self, partitions: Iterable[TopicPartition]) -> None:
        self._consumer.pause(*partitions)

    def resume(self, partitions: Iterable[TopicPartition]) -> None:
        self._consumer.resume(*partitions)

    def paused(self) -> set[TopicPartition]:
        return set(self._consumer.paused())

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self._consumer.seek(tp, offset)

    async def lag(self) -> dict[TopicPartition, int]:
        """Records not yet consumed per assigned partition (highwater - position)."""
        out: dict[TopicPartition, int] = {}
        for tp in self.assignment():
            high = self._consumer.highwater(tp)
            if high is not None:
                out[tp] = max(0, high - await self._consumer.position(tp))
        return out
