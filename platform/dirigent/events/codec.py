"""Avro codecs: event <-> bytes, with the writer schema named in a few framing bytes.

``SingleObjectCodec`` needs no registry: Avro single-object encoding
(``C3 01`` + 8-byte little-endian CRC-64-AVRO fingerprint + body), writer schema looked up
in the local ``SchemaCatalog``. ``RegistryCodec`` (in ``registry.py``) uses Confluent framing.
"""

from __future__ import annotations

import io
import json
import struct
from collections.abc import Iterable, Mapping
from typing import Any, cast

from fastavro import schemaless_reader, schemaless_writer
from fastavro.read import SchemaResolutionError
from fastavro.validation import ValidationError as AvroValidationError
from fastavro.validation import validate
from pydantic import ValidationError

from dirigent.errors import ContractError, DecodeError, UnknownSchema
from dirigent.events.catalog import AvroSchema, SchemaCatalog
from dirigent.events.model import Event

__all__ = ["SINGLE_OBJECT_MAGIC", "AvroCodec", "SingleObjectCodec", "schema_of"]

SINGLE_OBJECT_MAGIC = b"\xc3\x01"
# What fastavro raises on bytes that do not fit the schema (truncated, bad varint, utf-8...).
_READ_ERRORS = (EOFError, ValueError, IndexError, TypeError, KeyError, OverflowError, struct.error)
_WRITE_ERRORS = (ValueError, TypeError, KeyError, OverflowError, AttributeError, struct.error)


class AvroCodec:
    """Shared encode/decode logic; subclasses frame the writer-schema reference.

    ``models`` maps Avro full names to the classes ``decode`` returns when no ``reader``
    is given; pass them explicitly (nothing registers itself on import).
    """

    def __init__(self, catalog: SchemaCatalog, *, models: Iterable[type[Event]] = ()) -> None:
        self.catalog = catalog
        self._models: dict[str, type[Event]] = {m.event_type: m for m in models}
        for model in self._models.values():
            catalog.add(schema_of(model))

    # --- framing, provided by subclasses ------------------------------------------------
    def _frame(self, schema: AvroSchema) -> bytes:
        raise NotImplementedError

    def _unframe(self, data: bytes) -> tuple[AvroSchema, int]:
        raise NotImplementedError

    def schema_ref(self, model: type[Event]) -> str:
        """The writer-schema reference for the envelope (``fp:<hex>`` or ``id:<n>``)."""
        raise NotImplementedError

    # --- public API --------------------------------------------------------------------
    def encode(self, event: Event) -> bytes:
        """Serialize ``event`` with its bound schema; raises ``ContractError`` if it cannot."""
        schema = self.writer_schema(type(event))
        buf = io.BytesIO()
        buf.write(self._frame(schema))
        try:
            schemaless_writer(buf, schema.parsed, event.to_avro())
        except _WRITE_ERRORS as exc:
            raise ContractError(f"cannot encode {schema.name}: {exc}") from exc
        return buf.getvalue()

    def encode_trusted(self, model: type[Event], datum: Mapping[str, Any]) -> bytes:
        """Serialize a datum dirigent built itself for ``model``'s schema, without the
        model's validation (the hot path's transitions); fastavro still refuses a value
        of the wrong type (``ContractError``)."""
        schema = self.writer_schema(model)
        buf = io.BytesIO()
        buf.write(self._frame(schema))
        try:
            schemaless_writer(buf, schema.parsed, datum)
        except _WRITE_ERRORS as exc:
            raise ContractError(f"cannot encode {schema.name}: {exc}") from exc
        return buf.getvalue()

    def decode_raw(self, data: bytes) -> tuple[str, dict[str, Any]]:
        """The writer's schema name and the datum as written (no model, no resolution)."""
        writer, offset = self._unframe(bytes(data))
        return writer.name, self._read(data, offset, writer, None)

    def writer_of(self, data: bytes) -> AvroSchema:
        """The writer schema named by ``data``'s framing (``UnknownSchema`` if not known)."""
        return self._unframe(bytes(data))[0]

    async def adecode_raw(self, data: bytes) -> tuple[str, dict[str, Any]]:
        """``decode_raw`` that may first fetch an unknown writer schema (registry codec)."""
        return self.decode_raw(data)

    def encode_raw(self, schema: AvroSchema, datum: Mapping[str, Any]) -> bytes:
        """Serialize a plain datum with ``schema``, validated first.

        For tools that change a decoded payload (``decode_raw``, ``writer_of``) and write
        it back with the same writer schema. ``ContractError`` names the fields that do
        not fit. Example::

            name, datum = codec.decode_raw(data)
            data = codec.encode_raw(codec.writer_of(data), {**datum, "quantity": 3})
        """
        try:
            validate(dict(datum), schema.parsed, raise_errors=True)
        except AvroValidationError as exc:
            problems = "; ".join(json.loads(str(exc))) if str(exc).startswith("[") else exc
            raise ContractError(f"{schema.name} does not validate: {problems}") from exc
        buf = io.BytesIO()
        buf.write(self._frame(schema))
        try:
            schemaless_writer(buf, schema.parsed, dict(datum))
        except _WRITE_ERRORS as exc:
            raise ContractError(f"cannot encode {schema.name}: {exc}") from exc
        return buf.getvalue()

    def decode(self, data: bytes, *, reader: type[Event] | None = None) -> Event:
        """Decode into ``reader`` (default: the model registered for the writer's name).

        The writer's schema is resolved into the reader's, so an older reader reads a
        newer writer's event. Poison input raises ``DecodeError`` or ``UnknownSchema``.

        Example::

            codec = SingleObjectCodec(SchemaCatalog.load(Path("schemas")), models=[OrderPlaced])
            event = codec.decode(codec.encode(placed))  # == placed
        """
        data = bytes(data)
        writer, offset = self._unframe(data)
        model = reader or self._models.get(writer.name)
        if model is None:
            raise UnknownSchema(f"no model for {writer.name}: pass reader= or models=")
        target = schema_of(model)
        same = target.fingerprint == writer.fingerprint
        datum = self._read(data, offset, writer, None if same else target)
        try:
            return model.model_validate(datum)
        except ValidationError as exc:
            raise DecodeError(
                f"{writer.name} does not validate as {model.__name__}: {exc}"
            ) from exc

    def writer_schema(self, model: type[Event]) -> AvroSchema:
        return schema_of(model)

    async def prepare(self, models: Iterable[type[Event]]) -> None:
        """Make ``encode`` ready for these models (registers them with a registry)."""

    async def aencode(self, event: Event) -> bytes:
        """``encode`` that may first register the schema (registry codec)."""
        return self.encode(event)

    async def adecode(self, data: bytes, *, reader: type[Event] | None = None) -> Event:
        """``decode`` that may first fetch an unknown writer schema (registry codec)."""
        return self.decode(data, reader=reader)

    # --- internals ---------------------------------------------------------------------
    def _read(
        self, data: bytes, offset: int, writer: AvroSchema, reader: AvroSchema | None
    ) -> dict[str, Any]:
        buf = io.BytesIO(data)
        buf.seek(offset)
        target = reader.parsed if reader is not None else None
        try:
            datum: Any = schemaless_reader(buf, writer.parsed, target)
        except _READ_ERRORS as exc:
            kind = type(exc).__name__
            raise DecodeError(f"body of {writer.name} is not valid Avro ({kind}: {exc})") from exc
        except SchemaResolutionError as exc:
            raise DecodeError(
                f"{writer.name} cannot be read as {reader.name if reader else '?'}: {exc}"
            ) from exc
        except StopIteration as exc:  # fastavro on some truncations
            raise DecodeError(f"body of {writer.name} is truncated") from exc
        extra = len(data) - buf.tell()
        if extra:
            raise DecodeError(f"{extra} trailing bytes after a {writer.name} body")
        return cast(dict[str, Any], datum)


class SingleObjectCodec(AvroCodec):
    """Avro single-object encoding, writer schema found by fingerprint in the catalog."""

    def _frame(self, schema: AvroSchema) -> bytes:
        return SINGLE_OBJECT_MAGIC + schema.fingerprint_bytes

    def _unframe(self, data: bytes) -> tuple[AvroSchema, int]:
        if len(data) < 10:
            raise DecodeError(f"{len(data)} bytes: too short for Avro single-object encoding")
        if data[:2] != SINGLE_OBJECT_MAGIC:
            raise DecodeError(f"bad magic {data[:2].hex()}: expected c301 (single-object)")
        return self.catalog.by_fingerprint(data[2:10].hex()), 10

    def schema_ref(self, model: type[Event]) -> str:
        return "fp:" + schema_of(model).fingerprint


def schema_of(model: type[Event]) -> AvroSchema:
    """The schema ``model`` is bound to; ``UnknownSchema`` if it is not bound."""
    if model.avro_schema is None:
        raise UnknownSchema(
            f"{model.__qualname__} is not bound to a schema: class X(Event, schema=...)"
        )
    return model.avro_schema
