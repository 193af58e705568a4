"""Saga definitions (DSL), saga state and the pure engine.

Example::

    from dirigent.saga import Compensation, Step, StepKind, define_saga, decide
    from dirigent.saga import initiating, parallel, wait_for, Migration
"""

from dirigent.saga._ids import DEADLINE_TIMER_SUFFIX
from dirigent.saga.decision import (
    AdminAction,
    AdminRequested,
    Command,
    Decision,
    EventReceived,
    Input,
    Phase,
    Timer,
    TimerFired,
    TimerKind,
    Transition,
)
from dirigent.saga.definition import SagaDefinition, define_saga
from dirigent.saga.discovery import discover_sagas
from dirigent.saga.engine import decide
from dirigent.saga.migration import Migration
from dirigent.saga.state import (
    SagaState,
    SagaStatus,
    SagaTrace,
    StepState,
    StepStatus,
    is_terminal,
)
from dirigent.saga.steps import (
    Compensation,
    OnTimeout,
    ParallelGroup,
    RetryPolicy,
    Step,
    StepKind,
    initiating,
    parallel,
    wait_for,
)
from dirigent.saga.versions import SagaCatalog

__all__ = [
    "DEADLINE_TIMER_SUFFIX",
    "AdminAction",
    "AdminRequested",
    "Command",
    "Compensation",
    "Decision",
    "EventReceived",
    "Input",
    "Migration",
    "OnTimeout",
    "ParallelGroup",
    "Phase",
    "RetryPolicy",
    "SagaCatalog",
    "SagaDefinition",
    "SagaState",
    "SagaStatus",
    "SagaTrace",
    "Step",
    "StepKind",
    "StepState",
    "StepStatus",
    "Timer",
    "TimerFired",
    "TimerKind",
    "Transition",
    "decide",
    "define_saga",
    "discover_sagas",
    "initiating",
    "is_terminal",
    "parallel",
    "wait_for",
]
