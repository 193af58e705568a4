"""Property-based tests: any interleaving of replies, duplicates, timeouts and late
replies ends settled (COMPLETED, COMPENSATED, or FAILED/PARKED with a reason), leaks no
effect (every step that may have happened is compensated when the saga compensates),
compensates newest first, and is deterministic.

The participant is modelled as idempotent: every command id gets one outcome, and a
repeat of the id gets the same answer, as dirigent's ``Service`` does.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from dirigent.events import Event
from dirigent.saga import (
    Command,
    Decision,
    EventReceived,
    Input,
    RetryPolicy,
    SagaDefinition,
    SagaState,
    SagaStatus,
    StepKind,
    StepStatus,
    Timer,
    TimerFired,
    decide,
)
from tests.unit.saga.saga_fixtures import (
    Failed,
    Fatal,
    Ok,
    Started,
    UndoFailed,
    Undone,
    group_saga,
    linear_saga,
)

FORWARD_REPLIES: list[type[Event]] = [Ok, Failed, Fatal]
_UNDOING = (
    StepStatus.COMPENSATED,
    StepStatus.COMPENSATING,
    StepStatus.COMPENSATION_RETRY_WAIT,
    StepStatus.COMPENSATION_FAILED,
)
COMP_REPLIES: list[type[Event]] = [Undone, UndoFailed]


class SagaMachine(RuleBasedStateMachine):
    definition: SagaDefinition

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0
        self.inputs: list[tuple[Input, float]] = []
        self.decisions: list[Decision] = []
        self.state: SagaState | None = None
        self.sent: list[Command] = []
        self.timers: dict[str, Timer] = {}
        self.fired: list[Timer] = []
        self.succeeded: set[str] = set()
        self.ever_compensated: set[str] = set()
        self.answer: dict[str, type[Event]] = {}  # command id -> the participant's reply
        self.feed(EventReceived("start", Started(saga="s")))

    def feed(self, inp: Input) -> Decision:
        before = self.state
        d = decide(self.definition, before, inp, self.now)
        self.inputs.append((inp, self.now))
        self.decisions.append(d)
        if d.state is None:
            return d
        assert d.state.version == (before.version if before else 0) + 1
        assert d.transition is not None
        assert d.transition.to_status is d.state.status
        self.state = d.state
        self.sent.extend(d.commands)
        for tid in d.cancel_timers:
            self.timers.pop(tid, None)
        self.timers.update({t.timer_id: t for t in d.timers})
        for name, s in d.state.steps.items():
            if s.status is StepStatus.SUCCEEDED:
                self.succeeded.add(name)
        return d

    # -- rules ----------------------------------------------------------------------------

    @rule(data=st.data())
    def reply(self, data: st.DataObject) -> None:
        """Reply to any command ever sent: current ones, or stale ones (late replies)."""
        cmd = data.draw(st.sampled_from(self.sent))
        kinds = COMP_REPLIES if cmd.phase == "compensation" else FORWARD_REPLIES
        kind = self.answer.setdefault(cmd.command_id, data.draw(st.sampled_from(kinds)))
        d = self.feed(EventReceived(f"m{len(self.inputs)}", kind(saga="s"), cmd.command_id))
        if d.state is not None and kind is Ok and cmd.phase == "forward":
            self.succeeded.add(cmd.step)  # may turn COMPENSATING within the same decision

    @precondition(lambda self: len(self.inputs) > 1)
    @rule(data=st.data())
    def duplicate(self, data: st.DataObject) -> None:
        inp, _ = data.draw(st.sampled_from(self.inputs))
        self.feed(inp)

    @precondition(lambda self: bool(self.timers))
    @rule(data=st.data())
    def fire_timer(self, data: st.DataObject) -> None:
        """Any pending timer may fire (not only the earliest): stores race."""
        tid = data.draw(st.sampled_from(sorted(self.timers)))
        timer = self.timers.pop(tid)
        self.fired.append(timer)
        self.now = max(self.now, timer.due_at)
        self.feed(TimerFired(timer))

    @precondition(lambda self: bool(self.fired))
    @rule(data=st.data())
    def refire_stale_timer(self, data: st.DataObject) -> None:
        self.feed(TimerFired(data.draw(st.sampled_from(self.fired))))

    # -- invariants -----------------------------------------------------------------------

    @invariant()
    def compensated_steps_stay_compensated(self) -> None:
        """Once undone, a step stays undone (or is being undone again after a late success)."""
        assert self.state is not None
        queued = self.state.compensation_queue or ()
        again = set(queued[self.state.compensation_index :])
        for name in self.ever_compensated:
            st = self.state.step(name)
            assert st.status in _UNDOING or (name in again and st.status is StepStatus.SUCCEEDED)
        self.ever_compensated |= {
            n for n, s in self.state.steps.items() if s.status is StepStatus.COMPENSATED
        }

    @invariant()
    def compensations_only_for_steps_that_may_have_happened(self) -> None:
        forward = {c.step for c in self.sent if c.phase == "forward"}
        for c in self.sent:
            if c.phase == "compensation":
                assert c.step in forward
                assert self.definition.steps[c.step].kind is StepKind.COMPENSATABLE

    @invariant()
    def retries_after_a_timeout_reuse_the_command_id(self) -> None:
        """Only a definitive reply gives a step's next command a new id (a failure, or for
        an undo also a success: a forward success after it is undone again)."""
        last: dict[tuple[str, str], str] = {}
        for c in self.sent:
            key = (c.step, c.phase)
            before = last.get(key)
            if before is not None and before != c.command_id:
                definitive = (Failed, Fatal) if c.phase == "forward" else (Undone, UndoFailed)
                assert self.answer.get(before) in definitive, (key, before)
            last[key] = c.command_id

    @invariant()
    def state_round_trips_through_json(self) -> None:
        assert self.state is not None
        assert SagaState.from_json(self.state.to_json()) == self.state

    # -- quiescence -----------------------------------------------------------------------

    def teardown(self) -> None:
        for _ in range(1000):
            if not self.timers:
                break
            timer = min(self.timers.values(), key=lambda t: (t.due_at, t.timer_id))
            del self.timers[timer.timer_id]
            self.now = max(self.now, timer.due_at)
            self.feed(TimerFired(timer))
        state = self.state
        assert state is not None
        assert state.status.settled, f"not settled after timers ran out: {state}"
        assert self.timers == {}
        if state.status in (SagaStatus.FAILED, SagaStatus.PARKED):
            assert state.reason
        if state.status is SagaStatus.COMPLETED:
            assert all(s.status is StepStatus.SUCCEEDED for s in state.steps.values())
        self._check_no_leaks(state)
        self._check_compensation_order(state)
        self._check_determinism()

    def _may_have_happened(self, step: str) -> bool:
        """A forward command of ``step`` was applied, or has had no answer yet."""
        ids = {c.command_id for c in self.sent if c.step == step and c.phase == "forward"}
        return any(self.answer.get(i, Ok) is Ok for i in ids)

    def _check_no_leaks(self, state: SagaState) -> None:
        if state.status is not SagaStatus.COMPENSATED:
            return
        for name, step in self.definition.steps.items():
            if step.kind is StepKind.COMPENSATABLE and self._may_have_happened(name):
                assert state.step(name).status is StepStatus.COMPENSATED, (name, state)

    def _check_compensation_order(self, state: SagaState) -> None:
        done = list(dict.fromkeys(c.step for c in self.sent if c.phase == "compensation"))
        order = [s.name for unit in self.definition.units for s in unit]
        assert done == [n for n in reversed(order) if n in done]
        if state.status in (SagaStatus.COMPLETED, SagaStatus.FAILED):
            assert done == []

    def _check_determinism(self) -> None:
        state: SagaState | None = None
        for (inp, now), original in zip(self.inputs, self.decisions, strict=True):
            again = decide(self.definition, state, inp, now)
            assert again == original
            state = again.state if again.state is not None else state


class LinearSagaMachine(SagaMachine):
    definition = linear_saga(attempts=2, deadline_s=25)


class GroupSagaMachine(SagaMachine):
    definition = group_saga(attempts=2)


_settings: Any = settings(
    max_examples=150,
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestLinearSaga = LinearSagaMachine.TestCase
TestLinearSaga.settings = _settings
TestGroupSaga = GroupSagaMachine.TestCase
TestGroupSaga.settings = _settings


@given(
    attempt=st.integers(1, 80),
    fraction=st.floats(0, 1, exclude_max=True),
    base=st.floats(0, 10),
    extra=st.floats(0, 100),
)
def test_backoff_is_full_jitter_under_the_cap(
    attempt: int, fraction: float, base: float, extra: float
) -> None:
    policy = RetryPolicy(max_attempts=100, backoff_base_s=base, backoff_cap_s=base + extra)
    delay = policy.delay_s(attempt, fraction)
    assert 0 <= delay <= min(base + extra, base * 2.0 ** (attempt - 1))
