"""The Create Order saga through the real coordinator, broker and Redis.

A scripted responder plays consumers, kitchen, vouchers, accounting and orders; the test
plays the restaurant: it publishes ``TicketAccepted`` as a plain business event (no saga
id, no causation id), keyed by restaurant on a partition other than the saga's, so the
coordinator must find the saga by the event's ``order_id`` and forward it home. One
order's voucher service is slow, so its TicketAccepted arrives before the saga waits for
it and is kept in the stored state until then.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from redis.asyncio import Redis

from dirigent.config import Settings
from dirigent.coordinator import Coordinator, CoordinatorSettings
from dirigent.coordinator.provision import provision_topics
from dirigent.events import Envelope, Event, SagaTransition, SchemaCatalog, SingleObjectCodec
from dirigent.ops import SagaView, find_saga, partition_for
from dirigent.saga import SagaDefinition, SagaStatus, StepStatus
from dirigent.transport import OutgoingRecord, RawProducer, delete_topics
from sagas.contracts import ftgo
from sagas.contracts.ftgo import (
    ApproveTicket,
    AuthorizeCard,
    CardAuthorized,
    CardDeclined,
    ConsumerVerified,
    CreateTicket,
    OrderCreated,
    OrderLineItem,
    RedeemVoucher,
    RejectTicket,
    RestoreVoucher,
    TicketAccepted,
    TicketApproved,
    TicketCreated,
    TicketRejected,
    VerifyConsumer,
    VoucherRedeemed,
    VoucherRestored,
)
from sagas.contracts.shop import ApproveOrder, OrderApproved, OrderRejected, RejectOrder
from sagas.create_order import build_create_order
from tests.support.bounded import bounded
from tests.support.infra import Infra
from tests.support.responder import Responder

PARTITIONS = 3
DECLINED = "insufficient funds"
READY_BY = datetime(2031, 5, 4, 19, 30, tzinfo=UTC)


@dataclass
class Participants:
    """Every service says yes, except accounting for orders whose id starts "declined",
    and the voucher service, silent the first time it sees an order in ``slow_vouchers``."""

    slow_vouchers: set[str] = field(default_factory=set)

    def __call__(self, command: Event) -> Event | None:
        oid = getattr(command, "order_id")  # noqa: B009 - every FTGO command names its order
        match command:
            case VerifyConsumer():
                return ConsumerVerified(order_id=oid)
            case CreateTicket():
                return TicketCreated(order_id=oid, ticket_id=f"t-{oid}")
            case RedeemVoucher() if oid in self.slow_vouchers:
                self.slow_vouchers.discard(oid)
                return None  # the step times out and re-sends the same command
            case RedeemVoucher():
                return VoucherRedeemed(order_id=oid, discount_cents=500)
            case AuthorizeCard() if oid.startswith("declined"):
                return CardDeclined(order_id=oid, reason=DECLINED)
            case AuthorizeCard():
                return CardAuthorized(order_id=oid, authorization_id=f"a-{oid}")
            case ApproveTicket():
                return TicketApproved(order_id=oid)
            case ApproveOrder():
                return OrderApproved(order_id=oid)
            case RestoreVoucher():
                return VoucherRestored(order_id=oid)
            case RejectTicket():
                return TicketRejected(order_id=oid)
            case RejectOrder():
                return OrderRejected(order_id=oid, reason=command.reason)
        return None


@dataclass
class Ftgo:
    """One running deployment: the saga on its own topics, coordinator and responder."""

    prefix: str
    saga: SagaDefinition
    codec: SingleObjectCodec
    settings: Settings
    group_id: str
    redis: Redis
    responder: Responder
    participants: Participants

    def order(self, oid: str, *, voucher: str | None = None) -> OrderCreated:
        return OrderCreated(
            order_id=oid,
            consumer_id="c-1",
            restaurant_id=self.restaurant_for(oid),
            line_items=[OrderLineItem(menu_item_id="pad-thai", quantity=2)],
            total_cents=2500,
            currency="EUR",
            voucher_code=voucher,
        )

    @staticmethod
    def restaurant_for(oid: str) -> str:
        """A restaurant id whose partition is not the order's: its events land elsewhere."""
        home = partition_for(oid, PARTITIONS)
        return next(r for i in range(100) if partition_for(r := f"r-{i}", PARTITIONS) != home)

    async def place(self, *orders: OrderCreated) -> None:
        records = []
        for o in orders:
            env = Envelope.new(
                type=o.event_type,
                source="orders",
                saga_id=o.order_id,
                schema_ref=self.codec.schema_ref(OrderCreated),
            )
            records.append(
                OutgoingRecord(
                    f"{self.prefix}orders.events",
                    self.codec.encode(o),
                    env.record_key,
                    tuple(env.to_headers()),
                )
            )
        async with RawProducer(self.settings.kafka_bootstrap) as producer:
            await producer.send_batch(records)

    async def restaurant_accepts(self, o: OrderCreated) -> int:
        """Publish TicketAccepted as the kitchen would; returns the partition it landed on."""
        event = TicketAccepted(
            order_id=o.order_id,
            restaurant_id=o.restaurant_id,
            ticket_id=f"t-{o.order_id}",
            ready_by=READY_BY,
        )
        env = Envelope.new(
            type=event.event_type,
            source="kitchen",
            schema_ref=self.codec.schema_ref(TicketAccepted),
        )
        headers = dict(env.to_headers())
        assert "dirigent-saga-id" not in headers  # a business event: no saga, no causation
        assert "dirigent-causation-id" not in headers
        partition = partition_for(o.restaurant_id, PARTITIONS)
        record = OutgoingRecord(
            f"{self.prefix}kitchen.events",
            self.codec.encode(event),
            o.restaurant_id.encode(),
            tuple(env.to_headers()),
            partition,
        )
        async with RawProducer(self.settings.kafka_bootstrap) as producer:
            await producer.send_batch([record])
        return partition

    async def saga_of(self, oid: str) -> SagaView | None:
        return await find_saga(self.redis, self.group_id, oid, partitions=PARTITIONS)

    async def until(
        self, oid: str, done: Callable[[SagaView], bool], timeout_s: float = 30
    ) -> SagaView:
        async with asyncio.timeout(timeout_s):
            while True:
                view = await self.saga_of(oid)
                if view is not None and done(view):
                    return view
                await asyncio.sleep(0.05)

    async def settled(self, oid: str) -> SagaView:
        return await self.until(oid, lambda v: v.state.status.settled)

    def sent_for(self, oid: str) -> list[Event]:
        """The commands the participants received for one order, in the order received."""
        return [c for _, c in self.responder.ledger if getattr(c, "order_id", None) == oid]


def _models() -> list[type[Event]]:
    contracts = [
        v
        for v in vars(ftgo).values()
        if isinstance(v, type) and issubclass(v, Event) and v.avro_schema
    ]
    return [*contracts, ApproveOrder, OrderApproved, RejectOrder, OrderRejected, SagaTransition]


@asynccontextmanager
async def deployed(
    infra: Infra, redis: Redis, uid: str, name: str, *, accept_timeout_s: float
) -> AsyncIterator[Ftgo]:
    prefix = f"co{uid}{name}-"
    saga = build_create_order(prefix=prefix, step_timeout_s=5.0, accept_timeout_s=accept_timeout_s)
    config = CoordinatorSettings(
        group_id=f"co-{uid}-{name}", transitions_topic=f"{prefix}transitions"
    )
    coordinator = Coordinator(
        [saga],
        settings=Settings(kafka_bootstrap=infra.kafka_bootstrap, redis_url=infra.redis_url),
        config=config,
    )
    created = await provision_topics(
        infra.kafka_bootstrap,
        coordinator.topology,
        partitions=PARTITIONS,
        transitions_topic=config.transitions_topic,
    )
    codec = SingleObjectCodec(SchemaCatalog(), models=_models())
    rule = Participants()
    try:
        async with Responder(
            infra.kafka_bootstrap,
            sorted(saga.command_topics),
            codec,
            rule,
            group=f"resp-{uid}-{name}",
        ) as responder:
            task = asyncio.create_task(coordinator.run())
            try:
                async with asyncio.timeout(30):
                    await coordinator.started.wait()
                yield Ftgo(
                    prefix,
                    saga,
                    codec,
                    coordinator.settings,
                    config.group_id,
                    redis,
                    responder,
                    rule,
                )
            finally:
                coordinator.stop()
                await bounded(task, 60, "the coordinator's stop")
    finally:
        await bounded(delete_topics(infra.kafka_bootstrap, created), 60, "deleting the topics")


async def test_an_order_with_a_voucher_completes_when_the_restaurant_accepts(
    infra: Infra, redis: Redis, uid: str
) -> None:
    async with deployed(infra, redis, uid, "happy", accept_timeout_s=30) as app:
        order = app.order("o-1", voucher="SPRING-5")
        await app.place(order)
        await app.until(
            "o-1", lambda v: v.state.step("ticket_accepted").status is StepStatus.RUNNING
        )
        landed = await app.restaurant_accepts(order)
        view = await app.settled("o-1")
        sent = app.sent_for("o-1")

    assert landed != view.partition  # routed by its order_id, not by where it landed
    assert view.state.status is SagaStatus.COMPLETED
    assert [type(c) for c in sent] == [
        VerifyConsumer,
        CreateTicket,
        RedeemVoucher,
        AuthorizeCard,
        ApproveTicket,
        ApproveOrder,
    ]
    assert (
        AuthorizeCard(order_id="o-1", consumer_id="c-1", amount_cents=2000, currency="EUR") in sent
    )
    data = view.state.data
    assert (data["ticket_id"], data["authorization_id"]) == ("t-o-1", "a-o-1")
    assert datetime.fromisoformat(data["ready_by"]) == READY_BY


async def test_a_ticket_accepted_before_the_wait_is_kept_in_the_store_until_it_is_reached(
    infra: Infra, redis: Redis, uid: str
) -> None:
    async with deployed(infra, redis, uid, "early", accept_timeout_s=30) as app:
        order = app.order("o-4", voucher="SPRING-5")
        app.participants.slow_vouchers.add("o-4")
        await app.place(order)
        await app.until(
            "o-4", lambda v: v.state.step("redeem_voucher").status is StepStatus.RUNNING
        )
        await app.restaurant_accepts(order)  # the voucher service has not answered yet
        kept = await app.until("o-4", lambda v: "ticket_accepted" in v.state.early)
        view = await app.settled("o-4")
        ledger = [(mid, c) for mid, c in app.responder.ledger if isinstance(c, RedeemVoucher)]

    assert kept.state.step("ticket_accepted").status is StepStatus.PENDING
    assert view.state.status is SagaStatus.COMPLETED
    assert view.state.step("ticket_accepted").status is StepStatus.SUCCEEDED
    assert datetime.fromisoformat(view.state.data["ready_by"]) == READY_BY
    [(first, _), (again, _)] = ledger  # one silence, one re-send of the same command
    assert first == again


async def test_an_order_without_a_voucher_skips_the_voucher_step(
    infra: Infra, redis: Redis, uid: str
) -> None:
    async with deployed(infra, redis, uid, "plain", accept_timeout_s=30) as app:
        order = app.order("o-2")
        await app.place(order)
        waiting = await app.until(
            "o-2", lambda v: v.state.step("ticket_accepted").status is StepStatus.RUNNING
        )
        await app.restaurant_accepts(order)
        view = await app.settled("o-2")
        sent = app.sent_for("o-2")

    assert waiting.state.step("redeem_voucher").status is StepStatus.SKIPPED
    assert view.state.status is SagaStatus.COMPLETED
    assert view.state.step("redeem_voucher").status is StepStatus.SKIPPED
    assert view.to_dict()["steps"]["redeem_voucher"]["status"] == "SKIPPED"
    assert [type(c) for c in sent] == [
        VerifyConsumer,
        CreateTicket,
        AuthorizeCard,
        ApproveTicket,
        ApproveOrder,
    ]
    assert (
        AuthorizeCard(order_id="o-2", consumer_id="c-1", amount_cents=2500, currency="EUR") in sent
    )


async def test_a_declined_card_rejects_the_ticket_then_the_order(
    infra: Infra, redis: Redis, uid: str
) -> None:
    async with deployed(infra, redis, uid, "declined", accept_timeout_s=30) as app:
        with_voucher = app.order("declined-1", voucher="SPRING-5")
        plain = app.order("declined-2")
        await app.place(with_voucher, plain)
        for o in (with_voucher, plain):
            await app.until(
                o.order_id, lambda v: v.state.step("ticket_accepted").status is StepStatus.RUNNING
            )
            await app.restaurant_accepts(o)
        views = [await app.settled(o.order_id) for o in (with_voucher, plain)]
        sent = {o.order_id: app.sent_for(o.order_id) for o in (with_voucher, plain)}

    for view in views:
        assert view.state.status is SagaStatus.COMPENSATED
        assert f"CardDeclined: {DECLINED}" in (view.state.reason or "")
    assert sent["declined-1"][4:] == [
        RestoreVoucher(order_id="declined-1", voucher_code="SPRING-5"),
        RejectTicket(order_id="declined-1", ticket_id="t-declined-1"),
        RejectOrder(order_id="declined-1", reason=DECLINED),
    ]
    assert sent["declined-2"][3:] == [
        RejectTicket(order_id="declined-2", ticket_id="t-declined-2"),
        RejectOrder(order_id="declined-2", reason=DECLINED),
    ]
    assert [type(c) for c in sent["declined-2"][:3]] == [
        VerifyConsumer,
        CreateTicket,
        AuthorizeCard,
    ]


async def test_an_order_the_restaurant_never_accepts_is_compensated(
    infra: Infra, redis: Redis, uid: str
) -> None:
    async with deployed(infra, redis, uid, "unaccepted", accept_timeout_s=2) as app:
        await app.place(app.order("o-3", voucher="SPRING-5"))
        view = await app.settled("o-3")
        sent = app.sent_for("o-3")

    assert view.state.status is SagaStatus.COMPENSATED
    assert view.state.step("ticket_accepted").status is StepStatus.FAILED
    assert "no ftgo.kitchen.TicketAccepted within 2" in (view.state.reason or "")
    assert sent == [
        VerifyConsumer(order_id="o-3", consumer_id="c-1", total_cents=2500),
        CreateTicket(
            order_id="o-3",
            restaurant_id=view.state.data["restaurant_id"],
            line_items=[ftgo.TicketLineItem(menu_item_id="pad-thai", quantity=2)],
        ),
        RedeemVoucher(order_id="o-3", consumer_id="c-1", voucher_code="SPRING-5"),
        RestoreVoucher(order_id="o-3", voucher_code="SPRING-5"),
        RejectTicket(order_id="o-3", ticket_id="t-o-3"),
        RejectOrder(order_id="o-3", reason="the order could not be completed"),
    ]
