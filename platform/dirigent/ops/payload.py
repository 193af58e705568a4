"""A dead letter's payload as an operator reads it: decoded Avro where a schema is known.

Single-object encoding (``C3 01`` + fingerprint) is resolved from the schema directory
(``DIRIGENT_SCHEMAS_DIR``, plus dirigent's own schemas); Confluent framing (``00`` +
id) from the schema registry when one is configured. Anything else is shown as hex.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dirigent.errors import ContractError, DirigentError
from dirigent.events import (
    BUILTIN_SCHEMAS,
    CONFLUENT_MAGIC,
    SINGLE_OBJECT_MAGIC,
    AvroCodec,
    AvroSchema,
    RegistryCodec,
    SchemaCatalog,
    SchemaRegistryClient,
    SingleObjectCodec,
)

__all__ = ["DecodedPayload", "PayloadCodec", "jsonable"]

HEX_BYTES = 4096  # of an undecodable payload shown as hex


@dataclass(frozen=True, slots=True)
class DecodedPayload:
    """The payload: ``schema`` + ``datum`` when decoded, else ``hex`` (and ``error``)."""

    size: int | None
    schema: str | None = None
    datum: dict[str, Any] | None = None
    hex: str | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"size": self.size, "schema": self.schema, "datum": jsonable(self.datum),
                "hex": self.hex, "error": self.error}  # fmt: skip


class PayloadCodec:
    """Decodes and re-encodes payloads with the schemas the project knows."""

    def __init__(self, schemas_dir: Path | None = None, registry_url: str | None = None) -> None:
        catalog = SchemaCatalog.load(BUILTIN_SCHEMAS)
        if schemas_dir is not None and schemas_dir.is_dir():
            for schema in SchemaCatalog.load(schemas_dir):
                catalog.add(schema)
        self.single = SingleObjectCodec(catalog)
        self.registry: AvroCodec | None = None
        if registry_url:
            self.registry = RegistryCodec(catalog, SchemaRegistryClient(registry_url))

    def codec_for(self, value: bytes) -> AvroCodec | None:
        """The codec whose framing ``value`` has (``None``: no codec can read it)."""
        if value[:2] == SINGLE_OBJECT_MAGIC:
            return self.single
        if value[:1] == bytes([CONFLUENT_MAGIC]) and len(value) >= 5:
            return self.registry
        return None

    async def decode(self, value: bytes | None) -> DecodedPayload:
        """The decoded payload, or its hex and why it could not be decoded."""
        if value is None:
            return DecodedPayload(None, error="no value (tombstone)")
        codec = self.codec_for(value)
        if codec is None:
            return _hex(value, "no known framing (not Avro single-object or registry)")
        try:
            name, datum = await codec.adecode_raw(value)
        except DirigentError as exc:
            return _hex(value, str(exc))
        return DecodedPayload(len(value), name, datum)

    async def writer(self, value: bytes) -> tuple[AvroCodec, AvroSchema, dict[str, Any]]:
        """Codec, writer schema and datum of ``value`` (``ContractError`` if unreadable)."""
        codec = self.codec_for(value)
        if codec is None:
            raise ContractError("the payload is not Avro with a known framing: cannot edit it")
        _, datum = await codec.adecode_raw(value)
        return codec, codec.writer_of(value), datum


def _hex(value: bytes, why: str) -> DecodedPayload:
    return DecodedPayload(len(value), hex=value[:HEX_BYTES].hex(), error=why)


def jsonable(value: Any) -> Any:
    """``value`` with what JSON cannot hold made readable (bytes as text or base64)."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, bytes):
        try:
            return value.decode()
        except UnicodeDecodeError:
            return "base64:" + base64.b64encode(value).decode()
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    return value
