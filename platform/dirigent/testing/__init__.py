"""Test sagas in-process: the real engine, an in-memory store and a virtual clock.

Example::

    from dirigent.testing import Outcome, SagaHarness, assert_compensates_every_step, like

    h = SagaHarness(order_fulfilment)
    h.start(OrderPlaced(order_id="o-1", ...))
    h.expect_command(like(ReserveStock, order_id="o-1"))
    h.reply(StockReserved(order_id="o-1", reservation_id="r-1"))
    h.advance(seconds=30)

A newcomer's guide: ``docs/saga-testing.md``.
"""

from dirigent.testing.compensation import (
    CompensationCase,
    CompensationReport,
    Outcome,
    ScriptedReply,
    assert_compensates_every_step,
    check_compensations,
)
from dirigent.testing.harness import SagaHarness
from dirigent.testing.matchers import CommandPattern, Like, like
from dirigent.testing.store import InMemorySagaStore, VirtualClock

__all__ = [
    "CommandPattern",
    "CompensationCase",
    "CompensationReport",
    "InMemorySagaStore",
    "Like",
    "Outcome",
    "SagaHarness",
    "ScriptedReply",
    "VirtualClock",
    "assert_compensates_every_step",
    "check_compensations",
    "like",
]
