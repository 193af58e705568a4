"""The base classes of every typed event, command and nested record."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from dirigent.errors import SchemaMismatch
from dirigent.events.binding import model_problems
from dirigent.events.catalog import AvroSchema, load_avsc

__all__ = ["Event", "Record"]


class Record(BaseModel):
    """A frozen model for a nested Avro record (e.g. an order line)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Event(Record):
    """A domain event or command: a frozen pydantic model bound to an Avro record schema.

    ``event_type`` is the fully qualified Avro name, e.g. ``"shop.orders.OrderPlaced"``;
    binding sets it from the schema. The binding is checked when the class is defined:
    a missing, extra or differently typed field raises ``SchemaMismatch``.

    Example::

        class OrderPlaced(Event, schema=Path("schemas/shop/OrderPlaced.avsc")):
            order_id: str
            ...

        OrderPlaced.event_type   # "shop.orders.OrderPlaced"
        OrderPlaced.avro_schema  # the AvroSchema (fingerprint, parsed form, file)
    """

    event_type: ClassVar[str] = ""
    avro_schema: ClassVar[AvroSchema | None] = None

    def __init_subclass__(cls, schema: Path | AvroSchema | None = None, **kwargs: Any) -> None:
        # pydantic passes class keywords here and again to __pydantic_init_subclass__,
        # where the fields are known; only the latter binds.
        super().__init_subclass__(**kwargs)

    @classmethod
    def __pydantic_init_subclass__(
        cls, schema: Path | AvroSchema | None = None, **kwargs: Any
    ) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if schema is not None:
            bound = schema if isinstance(schema, AvroSchema) else load_avsc(schema)
            declared = cls.__dict__.get("event_type")
            if declared and declared != bound.name:
                raise SchemaMismatch(
                    f"{cls.__qualname__} declares event_type {declared!r} "
                    f"but is bound to schema {bound.name}"
                )
            cls.event_type = bound.name
            cls.avro_schema = bound
        if cls.avro_schema is not None:
            _check(cls, cls.avro_schema)

    def to_avro(self) -> dict[str, Any]:
        """The Avro datum (a dict fastavro can write)."""
        return self.model_dump()


def _check(model: type[Event], schema: AvroSchema) -> None:
    problems = model_problems(model, schema.standalone)
    if problems:
        where = f" ({schema.path})" if schema.path else ""
        details = "; ".join(f"field {path!r} {what}" for path, what in sorted(problems))
        raise SchemaMismatch(
            f"model {model.__module__}.{model.__qualname__} does not match schema "
            f"{schema.name}{where}: {details}"
        )
