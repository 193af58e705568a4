"""The base class of every typed event and command."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict

__all__ = ["Event"]


class Event(BaseModel):
    """A domain event or command: a frozen pydantic model with an Avro type name.

    ``event_type`` is the fully qualified Avro name, e.g. ``"shop.orders.OrderPlaced"``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str] = ""
