"""hiredis packing writes the very bytes redis-py's own packer writes."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from redis.asyncio.connection import Connection
from redis.exceptions import DataError

from dirigent.store._packing import CPackedConnection

ARGS = st.lists(
    st.text() | st.binary() | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False),
    max_size=30,
)  # fmt: skip


@given(name=st.sampled_from(["EVALSHA", b"XADD", "SCRIPT LOAD", b"CLIENT SETNAME"]), args=ARGS)
def test_the_same_bytes_as_redis_py(name: Any, args: list[Any]) -> None:
    ours, theirs = CPackedConnection(), Connection()
    assert b"".join(ours.pack_command(name, *args)) == b"".join(theirs.pack_command(name, *args))


def test_buffers_are_packed_and_a_bool_is_refused_as_redis_py_does() -> None:
    ours, theirs = CPackedConnection(), Connection()
    for arg in (bytearray(b"ab"), memoryview(b"cd")):
        assert b"".join(ours.pack_command("SET", "k", arg)) == b"".join(
            theirs.pack_command("SET", "k", arg)
        )
    with pytest.raises(DataError):
        ours.pack_command("SET", "k", True)
