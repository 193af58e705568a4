"""The outbox relay against the in-memory store: step timeouts re-armed from the broker's
acknowledgement, entries a breaker holds paged past, a fenced partition handed back."""

from __future__ import annotations

from collections.abc import Sequence

from dirigent.coordinator.breaker import Breakers
from dirigent.coordinator.participants import ParticipantHealth
from dirigent.coordinator.relay import OutboxRelay
from dirigent.errors import PublishFailed
from dirigent.store import MemorySagaStore, OutboxRecord, Write
from dirigent.transport import OutgoingRecord, SentRecord


class Producer:
    def __init__(self) -> None:
        self.sent: list[OutgoingRecord] = []
        self.down = False

    async def send_batch(self, records: Sequence[OutgoingRecord]) -> list[SentRecord]:
        if self.down:
            raise PublishFailed("broker away", retryable=True)
        self.sent.extend(records)
        return [SentRecord(r.topic, 0, i) for i, r in enumerate(records)]


class Owners:
    def __init__(self, token: str) -> None:
        self.tokens = {0: token}
        self.fenced_out: list[tuple[int, str]] = []

    def token_of(self, number: int) -> str | None:
        return self.tokens.get(number)

    def fenced(self, number: int, token: str) -> None:
        self.fenced_out.append((number, token))
        self.tokens.pop(number, None)


async def outbox(store: MemorySagaStore, records: list[OutboxRecord], timers: int = 0) -> str:
    token = await store.acquire(0)
    armed = [(f"t{i}", 5.0, b"{}") for i in range(timers)]
    write = Write("m", "s", new_version=1, state_json=b"{}", new_status="RUNNING",
                  outbox=records, timers=armed)  # fmt: skip
    await store.apply(0, token, [write])
    return token


def relay(store: MemorySagaStore, producer: Producer, owners: Owners, now: float,
          health: ParticipantHealth | None = None, batch: int = 2000,
          recover: bool = True) -> OutboxRelay:  # fmt: skip
    r = OutboxRelay(store, producer, health or ParticipantHealth(), {"held.commands": "held"},  # type: ignore[arg-type]
                    clock=lambda: now, batch=batch)  # fmt: skip
    r.owners = owners
    if recover:
        r.recover({0})  # as on assignment: what the outbox holds is read back
    return r


async def offered(store: MemorySagaStore, token: str, records: list[OutboxRecord]) -> list[
    tuple[bytes, OutboxRecord]
]:  # fmt: skip
    """Write ``records`` as the processor does and return what it hands to the relay."""
    write = Write(f"m{len(records)}-{id(records)}", "s", outbox=records)
    [result] = await store.apply_batch(0, token, [write])
    return list(zip(result.entry_ids, records, strict=True))


async def test_a_step_timeout_runs_from_the_brokers_ack() -> None:
    store, producer = MemorySagaStore(), Producer()
    token = await outbox(store, [OutboxRecord("a.commands", b"k", b"v", rearm=("t0", 30.0))], 1)
    await relay(store, producer, Owners(token), now=500.0).flush(0)
    assert [r.topic for r in producer.sent] == ["a.commands"]
    assert await store.outbox_pending(0) == []
    assert await store.due_timers(0, 529.9) == []  # re-armed to 500 + 30, not left at 5
    assert await store.due_timers(0, 530.0) == [b"{}"]


async def test_commands_a_breaker_holds_do_not_hold_up_the_others() -> None:
    store, producer = MemorySagaStore(), Producer()
    held = [OutboxRecord("held.commands", b"k", str(i).encode()) for i in range(5)]
    token = await outbox(store, [*held, OutboxRecord("a.commands", b"k", b"free")])
    health = ParticipantHealth(Breakers(threshold=1, reset_s=60))
    health.timed_out("held", 100.0)  # open
    r = relay(store, producer, Owners(token), now=100.0, health=health, batch=2)
    await r.flush(0)
    assert [r.value for r in producer.sent] == [b"free"]  # paged past five held entries
    assert r.pending[0] == 5
    assert len(await store.outbox_pending(0)) == 5  # still there, in order, for later


async def test_a_fenced_ack_hands_the_partition_back_and_sends_nothing_more() -> None:
    store, producer = MemorySagaStore(), Producer()
    token = await outbox(store, [OutboxRecord("a.commands", b"k", b"v")])
    await store.acquire(0)  # a newer owner
    owners = Owners(token)
    await relay(store, producer, owners, now=1.0).flush(0)
    assert owners.fenced_out == [(0, token)]
    assert len(await store.outbox_pending(0)) == 1  # the new owner sends it


async def test_a_broker_outage_is_reported_and_retried_not_raised() -> None:
    store, producer = MemorySagaStore(), Producer()
    token = await outbox(store, [OutboxRecord("a.commands", b"k", b"v")])
    r = relay(store, producer, Owners(token), now=1.0)
    producer.down = True
    assert await r.flush_safely(0) is False
    assert r.degraded is not None
    producer.down = False
    assert await r.flush_safely(0) is True
    assert (r.degraded, len(producer.sent)) == (None, 1)


async def test_offered_records_are_sent_from_memory_without_reading_the_outbox() -> None:
    store, producer = MemorySagaStore(), Producer()
    token = await store.acquire(0)
    r = relay(store, producer, Owners(token), now=500.0, recover=False)
    cmd = OutboxRecord("a.commands", b"k", b"v", rearm=("t0", 30.0))
    r.offer(0, await offered(store, token, [cmd, OutboxRecord("b.events", b"k", b"w")]))
    await r.flush(0)
    assert [x.value for x in producer.sent] == [b"v", b"w"]
    assert r.read_backs == 0
    assert await store.outbox_pending(0) == []  # acknowledged by id


async def test_an_offered_record_a_breaker_holds_switches_to_reading_back_in_order() -> None:
    store, producer = MemorySagaStore(), Producer()
    token = await store.acquire(0)
    health = ParticipantHealth(Breakers(threshold=1, reset_s=60))
    health.timed_out("held", 100.0)  # open
    r = relay(store, producer, Owners(token), now=100.0, health=health, recover=False)
    records = [OutboxRecord("a.commands", b"k", b"1"), OutboxRecord("held.commands", b"k", b"2"),
               OutboxRecord("a.commands", b"k", b"3")]  # fmt: skip
    r.offer(0, await offered(store, token, records))
    await r.flush(0)
    assert [x.value for x in producer.sent] == [b"1", b"3"]  # each sent once
    assert r.read_backs == 1
    assert r.pending[0] == 1
    assert [x.value for _, x in await store.outbox_pending(0)] == [b"2"]
    await r.flush(0)  # still held: read back again, nothing sent twice
    assert [x.value for x in producer.sent] == [b"1", b"3"]


async def test_a_read_back_drops_the_offered_records_it_covered() -> None:
    store, producer = MemorySagaStore(), Producer()
    token = await store.acquire(0)
    r = relay(store, producer, Owners(token), now=1.0, recover=False)
    r.offer(0, await offered(store, token, [OutboxRecord("a.commands", b"k", b"1")]))
    r.recover({0})  # e.g. a loop turn failed before the relay ran
    await r.flush(0)
    await r.flush(0)
    assert [x.value for x in producer.sent] == [b"1"]


async def test_a_failed_send_from_memory_is_recovered_from_the_outbox() -> None:
    store, producer = MemorySagaStore(), Producer()
    token = await store.acquire(0)
    r = relay(store, producer, Owners(token), now=1.0, recover=False)
    r.offer(0, await offered(store, token, [OutboxRecord("a.commands", b"k", b"1")]))
    producer.down = True
    assert await r.flush_safely(0) is False
    producer.down = False
    assert await r.flush_safely(0) is True
    assert ([x.value for x in producer.sent], r.read_backs) == ([b"1"], 1)
    assert await store.outbox_pending(0) == []
