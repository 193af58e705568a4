"""Definition versions in flight: side by side, migrated, or refused as stranded."""

from __future__ import annotations

from typing import Any

import pytest

from dirigent.errors import SagaDefinitionError, SagaVersionError
from dirigent.saga import (
    AdminAction,
    AdminRequested,
    EventReceived,
    Migration,
    SagaCatalog,
    SagaDefinition,
    SagaState,
    StepKind,
    StepStatus,
    TimerFired,
    TimerKind,
    decide,
    define_saga,
)
from dirigent.testing import SagaHarness
from tests.unit.saga.saga_fixtures import Ok, Started, step


def _v(version: int, charge: str, **kw: Any) -> SagaDefinition:
    steps = [step("a"), step(charge), step("p", StepKind.PIVOT)]
    return define_saga("pay", start=Started, saga_id="saga", version=version, steps=steps, **kw)


V1 = _v(1, "charge")
V2 = _v(2, "authorize", migrations=[Migration(from_version=1, renames={"charge": "authorize"})])
V2_BARE = _v(2, "authorize")


def _in_flight_on_v1() -> tuple[SagaState, str]:
    """A v1 instance whose ``charge`` command is out; returns it and the command id."""
    h = SagaHarness(V1)
    h.start(Started(saga="s1"))
    h.reply(Ok(saga="s1"))
    assert h.state.definition_version == 1
    cid = h.state.step("charge").command_id
    assert cid is not None
    return h.state, cid


def test_a_migrated_instance_takes_the_reply_to_its_old_step() -> None:
    state, cid = _in_flight_on_v1()
    d = decide(V2, state, EventReceived("m-9", Ok(saga="s1"), causation_id=cid), now=5.0)
    assert d.state is not None
    assert d.state.definition_version == 2
    assert d.state.step("authorize").status is StepStatus.SUCCEEDED
    assert "charge" not in d.state.steps
    assert [c.step for c in d.commands] == ["p"]


def test_the_old_steps_timeout_fires_on_the_renamed_step() -> None:
    state, _ = _in_flight_on_v1()
    timer = next(t for t in _timers_of(state) if t.step == "charge")
    d = decide(V2, state, TimerFired(timer), now=100.0)
    assert d.state is not None
    # Timed out: its outcome is unknown, so it is compensated first, under its new name.
    assert d.state.step("authorize").status is StepStatus.COMPENSATING
    assert d.state.compensation_queue == ("authorize", "a")
    assert [(c.step, c.phase) for c in d.commands] == [("authorize", "compensation")]


def _timers_of(state: SagaState) -> list[Any]:
    h = SagaHarness(V1)
    h.start(Started(saga=state.saga_id))
    h.reply(Ok(saga=state.saga_id))
    return [t for d in h.decisions for t in d.timers if t.kind is TimerKind.STEP_TIMEOUT]


def test_an_instance_no_definition_can_continue_is_refused_naming_the_step() -> None:
    state, cid = _in_flight_on_v1()
    with pytest.raises(SagaVersionError, match="no migration from it"):
        decide(V2_BARE, state, EventReceived("m", Ok(saga="s1"), causation_id=cid), now=1.0)
    renamed_in_place = _v(1, "authorize")
    with pytest.raises(SagaVersionError, match=r"version 1 has no step 'charge'"):
        decide(renamed_in_place, state, EventReceived("m", Ok(saga="s1"), causation_id=cid), 1.0)


def test_the_catalog_keeps_old_instances_on_their_version_when_it_is_loaded() -> None:
    state, _ = _in_flight_on_v1()
    side_by_side = SagaCatalog([V1, V2_BARE])
    assert side_by_side.for_state(state) is V1
    assert side_by_side.plan(state) == "stays on v1"
    assert side_by_side.newest["pay"] is V2_BARE  # new instances start on v2


def test_the_catalog_plans_migrations_and_names_stranded_instances() -> None:
    state, _ = _in_flight_on_v1()
    assert SagaCatalog([V2]).plan(state) == "migrates v1 -> v2"
    assert SagaCatalog([V1, V2]).plan(state) == "migrates v1 -> v2"  # declared intent wins
    stranded = SagaCatalog([V2_BARE]).plan(state)
    assert stranded.startswith("stranded:")
    assert "version 1" in stranded
    assert "'charge'" in SagaCatalog([_v(1, "authorize")]).plan(state)


def test_one_version_loaded_twice_is_an_error() -> None:
    with pytest.raises(SagaDefinitionError, match="'pay' version 1 is loaded twice"):
        SagaCatalog([V1, _v(1, "charge")])


@pytest.mark.parametrize(
    ("migrations", "message"),
    [
        ([Migration(from_version=2)], "from version 2 cannot lead to version 2"),
        ([Migration(from_version=1), Migration(from_version=1)], "two migrations from version 1"),
        ([Migration(from_version=1, renames={"charge": "nope"})], "'nope': migration renames"),
    ],
)
def test_a_bad_migration_fails_at_definition(migrations: list[Migration], message: str) -> None:
    with pytest.raises(SagaDefinitionError, match=message):
        _v(2, "authorize", migrations=migrations)


def test_the_state_keeps_its_version_and_early_events_through_json() -> None:
    state, _ = _in_flight_on_v1()
    from dataclasses import replace

    moved = replace(state, definition_version=3, early={"w": ("test.Ok", {"saga": "s1"})})
    back = SagaState.from_json(moved.to_json())
    assert back.definition_version == 3
    assert back.early == {"w": ("test.Ok", {"saga": "s1"})}
    legacy = SagaState.from_json(state.to_json().replace(b'"dv":1,', b""))
    assert legacy.definition_version == 1  # documents written before versions existed


def test_migrate_now_writes_the_instance_on_the_new_version_once() -> None:
    state, _ = _in_flight_on_v1()
    ask = AdminRequested("r-1", AdminAction.MIGRATE, "ops", "v2 is out")
    d = decide(V2, state, ask, now=3.0)
    assert d.state is not None
    assert d.state.definition_version == 2
    assert "authorize" in d.state.steps
    assert d.commands == ()  # nothing is re-sent: the step's command is still out
    assert d.transition is not None
    assert d.transition.reason == "migrated v1 -> v2 by ops: v2 is out"
    again = decide(V2, d.state, AdminRequested("r-2", AdminAction.MIGRATE, "ops", "again"), 4.0)
    assert again.ignored == "migrate refused: it runs on version 2, the newest, already"
