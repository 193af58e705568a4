"""The store's Redis error mapper: which faults are worth retrying, and what they say."""

from __future__ import annotations

import asyncio

import pytest
from redis import exceptions as rx

from dirigent.errors import StoreError
from dirigent.store import map_redis_errors
from dirigent.store._errors import translate_redis_error

TRANSIENT = [
    rx.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused."),
    rx.TimeoutError("Timeout reading from socket"),
    rx.BusyLoadingError("Redis is loading the dataset in memory"),
    rx.TryAgainError("Multiple keys request during rehashing of slot"),
    rx.ClusterDownError("The cluster is down"),
    rx.MasterDownError("Link with MASTER is down and replica-serve-stale-data is set to 'no'."),
    rx.ReadOnlyError("You can't write against a read only replica."),
    rx.NoScriptError("No matching script. Please use EVAL."),
    rx.MaxConnectionsError("Too many connections"),
    ConnectionResetError(104, "Connection reset by peer"),
    OSError(113, "No route to host"),
    TimeoutError(),  # also asyncio.TimeoutError since 3.11
]
PERMANENT_AUTH = [
    rx.AuthenticationError("invalid username-password pair or user is disabled."),
    rx.AuthenticationError("Authentication required."),
    rx.AuthorizationError("NOPERM this user has no permissions to access one of the keys"),
    rx.NoPermissionError("this user has no permissions to run the 'incr' command"),
    rx.ResponseError("WRONGPASS invalid username-password pair"),
    rx.ResponseError("NOAUTH Authentication required."),
    rx.ResponseError("Error running script (call to f_1a2b): @user_script:14: NOPERM ..."),
]
PERMANENT_BUG = [
    rx.ResponseError("WRONGTYPE Operation against a key holding the wrong kind of value"),
    rx.ResponseError("Error running script: @user_script:3: user_script:3: attempt to call nil"),
    rx.DataError("Invalid input of type: 'dict'. Convert to a bytes, string, int or float first."),
    rx.ClusterCrossSlotError("Keys in request don't hash to the same slot"),
]


@pytest.mark.parametrize("exc", TRANSIENT, ids=lambda e: type(e).__name__)
def test_transient_faults_are_retryable(exc: BaseException) -> None:
    error = translate_redis_error("cannot fence partition 3", exc)
    assert type(error) is StoreError
    assert error.retryable is True
    assert str(error).startswith("cannot fence partition 3: Redis unavailable")


@pytest.mark.parametrize("exc", PERMANENT_AUTH, ids=lambda e: f"{type(e).__name__}:{e}"[:40])
def test_credential_faults_are_permanent_and_name_the_setting(exc: BaseException) -> None:
    error = translate_redis_error("cannot fence partition 3", exc)
    assert error.retryable is False
    assert "DIRIGENT_REDIS_URL" in str(error)
    assert str(exc) in str(error)


@pytest.mark.parametrize("exc", PERMANENT_BUG, ids=lambda e: type(e).__name__)
def test_other_refusals_are_permanent(exc: BaseException) -> None:
    error = translate_redis_error("saga store write failed", exc)
    assert error.retryable is False
    assert "DIRIGENT_REDIS_URL" not in str(error)
    assert str(exc) in str(error)


async def test_the_mapper_raises_store_error_from_the_cause() -> None:
    cause = rx.ConnectionError("gone")
    with (
        pytest.raises(StoreError, match="reading: Redis unavailable") as caught,
        map_redis_errors("reading"),
    ):
        raise cause
    assert caught.value.__cause__ is cause


@pytest.mark.parametrize("exc", [ValueError("bug"), asyncio.CancelledError()])
def test_the_mapper_lets_everything_else_through(exc: BaseException) -> None:
    with pytest.raises(type(exc)), map_redis_errors("reading"):
        raise exc


def test_the_mapper_is_silent_when_nothing_fails() -> None:
    with map_redis_errors("reading"):
        value = 1
    assert value == 1
