"""A Faust codec for dirigent's Avro events (the envelope travels in headers, not here)."""

from __future__ import annotations

from typing import Any

import faust

from dirigent.events import AvroCodec, Event

__all__ = ["AvroEventCodec"]


class AvroEventCodec(faust.Codec):
    """Use dirigent's Avro codec as a Faust ``value_serializer``.

    Example::

        topic = app.topic("shop.events", value_serializer=AvroEventCodec(codec))
        async for event in stream:  # typed dirigent Events
            ...

    Pass the instance directly; nothing is added to Faust's global codec registry.
    """

    def __init__(self, codec: AvroCodec, *, reader: type[Event] | None = None) -> None:
        super().__init__()
        self.codec = codec
        self.reader = reader

    def _dumps(self, obj: Any) -> bytes:
        if not isinstance(obj, Event):
            raise TypeError(f"AvroEventCodec encodes dirigent Events, not {type(obj).__name__}")
        return self.codec.encode(obj)

    def _loads(self, s: bytes) -> Event:
        return self.codec.decode(s, reader=self.reader)
