"""``Service``: handle commands and events with idempotency, retries and dead letters."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any, TypeVar

from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from dirigent.errors import ConfigurationError
from dirigent.events import AvroCodec, Event
from dirigent.events.envelope import EnvelopeLimits
from dirigent.service._loop import ConsumeLoop
from dirigent.service.context import HandlerContext
from dirigent.service.handlers import HandlerSpec, HandlerTable, Reply, handler_name
from dirigent.service.metrics import ServiceMetrics
from dirigent.service.processor import RecordProcessor
from dirigent.service.retry import RetryPolicy
from dirigent.service.settings import ServiceSettings
from dirigent.store.idempotency import IdempotencySettings, IdempotencyStore
from dirigent.transport import (
    BatchConsumer,
    ConsumerSettings,
    ProducerSettings,
    RawProducer,
    TopicSpec,
    dlt_topic,
    ensure_topics,
)

__all__ = ["Service"]

E = TypeVar("E", bound=Event)
Fn = Callable[[E, HandlerContext], Awaitable[Reply]]


class Service:
    """A participant service: consumes ``topics``, runs handlers, publishes replies.

    Example::

        service = Service("inventory", codec=codec, topics=["shop.inventory.commands"],
                          reply_topic="shop.inventory.events",
                          bootstrap="127.0.0.1:9092", redis=Redis.from_url(url))

        @service.handles(ReserveStock)
        async def reserve(cmd: ReserveStock, ctx: HandlerContext) -> StockReserved:
            rid = await stock.reserve(cmd.items, idempotency_key=ctx.idempotency_key)
            return StockReserved(order_id=cmd.order_id, reservation_id=rid)

        await service.run(handle_signals=True)  # until SIGTERM/SIGINT or service.stop()
    """

    def __init__(
        self,
        name: str,
        *,
        codec: AvroCodec,
        topics: Sequence[str],
        reply_topic: str,
        bootstrap: str,
        redis: Redis,
        group_id: str | None = None,
        retry: RetryPolicy | None = None,
        settings: ServiceSettings | None = None,
        idempotency: IdempotencySettings | None = None,
        producer_settings: ProducerSettings | None = None,
        consumer_settings: ConsumerSettings | None = None,
        registry: CollectorRegistry | None = None,
    ) -> None:
        self.name = name
        self.codec = codec
        self.topics = list(topics)
        self.reply_topic = reply_topic
        self.bootstrap = bootstrap
        self.group_id = group_id or name
        self.default_retry = retry or RetryPolicy()
        self.settings = settings or ServiceSettings()
        self.handlers = HandlerTable()
        self.metrics = ServiceMetrics(name, registry)
        self.idempotency = IdempotencyStore(redis, namespace=self.group_id, settings=idempotency)
        self.producer = RawProducer(bootstrap, settings=producer_settings)
        self._consumer_settings = consumer_settings
        self._stopping = asyncio.Event()
        self._started = False

    def handles(
        self, model: type[E], *, retry: RetryPolicy | None = None, reply_topic: str | None = None
    ) -> Callable[[Fn[E]], Fn[E]]:
        """Decorator form of ``add_handler``."""

        def register(func: Fn[E]) -> Fn[E]:
            self.add_handler(model, func, retry=retry, reply_topic=reply_topic)
            return func

        return register

    def add_handler(
        self,
        model: type[E],
        func: Fn[E],
        *,
        retry: RetryPolicy | None = None,
        reply_topic: str | None = None,
    ) -> None:
        """Handle ``model`` (by its Avro type name) with ``func``; replies go to ``reply_topic``."""
        self.handlers.add(
            HandlerSpec(
                model=model,
                func=func,
                name=handler_name(func),
                reply_topic=reply_topic or self.reply_topic,
                retry=retry or self.default_retry,
            )
        )

    def processor(self) -> RecordProcessor:
        """The record processor over this service's handlers, store and producer."""
        return RecordProcessor(
            handlers=self.handlers,
            codec=self.codec,
            idempotency=self.idempotency,
            producer=self.producer,
            metrics=self.metrics,
            group=self.group_id,
            source=self.name,
            limits=EnvelopeLimits(max_payload_bytes=self.settings.max_payload_bytes),
        )

    async def run(self, *, handle_signals: bool = False) -> None:
        """Consume until ``stop()`` (or SIGTERM/SIGINT); drains and commits on the way out."""
        self._check_startable()
        await self.ensure_dlt_topics()
        consumer = BatchConsumer(
            self.bootstrap, self.topics, group_id=self.group_id, settings=self._consumer_settings
        )
        async with self.producer, consumer:
            loop = ConsumeLoop(consumer, self.processor(), self.settings, self._stopping)
            with self._signals(handle_signals):
                await loop.run()

    def stop(self) -> None:
        """Ask ``run`` to finish the batch in flight, commit it and return."""
        self._stopping.set()

    async def ensure_dlt_topics(self) -> None:
        s = self.settings
        specs = [
            TopicSpec(dlt_topic(t), s.dlt_partitions, s.dlt_replication_factor) for t in self.topics
        ]
        await ensure_topics(self.bootstrap, specs)

    def _check_startable(self) -> None:
        if self._started:
            raise ConfigurationError(f"service {self.name} was already run; create a new one")
        if not len(self.handlers):
            raise ConfigurationError(f"service {self.name} has no handlers")
        self._started = True

    @contextlib.contextmanager
    def _signals(self, enabled: bool) -> Iterator[None]:
        loop: Any = asyncio.get_running_loop()
        sigs = (signal.SIGTERM, signal.SIGINT) if enabled else ()
        for sig in sigs:
            loop.add_signal_handler(sig, self.stop)
        try:
            yield
        finally:
            for sig in sigs:
                loop.remove_signal_handler(sig)
