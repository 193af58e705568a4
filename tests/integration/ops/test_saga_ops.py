"""dirigent saga show / list against states the saga store wrote."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from click.testing import CliRunner, Result
from redis.asyncio import Redis

from dirigent.cli import main
from dirigent.ops import find_saga, partition_for
from dirigent.saga.state import SagaState, SagaStatus, StepState, StepStatus
from dirigent.store.saga_store import SagaStore, Write
from tests.integration.conftest import TopicFactory
from tests.support.infra import Infra

PARTITIONS = 4


def _state(saga_id: str, status: SagaStatus, updated: float, **kw: Any) -> SagaState:
    steps = {"reserve": StepState(StepStatus.SUCCEEDED, 1, None),
             "charge": StepState(StepStatus.RETRY_WAIT, 2, "cmd-7")}  # fmt: skip
    return SagaState(saga_id=saga_id, saga_type="order_fulfilment", status=status, version=3,
                     data={"order_id": saga_id, "total": 42}, steps=steps,
                     started_at=1_700_000_000.0, updated_at=updated, **kw)  # fmt: skip


async def _put(redis: Redis, group: str, states: list[SagaState]) -> None:
    store = SagaStore(redis, namespace=group, seen_ttl_s=60)
    for s in states:
        p = partition_for(s.saga_id, PARTITIONS)
        token = await store.acquire(p)
        write = Write(message_id=f"m-{s.saga_id}", saga_id=s.saga_id, new_version=s.version,
                      state_json=s.to_json(), new_status=s.status.value,
                      terminal=s.is_terminal, now=s.updated_at)  # fmt: skip
        assert await store.apply(p, token, [write]) == ["OK"]


@pytest.fixture
async def group(redis: Redis, uid: str) -> str:
    name = f"test-{uid}"
    await _put(redis, name, [
        _state(f"run-a-{uid}", SagaStatus.RUNNING, 1_700_000_010.0),
        _state(f"run-b-{uid}", SagaStatus.RUNNING, 1_700_000_030.0),
        _state(f"fail-{uid}", SagaStatus.FAILED, 1_700_000_020.0, reason="charge declined"),
        _state(f"done-{uid}", SagaStatus.COMPLETED, 1_700_000_040.0),
    ])  # fmt: skip
    return name


def _cli(infra: Infra, *args: str) -> Result:
    env = {"DIRIGENT_KAFKA_BOOTSTRAP": infra.kafka_bootstrap, "DIRIGENT_REDIS_URL": infra.redis_url}
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def _json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_show_finds_the_partition_and_prints_the_state(infra: Infra, group: str, uid: str) -> None:
    saga_id = f"fail-{uid}"
    doc = _json(_cli(infra, "saga", "show", saga_id, "--group-id", group,
                     "--partitions", str(PARTITIONS), "--json"))  # fmt: skip
    assert doc["partition"] == partition_for(saga_id, PARTITIONS)
    assert (doc["status"], doc["version"], doc["reason"]) == ("FAILED", 3, "charge declined")
    assert doc["steps"]["charge"] == {"status": "RETRY_WAIT", "attempt": 2,
                                      "compensation_attempt": 0, "command_id": "cmd-7"}  # fmt: skip
    assert doc["data"] == {"order_id": saga_id, "total": 42}
    assert (doc["started_at"], doc["updated_at"]) == (1_700_000_000.0, 1_700_000_020.0)


def test_show_as_a_table(infra: Infra, group: str, uid: str) -> None:
    result = _cli(infra, "saga", "show", f"run-a-{uid}", "--group-id", group,
                  "--partitions", str(PARTITIONS))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "RUNNING" in result.output
    assert "RETRY_WAIT" in result.output


def test_show_reads_the_partition_count_from_a_topic(
    infra: Infra, group: str, uid: str, make_topic: TopicFactory
) -> None:
    topic = asyncio.run(_topic(make_topic))
    doc = _json(_cli(infra, "saga", "show", f"done-{uid}", "--group-id", group,
                     "--topic", topic, "--json"))  # fmt: skip
    assert doc["status"] == "COMPLETED"


async def _topic(make_topic: TopicFactory) -> str:
    return await make_topic("orders", partitions=PARTITIONS)


def test_show_of_an_unknown_saga_says_so(infra: Infra, group: str) -> None:
    result = _cli(infra, "saga", "show", "nope", "--group-id", group, "--partitions", "4")
    assert result.exit_code == 1
    assert f"saga nope not found in group {group}" in result.output


def test_list_filters_by_status_newest_first(infra: Infra, group: str, uid: str) -> None:
    rows = _json(_cli(infra, "saga", "list", "--group-id", group, "--partitions",
                      str(PARTITIONS), "--status", "running", "--json"))  # fmt: skip
    assert [r["saga_id"] for r in rows] == [f"run-b-{uid}", f"run-a-{uid}"]
    assert rows[0]["partition"] == partition_for(f"run-b-{uid}", PARTITIONS)


def test_list_all_statuses_with_a_limit(infra: Infra, group: str, uid: str) -> None:
    rows = _json(_cli(infra, "saga", "list", "--group-id", group, "--partitions",
                      str(PARTITIONS), "--limit", "3", "--json"))  # fmt: skip
    assert [(r["saga_id"], r["status"]) for r in rows] == [
        (f"done-{uid}", "COMPLETED"),
        (f"run-b-{uid}", "RUNNING"),
        (f"fail-{uid}", "FAILED"),
    ]


async def test_find_saga_returns_none_for_a_missing_saga(redis: Redis, group: str) -> None:
    assert await find_saga(redis, group, "missing", partitions=PARTITIONS) is None
