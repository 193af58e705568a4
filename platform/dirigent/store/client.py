"""The one way dirigent builds a Redis client: a single server or a Redis Cluster.

The URL says which (``DIRIGENT_REDIS_URL``):

- ``redis://[user:password@]host:port/db`` (``rediss://`` for TLS): one server;
- ``redis+cluster://[user:password@]host:port[,host:port...]`` (``rediss+cluster://``
  for TLS): a Redis Cluster, discovered from any of the seed nodes listed. The cluster
  has one database, so a path other than ``/`` or ``/0`` is refused.

Query options (``?health_check_interval=30``, ...) are passed to redis-py as it reads
them. Either client never waits for ever: a hung node is a retryable fault, not a stuck
coordinator.
"""

from __future__ import annotations

from typing import Any, TypeAlias
from urllib.parse import urlsplit

from redis.asyncio import Redis, RedisCluster
from redis.asyncio.cluster import ClusterNode

from dirigent.errors import ConfigurationError
from dirigent.store.security import RedisSecurity

__all__ = ["CLUSTER_SCHEMES", "RedisClient", "is_cluster_url", "redis_client"]

RedisClient: TypeAlias = Redis | RedisCluster
"""What the stores accept: ``redis.asyncio.Redis`` or ``redis.asyncio.RedisCluster``."""

# cluster scheme -> the scheme redis-py reads (TLS or not)
CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}
_SETTING = "DIRIGENT_REDIS_URL"


def is_cluster_url(url: str) -> bool:
    """True for ``redis+cluster://`` and ``rediss+cluster://`` URLs."""
    return url.partition("://")[0].lower() in CLUSTER_SCHEMES


def redis_client(
    url: str,
    security: RedisSecurity | None = None,
    *,
    socket_timeout_s: float = 10.0,
    connect_timeout_s: float = 5.0,
    health_check_interval_s: float = 15.0,
) -> RedisClient:
    """A client for ``url`` (see the module docstring) that never waits for ever.

    No I/O happens here: a cluster client discovers its nodes on the first call.
    ``security`` adds credentials and TLS files (``dirigent.store.security``).

    Example::

        redis = redis_client("redis+cluster://127.0.0.1:7000,127.0.0.1:7001")
        store = SagaStore(redis, namespace="orders-coordinator")
    """
    options: dict[str, Any] = {
        "socket_timeout": socket_timeout_s,
        "socket_connect_timeout": connect_timeout_s,
        "health_check_interval": health_check_interval_s,
    }
    if security is not None:
        options |= security.client_options(url)
    if not is_cluster_url(url):
        return Redis.from_url(url, **options)
    plain, seeds = _cluster_url(url)
    try:
        return RedisCluster.from_url(plain, startup_nodes=seeds, **options)
    except ValueError as exc:  # a query option redis-py cannot read
        raise ConfigurationError(f"{_SETTING}: cannot read {_redacted(url)!r}: {exc}") from exc


def _cluster_url(url: str) -> tuple[str, list[ClusterNode]]:
    """The first seed as a URL redis-py reads, and the other seeds as nodes."""
    scheme, _, rest = url.partition("://")
    authority, _, tail = rest.partition("/")
    userinfo, at, hosts = authority.rpartition("@")
    path, _, _query = tail.partition("?")
    if path not in ("", "0"):
        raise ConfigurationError(
            f"{_SETTING}: a Redis Cluster has only database 0, but {_redacted(url)!r} "
            f"asks for /{path}"
        )
    addresses = [_address(url, part) for part in hosts.split(",") if part.strip()]
    if not addresses:
        raise ConfigurationError(
            f"{_SETTING}: {_redacted(url)!r} names no node; "
            "write redis+cluster://host:port[,host:port...]"
        )
    first_host, first_port = addresses[0]
    host = f"[{first_host}]" if ":" in first_host else first_host
    plain = f"{CLUSTER_SCHEMES[scheme.lower()]}://{userinfo}{at}{host}:{first_port}/{tail}"
    return plain, [ClusterNode(h, p) for h, p in addresses[1:]]


def _address(url: str, part: str) -> tuple[str, int]:
    split = urlsplit(f"//{part.strip()}")
    try:
        port = split.port
    except ValueError:
        port = None
    if not split.hostname or port is None:
        raise ConfigurationError(
            f"{_SETTING}: {part.strip()!r} in {_redacted(url)!r} is not host:port "
            "(a cluster seed needs both)"
        )
    return split.hostname, port


def _redacted(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    userinfo, at, tail = rest.rpartition("@")
    return f"{scheme}{sep}{'***@' if at else ''}{tail}" if userinfo or at else url
