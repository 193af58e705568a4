"""Starting a service: a broker that is not there yet is waited for; a topic that does
not exist is a configuration error naming it."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from dirigent.errors import ConfigurationError
from dirigent.service import HandlerContext, ServiceSettings
from dirigent.transport import delete_topics, dlt_topic
from tests.integration.service.svc_support import ReserveStock, make_service
from tests.support.infra import Infra

pytestmark = pytest.mark.integration


async def _noop(cmd: ReserveStock, ctx: HandlerContext) -> None:
    return None


async def test_a_missing_input_topic_ends_run_with_one_clear_error(
    infra: Infra, redis: Redis, uid: str, make_topic
) -> None:
    replies = await make_topic("replies")
    missing = f"never.created.{uid}"
    settings = ServiceSettings(topic_wait_s=1.0)
    service = make_service(infra.kafka_bootstrap, redis, uid, missing, replies, settings=settings)
    service.add_handler(ReserveStock, _noop)
    try:
        with pytest.raises(ConfigurationError, match=rf"topic\(s\) {missing} do not exist"):
            await asyncio.wait_for(service.run(), 30)
    finally:
        await delete_topics(infra.kafka_bootstrap, [dlt_topic(missing)])


async def test_an_unreachable_broker_is_waited_for_not_fatal(redis: Redis, uid: str) -> None:
    settings = ServiceSettings(infra_backoff_initial_s=0.05, infra_backoff_max_s=0.2)
    service = make_service("127.0.0.1:1", redis, uid, "t", "r", settings=settings)
    service.add_handler(ReserveStock, _noop)
    task = asyncio.create_task(service.run())
    done, _ = await asyncio.wait({task}, timeout=3)
    assert not done, f"run() ended while the broker was unreachable: {task.exception()!r}"
    service.stop()
    await asyncio.wait_for(task, 30)  # stops cleanly, no error
