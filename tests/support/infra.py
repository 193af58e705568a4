"""Where the tests' Kafka and Redis come from.

1. ``DIRIGENT_KAFKA_BOOTSTRAP`` and ``DIRIGENT_REDIS_URL`` set: use them as they are.
2. ``DIRIGENT_TEST_INFRA=containers``: testcontainers (needs Docker).
3. Otherwise: the local stack of ``dirigent dev up`` (started if needed, stopped at the
   end of the session only if this session started it).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from dirigent.config import DevSettings
from dirigent.dev import LocalStack

KAFKA_IMAGE = "apache/kafka:4.1.1"
REDIS_IMAGE = "redis:7.4"


@dataclass
class Infra:
    kafka_bootstrap: str
    redis_url: str
    stack: LocalStack | None = None  # set when the local stack is in use
    _cleanups: list[Callable[[], None]] = field(default_factory=list)


@contextmanager
def provide_infra() -> Iterator[Infra]:
    bootstrap = os.environ.get("DIRIGENT_KAFKA_BOOTSTRAP")
    redis_url = os.environ.get("DIRIGENT_REDIS_URL")
    if bootstrap and redis_url:
        yield Infra(bootstrap, redis_url)
    elif os.environ.get("DIRIGENT_TEST_INFRA") == "containers":
        with _containers() as infra:
            yield infra
    else:
        with _local_stack() as infra:
            yield infra


@contextmanager
def _local_stack() -> Iterator[Infra]:
    state_dir = Path(os.environ.get("DIRIGENT_DEV_STATE_DIR", ".dirigent"))
    stack = LocalStack(DevSettings(state_dir=state_dir))
    already_up = all(s.healthy for s in asyncio.run(stack.status()))
    statuses = asyncio.run(stack.up())
    try:
        yield Infra(statuses[0].address, statuses[1].address, stack)
    finally:
        if not already_up:
            asyncio.run(stack.down())


@contextmanager
def _containers() -> Iterator[Infra]:
    from testcontainers.kafka import KafkaContainer
    from testcontainers.redis import RedisContainer

    with KafkaContainer(KAFKA_IMAGE).with_kraft() as kafka, RedisContainer(REDIS_IMAGE) as redis:
        host = redis.get_container_host_ip()
        port = redis.get_exposed_port(6379)
        yield Infra(kafka.get_bootstrap_server(), f"redis://{host}:{port}/0")
