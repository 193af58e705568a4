"""A step timeout measures a participant's silence, so it is held while its command has
not left the outbox (a breaker holds it, the broker refused it), for at most the
relay's ``hold_s``; the relay, the timer scanner and the breakers against the in-memory
store."""

from __future__ import annotations

from dirigent.coordinator import Topology
from dirigent.coordinator.assembly import command_participants
from dirigent.coordinator.breaker import Breakers, BreakerState
from dirigent.coordinator.participants import ParticipantHealth
from dirigent.coordinator.partition import OwnedPartition
from dirigent.coordinator.relay import OutboxRelay
from dirigent.coordinator.timers import TimerScanner
from dirigent.saga import Timer, TimerKind
from dirigent.saga.decision import Phase
from dirigent.store import MemorySagaStore, OutboxRecord, Write
from sagas.order_fulfilment import build_order_fulfilment
from tests.unit.coordinator.test_relay import Owners, Producer

SAGA = build_order_fulfilment(prefix="t-")
TOPOLOGY = Topology.of([SAGA])
TOPIC = "t-payments.commands"
PARTICIPANT = command_participants(TOPOLOGY)[TOPIC]


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def timeout_timer(saga_id: str, attempt: int, due: float) -> Timer:
    step = "authorize_payment"
    tid = f"{saga_id}:{step}:forward:step_timeout:{attempt}"
    return Timer(tid, saga_id, SAGA.name, TimerKind.STEP_TIMEOUT, due, step, Phase.FORWARD, attempt)


async def setup(
    clock: Clock, sagas: list[str], *, open_breaker: bool
) -> tuple[MemorySagaStore, OwnedPartition, OutboxRelay, TimerScanner, ParticipantHealth, Producer]:
    store, producer = MemorySagaStore(), Producer()
    token = await store.acquire(0)
    for saga_id in sagas:
        timer = timeout_timer(saga_id, 1, clock.now + 5.0)
        cmd = OutboxRecord(TOPIC, saga_id.encode(), b"authorize", rearm=(timer.timer_id, 5.0))
        write = Write(f"m-{saga_id}", saga_id, new_version=1, state_json=b"{}",
                      new_status="RUNNING", outbox=[cmd],
                      timers=[(timer.timer_id, timer.due_at, timer.to_json())])  # fmt: skip
        await store.apply(0, token, [write])
    health = ParticipantHealth(Breakers(threshold=1, reset_s=1000.0, window_s=1000.0))
    if open_breaker:
        health.timed_out(PARTICIPANT, clock.now)
    relay = OutboxRelay(store, producer, health, {TOPIC: PARTICIPANT}, clock=clock, hold_s=60.0)  # type: ignore[arg-type]
    relay.owners = Owners(token)
    relay.recover({0})  # the entries were written above, not offered: read them back
    scanner = TimerScanner(store, TOPOLOGY, health, clock, unsent=relay)
    return store, OwnedPartition(0, token), relay, scanner, health, producer


async def test_a_held_commands_timeout_waits_and_does_not_count_against_the_breaker() -> None:
    clock = Clock(1000.0)
    store, owner, relay, scanner, health, producer = await setup(clock, ["s1"], open_breaker=True)
    await relay.flush(0)
    assert producer.sent == []  # held by the open breaker
    failures = health.breakers[PARTICIPANT].failures
    clock.now = 1010.0  # past the 5 s timeout, within the 60 s hold
    assert await scanner.due(owner) == []
    assert health.breakers[PARTICIPANT].failures == failures  # nothing was sent: no silence
    assert await store.due_timers(0, 1059.0) == []  # postponed to the end of the hold
    assert len(await store.due_timers(0, 1060.0)) == 1


async def test_a_held_command_once_sent_gets_its_full_timeout_from_the_ack() -> None:
    clock = Clock(1000.0)
    store, owner, relay, scanner, health, producer = await setup(clock, ["s1"], open_breaker=True)
    await relay.flush(0)
    clock.now = 1010.0
    assert await scanner.due(owner) == []
    health.replied(PARTICIPANT, clock.now)  # a late reply closes the breaker
    clock.now = 1020.0
    await relay.flush(0)
    assert [r.value for r in producer.sent] == [b"authorize"]
    assert relay.hold_until(0, timeout_timer("s1", 1, 0).timer_id) is None
    assert await store.due_timers(0, 1024.9) == []  # acked at 1020 + 5 s
    clock.now = 1025.0
    fired = await scanner.due(owner)
    assert [r.saga_id for r in fired] == ["s1"]
    assert health.breakers[PARTICIPANT].failures == 1  # a sent command's silence counts


async def test_the_hold_ends_so_a_saga_whose_participant_stays_away_still_ends() -> None:
    clock = Clock(1000.0)
    _store, owner, relay, scanner, health, _ = await setup(clock, ["s1"], open_breaker=True)
    await relay.flush(0)
    clock.now = 1061.0  # still held, for longer than hold_s
    await relay.flush(0)
    assert relay.hold_until(0, timeout_timer("s1", 1, 0).timer_id) == 1060.0
    fired = await scanner.due(owner)
    assert [r.saga_id for r in fired] == ["s1"]
    assert health.breakers[PARTICIPANT].state(clock.now) is BreakerState.OPEN
    assert health.breakers[PARTICIPANT].failures == 1  # the unsent one is not counted


async def test_the_next_attempt_of_a_held_step_does_not_start_a_new_hold() -> None:
    clock = Clock(1000.0)
    store, _, relay, _, _, _ = await setup(clock, ["s1"], open_breaker=True)
    await relay.flush(0)
    clock.now = 1061.0
    second = timeout_timer("s1", 2, clock.now + 5.0)
    cmd = OutboxRecord(TOPIC, b"s1", b"authorize", rearm=(second.timer_id, 5.0))
    await store.apply(0, relay.owners.token_of(0) or "", [Write(  # type: ignore[union-attr]
        "m2", "s1", expected_version=1, new_version=2, state_json=b"{}", new_status="RUNNING",
        outbox=[cmd], timers=[(second.timer_id, second.due_at, second.to_json())])])  # fmt: skip
    await relay.flush(0)
    assert relay.hold_until(0, second.timer_id) == 1060.0  # same step: the same stretch


async def test_a_command_the_broker_refused_is_held_until_it_is_acknowledged() -> None:
    clock = Clock(1000.0)
    _, owner, relay, scanner, _, producer = await setup(clock, ["s1", "s2"], open_breaker=False)
    producer.down = True
    assert await relay.flush_safely(0) is False
    clock.now = 1010.0
    assert await scanner.due(owner) == []  # the broker is away: not the participant's silence
    producer.down = False
    assert await relay.flush_safely(0) is True
    assert relay.hold_until(0, timeout_timer("s1", 1, 0).timer_id) is None
    clock.now = 1060.0
    assert sorted(r.saga_id for r in await scanner.due(owner)) == ["s1", "s2"]


async def test_a_partition_handed_back_holds_nothing() -> None:
    clock = Clock(1000.0)
    _, _, relay, _, _, _ = await setup(clock, ["s1"], open_breaker=True)
    await relay.flush(0)
    assert relay.hold_until(0, timeout_timer("s1", 1, 0).timer_id) == 1060.0
    relay.forget(0)
    assert relay.hold_until(0, timeout_timer("s1", 1, 0).timer_id) is None
