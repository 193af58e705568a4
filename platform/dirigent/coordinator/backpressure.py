"""Backpressure: stop taking new sagas while too many run or too many commands wait.

Only partitions of topics that carried start events are paused; replies keep flowing so
running sagas can finish and bring the count down. Resuming waits until both figures
are back under 90% of their bounds, so the consumer does not flap.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dirigent.transport.consumer import TopicPartition
from dirigent.transport.group import GroupConsumer

__all__ = ["Backpressure"]

_RESUME_AT = 0.9


@dataclass
class Backpressure:
    max_in_flight: int
    max_outbox: int
    start_topics: set[str] = field(default_factory=set)
    paused: bool = False

    def over(self, in_flight: int, outbox: int) -> bool:
        return in_flight > self.max_in_flight or outbox > self.max_outbox

    def under(self, in_flight: int, outbox: int) -> bool:
        return in_flight < self.max_in_flight * _RESUME_AT and outbox < self.max_outbox * _RESUME_AT

    def apply(self, consumer: GroupConsumer, in_flight: int, outbox: int) -> bool | None:
        """Pause or resume start partitions; returns the new state when it changed."""
        if not self.paused and self.over(in_flight, outbox):
            consumer.pause(self._start_partitions(consumer))
            self.paused = True
            return True
        if self.paused and self.under(in_flight, outbox):
            consumer.resume(consumer.paused())
            self.paused = False
            return False
        if self.paused:  # partitions assigned since the pause must wait too
            consumer.pause(self._start_partitions(consumer))
        return None

    def _start_partitions(self, consumer: GroupConsumer) -> list[TopicPartition]:
        return [tp for tp in consumer.assignment() if tp.topic in self.start_topics]
