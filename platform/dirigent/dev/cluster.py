"""A local Redis Cluster: N masters, no replicas, each a Debian ``redis-server`` process.

Behind ``dirigent dev cluster up | down | status`` and the tests' cluster fixture. Each
node keeps its data (AOF), ``nodes.conf``, pid and log in ``home/<port>/``, so a node
killed and started again rejoins with its slots and its data. The cluster is formed
from Python (``CLUSTER ADDSLOTSRANGE``, ``SET-CONFIG-EPOCH``, ``MEET``), without
``redis-cli``: every step is idempotent, so ``up`` finishes a half-made cluster too.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from dirigent.config import DevSettings
from dirigent.dev.process import ManagedProcess
from dirigent.dev.redis import server_argv
from dirigent.errors import InfrastructureError

__all__ = [
    "ClusterMember",
    "ClusterStatus",
    "LocalRedisCluster",
    "MemberStatus",
    "dev_cluster",
    "slot_ranges",
]

SLOTS = 16384
_BUS_OFFSET = 10000  # Redis's own default: the bus listens on port + 10000


def slot_ranges(masters: int) -> list[tuple[int, int]]:
    """The slots each of ``masters`` nodes serves: contiguous, as even as can be."""
    if masters < 1:
        raise ValueError("a cluster needs at least one master")
    bounds = [SLOTS * i // masters for i in range(masters + 1)]
    return [(bounds[i], bounds[i + 1] - 1) for i in range(masters)]


@dataclass(frozen=True)
class ClusterMember:
    """One cluster node whose data, ``nodes.conf`` and log live in ``home``."""

    home: Path
    host: str
    port: int
    bus_port: int
    node_timeout_ms: int = 5000
    appendfsync: str = "everysec"

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def process(self) -> ManagedProcess:
        return ManagedProcess(
            f"redis-{self.port}", self.home / "redis.pid", self.home / "redis.log"
        )

    def start(self) -> int:
        """Start the node (detached); it rejoins its cluster from ``nodes.conf``."""
        argv = server_argv(
            self.home, self.host, self.port,
            "--cluster-enabled", "yes",
            "--cluster-config-file", "nodes.conf",
            "--cluster-port", str(self.bus_port),
            "--cluster-node-timeout", str(self.node_timeout_ms),
            appendfsync=self.appendfsync,
        )  # fmt: skip
        return self.process.start(argv)

    def client(self, timeout_s: float = 2.0) -> Redis:
        """A plain client to this node alone (for cluster administration); it does not
        retry, so a node that is down says so at once."""
        return Redis(
            host=self.host, port=self.port, retry=Retry(NoBackoff(), 0),
            socket_timeout=timeout_s, socket_connect_timeout=timeout_s,
        )  # fmt: skip


@dataclass(frozen=True)
class MemberStatus:
    """What one node says: is it up, its view of the cluster, who started it."""

    member: ClusterMember
    pid: int | None
    answers: bool
    state: str  # cluster_state from this node ("ok", "fail"), or "down"
    slots_assigned: int
    known_nodes: int

    @property
    def healthy(self) -> bool:
        return self.answers and self.state == "ok"

    def describe(self) -> str:
        owner = f"pid {self.pid}" if self.pid else "not started by dirigent"
        view = f"cluster_state:{self.state}" if self.answers else "down"
        return f"redis-cluster {self.member.address:<22} {view} ({owner})"


@dataclass(frozen=True)
class ClusterStatus:
    """Every node's status, and the URL a client uses."""

    url: str
    members: tuple[MemberStatus, ...]

    @property
    def healthy(self) -> bool:
        n = len(self.members)
        return all(
            m.healthy and m.slots_assigned == SLOTS and m.known_nodes == n for m in self.members
        )

    def describe(self) -> list[str]:
        return [m.describe() for m in self.members]


class LocalRedisCluster:
    """A Redis Cluster of ``len(ports)`` masters on this host, state under ``home``.

    Example::

        cluster = LocalRedisCluster(Path(".dirigent/redis-cluster"), ports=[7000, 7001, 7002])
        status = await cluster.up()   # idempotent: reuses what runs, forms it if new
        status.url                    # "redis+cluster://127.0.0.1:7000,..."
        await cluster.down()          # stops only the nodes it started, by pid
    """

    def __init__(
        self,
        home: Path,
        *,
        ports: Sequence[int],
        bus_ports: Sequence[int] | None = None,
        host: str = "127.0.0.1",
        node_timeout_ms: int = 5000,
        appendfsync: str = "everysec",
        startup_timeout_s: float = 30.0,
    ) -> None:
        if not ports:
            raise ValueError("a cluster needs at least one node")
        buses = list(bus_ports) if bus_ports is not None else [p + _BUS_OFFSET for p in ports]
        if len(buses) != len(ports):
            raise ValueError("one bus port per node")
        self.home = home.resolve()
        self.host = host
        self.startup_timeout_s = startup_timeout_s
        self.members = tuple(
            ClusterMember(self.home / str(port), host, port, bus, node_timeout_ms, appendfsync)
            for port, bus in zip(ports, buses, strict=True)
        )

    @property
    def url(self) -> str:
        """The ``DIRIGENT_REDIS_URL`` of this cluster (every node is a seed)."""
        return "redis+cluster://" + ",".join(m.address for m in self.members)

    async def up(self) -> ClusterStatus:
        """Start the nodes that do not run, form the cluster if new, wait until it is ok."""
        if (status := await self.status()).healthy:
            return status  # ours from an earlier `up`, or one already running there
        for member in self.members:
            if member.process.pid() is None and not await _answers(member):
                await asyncio.to_thread(member.start)
        await self._until(self._all_answer, "every node answers PING")
        await self._form()
        await self._until(self._converged, "cluster_state:ok on every node")
        return await self.status()

    async def down(self) -> list[str]:
        """Stop the nodes we started (SIGTERM: the AOF is flushed); names stopped."""
        stopped = []
        for member in self.members:
            if await asyncio.to_thread(member.process.stop, timeout_s=30.0):
                stopped.append(member.process.name)
        return stopped

    async def status(self) -> ClusterStatus:
        found = await asyncio.gather(*(_member_status(m) for m in self.members))
        return ClusterStatus(self.url, tuple(found))

    async def _form(self) -> None:
        """Give each node its slot range and config epoch, then introduce them."""
        ranges = slot_ranges(len(self.members))
        for epoch, (member, (lo, hi)) in enumerate(zip(self.members, ranges, strict=True), 1):
            async with member.client() as node:
                info = await node.cluster("INFO")
                alone = int(info["cluster_known_nodes"]) == 1
                if alone and int(info["cluster_current_epoch"]) == 0:
                    # distinct epochs up front spare the nodes an epoch-collision round
                    await node.cluster("SET-CONFIG-EPOCH", epoch)
                if alone and int(info["cluster_slots_assigned"]) == 0:
                    await node.cluster("ADDSLOTSRANGE", lo, hi)
        async with self.members[0].client() as node:
            for m in self.members[1:]:
                await node.cluster("MEET", m.host, m.port, m.bus_port)

    async def _all_answer(self) -> bool:
        return all(await asyncio.gather(*(_answers(m) for m in self.members)))

    async def _converged(self) -> bool:
        return (await self.status()).healthy

    async def _until(self, check: Callable[[], Awaitable[bool]], what: str) -> None:
        deadline = time.monotonic() + self.startup_timeout_s
        while not await check():
            for member in self.members:
                if member.process.pid() is None and not await _answers(member):
                    proc = member.process
                    raise InfrastructureError(
                        f"{proc.name} exited during startup; last log lines of "
                        f"{proc.log_file}:\n{proc.tail()}"
                    )
            if time.monotonic() > deadline:
                status = await self.status()
                raise InfrastructureError(
                    f"the Redis Cluster in {self.home} did not reach '{what}' within "
                    f"{self.startup_timeout_s:.0f}s:\n" + "\n".join(status.describe())
                )
            await asyncio.sleep(0.1)


def dev_cluster(settings: DevSettings) -> LocalRedisCluster:
    """The cluster of ``dirigent dev cluster``: ``<state_dir>/redis-cluster``, ports from
    ``redis_cluster_port`` on."""
    first = settings.redis_cluster_port
    return LocalRedisCluster(
        settings.state_dir / "redis-cluster",
        ports=[first + i for i in range(settings.redis_cluster_nodes)],
        host=settings.host,
        node_timeout_ms=settings.redis_cluster_node_timeout_ms,
        startup_timeout_s=settings.startup_timeout_s,
    )


async def _answers(member: ClusterMember) -> bool:
    try:
        async with member.client(timeout_s=1.0) as node:
            return bool(await node.ping())
    except (RedisError, OSError):
        return False


async def _member_status(member: ClusterMember) -> MemberStatus:
    pid = member.process.pid()
    try:
        async with member.client(timeout_s=1.0) as node:
            info = await node.cluster("INFO")
    except (RedisError, OSError):
        return MemberStatus(member, pid, False, "down", 0, 0)
    return MemberStatus(
        member, pid, True, str(info["cluster_state"]),
        int(info["cluster_slots_assigned"]), int(info["cluster_known_nodes"]),
    )  # fmt: skip
