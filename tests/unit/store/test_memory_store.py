"""The in-memory saga store meets the store contract (and injects faults on request)."""

from __future__ import annotations

import inspect

import pytest

from dirigent.errors import StoreError
from dirigent.store import MemorySagaStore, SagaStore, SagaStorePort
from tests.unit.store.store_contract import StoreContract, start


class TestMemorySagaStore(StoreContract):
    @pytest.fixture
    def store(self) -> MemorySagaStore:
        return MemorySagaStore()

    async def scheduled(self, store: MemorySagaStore, partition: int) -> dict[str, float]:
        return dict(store.partitions[partition].timers)


PORT_METHODS = [n for n in vars(SagaStorePort) if not n.startswith("_")]


@pytest.mark.parametrize("impl", [MemorySagaStore, SagaStore])
@pytest.mark.parametrize("name", PORT_METHODS)
def test_implementations_match_the_port_exactly(impl: type, name: str) -> None:
    expected = inspect.signature(getattr(SagaStorePort, name))
    assert inspect.signature(getattr(impl, name)) == expected
    assert inspect.iscoroutinefunction(getattr(impl, name))


def test_the_port_lists_what_the_coordinator_calls() -> None:
    assert sorted(PORT_METHODS) == sorted([
        "acquire", "apply", "apply_batch", "count_status", "drop_timers", "due_timers",
        "load_many", "outbox_ack", "outbox_pending", "outbox_size", "partition_load",
        "postpone_timers", "watermarks",
    ])  # fmt: skip


async def test_fail_next_raises_then_recovers() -> None:
    store = MemorySagaStore(fail_next=[StoreError("redis down", retryable=True)])
    with pytest.raises(StoreError, match="redis down"):
        await store.acquire(0)
    token = await store.acquire(0)
    assert token == "1"
    assert len(await store.apply(0, token, [start()])) == 1
