"""Confluent framing against a tiny in-test registry (the two REST calls dirigent uses)."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

import sagas.contracts.shop as shop
from dirigent.errors import DecodeError, InfrastructureError, UnknownSchema
from dirigent.events import RegistryCodec, SchemaCatalog, SchemaRegistryClient

ROOT = Path(__file__).resolve().parents[3]


class FakeRegistry(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.schemas: dict[int, str] = {}
        self.subjects: dict[str, list[int]] = {}
        self.calls: list[str] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: FakeRegistry

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        self.server.calls.append(f"POST {self.path}")
        match = re.fullmatch(r"/subjects/([^/]+)/versions", self.path)
        length = int(self.headers["Content-Length"])
        schema = json.loads(self.rfile.read(length))["schema"]
        if match is None:
            self._reply(404, {"error_code": 404, "message": "not found"})
            return
        existing = [i for i, s in self.server.schemas.items() if s == schema]
        schema_id = existing[0] if existing else len(self.server.schemas) + 100
        self.server.schemas[schema_id] = schema
        self.server.subjects.setdefault(match.group(1), []).append(schema_id)
        self._reply(200, {"id": schema_id})

    def do_GET(self) -> None:
        self.server.calls.append(f"GET {self.path}")
        match = re.fullmatch(r"/schemas/ids/(\d+)", self.path)
        if match is None or int(match.group(1)) not in self.server.schemas:
            self._reply(404, {"error_code": 40403, "message": "Schema not found"})
            return
        self._reply(200, {"schema": self.server.schemas[int(match.group(1))]})


@pytest.fixture
def registry() -> Iterator[FakeRegistry]:
    server = FakeRegistry()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


PLACED = shop.OrderPlaced(
    order_id="o-1",
    customer_id="c-1",
    items=[shop.OrderLine(sku="sku-1", quantity=2)],
    amount_cents=1999,
    currency="EUR",
)


def _codec(registry: FakeRegistry, **kwargs: Any) -> RegistryCodec:
    catalog = SchemaCatalog.load(ROOT / "schemas")
    return RegistryCodec(catalog, SchemaRegistryClient(registry.url), **kwargs)


async def test_encode_registers_under_the_record_name_and_frames_the_id(
    registry: FakeRegistry,
) -> None:
    codec = _codec(registry, models=[shop.OrderPlaced])
    with pytest.raises(UnknownSchema, match="no registry id yet"):
        codec.encode(PLACED)
    await codec.prepare([shop.OrderPlaced])
    data = codec.encode(PLACED)
    assert registry.subjects == {"shop.orders.OrderPlaced": [100]}
    assert data[:5] == b"\x00\x00\x00\x00\x64"
    assert codec.schema_ref(shop.OrderPlaced) == "id:100"
    assert codec.decode(data) == PLACED
    await codec.prepare([shop.OrderPlaced])
    assert len(registry.calls) == 1  # the id is cached


async def test_a_fresh_consumer_fetches_the_writer_schema_once(registry: FakeRegistry) -> None:
    data = await _codec(registry).aencode(PLACED)
    consumer = _codec(registry, models=[shop.OrderPlaced])
    with pytest.raises(UnknownSchema, match="unknown registry schema id 100"):
        consumer.decode(data)
    assert await consumer.adecode(data) == PLACED
    assert await consumer.adecode(data) == PLACED
    assert registry.calls.count("GET /schemas/ids/100") == 1
    assert consumer.decode_raw(data)[0] == "shop.orders.OrderPlaced"


async def test_poison_framing(registry: FakeRegistry) -> None:
    codec = _codec(registry, models=[shop.OrderPlaced])
    with pytest.raises(DecodeError, match="bad magic byte 0xc3"):
        await codec.adecode(b"\xc3\x01" + b"\x00" * 12)
    with pytest.raises(DecodeError, match="too short"):
        await codec.adecode(b"\x00\x00")
    with pytest.raises(UnknownSchema, match="HTTP 404"):
        await codec.adecode(b"\x00\x00\x00\x00\x09rest")


async def test_an_unreachable_registry_is_retryable() -> None:
    client = SchemaRegistryClient("http://127.0.0.1:9", timeout_s=2)
    with pytest.raises(InfrastructureError) as caught:
        await client.schema_by_id(1)
    assert caught.value.retryable
