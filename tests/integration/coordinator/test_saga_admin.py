"""Operator actions through the coordinator: resume a parked saga, refuse what the state
does not allow, audit both, and show them in the saga's history."""

from __future__ import annotations

import asyncio

from click.testing import CliRunner

from dirigent.cli import main
from dirigent.coordinator import Coordinator
from dirigent.events import Event
from dirigent.ops.saga_admin import request_action
from dirigent.ops.saga_history import saga_history
from dirigent.saga import AdminAction, SagaStatus
from sagas.contracts.shop import AuthorizePayment
from tests.integration.coordinator.test_coordinator_e2e import (
    SILENT_AMOUNT,
    Shop,
    config,
    order,
    place,
    reply_to,
    shop,  # noqa: F401 - fixture
    wait_terminal,
)
from tests.support.responder import Responder


async def test_a_parked_saga_is_resumed_by_an_operator_and_completes_consistently(
    shop: Shop,  # noqa: F811
    uid: str,
) -> None:
    payments_up = False

    def rule(command: Event) -> Event | None:
        if isinstance(command, AuthorizePayment) and not payments_up:
            return None  # the payment service is down: the pivot times out, the saga parks
        return reply_to(command)

    cfg = config(shop, uid)
    coordinator = Coordinator([shop.saga], settings=shop.settings, config=cfg)
    async with Responder(shop.settings.kafka_bootstrap, sorted(shop.saga.command_topics),
                         shop.codec, rule, group=f"resp-{uid}") as responder:  # fmt: skip
        task = asyncio.create_task(coordinator.run())
        await place(shop, [order(1, amount=SILENT_AMOUNT + 1)])
        counts = await wait_terminal(coordinator, 1)
        assert counts[SagaStatus.PARKED] == 1
        bootstrap = shop.settings.kafka_bootstrap

        refused = await request_action(bootstrap, cfg.group_id, "o1", AdminAction.RETRY,
                                       who="ops", why="try", step="approve")  # fmt: skip
        assert refused.answered
        assert not refused.applied
        assert "retry refused: step 'approve' is PENDING" in refused.detail

        payments_up = True
        resumed = await request_action(bootstrap, cfg.group_id, "o1", AdminAction.RESUME,
                                       who="ops", why="payments is back")  # fmt: skip
        assert resumed.applied, resumed.detail
        async with asyncio.timeout(30):
            while (await wait_terminal(coordinator, 1))[SagaStatus.COMPLETED] < 1:
                await asyncio.sleep(0.1)
        coordinator.stop()
        await task

    auths = [mid for mid, c in responder.ledger if isinstance(c, AuthorizePayment)]
    assert len(auths) == 2
    assert len(set(auths)) == 1  # the re-send carried the same command id: one effect

    history = await saga_history(bootstrap, "o1", transitions_topic=cfg.transitions_topic,
                                 audit_topic=cfg.audit_topic)  # fmt: skip
    changes = [(e.kind, e.what) for e in history]
    assert ("transition", "RUNNING -> PARKED") in changes
    assert ("operator", "saga.retry refused") in changes
    assert ("operator", "saga.resume applied") in changes
    assert changes[-1] == ("transition", "RUNNING -> COMPLETED")
    resume = next(e for e in history if e.cause == "admin:resume")
    assert resume.what == "PARKED -> RUNNING"
    assert resume.reason == "resume by ops: payments is back"
    assert len(resume.commands) == 1
    assert resume.commands[0].startswith("pay/forward#2 shop.payments.AuthorizePayment")


async def test_an_action_for_no_saga_is_refused_and_nothing_is_dead_lettered(
    shop: Shop,  # noqa: F811
    uid: str,
) -> None:
    cfg = config(shop, uid)
    coordinator = Coordinator([shop.saga], settings=shop.settings, config=cfg)
    task = asyncio.create_task(coordinator.run())
    await coordinator.started.wait()
    outcome = await request_action(shop.settings.kafka_bootstrap, cfg.group_id, "ghost",
                                   AdminAction.ABORT, who="ops", why="cleanup")  # fmt: skip
    cli = await asyncio.to_thread(
        CliRunner().invoke, main,
        ["saga", "abort", "ghost", "--group-id", cfg.group_id, "--why", "cleanup"],
        env={"DIRIGENT_KAFKA_BOOTSTRAP": shop.settings.kafka_bootstrap},
    )  # fmt: skip
    coordinator.stop()
    await task
    assert cli.exit_code == 1, cli.output  # refused
    assert "ghost: abort REFUSED: abort refused: no saga 'ghost' here" in cli.output
    assert outcome.answered
    assert not outcome.applied
    assert outcome.detail == "abort refused: no saga 'ghost' here"
    assert coordinator.metrics.dead_letters._metrics == {}
