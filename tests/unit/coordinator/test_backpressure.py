from aiokafka import TopicPartition

from dirigent.coordinator.backpressure import Backpressure


class Consumer:
    """Just the pause/resume surface of GroupConsumer (pure logic under test)."""

    def __init__(self, assigned: set[TopicPartition]) -> None:
        self._assigned, self._paused = assigned, set()

    def assignment(self) -> set[TopicPartition]:
        return set(self._assigned)

    def pause(self, tps: list[TopicPartition]) -> None:
        self._paused |= set(tps)

    def resume(self, tps: set[TopicPartition]) -> None:
        self._paused -= set(tps)

    def paused(self) -> set[TopicPartition]:
        return set(self._paused)


START = TopicPartition("orders.events", 0)
REPLY = TopicPartition("payments.events", 0)


def test_pauses_only_start_topics_when_over_and_resumes_below_ninety_percent() -> None:
    consumer = Consumer({START, REPLY})
    bp = Backpressure(max_in_flight=100, max_outbox=1000, start_topics={"orders.events"})
    assert bp.apply(consumer, in_flight=101, outbox=0) is True  # type: ignore[arg-type]
    assert consumer.paused() == {START}
    assert bp.apply(consumer, in_flight=95, outbox=0) is None  # type: ignore[arg-type]
    assert consumer.paused() == {START}
    assert bp.apply(consumer, in_flight=89, outbox=0) is False  # type: ignore[arg-type]
    assert consumer.paused() == set()


def test_outbox_backlog_also_pauses() -> None:
    consumer = Consumer({START})
    bp = Backpressure(max_in_flight=100, max_outbox=10, start_topics={"orders.events"})
    assert bp.apply(consumer, in_flight=0, outbox=11) is True  # type: ignore[arg-type]
