"""Step outcomes as the engine's transitions reveal them."""

from __future__ import annotations

from datetime import UTC, datetime

from dirigent.events import SagaTransition
from dirigent.watch import OutcomeKind, OutcomeReader


def tr(at: float, frm: str | None, to: str, step: str | None, cause: str,
       commands: tuple[str, ...] = (), reason: str | None = None) -> SagaTransition:  # fmt: skip
    return SagaTransition(
        saga_id="s1", saga_type="order", from_status=frm, to_status=to, step=step,
        message_id="m", version=1, timestamp=datetime.fromtimestamp(at, UTC), reason=reason,
        coordinator_id="c", partition=0, cause=cause, commands=list(commands),
    )  # fmt: skip


def test_a_reply_gives_a_success_with_the_latency_since_its_command() -> None:
    r = OutcomeReader()
    assert r.read(tr(100.0, None, "RUNNING", None, "start", ("pay/forward#1 Pay (c1)",))) == []
    [o] = r.read(tr(100.5, "RUNNING", "COMPLETED", "pay", "reply:PaymentAuthorized",
                    reason="step 'pay' succeeded"))  # fmt: skip
    assert (o.step, o.kind, o.latency_s) == ("pay", OutcomeKind.SUCCESS, 0.5)


def test_a_failed_attempt_that_retries_is_a_failure_and_a_declined_step_compensates() -> None:
    r = OutcomeReader()
    [retry] = r.read(tr(1.0, "RUNNING", "RUNNING", "pay", "reply:PaymentDeclined",
                        reason="step 'pay' attempt 1 failed: card declined"))  # fmt: skip
    assert retry.kind is OutcomeKind.FAILURE
    declined = tr(2.0, "RUNNING", "COMPENSATING", "pay", "reply:PaymentDeclined",
                  reason="step 'pay' failed")  # fmt: skip
    kinds = [o.kind for o in r.read(declined)]
    assert kinds == [OutcomeKind.FAILURE, OutcomeKind.COMPENSATION]


def test_a_step_timeout_is_a_timeout_and_compensation_replies_are_not_forward_outcomes() -> None:
    r = OutcomeReader()
    [o, _] = r.read(tr(5.0, "RUNNING", "COMPENSATING", "ship", "timer:step_timeout"))
    assert o.kind is OutcomeKind.TIMEOUT
    assert r.read(tr(6.0, "COMPENSATING", "COMPENSATED", "pay", "reply:PaymentVoided")) == []
