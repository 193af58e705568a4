"""A batch whose script Redis forgot mid-way re-runs only the calls refused NOSCRIPT."""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import Any

from redis.exceptions import NoScriptError

from dirigent.store._lua import LuaScript


class _FakePipeline:
    def __init__(self, server: _FakeRedis) -> None:
        self.server = server
        self.queued: list[Any] = []

    async def __aenter__(self) -> _FakePipeline:
        return self

    async def __aexit__(
        self, *exc: type[BaseException] | BaseException | TracebackType | None
    ) -> None:
        return None

    def execute_command(self, command: str, sha: str, numkeys: int, *keys_and_args: Any) -> None:
        assert command == "EVALSHA"  # queued by name: a ClusterPipeline blocks pipe.evalsha
        self.queued.append(keys_and_args[numkeys])  # the first arg names the call

    async def execute(self, raise_on_error: bool = True) -> list[Any]:
        assert raise_on_error is False
        self.server.batches.append(list(self.queued))
        return [self.server.reply(name) for name in self.queued]


class _FakeRedis:
    """Forgets the script for the calls named in ``forget`` until ``script_load``."""

    def __init__(self, forget: Sequence[str]) -> None:
        self.forget = set(forget)
        self.loaded = 0
        self.batches: list[list[str]] = []

    def pipeline(self, transaction: bool) -> _FakePipeline:
        assert transaction is False
        return _FakePipeline(self)

    async def script_load(self, text: str) -> str:
        self.loaded += 1
        self.forget.clear()
        return "sha"

    def reply(self, name: str) -> Any:
        return NoScriptError("No matching script") if name in self.forget else f"ran {name}"


async def test_only_refused_calls_run_again_in_order() -> None:
    redis = _FakeRedis(forget=["b", "d"])
    script = LuaScript("apply", "return 1", "sha")
    calls = [(["k"], [name]) for name in "abcde"]
    replies = await script.run_many(redis, calls)  # type: ignore[arg-type]
    assert replies == ["ran a", "ran b", "ran c", "ran d", "ran e"]
    assert redis.batches == [list("abcde"), ["b", "d"]]
    assert redis.loaded == 1


async def test_a_batch_that_runs_is_one_round_trip() -> None:
    redis = _FakeRedis(forget=[])
    replies = await LuaScript("apply", "return 1", "sha").run_many(redis, [(["k"], ["a"])])  # type: ignore[arg-type]
    assert (replies, redis.batches, redis.loaded) == (["ran a"], [["a"]], 0)
