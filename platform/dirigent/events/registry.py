"""Confluent-compatible schema registry: a tiny REST client and the codec that uses it.

Wire format: magic byte ``0`` + 4-byte big-endian schema id + Avro body.
Subjects follow the *record name strategy*: subject = the record's full name
(``shop.orders.OrderPlaced``), so one topic can carry several event types.
"""

from __future__ import annotations

import asyncio
import json
import struct
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from typing import Any

from dirigent.errors import (
    DecodeError,
    IncompatibleSchemaChange,
    InfrastructureError,
    UnknownSchema,
)
from dirigent.events.catalog import AvroSchema, SchemaCatalog, parse_standalone
from dirigent.events.codec import AvroCodec, schema_of
from dirigent.events.model import Event

__all__ = ["CONFLUENT_MAGIC", "RegistryCodec", "SchemaRegistryClient"]

CONFLUENT_MAGIC = 0
_CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"


class SchemaRegistryClient:
    """The two registry calls dirigent needs, over urllib in a worker thread.

    Example::

        registry = SchemaRegistryClient("http://localhost:8081")
        schema_id = await registry.register("shop.orders.OrderPlaced", schema.to_json())
        text = await registry.schema_by_id(schema_id)
    """

    def __init__(self, url: str, *, timeout_s: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.timeout_s = timeout_s

    async def register(self, subject: str, schema_json: str) -> int:
        """Register (or find) ``schema_json`` under ``subject``; returns its global id."""
        path = f"/subjects/{urllib.parse.quote(subject, safe='')}/versions"
        body = await self._call("POST", path, {"schema": schema_json})
        return int(body["id"])

    async def schema_by_id(self, schema_id: int) -> str:
        """The schema text registered under ``schema_id``."""
        body = await self._call("GET", f"/schemas/ids/{schema_id}", None)
        return str(body["schema"])

    async def _call(self, method: str, path: str, payload: dict[str, Any] | None) -> Any:
        return await asyncio.to_thread(self._call_sync, method, path, payload)

    def _call_sync(self, method: str, path: str, payload: dict[str, Any] | None) -> Any:
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(
            self.url + path,
            data=data,
            method=method,
            headers={"Content-Type": _CONTENT_TYPE, "Accept": _CONTENT_TYPE},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")
            exc.close()
            raise _http_error(method, path, exc.code, detail) from exc
        except (urllib.error.URLError, OSError, json.JSONDecodeError) as exc:
            raise InfrastructureError(f"schema registry {self.url}{path}: {exc}") from exc


def _http_error(method: str, path: str, status: int, detail: str) -> Exception:
    message = f"schema registry {method} {path} -> HTTP {status}: {detail}"
    if status == 404:
        return UnknownSchema(message)
    if status == 409:
        return IncompatibleSchemaChange(message)
    if status >= 500:
        return InfrastructureError(message)
    return UnknownSchema(message)


class RegistryCodec(AvroCodec):
    """Confluent framing; schema ids cached in both directions.

    ``encode`` is synchronous and needs the id already: ``await codec.prepare(models)``
    at startup (or use ``aencode``). ``adecode`` fetches unknown writer ids.

    Example::

        codec = RegistryCodec(catalog, SchemaRegistryClient(url), models=[OrderPlaced])
        await codec.prepare([OrderPlaced])
        data = codec.encode(placed)        # b"\\x00" + id + body
        event = await codec.adecode(data)
    """

    def __init__(
        self,
        catalog: SchemaCatalog,
        registry: SchemaRegistryClient,
        *,
        models: Iterable[type[Event]] = (),
    ) -> None:
        super().__init__(catalog, models=models)
        self.registry = registry
        self._ids: dict[str, int] = {}  # fingerprint -> id
        self._by_id: dict[int, AvroSchema] = {}

    async def prepare(self, models: Iterable[type[Event]]) -> None:
        for model in models:
            schema = schema_of(model)
            if schema.fingerprint not in self._ids:
                schema_id = await self.registry.register(schema.name, schema.to_json())
                self._remember(schema_id, schema)

    async def aencode(self, event: Event) -> bytes:
        await self.prepare([type(event)])
        return self.encode(event)

    async def adecode(self, data: bytes, *, reader: type[Event] | None = None) -> Event:
        await self._learn(bytes(data))
        return self.decode(data, reader=reader)

    async def adecode_raw(self, data: bytes) -> tuple[str, dict[str, Any]]:
        await self._learn(bytes(data))
        return self.decode_raw(data)

    async def _learn(self, data: bytes) -> None:
        """Fetch the writer schema of ``data`` from the registry unless known."""
        schema_id = _read_id(data)
        if schema_id not in self._by_id:
            text = await self.registry.schema_by_id(schema_id)
            try:
                schema = parse_standalone(json.loads(text))
            except json.JSONDecodeError as exc:
                raise UnknownSchema(f"registry schema id {schema_id} is not JSON") from exc
            self._remember(schema_id, schema)

    def schema_ref(self, model: type[Event]) -> str:
        return f"id:{self._id_of(schema_of(model))}"

    def _remember(self, schema_id: int, schema: AvroSchema) -> None:
        self._ids[schema.fingerprint] = schema_id
        self._by_id[schema_id] = schema
        self.catalog.add(schema)

    def _id_of(self, schema: AvroSchema) -> int:
        try:
            return self._ids[schema.fingerprint]
        except KeyError:
            raise UnknownSchema(
                f"{schema.name} has no registry id yet: await codec.prepare([...]) first"
            ) from None

    def _frame(self, schema: AvroSchema) -> bytes:
        return struct.pack(">bI", CONFLUENT_MAGIC, self._id_of(schema))

    def _unframe(self, data: bytes) -> tuple[AvroSchema, int]:
        schema_id = _read_id(data)
        try:
            return self._by_id[schema_id], 5
        except KeyError:
            raise UnknownSchema(f"unknown registry schema id {schema_id} (use adecode)") from None


def _read_id(data: bytes) -> int:
    if len(data) < 5:
        raise DecodeError(f"{len(data)} bytes: too short for Confluent framing")
    if data[0] != CONFLUENT_MAGIC:
        raise DecodeError(f"bad magic byte {data[0]:#04x}: expected 0x00 (Confluent framing)")
    schema_id: int = struct.unpack(">I", data[1:5])[0]
    return schema_id
