"""A broken connection that redis-py leaks as AttributeError/TypeError from its own
transport code (redis-py#4287) is a transient store fault; the same error types from
our code stay bugs."""

from __future__ import annotations

from typing import Any

import pytest

from dirigent.errors import StoreError
from dirigent.store import map_redis_errors

_LEAKY = """
def send(writer):
    writer.writelines([b"PING"])
"""


def _from(filename: str) -> Any:
    scope: dict[str, Any] = {}
    exec(compile(_LEAKY, filename, "exec"), scope)
    return scope["send"]


def test_an_error_from_redis_py_transport_code_is_a_transient_fault() -> None:
    send = _from("/venv/lib/python3.11/site-packages/redis/asyncio/connection.py")
    with (
        pytest.raises(StoreError, match="connection broke") as caught,
        map_redis_errors("saga store write failed on partition 2"),
    ):
        send(None)  # AttributeError: 'NoneType' object has no attribute 'writelines'
    assert caught.value.retryable is True
    assert isinstance(caught.value.__cause__, AttributeError)


def test_the_same_error_from_our_code_is_raised_as_it_is() -> None:
    send = _from("/work/platform/dirigent/store/saga_store.py")
    with pytest.raises(AttributeError), map_redis_errors("anything"):
        send(None)
