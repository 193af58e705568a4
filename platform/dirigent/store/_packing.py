"""Redis command packing in C: hiredis instead of redis-py's pure-Python packer.

redis-py's asyncio ``Connection.pack_command`` joins a buffer once per argument in
Python; for the coordinator's store calls (dozens of arguments each, thousands per
second) that was a fifth of its CPU (``docs/performance.md``). ``hiredis.pack_command``
writes the same RESP bytes. Arguments are encoded exactly as redis-py does (its
``Encoder``: ``repr`` for numbers, the client's encoding for text), and multi-word
command names (``SCRIPT LOAD``) are split the same way.
"""

from __future__ import annotations

from typing import Any

import hiredis
from redis.asyncio import Redis, RedisCluster
from redis.asyncio.connection import Connection, SSLConnection
from redis.exceptions import DataError

__all__ = ["with_c_packing"]


_UTF8 = frozenset({"utf-8", "utf8", "UTF-8"})


class _CPacking:
    encoder: Any

    def pack_command(self, *args: Any) -> list[bytes]:
        first = args[0]
        if isinstance(first, str):
            args = (*first.encode().split(), *args[1:])
        elif b" " in first:
            args = (*first.split(), *args[1:])
        encoder = self.encoder
        if encoder.encoding in _UTF8 and encoder.encoding_errors == "strict":
            try:  # str, bytes, int and float as redis-py's Encoder writes them
                return [hiredis.pack_command(args)]
            except TypeError:
                pass  # a memoryview, a bool...: the Encoder says what it makes of it
        packed: Any = tuple(a if type(a) is bytes else bytes(encoder.encode(a)) for a in args)
        try:
            return [hiredis.pack_command(packed)]
        except TypeError as exc:
            raise DataError(str(exc)) from exc


class CPackedConnection(_CPacking, Connection):
    """``Connection`` with C packing."""


class CPackedSSLConnection(_CPacking, SSLConnection):
    """``SSLConnection`` with C packing."""


_PACKED: dict[type[Any], type[Any]] = {
    Connection: CPackedConnection,
    SSLConnection: CPackedSSLConnection,
}


def with_c_packing(client: Redis | RedisCluster) -> Redis | RedisCluster:
    """``client``, its new connections packing commands with hiredis (TCP and TLS; a
    Unix socket or custom connection class is left as it is). For a Redis Cluster
    client: the nodes it knows now and those it discovers later."""
    if isinstance(client, RedisCluster):
        kwargs = client.nodes_manager.connection_kwargs
        packed = _PACKED.get(kwargs.get("connection_class", Connection))
        if packed is not None:
            kwargs["connection_class"] = packed
            for node in client.nodes_manager.startup_nodes.values():
                node.connection_class = _PACKED.get(node.connection_class, node.connection_class)
        return client
    pool = client.connection_pool
    packed = _PACKED.get(pool.connection_class)
    if packed is not None:
        pool.connection_class = packed
    return client
