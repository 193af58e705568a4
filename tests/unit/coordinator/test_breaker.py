from dirigent.coordinator import Breaker, Breakers, BreakerState


def test_opens_when_timeouts_reach_threshold_and_half_the_outcomes() -> None:
    b = Breaker(threshold=3, reset_s=10, window_s=30)
    for t in range(2):
        b.failure(now=t)
    assert b.state(2) is BreakerState.CLOSED
    b.failure(now=2)
    assert b.state(3) is BreakerState.OPEN
    assert not b.may_send(now=3)


def test_sporadic_timeouts_among_many_replies_do_not_open_it() -> None:
    b = Breaker(threshold=3, reset_s=10, window_s=30)
    for t in range(20):
        b.success(now=t)
    for t in range(20, 25):  # a burst of 5 timeouts in one scan, 20 good replies before
        b.failure(now=t)
    assert b.state(25) is BreakerState.CLOSED


def test_old_outcomes_leave_the_window() -> None:
    b = Breaker(threshold=2, reset_s=10, window_s=5)
    b.failure(0)
    b.failure(10)
    assert b.state(10) is BreakerState.CLOSED  # the first timeout is out of the window


def test_half_open_lets_exactly_one_probe_through() -> None:
    b = Breaker(threshold=1, reset_s=5)
    b.failure(0)
    assert b.state(5) is BreakerState.HALF_OPEN
    assert b.may_send(5)
    assert not b.may_send(5)


def test_probe_timeout_reopens_and_probe_reply_closes() -> None:
    b = Breaker(threshold=1, reset_s=5)
    b.failure(0)
    b.may_send(5)
    b.failure(6)
    assert b.state(7) is BreakerState.OPEN
    b.may_send(11)
    b.success(11)
    assert b.state(11) is BreakerState.CLOSED
    assert b.may_send(11)


def test_breakers_are_per_participant() -> None:
    breakers = Breakers(threshold=1, reset_s=5)
    breakers["payments"].failure(0)
    assert breakers.states(1) == {"payments": BreakerState.OPEN}
    assert breakers["inventory"].may_send(1)
