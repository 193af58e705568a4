from aiokafka import TopicPartition

from dirigent.coordinator.backpressure import Backpressure

START = TopicPartition("orders.events", 0)
REPLY = TopicPartition("payments.events", 0)


def test_holds_only_start_topics_when_over_and_releases_below_ninety_percent() -> None:
    bp = Backpressure(max_in_flight=100, max_outbox=1000, start_topics={"orders.events"})
    assigned = {START, REPLY}
    assert bp.held(assigned) == set()
    assert bp.update(in_flight=101, outbox=0) is True
    assert bp.held(assigned) == {START}  # replies keep flowing so sagas can finish
    assert bp.update(in_flight=95, outbox=0) is None  # no flapping between 90% and 100%
    assert bp.held(assigned) == {START}
    assert bp.update(in_flight=89, outbox=0) is False
    assert bp.held(assigned) == set()


def test_outbox_backlog_also_holds() -> None:
    bp = Backpressure(max_in_flight=100, max_outbox=10, start_topics={"orders.events"})
    assert bp.update(in_flight=0, outbox=11) is True
    assert bp.held({START}) == {START}
    assert bp.update(in_flight=0, outbox=9) is None  # 9 is not under 90% of 10
    assert bp.update(in_flight=0, outbox=8) is False


def test_partitions_assigned_while_on_are_held_too() -> None:
    bp = Backpressure(max_in_flight=1, max_outbox=10, start_topics={"orders.events"})
    bp.update(in_flight=5, outbox=0)
    later = TopicPartition("orders.events", 3)
    assert bp.held({START, later, REPLY}) == {START, later}
