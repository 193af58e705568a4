"""Redis key names of the coordinator's saga store; nothing else builds them.

Every key of one partition shares the hash tag ``{<namespace>:<partition>}``, so one
atomic call (Lua) touches one Redis Cluster slot. Partition = Kafka partition number of
the co-partitioned saga topics (key = saga id).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PartitionKeys"]


@dataclass(frozen=True, slots=True)
class PartitionKeys:
    """The keys of one (namespace, partition)."""

    namespace: str
    partition: int

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
