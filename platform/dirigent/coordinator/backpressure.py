"""Backpressure: stop taking new sagas while too many run or too many commands wait.

Only partitions of topics that carried start events are held; replies keep flowing so
running sagas can finish and bring the count down. Releasing waits until both figures
are back under 90% of their bounds, so the consumer does not flap. The runtime applies
the result together with ownership (one place decides what is paused).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dirigent.transport.consumer import TopicPartition

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

    def update(self, in_flight: int, outbox: int) -> bool | None:
        """Turn on or off; returns the new state when it changed."""
        if not self.paused and self.over(in_flight, outbox):
            self.paused = True
            return True
        if self.paused and self.under(in_flight, outbox):
            self.paused = False
            return False
        return None

    def held(self, assigned: set[TopicPartition]) -> set[TopicPartition]:
        """The assigned partitions to hold now (those of start topics, while on)."""
        if not self.paused:
            return set()
        return {tp for tp in assigned if tp.topic in self.start_topics}
