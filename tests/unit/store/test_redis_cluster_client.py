"""Which client a URL gives, and how cluster faults are classified (no server needed)."""

from __future__ import annotations

import pytest
from redis import exceptions as rx
from redis.asyncio import Redis, RedisCluster

from dirigent.errors import ConfigurationError
from dirigent.store import is_cluster_url, redis_client
from dirigent.store._errors import translate_redis_error


def test_a_plain_url_gives_a_plain_client_with_timeouts() -> None:
    client = redis_client("redis://127.0.0.1:6379/2")
    assert type(client) is Redis
    kwargs = client.connection_pool.connection_kwargs
    assert (kwargs["db"], kwargs["socket_timeout"], kwargs["socket_connect_timeout"]) == (2, 10, 5)


def test_a_cluster_url_gives_a_cluster_client_seeded_with_every_node() -> None:
    url = "redis+cluster://app:s3cret@10.0.0.1:7000,10.0.0.2:7001,[::1]:7002/"
    client = redis_client(url)
    assert isinstance(client, RedisCluster)
    assert sorted(n.name for n in client.startup_nodes) == sorted(
        ["10.0.0.1:7000", "10.0.0.2:7001", "::1:7002"]
    )
    kwargs = client.connection_kwargs
    assert (kwargs["username"], kwargs["password"]) == ("app", "s3cret")
    assert (kwargs["socket_timeout"], kwargs["socket_connect_timeout"]) == (10, 5)


def test_tls_cluster_urls_keep_tls() -> None:
    client = redis_client("rediss+cluster://h1:7000")
    assert isinstance(client, RedisCluster)
    assert client.connection_kwargs["connection_class"].__name__ == "SSLConnection"


@pytest.mark.parametrize(
    ("url", "expected"),
    [("redis+cluster://h:1", True), ("REDISS+CLUSTER://h:1", True),
     ("redis://h:1/0", False), ("rediss://h:1", False), ("unix:///tmp/r.sock", False)],
)  # fmt: skip
def test_cluster_urls_are_told_by_their_scheme(url: str, expected: bool) -> None:
    assert is_cluster_url(url) is expected


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("redis+cluster://", "names no node"),
        ("redis+cluster://host-without-port", "is not host:port"),
        ("redis+cluster://h:7000,h:port", "'h:port'"),
        ("redis+cluster://h:7000/3", "only database 0"),
        ("redis+cluster://user:hunter2@h:7000/3", "***@h:7000/3"),
    ],
)
def test_bad_cluster_urls_are_refused_naming_the_setting(url: str, says: str) -> None:
    with pytest.raises(ConfigurationError, match="DIRIGENT_REDIS_URL") as caught:
        redis_client(url)
    assert says in str(caught.value)
    assert "hunter2" not in str(caught.value)


CLUSTER_TRANSIENT = [
    rx.RedisClusterException(
        "Redis Cluster cannot be connected. Please provide at least one reachable node: "
        "Error 111 connecting to 127.0.0.1:7001. Connection refused."
    ),
    rx.RedisClusterException("All slots are not covered after query all startup_nodes."),
    rx.RedisClusterException("startup_nodes could not agree on a valid slots cache: ..."),
    rx.SlotNotCoveredError('Slot "42" is not covered by the cluster.'),
    rx.ClusterError("TTL exhausted."),
    rx.ClusterDownError("CLUSTERDOWN The cluster is down"),
]


@pytest.mark.parametrize("exc", CLUSTER_TRANSIENT, ids=lambda e: str(e)[:30])
def test_cluster_faults_that_pass_are_retryable(exc: BaseException) -> None:
    error = translate_redis_error("cannot fence partition 3", exc)
    assert error.retryable is True
    assert "Redis unavailable" in str(error)


@pytest.mark.parametrize(
    ("exc", "says"),
    [
        (rx.ClusterCrossSlotError("Keys in request don't hash to the same slot"), "hash tag"),
        (
            rx.ResponseError("Script attempted to access keys that do not hash to the same slot"),
            "hash tag",
        ),
        (rx.RedisClusterException("EVALSHA - all keys must map to the same key slot"), "hash tag"),
        (rx.MovedError("3999 127.0.0.1:7001"), "redis+cluster://"),
        (
            rx.RedisClusterException(
                "Redis Cluster cannot be connected. Please provide at least one reachable "
                "node: Cluster mode is not enabled on this node"
            ),
            "use redis://",
        ),
    ],
)
def test_cluster_mistakes_are_permanent_and_say_what_to_fix(exc: BaseException, says: str) -> None:
    error = translate_redis_error("saga store write failed", exc)
    assert error.retryable is False
    assert says in str(error)


def test_an_acl_refusal_the_cluster_client_wrapped_is_reported_as_one() -> None:
    # redis-py turns a NOPERM to CLUSTER SLOTS into "Cluster mode is not enabled".
    try:
        try:
            raise rx.NoPermissionError("this user has no permissions to run 'cluster|slots'")
        except rx.ResponseError:
            # no `from`: redis-py raises it so, and only __context__ keeps the refusal
            raise rx.RedisClusterException("Cluster mode is not enabled on this node")  # noqa: B904
    except rx.RedisClusterException as inner:
        try:
            raise rx.RedisClusterException(
                f"Redis Cluster cannot be connected. Please provide at least one reachable "
                f"node: {inner}"
            ) from inner
        except rx.RedisClusterException as outer:
            wrapped = outer
    error = translate_redis_error("cannot fence partition 0", wrapped)
    assert error.retryable is False
    assert "ACL" in str(error)
    assert "cluster|slots" in str(error)
