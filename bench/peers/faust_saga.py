"""The faust peer's saga, as plain functions: state in, (state, messages to send) out.

What a Python user writes by hand without dirigent: a saga record kept in a faust Table,
one command per step, the reply moves it on. The agents in ``faust_app`` only do the
I/O around these functions. Every message is a JSON object; commands and the final
``done`` event carry ``decided_ms`` (when the orchestrator applied the reply that caused
them) and ``after`` (that reply's step), which is how the driver measures step latency
the way ``bench/`` does: command produced -> reply applied.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

__all__ = [
    "DOMAINS",
    "REPLY_OF",
    "STEPS",
    "Outgoing",
    "Saga",
    "on_reply",
    "start",
]

STEPS = ("reserve", "pay", "approve")
DOMAINS = ("inventory", "payments", "orders")
_DOMAIN_OF_STEP = dict(zip(STEPS, DOMAINS, strict=True))
_COMMAND_OF_STEP = {"reserve": "ReserveStock", "pay": "AuthorizePayment",
                    "approve": "ApproveOrder"}  # fmt: skip
# What a participant answers to each command when it succeeds (the benchmark's case).
REPLY_OF = {"ReserveStock": "StockReserved", "AuthorizePayment": "PaymentAuthorized",
            "ApproveOrder": "OrderApproved", "ReleaseStock": "StockReleased"}  # fmt: skip


@dataclass(frozen=True)
class Saga:
    """One order's saga as stored in the table (JSON-serialisable via ``to_json``)."""

    order_id: str
    customer_id: str
    amount_cents: int
    currency: str
    items: tuple[tuple[str, int], ...]
    step: str  # the step whose reply is awaited; "release" while compensating
    status: str = "RUNNING"  # RUNNING, COMPLETED, COMPENSATING, COMPENSATED

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Saga:
        items = tuple((str(sku), int(qty)) for sku, qty in d["items"])
        return cls(d["order_id"], d["customer_id"], int(d["amount_cents"]), d["currency"],
                   items, d["step"], d["status"])  # fmt: skip


@dataclass(frozen=True)
class Outgoing:
    """A message to send: to ``<prefix>-<domain>.commands``, or to the done topic."""

    domain: str | None  # None: the saga's outcome, for whoever waits on it
    value: dict[str, Any]


def start(order: dict[str, Any], now_ms: float) -> tuple[Saga, Outgoing]:
    """An ``OrderPlaced`` event opens a saga and sends its first command."""
    items = tuple((str(i["sku"]), int(i["quantity"])) for i in order["items"])
    saga = Saga(order["order_id"], order["customer_id"], int(order["amount_cents"]),
                order["currency"], items, step=STEPS[0])  # fmt: skip
    return saga, _command(saga, saga.step, None, now_ms)


def on_reply(
    saga: Saga | None, reply: dict[str, Any], now_ms: float
) -> tuple[Saga | None, list[Outgoing]]:
    """Apply a participant's reply; a reply the saga does not wait for changes nothing.

    A reply to the step before the current one is a redelivery after a restart (faust is
    at-least-once and the table's changelog may be ahead of the committed offsets): the
    current command is sent again, since it may not have reached the broker.
    """
    if saga is None or saga.status not in ("RUNNING", "COMPENSATING"):
        return saga, []
    step = reply.get("step")
    if step != saga.step:
        if saga.status == "RUNNING" and _is_previous(step, saga.step):
            return saga, [_command(saga, saga.step, None, now_ms)]
        return saga, []
    if saga.status == "COMPENSATING":  # the release was acknowledged
        done = replace(saga, status="COMPENSATED")
        return done, [_done(done, step, now_ms)]
    if not reply.get("ok", False):
        if step == "reserve":  # nothing was reserved: nothing to undo
            failed = replace(saga, status="COMPENSATED")
            return failed, [_done(failed, step, now_ms)]
        # the pivot (pay) failed: undo the reservation. Approve is retried by its
        # participant until it succeeds, so it never answers ok=False.
        undoing = replace(saga, step="release", status="COMPENSATING")
        return undoing, [_command(undoing, "release", step, now_ms)]
    index = STEPS.index(step)
    if index + 1 == len(STEPS):
        done = replace(saga, status="COMPLETED")
        return done, [_done(done, step, now_ms)]
    moved = replace(saga, step=STEPS[index + 1])
    return moved, [_command(moved, moved.step, step, now_ms)]


def _is_previous(step: object, current: str) -> bool:
    return isinstance(step, str) and step in STEPS and current in STEPS and (
        STEPS.index(step) + 1 == STEPS.index(current)
    )  # fmt: skip


def _command(saga: Saga, step: str, after: str | None, now_ms: float) -> Outgoing:
    base: dict[str, Any] = {"order_id": saga.order_id, "step": step, "after": after,
                            "decided_ms": now_ms}  # fmt: skip
    if step == "release":
        return Outgoing("inventory", {"type": "ReleaseStock", **base})
    extra: dict[str, Any] = {}
    if step == "reserve":
        extra = {"items": [{"sku": s, "quantity": q} for s, q in saga.items]}
    elif step == "pay":
        extra = {"customer_id": saga.customer_id, "amount_cents": saga.amount_cents,
                 "currency": saga.currency}  # fmt: skip
    return Outgoing(_DOMAIN_OF_STEP[step], {"type": _COMMAND_OF_STEP[step], **base, **extra})


def _done(saga: Saga, after: str, now_ms: float) -> Outgoing:
    return Outgoing(None, {"order_id": saga.order_id, "status": saga.status, "after": after,
                           "decided_ms": now_ms})  # fmt: skip
