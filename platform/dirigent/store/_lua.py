"""The store's Lua scripts, run by SHA and reloaded when Redis has forgotten them.

Redis forgets scripts on restart, failover and ``SCRIPT FLUSH``. redis-py's ``Script``
reloads them, but in a pipeline it does so with a ``SCRIPT EXISTS`` round trip before
every batch; here a batch is queued as plain ``EVALSHA`` calls (one round trip) and only
the calls that came back ``NOSCRIPT`` are run again after a ``SCRIPT LOAD``. On a
Redis Cluster each call goes to the node of its keys' slot and ``SCRIPT LOAD`` to every
primary, so a node that restarted alone is taught again like the rest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from redis.asyncio.client import Pipeline
from redis.asyncio.cluster import ClusterPipeline
from redis.exceptions import NoScriptError

from dirigent.store.client import RedisClient

__all__ = ["LuaScript"]

Call = tuple[Sequence[str], Sequence[Any]]  # (keys, args)


@dataclass(frozen=True, slots=True)
class LuaScript:
    """One script of ``dirigent/store/lua``: its text and SHA1."""

    name: str
    text: str
    sha: str

    @classmethod
    def named(cls, name: str) -> LuaScript:
        text = (resources.files("dirigent.store") / "lua" / f"{name}.lua").read_text()
        return cls(name, text, hashlib.sha1(text.encode()).hexdigest())

    async def run(self, redis: RedisClient, keys: Sequence[str], args: Sequence[Any]) -> Any:
        """Run once (one round trip unless Redis must be taught the script first)."""
        try:
            return await redis.evalsha(self.sha, len(keys), *keys, *args)
        except NoScriptError:
            await redis.script_load(self.text)
            return await redis.evalsha(self.sha, len(keys), *keys, *args)

    async def run_many(self, redis: RedisClient, calls: Sequence[Call]) -> list[Any]:
        """Run calls in order in one pipelined round trip; replies may be exceptions.

        Calls refused with ``NOSCRIPT`` are run again, in order, after a ``SCRIPT LOAD``.
        Only those: the others already ran, and running an input twice is not the same
        as running it once (the second would report a duplicate).
        """
        replies = await self._pipeline(redis, calls)
        missing = [i for i, r in enumerate(replies) if isinstance(r, NoScriptError)]
        if missing:
            await redis.script_load(self.text)
            again = await self._pipeline(redis, [calls[i] for i in missing])
            for i, reply in zip(missing, again, strict=True):
                replies[i] = reply
        return replies

    async def _pipeline(self, redis: RedisClient, calls: Sequence[Call]) -> list[Any]:
        pipe: Pipeline | ClusterPipeline
        async with redis.pipeline(transaction=False) as pipe:
            for keys, args in calls:
                # execute_command, not pipe.evalsha: redis-py's ClusterPipeline blocks the
                # evalsha method (redis-py#2914) yet routes a queued EVALSHA by its keys
                pipe.execute_command("EVALSHA", self.sha, len(keys), *keys, *args)
            return list(await pipe.execute(raise_on_error=False))
