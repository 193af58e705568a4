"""Matching sent commands: by full value, by type, by ``like(Type, field=...)``."""

from __future__ import annotations

import pytest

from dirigent.events import Event
from dirigent.testing import SagaHarness, like
from tests.unit.saga.saga_fixtures import Cmd, Ok, Started, group_saga


def _started() -> SagaHarness:
    h = SagaHarness(group_saga())  # a, then x | y | z
    h.start(Started(saga="s"))
    return h


def _fanned_out() -> SagaHarness:
    """Step a answered: x, y and z sent, not yet checked."""
    h = _started()
    h.expect_command(like(Cmd, what="a"))
    h.reply(Ok(saga="s"))
    return h


def test_a_full_value_must_be_equal_and_the_differing_field_is_shown() -> None:
    h = _started()
    with pytest.raises(AssertionError) as info:
        h.expect_commands(Cmd(saga="s", what="zz"))
    assert str(info.value).splitlines() == [
        "commands differ: expected 1, sent 1",
        "  1. FAIL  expected Cmd(saga='s', what='zz')",
        "        sent     a/forward#1: Cmd(saga='s', what='a')",
        "        what: expected 'zz', sent 'a'",
    ]
    h.expect_no_commands()  # the failed expectation consumed what was sent


def test_an_event_class_matches_any_command_of_that_type_only() -> None:
    h = _fanned_out()
    h.expect_commands(Cmd, Cmd, Event)  # Event itself matches anything
    h.reply(Ok(saga="s"), step="x")
    h.expect_no_commands()
    h = _started()
    with pytest.raises(AssertionError, match="type: expected Ok, sent Cmd"):
        h.expect_commands(Ok)


def test_like_compares_the_type_and_the_named_fields_only() -> None:
    h = _fanned_out()
    commands = h.expect_commands(
        like(Cmd, what="x"), like(Cmd, saga="s", what="y"), like(Cmd, what="z")
    )
    assert [c.step for c in commands] == ["x", "y", "z"]
    h = _fanned_out()
    with pytest.raises(AssertionError) as info:
        h.expect_commands(like(Cmd, what="x"), like(Cmd, what="z"), like(Cmd, what="y"))
    text = str(info.value)
    assert "  1. ok    x/forward#1: Cmd(saga='s', what='x')" in text
    assert "  2. FAIL  expected like(Cmd, what='z')" in text
    assert "        what: expected 'z', sent 'y'" in text
    assert "saga:" not in text  # unnamed fields are not compared, so not reported


def test_like_refuses_a_field_the_type_does_not_have() -> None:
    with pytest.raises(TypeError, match=r"Cmd has no field 'colour' \(its fields: saga, what\)"):
        like(Cmd, colour="red")
    with pytest.raises(TypeError, match="takes an Event class first"):
        like(Cmd(saga="s", what="a"), what="a")  # type: ignore[arg-type]


def test_missing_and_extra_commands_are_shown_as_nothing() -> None:
    h = _fanned_out()
    with pytest.raises(AssertionError) as info:
        h.expect_commands(Cmd, Cmd)
    assert "commands differ: expected 2, sent 3" in str(info.value)
    assert "  3. FAIL  expected nothing\n        sent     z/forward#1:" in str(info.value)
    with pytest.raises(AssertionError, match=r"expected like\(Cmd\)\n        sent     nothing"):
        h.expect_commands(like(Cmd))


def test_expect_command_returns_the_one_command_sent() -> None:
    h = _started()
    command = h.expect_command(like(Cmd, what="a"))
    assert (command.step, command.attempt) == ("a", 1)
    h = _fanned_out()
    h.expect_commands(Cmd, Cmd, Cmd)
    h.reply(Ok(saga="s"), step="x")
    with pytest.raises(AssertionError, match="expected 1, sent 0"):
        h.expect_command(Cmd)
