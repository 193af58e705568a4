"""``Service``: handle commands and events with idempotency, retries and dead letters."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from typing import Any, TypeVar

from prometheus_client import CollectorRegistry

from dirigent.errors import ConfigurationError, TransportError
from dirigent.events import AvroCodec, Event
from dirigent.events.envelope import EnvelopeLimits
from dirigent.observability import get_logger
from dirigent.observability.http import HealthServer
from dirigent.observability.tracing import Tracing
from dirigent.service._loop import Backoff, ConsumeLoop, permanent
from dirigent.service.context import HandlerContext
from dirigent.service.handlers import HandlerSpec, HandlerTable, Reply, handler_name
from dirigent.service.metrics import ServiceMetrics
from dirigent.service.processor import RecordProcessor
from dirigent.service.retry import HandlerRetry, check_handler_retry
from dirigent.service.settings import ServiceSettings
from dirigent.store.client import RedisClient
from dirigent.store.idempotency import IdempotencySettings, IdempotencyStore
from dirigent.transport import (
    BatchConsumer,
    ConsumerSettings,
    ProducerSettings,
    RawProducer,
    TopicSpec,
    dlt_topic,
    ensure_topics,
    missing_topics,
)
from dirigent.transport.security import Bootstrap

__all__ = ["Service"]

log = get_logger(__name__)

E = TypeVar("E", bound=Event)
Fn = Callable[[E, HandlerContext], Awaitable[Reply]]


class Service:
    """A participant service: consumes ``topics``, runs handlers, publishes replies.

    Example::

        service = Service("inventory", codec=codec, topics=["shop.inventory.commands"],
                          reply_topic="shop.inventory.events",
                          bootstrap="127.0.0.1:9092", redis=redis_client(url))

        @service.handles(ReserveStock)
        async def reserve(cmd: ReserveStock, ctx: HandlerContext) -> StockReserved:
            rid = await stock.reserve(cmd.items, idempotency_key=ctx.idempotency_key)
            return StockReserved(order_id=cmd.order_id, reservation_id=rid)

        await service.run(handle_signals=True)  # until SIGTERM/SIGINT or service.stop()

    ``redis`` is a ``redis.asyncio.Redis`` or ``RedisCluster``; build it with
    ``dirigent.store.redis_client(url)`` (``redis+cluster://`` gives a cluster client).
    ``tracing`` (``dirigent.observability.configure_tracing(settings)``) wraps each
    handler in a span under the command's ``traceparent``; off by default.
    """

    def __init__(
        self,
        name: str,
        *,
        codec: AvroCodec,
        topics: Sequence[str],
        reply_topic: str,
        bootstrap: Bootstrap,
        redis: RedisClient,
        group_id: str | None = None,
        retry: HandlerRetry | None = None,
        settings: ServiceSettings | None = None,
        idempotency: IdempotencySettings | None = None,
        producer_settings: ProducerSettings | None = None,
        consumer_settings: ConsumerSettings | None = None,
        registry: CollectorRegistry | None = None,
        tracing: Tracing | None = None,
    ) -> None:
        self.name = name
        self.codec = codec
        self.topics = list(topics)
        self.reply_topic = reply_topic
        self.bootstrap = bootstrap
        self.group_id = group_id or name
        self.default_retry = check_handler_retry(retry, f"Service({name!r})") or HandlerRetry()
        self.settings = settings or ServiceSettings()
        self.handlers = HandlerTable()
        self.metrics = ServiceMetrics(name, registry)
        self.idempotency = IdempotencyStore(redis, namespace=self.group_id, settings=idempotency)
        self.producer = RawProducer(bootstrap, settings=producer_settings)
        self._producer_settings = producer_settings
        self._consumer_settings = consumer_settings
        self.tracing = tracing or Tracing.off()  # configure_tracing(settings) turns it on
        self._stopping = asyncio.Event()
        self._started = False
        self._consuming = False  # for /readyz

    def handles(
        self, model: type[E], *, retry: HandlerRetry | None = None, reply_topic: str | None = None
    ) -> Callable[[Fn[E]], Fn[E]]:
        """Decorator form of ``add_handler``."""
        check_handler_retry(retry, f"{self.name}.handles({model.__qualname__})")

        def register(func: Fn[E]) -> Fn[E]:
            self.add_handler(model, func, retry=retry, reply_topic=reply_topic)
            return func

        return register

    def add_handler(
        self,
        model: type[E],
        func: Fn[E],
        *,
        retry: HandlerRetry | None = None,
        reply_topic: str | None = None,
    ) -> None:
        """Handle ``model`` (by its Avro type name) with ``func``; replies go to ``reply_topic``."""
        retry = check_handler_retry(retry, f"{self.name}.add_handler({model.__qualname__})")
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
            tracing=self.tracing,
        )

    async def run(self, *, handle_signals: bool = False) -> None:
        """Consume until ``stop()`` (or SIGTERM/SIGINT); drains and commits on the way out.

        Transient faults (broker or Redis down) are waited out; a permanent one
        (credentials, ACLs, a topic that does not exist) raises ``ConfigurationError``.
        """
        self._check_startable()
        with self._signals(handle_signals):
            async with self._served():
                consumer = await self._start()
                if consumer is None:
                    return  # stopped while starting
                try:
                    loop = ConsumeLoop(consumer, self.processor(), self.settings, self._stopping)
                    self._consuming = True
                    await loop.run()
                finally:
                    self._consuming = False
                    await _close(consumer.close(), "consumer")
                    await _close(self.producer.close(), "producer")

    @contextlib.asynccontextmanager
    async def _served(self) -> AsyncIterator[None]:
        """``/metrics``, ``/healthz`` and ``/readyz`` while running, if ``metrics_port``."""
        if self.settings.metrics_port is None:
            yield
            return
        server = HealthServer(self.metrics.registry, host=self.settings.metrics_host,
                              port=self.settings.metrics_port,
                              live=lambda: not self._stopping.is_set(),
                              ready=lambda: self._consuming)  # fmt: skip
        await server.start()
        try:
            yield
        finally:
            await server.close()

    async def _start(self) -> BatchConsumer | None:
        """Topics checked, producer and consumer started; retried while transient."""
        backoff = Backoff(self.settings.infra_backoff_initial_s, self.settings.infra_backoff_max_s)
        while not self._stopping.is_set():
            consumer = BatchConsumer(
                self.bootstrap,
                self.topics,
                group_id=self.group_id,
                settings=self._consumer_settings,
            )
            try:
                await self._check_topics()
                await self.producer.start()
                await consumer.start()
                return consumer
            except TransportError as exc:
                await _close(consumer.close(), "consumer")
                await _close(self.producer.close(), "producer")
                self.producer = RawProducer(self.bootstrap, settings=self._producer_settings)
                if not exc.retryable:
                    raise permanent(exc, f"starting service {self.name}") from exc
                delay = backoff.next_delay_s()
                log.warning("service cannot start yet; retrying", delay_s=delay, error=repr(exc))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), delay)
        return None

    async def _check_topics(self) -> None:
        """DLT topics created; input and reply topics must exist (never auto-created)."""
        await self.ensure_dlt_topics()
        needed = [*self.topics, self.reply_topic, *self.handlers.reply_topics]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.settings.topic_wait_s
        while missing := await missing_topics(self.bootstrap, dict.fromkeys(needed)):
            if loop.time() >= deadline:
                raise ConfigurationError(
                    f"service {self.name}: topic(s) {', '.join(missing)} do not exist on "
                    f"{self.bootstrap} (waited {self.settings.topic_wait_s}s; dirigent never "
                    "relies on auto topic creation: create them first)"
                )
            log.warning("waiting for topics to be created", missing=missing)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), 1.0)
            if self._stopping.is_set():
                return

    def stop(self) -> None:
        """Ask ``run`` to finish the batch in flight, commit it and return."""
        self._stopping.set()

    async def ensure_dlt_topics(self) -> None:
        """Create ``<topic>.dlt`` for every input topic that has none yet."""
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


async def _close(closing: Awaitable[None], what: str) -> None:
    """Close a client on the way out; a broker that is gone cannot fail the shutdown."""
    try:
        await closing
    except TransportError as exc:
        log.warning(f"closing the {what} failed", error=repr(exc))
