"""Health probes: a Kafka metadata request and a Redis PING."""

from __future__ import annotations

import asyncio
import contextlib

from aiokafka import AIOKafkaClient
from aiokafka.errors import KafkaError
from redis.asyncio import Redis
from redis.exceptions import RedisError

__all__ = ["kafka_ready", "redis_ready"]


async def kafka_ready(bootstrap: str, *, timeout_s: float = 3.0) -> bool:
    """True when the broker answers a metadata request and lists itself."""
    host, _, port = bootstrap.split(",")[0].rpartition(":")
    try:  # a plain connect first keeps aiokafka from logging refusals while we wait
        async with asyncio.timeout(timeout_s):
            _, writer = await asyncio.open_connection(host, int(port))
        writer.close()
    except (OSError, TimeoutError):
        return False
    client = AIOKafkaClient(bootstrap_servers=bootstrap, request_timeout_ms=int(timeout_s * 1000))
    try:
        async with asyncio.timeout(timeout_s):
            await client.bootstrap()
            metadata = await client.fetch_all_metadata()
            return bool(metadata.brokers())
    except (KafkaError, OSError, TimeoutError):
        return False
    finally:
        with contextlib.suppress(KafkaError, OSError):
            await client.close()


async def redis_ready(url: str, *, timeout_s: float = 2.0) -> bool:
    """True when Redis answers PING."""
    client = Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)
    try:
        return bool(await client.ping())
    except (RedisError, OSError):
        return False
    finally:
        await client.aclose()
