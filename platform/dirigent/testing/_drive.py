"""Drive one case of the compensation check: succeed everything, fail one step."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from dirigent.events import Event
from dirigent.saga import Command, Decision, SagaDefinition, StepStatus
from dirigent.testing._outcome import Outcome
from dirigent.testing.harness import SagaHarness

__all__ = ["Case", "Replies", "ScriptedReply", "failable", "run_case"]

ScriptedReply = Event | Callable[[Event], Event]
"""A reply: an event, or a function from the command event it answers to the reply."""

_MAX_MOVES = 10_000


def failable(definition: SagaDefinition) -> list[str]:
    """The steps the check fails in turn: all but initiating ones (done at the start)."""
    return [name for name, step in definition.steps.items() if not step.initiating]


@dataclass(frozen=True, slots=True)
class Replies:
    """The three reply maps of a check, keyed by step name."""

    success: Mapping[str, ScriptedReply]
    compensation: Mapping[str, ScriptedReply]
    failure: Mapping[str, ScriptedReply]

    @classmethod
    def of(
        cls,
        definition: SagaDefinition,
        success: Mapping[str, ScriptedReply],
        compensation: Mapping[str, ScriptedReply],
        failure: Mapping[str, ScriptedReply] | None,
    ) -> Replies:
        """The maps, after checking that every key names a step that can take such a reply."""
        steps = definition.steps
        for what, given, allowed in (
            ("success_replies", success, failable(definition)),
            ("compensation_replies", compensation, [n for n, s in steps.items() if s.undoable]),
            ("failure_replies", failure or {}, [n for n, s in steps.items() if s.failure]),
        ):
            wrong = [name for name in given if name not in allowed]
            if wrong:
                raise ValueError(
                    f"{what} of saga {definition.name!r}: {', '.join(map(repr, wrong))} "
                    f"names no step that takes one (those that do: {', '.join(allowed)})"
                )
        return cls(success, compensation, failure or {})


@dataclass(frozen=True, slots=True)
class Case:
    how: str
    outcome: Outcome
    reason: str | None


def run_case(
    definition: SagaDefinition, start_event: Event, failing: str, replies: Replies
) -> Case:
    """Start the saga and answer everything until it settles, failing ``failing``."""
    h = SagaHarness(definition)
    h.start(start_event)
    moves = 0
    while not h.status.settled and moves < _MAX_MOVES and _move(h, failing, replies):
        moves += 1
    outcome = Outcome(h.status, *h.compensations())
    reason = h.reason
    if moves == _MAX_MOVES:
        reason = f"not settled after {_MAX_MOVES} moves (unbounded retries?); {reason}"
    return Case(_how(h, failing, replies), outcome, reason)


def _how(h: SagaHarness, failing: str, replies: Replies) -> str:
    if h.step_status(failing) is StepStatus.SKIPPED:
        return "skipped (when=)"
    failure = replies.failure.get(failing)
    if failure is None:
        return "timeout"
    return f"reply {failure.event_type}" if isinstance(failure, Event) else "scripted reply"


def _move(h: SagaHarness, failing: str, replies: Replies) -> bool:
    """One move: answer what others await, then fail ``failing``, else let time pass.

    ``False``: nothing is awaited and no timer is pending, so the saga is stuck.
    """
    commands = sorted(h.awaiting(), key=lambda c: c.step == failing)  # siblings first
    waits = [name for name in h.waiting() if name != failing]
    if commands and (commands[0].step != failing or commands[0].phase == "compensation"):
        _answer(h, commands[0], replies, fail=False)
    elif waits:
        _check(waits[0], "success", h.deliver(_wait_event(replies, waits[0])))
    elif commands and failing in replies.failure:
        _answer(h, commands[0], replies, fail=True)
    else:  # failing by silence: its timeout comes next
        return h.fire_next_timer() is not None
    if h.step_status(failing) is StepStatus.SUCCEEDED:
        raise AssertionError(f"step {failing!r} succeeded while the check was failing it")
    return True


def _answer(h: SagaHarness, command: Command, replies: Replies, *, fail: bool) -> None:
    if command.phase == "compensation":
        what, given = "compensation", replies.compensation
    else:
        what, given = ("failure", replies.failure) if fail else ("success", replies.success)
    if command.step not in given:
        raise ValueError(f"no {what} reply given for step {command.step!r}")
    reply = given[command.step]
    event = reply if isinstance(reply, Event) else reply(command.event)
    _check(command.step, what, h.reply_to(command, event))


def _wait_event(replies: Replies, step: str) -> Event:
    reply = replies.success.get(step)
    if not isinstance(reply, Event):
        raise ValueError(f"step {step!r} waits for an event: give that event as its success reply")
    return reply


def _check(step: str, what: str, decision: Decision) -> None:
    if not decision.applied:
        raise ValueError(
            f"the {what} reply given for step {step!r} was ignored: {decision.ignored}"
        )
