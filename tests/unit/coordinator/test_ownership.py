"""Ownership against the in-memory store: pause first, tokens from the loop, retries,
reconciliation with the assignment, and the hold after being fenced out."""

from __future__ import annotations

import pytest
from aiokafka import TopicPartition

from dirigent.coordinator.metrics import CoordinatorMetrics
from dirigent.coordinator.ownership import Ownership
from dirigent.coordinator.participants import ParticipantHealth
from dirigent.coordinator.relay import OutboxRelay
from dirigent.errors import StoreError
from dirigent.store import MemorySagaStore


class Paused:
    def __init__(self) -> None:
        self.paused: set[TopicPartition] = set()

    def pause(self, partitions: set[TopicPartition]) -> None:
        self.paused |= set(partitions)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def tps(*numbers: int) -> set[TopicPartition]:
    return {TopicPartition(t, n) for n in numbers for t in ("a.events", "b.events")}


@pytest.fixture
def world() -> tuple[Ownership, MemorySagaStore, Paused, Clock]:
    store, consumer, clock = MemorySagaStore(), Paused(), Clock()
    relay = OutboxRelay(store, None, ParticipantHealth(), {}, clock)  # type: ignore[arg-type]
    own = Ownership(store, relay, CoordinatorMetrics(), clock=clock, fenced_hold_s=10)
    own.consumer = consumer
    relay.owners = own
    return own, store, consumer, clock


World = tuple[Ownership, MemorySagaStore, Paused, Clock]


async def test_the_listener_pauses_and_awaits_nothing_that_can_fail(world: World) -> None:
    own, store, consumer, _ = world
    store.fail_next.append(StoreError("redis down", retryable=True))
    await own.assigned(tps(0, 1))  # must not touch the store (aiokafka swallows errors)
    assert consumer.paused == tps(0, 1)
    assert (own.pending, own.owned) == ({0, 1}, {})


async def test_the_loop_takes_tokens_and_retries_while_the_store_is_down(world: World) -> None:
    own, store, _, _ = world
    await own.assigned(tps(0, 1))
    store.fail_next.append(StoreError("redis down", retryable=True))
    with pytest.raises(StoreError):
        await own.reconcile(tps(0, 1))
    assert own.pending == {0, 1}
    assert own.degraded is not None  # /readyz says why
    await own.reconcile(tps(0, 1))
    assert (own.pending, set(own.owned), own.degraded) == (set(), {0, 1}, None)
    assert own.token_of(0) == "1"


async def test_reconcile_drops_what_the_consumer_no_longer_has_and_claims_the_rest(
    world: World,
) -> None:
    own, _, _, _ = world
    await own.reconcile(tps(0, 1))
    await own.reconcile(tps(1, 2))  # a revoke the listener never reported
    assert set(own.owned) == {1, 2}


async def test_a_new_assignment_always_takes_a_new_token(world: World) -> None:
    own, _, _, _ = world
    await own.reconcile(tps(0))
    first = own.token_of(0)
    await own.assigned(tps(0))
    assert own.token_of(0) is None  # not ours until the new token is held
    await own.reconcile(tps(0))
    assert own.token_of(0) != first


async def test_fenced_out_the_partition_is_claimed_again_only_after_a_hold(
    world: World,
) -> None:
    own, store, _, clock = world
    await own.reconcile(tps(0))
    token = own.token_of(0)
    assert token is not None
    await store.acquire(0)  # a newer owner
    own.fenced(0, token)
    await own.reconcile(tps(0))  # still assigned here (a zombie's view): held, not fought
    assert own.token_of(0) is None
    clock.now += 11
    await own.reconcile(tps(0))
    assert own.token_of(0) is not None


async def test_a_stale_fence_report_does_not_drop_a_newer_ownership(world: World) -> None:
    own, _, _, _ = world
    await own.reconcile(tps(0))
    old = own.token_of(0)
    await own.assigned(tps(0))
    await own.reconcile(tps(0))
    own.fenced(0, old or "")  # a batch under the old token was refused
    assert own.token_of(0) is not None
