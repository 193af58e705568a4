"""Serve a ``Service``'s handlers from a Faust agent, with the same guarantees.

The agent reads raw bytes and hands each record to the service's ``RecordProcessor``:
same envelope checks, idempotency store, retries, replies and dead letters as
``Service.run``. Faust acks (and later commits) a record only after ``process`` returned,
that is after its outcome is durable; if it raises (Redis or Kafka unreachable), the
agent fails and the record is redelivered.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import faust

from dirigent.errors import ConfigurationError
from dirigent.service import RecordProcessor, Service
from dirigent.transport import InboundRecord
from dirigent.transport.consumer import install_record_parser, make_inbound

__all__ = ["FaustBridge"]


class FaustBridge:
    """Attach a dirigent ``Service`` to a Faust app.

    Example::

        bridge = FaustBridge(service)
        bridge.attach(app)            # one agent over the service's topics
        await bridge.start()          # producer up, DLT topics and input topics declared
        await app.start()
        ...
        await app.stop(); await bridge.close()
    """

    def __init__(self, service: Service) -> None:
        self.service = service
        self._processor: RecordProcessor | None = None
        self._topic: Any = None

    def attach(self, app: faust.App) -> Any:
        """Register the agent on ``app`` (before the app starts); returns the agent."""
        self._topic = app.topic(*self.service.topics, value_serializer="raw", key_serializer="raw")

        async def serve(stream: Any) -> None:
            async for event in stream.events():
                await self._require_processor().process(_record(event.message))

        serve.__qualname__ = serve.__name__ = f"dirigent_{self.service.name}".replace("-", "_")
        return app.agent(self._topic, name=f"dirigent.{self.service.name}")(serve)

    async def start(self) -> None:
        """Create missing topics (the broker does not auto-create) and start the producer."""
        if self._topic is None:
            raise ConfigurationError("call attach(app) before start()")
        install_record_parser()  # Faust's aiokafka consumer then survives unreadable records
        await self.service.ensure_dlt_topics()
        await self._topic.maybe_declare()
        await self.service.producer.start()
        self._processor = self.service.processor()

    async def close(self) -> None:
        await self.service.producer.close()

    def _require_processor(self) -> RecordProcessor:
        if self._processor is None:
            raise ConfigurationError("FaustBridge.start() was not awaited before the app ran")
        return self._processor


def _record(message: Any) -> InboundRecord:
    headers = message.headers or ()
    if isinstance(headers, Mapping):
        headers = headers.items()
    return make_inbound(  # a defect found by dirigent's record parser is kept
        message.topic,
        message.partition,
        message.offset,
        int(message.timestamp * 1000),
        message.key,
        message.value,
        headers,
    )
