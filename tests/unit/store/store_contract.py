"""One contract for every ``SagaStorePort``: the Redis store and the in-memory one.

A test module subclasses ``StoreContract``, provides a ``store`` fixture and
``scheduled`` (the raw timer schedule, to see what ``due_timers`` cannot: a timer
without a document), and runs every test below against its implementation.
"""

from __future__ import annotations

from typing import Any

import pytest

from dirigent.errors import FencedOut
from dirigent.store import OutboxRecord, PartitionLoad, SagaStorePort, Write, WriteOutcome

OK, DUP, FENCED, CONFLICT = (WriteOutcome.OK, WriteOutcome.DUPLICATE, WriteOutcome.FENCED,
                             WriteOutcome.CONFLICT)  # fmt: skip


def start(message_id: str = "m1", saga_id: str = "s1", **kw: Any) -> Write:
    """A write that creates saga ``saga_id`` at version 1 (fields overridable)."""
    fields: dict[str, Any] = {
        "message_id": message_id, "saga_id": saga_id, "expected_version": 0,
        "new_version": 1, "state_json": b'{"v":1}', "new_status": "RUNNING", "now": 100.0,
    }  # fmt: skip
    fields.update(kw)
    return Write(**fields)


def step(message_id: str, version: int, **kw: Any) -> Write:
    """A write that moves saga s1 from ``version - 1`` to ``version``."""
    fields: dict[str, Any] = {
        "expected_version": version - 1,
        "new_version": version,
        "old_status": "RUNNING",
        "state_json": f"v{version}".encode(),
    }
    fields.update(kw)
    return start(message_id, **fields)


class StoreContract:
    """The behaviour the coordinator relies on, whatever stores the sagas."""

    async def scheduled(self, store: Any, partition: int) -> dict[str, float]:
        """Every scheduled timer id and its due time, documented or not."""
        raise NotImplementedError

    # -- fencing ---------------------------------------------------------------------

    async def test_acquire_fences_out_the_previous_owner(self, store: SagaStorePort) -> None:
        zombie = await store.acquire(0)
        owner = await store.acquire(0)
        assert zombie != owner
        assert await store.apply(0, zombie, [start()]) == [FENCED]
        assert await store.load_many(0, ["s1"]) == [None]
        assert await store.apply(0, owner, [start()]) == [OK]

    async def test_a_partition_never_acquired_accepts_no_token(self, store: SagaStorePort) -> None:
        assert await store.apply(7, "1", [start()]) == [FENCED]
        with pytest.raises(FencedOut):
            await store.drop_timers(7, "1", ["t"])

    async def test_tokens_are_per_partition(self, store: SagaStorePort) -> None:
        token0 = await store.acquire(0)
        await store.acquire(1)
        await store.acquire(1)
        assert await store.apply(0, token0, [start()]) == [OK]

    async def test_a_fenced_write_changes_nothing(self, store: SagaStorePort) -> None:
        zombie = await store.acquire(0)
        owner = await store.acquire(0)
        w = start(outbox=[OutboxRecord("t", b"k", b"v")], timers=[("t1", 1.0, b"doc")],
                  watermark=("orders", 5))  # fmt: skip
        assert await store.apply(0, zombie, [w]) == [FENCED]
        assert await store.outbox_size(0) == 0
        assert await store.due_timers(0, now=10.0) == []
        assert await store.watermarks(0) == {}
        assert await store.count_status(0, "RUNNING") == 0
        assert await store.apply(0, owner, [w]) == [OK]  # not marked seen either

    # -- apply: OK / DUPLICATE / CONFLICT ----------------------------------------------

    async def test_new_saga_is_written_and_indexed(self, store: SagaStorePort) -> None:
        token = await store.acquire(0)
        assert await store.apply(0, token, [start()]) == [OK]
        [saga] = await store.load_many(0, ["s1"])
        assert saga is not None
        assert (saga.version, saga.status, saga.state_json) == (1, "RUNNING", b'{"v":1}')
        assert await store.count_status(0, "RUNNING") == 1

    async def test_load_many_keeps_the_order_asked(self, store: SagaStorePort) -> None:
        token = await store.acquire(0)
        await store.apply(0, token, [start("a", "s1"), start("b", "s2", state_json=b"two")])
        rows = await store.load_many(0, ["s2", "nope", "s1"])
        assert [r.state_json if r else None for r in rows] == [b"two", None, b'{"v":1}']

    async def test_same_message_twice_is_a_duplicate(self, store: SagaStorePort) -> None:
        token = await store.acquire(0)
        outbox = [OutboxRecord("inv.commands", b"s1", b"\x00\xffcmd", (("id", b"c1"),))]
        again = start(state_json=b'{"v":"other"}', outbox=outbox, timers=[("t", 1.0, b"d")])
        assert await store.apply(0, token, [start(outbox=outbox), again]) == [OK, DUP]
        assert await store.apply(0, token, [again]) == [DUP]
        [saga] = await store.load_many(0, ["s1"])
        assert saga is not None
        assert saga.state_json == b'{"v":1}'
        assert [r for _, r in await store.outbox_pending(0)] == outbox
        assert await store.due_timers(0, now=10.0) == []

    async def test_version_compare_and_set(self, store: SagaStorePort) -> None:
        token = await store.acquire(0)
        await store.apply(0, token, [start()])
        stale = start("m2", outbox=[OutboxRecord("t", b"k", b"lost")], timers=[("t", 1.0, b"d")])
        good = step("m3", 2, new_status="COMPLETED", terminal=True)
        assert await store.apply(0, token, [stale, good]) == [CONFLICT, OK]
        assert await store.outbox_size(0) == 0  # the conflicting write added nothing
        assert await store.due_timers(0, now=10.0) == []
        assert await store.count_status(0, "RUNNING") == 0
        assert await store.count_status(0, "COMPLETED") == 1
        # A conflicting input is not marked seen: it can be retried after a reload.
        retry = step("m2", 3, old_status="COMPLETED", new_status="COMPLETED")
        assert await store.apply(0, token, [retry]) == [OK]

    async def test_mark_only_write_records_the_message_as_seen(self, store: SagaStorePort) -> None:
        token = await store.acquire(0)
        ignored = Write(message_id="late-reply", saga_id="s9", cancel_timers=["t9"])
        assert await store.apply(0, token, [ignored, ignored]) == [OK, DUP]
        assert await store.load_many(0, ["s9"]) == [None]

    async def test_a_mark_only_write_skips_the_version_check(self, store: SagaStorePort) -> None:
        token = await store.acquire(0)
        await store.apply(0, token, [start()])
        fired = Write(message_id="timer-1", saga_id="s1", expected_version=9)
        assert await store.apply(0, token, [fired]) == [OK]

    # -- order within a batch ----------------------------------------------------------

    async def test_a_later_write_sees_an_earlier_one(self, store: SagaStorePort) -> None:
        token = await store.acquire(0)
        batch = [start(), step("m2", 2), step("m3", 3, new_status="COMPENSATING")]
        assert await store.apply(0, token, batch) == [OK, OK, OK]
        [saga] = await store.load_many(0, ["s1"])
        assert saga is not None
        assert (saga.version, saga.status) == (3, "COMPENSATING")
        assert await store.count_status(0, "RUNNING") == 0
        assert await store.count_status(0, "COMPENSATING") == 1

    async def test_out_of_order_writes_conflict(self, store: SagaStorePort) -> None:
        token = await store.acquire(0)
        assert await store.apply(0, token, [step("m2", 2), start()]) == [CONFLICT, OK]

    async def test_outbox_keeps_the_order_of_the_batch(self, store: SagaStorePort) -> None:
        token = await store.acquire(0)
        rec = [OutboxRecord("t", b"k", str(i).encode()) for i in range(5)]
        batch = [start(outbox=rec[:2]), step("m2", 2, outbox=rec[2:4]), start("x", "s2",
                 outbox=rec[4:])]  # fmt: skip
        assert await store.apply(0, token, batch) == [OK, OK, OK]
        assert [r.value for _, r in await store.outbox_pending(0)] == [b"0", b"1", b"2", b"3", b"4"]
        assert [r.value for _, r in await store.outbox_pending(0, count=2)] == [b"0", b"1"]

    async def test_apply_batch_returns_the_entry_ids_the_outbox_holds(
        self, store: SagaStorePort
    ) -> None:
        token = await store.acquire(0)
        rec = [OutboxRecord("t", b"k", str(i).encode()) for i in range(3)]
        batch = [start(outbox=rec[:2]), start(), start("x", "s2", outbox=rec[2:])]
        results = await store.apply_batch(0, token, batch)
        assert [r.outcome for r in results] == [OK, DUP, OK]
        assert [len(r.entry_ids) for r in results] == [2, 0, 1]  # a duplicate adds none
        pending = await store.outbox_pending(0)
        assert [e for r in results for e in r.entry_ids] == [e for e, _ in pending]
        assert [r.value for _, r in pending] == [b"0", b"1", b"2"]

    async def test_apply_batch_fences_every_write(self, store: SagaStorePort) -> None:
        await store.acquire(0)
        results = await store.apply_batch(0, "stale", [start(), start("x", "s2")])
        assert [(r.outcome, r.entry_ids) for r in results] == [(FENCED, ()), (FENCED, ())]

    async def test_a_large_batch_keeps_order_and_chaining(self, store: SagaStorePort) -> None:
        token = await store.acquire(0)
        rec = [OutboxRecord("t", b"k", str(i).encode()) for i in range(450)]
        batch = [start(outbox=rec[:1])]
        batch += [step(f"m{v}", v, outbox=rec[v - 1 : v]) for v in range(2, 451)]
        results = await store.apply_batch(0, token, batch)  # more than one script call
        assert {r.outcome for r in results} == {OK}
        assert [r.value for _, r in await store.outbox_pending(0, count=1000)] == [
            str(i).encode() for i in range(450)
        ]
        [saga] = await store.load_many(0, ["s1"])
        assert saga is not None
        assert saga.version == 450

    async def test_outbox_pages_after_an_entry(self, store: SagaStorePort) -> None:
        token = await store.acquire(0)
        outbox = [OutboxRecord("t", b"k", str(i).encode()) for i in range(4)]
        await store.apply(0, token, [Write("m", "s1", new_version=1, state_json=b"{}",
                                           new_status="RUNNING", outbox=outbox)])  # fmt: skip
        _, second = await store.outbox_pending(0, count=2)
        rest = await store.outbox_pending(0, after=second[0])
        assert [r.value for _, r in rest] == [b"2", b"3"]
        assert await store.outbox_pending(0, after=rest[-1][0]) == []

    async def test_a_timer_cancelled_later_in_the_batch_is_gone(self, store: SagaStorePort) -> None:
        token = await store.acquire(0)
        batch = [start(timers=[("t1", 5.0, b"one")]), step("m2", 2, cancel_timers=["t1"])]
        await store.apply(0, token, batch)
        assert await store.due_timers(0, now=10.0) == []

    async def test_empty_batch(self, store: SagaStorePort) -> None:
        assert await store.apply(0, await store.acquire(0), []) == []

    # -- outbox ------------------------------------------------------------------------

    async def test_outbox_records_keep_partition_and_rearm(self, store: SagaStorePort) -> None:
        token = await store.acquire(0)
        rec = OutboxRecord("orders.events", b"s1", b"v", (("h", b"\x00"),), 3, ("t-step", 10.0))
        await store.apply(0, token, [start(outbox=[rec])])
        assert [r for _, r in await store.outbox_pending(0)] == [rec]

    async def test_outbox_ack_removes_only_acknowledged_entries(self, store: SagaStorePort) -> None:
        token = await store.acquire(2)
        records = [OutboxRecord("t", b"k", str(i).encode()) for i in range(3)]
        await store.apply(2, token, [start(outbox=records)])
        pending = await store.outbox_pending(2)
        await store.outbox_ack(2, token, [pending[0][0], pending[1][0]])
        assert [r.value for _, r in await store.outbox_pending(2)] == [b"2"]
        assert await store.outbox_size(2) == 1
        await store.outbox_ack(2, token, [pending[0][0]])  # again: harmless
        assert await store.outbox_size(2) == 1

    async def test_a_zombie_cannot_ack_the_outbox(self, store: SagaStorePort) -> None:
        zombie = await store.acquire(0)
        await store.apply(0, zombie, [start(outbox=[OutboxRecord("t", b"k", b"v")],
                                            timers=[("t1", 50.0, b"doc")])])  # fmt: skip
        [(entry_id, _)] = await store.outbox_pending(0)
        await store.acquire(0)
        with pytest.raises(FencedOut):
            await store.outbox_ack(0, zombie, [entry_id], rearm=[("t1", 900.0)])
        assert await store.outbox_size(0) == 1
        assert await self.scheduled(store, 0) == {"t1": 50.0}

    async def test_ack_rearms_only_timers_that_still_exist(self, store: SagaStorePort) -> None:
        token = await store.acquire(0)
        timers = [("live", 50.0, b"live"), ("gone", 50.0, b"gone")]
        await store.apply(0, token, [start(outbox=[OutboxRecord("t", b"k", b"v")], timers=timers)])
        await store.apply(0, token, [step("m2", 2, cancel_timers=["gone"])])
        [(entry_id, _)] = await store.outbox_pending(0)
        await store.outbox_ack(0, token, [entry_id], rearm=[("live", 700.0), ("gone", 700.0)])
        assert await store.outbox_size(0) == 0
        assert await self.scheduled(store, 0) == {"live": 700.0}
        assert await store.due_timers(0, now=600.0) == []
        assert await store.due_timers(0, now=700.0) == [b"live"]

    # -- timers ------------------------------------------------------------------------

    async def test_due_timers_earliest_first_up_to_limit(self, store: SagaStorePort) -> None:
        token = await store.acquire(1)
        timers = [("c", 30.0, b"c"), ("a", 10.0, b"a"), ("b2", 20.0, b"b2"), ("b1", 20.0, b"b1"),
                  ("late", 500.0, b"late")]  # fmt: skip
        await store.apply(1, token, [start(timers=timers)])
        assert await store.due_timers(1, now=100.0) == [b"a", b"b1", b"b2", b"c"]
        assert await store.due_timers(1, now=100.0, limit=2) == [b"a", b"b1"]
        assert await store.due_timers(1, now=20.0) == [b"a", b"b1", b"b2"]

    async def test_postpone_moves_only_existing_timers(self, store: SagaStorePort) -> None:
        token = await store.acquire(1)
        await store.apply(1, token, [start(timers=[("t1", 50.0, b"one"), ("t2", 50.0, b"two")])])
        await store.apply(1, token, [step("m2", 2, cancel_timers=["t2"])])
        await store.postpone_timers(1, token, ["t1", "t2", "never"], 800.0)
        assert await self.scheduled(store, 1) == {"t1": 800.0}
        assert await store.due_timers(1, now=100.0) == []

    async def test_a_zombie_cannot_postpone_or_drop(self, store: SagaStorePort) -> None:
        zombie = await store.acquire(1)
        await store.apply(1, zombie, [start(timers=[("t1", 50.0, b"one")])])
        await store.acquire(1)
        with pytest.raises(FencedOut):
            await store.postpone_timers(1, zombie, ["t1"], 800.0)
        with pytest.raises(FencedOut):
            await store.drop_timers(1, zombie, ["t1"])
        assert await self.scheduled(store, 1) == {"t1": 50.0}
        assert await store.due_timers(1, now=100.0) == [b"one"]

    async def test_drop_removes_timers(self, store: SagaStorePort) -> None:
        token = await store.acquire(1)
        await store.apply(1, token, [start(timers=[("t1", 50.0, b"one"), ("t2", 60.0, b"two")])])
        await store.drop_timers(1, token, ["t1", "never"])
        assert await self.scheduled(store, 1) == {"t2": 60.0}
        assert await store.due_timers(1, now=100.0) == [b"two"]

    async def test_partition_load_counts_outbox_due_timers_and_suffixed_ones(
        self, store: SagaStorePort
    ) -> None:
        t0, t1 = await store.acquire(0), await store.acquire(1)
        timers = [("a:step_timeout:1", 50.0, b"a"), ("s1::saga_deadline", 90.0, b"d"),
                  ("s2::saga_deadline", 150.0, b"d2"), ("s3::saga_deadline", 400.0, b"d3"),
                  ("b:retry:2", 120.0, b"b")]  # fmt: skip
        outbox = [OutboxRecord("t", b"v1", b"k"), OutboxRecord("t", b"v2", b"k")]
        await store.apply(0, t0, [start(timers=timers, outbox=outbox)])
        await store.apply(1, t1, [start(saga_id="x", timers=[("x::saga_deadline", 10.0, b"x")])])
        got = await store.partition_load([0, 1, 2], 100.0, 200.0, "::saga_deadline")
        assert got == [PartitionLoad(2, 2, 2), PartitionLoad(0, 1, 1), PartitionLoad(0, 0, 0)]
        assert await store.partition_load([], 100.0, 200.0, "::saga_deadline") == []

    # -- watermarks --------------------------------------------------------------------

    async def test_watermark_only_moves_forward(self, store: SagaStorePort) -> None:
        token = await store.acquire(0)
        await store.apply(0, token, [start("a", watermark=("orders.events", 10))])
        later = [
            Write("b", "x", watermark=("orders.events", 4)),
            Write("c", "y", watermark=("payments.events", 0)),
        ]
        await store.apply(0, token, later)
        assert await store.watermarks(0) == {"orders.events": 10, "payments.events": 0}
        assert await store.watermarks(1) == {}
