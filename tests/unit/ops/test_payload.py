"""Payloads decoded with the project's schemas, hex otherwise; edits re-validated."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from dirigent.errors import ContractError
from dirigent.events import SchemaCatalog, SingleObjectCodec
from dirigent.ops.payload import PayloadCodec, jsonable
from sagas.contracts.shop import ReserveStock, StockLine

SCHEMAS = Path(__file__).resolve().parents[3] / "schemas"


def _reserve() -> bytes:
    codec = SingleObjectCodec(SchemaCatalog.load(SCHEMAS), models=[ReserveStock])
    return codec.encode(ReserveStock(order_id="o1", items=[StockLine(sku="s", quantity=2)]))


async def test_a_known_schema_is_decoded() -> None:
    decoded = await PayloadCodec(SCHEMAS).decode(_reserve())
    assert decoded.schema == "shop.inventory.ReserveStock"
    assert decoded.datum == {"order_id": "o1", "items": [{"sku": "s", "quantity": 2}]}
    assert decoded.hex is None


async def test_without_the_schema_the_payload_is_hex_and_says_why() -> None:
    data = _reserve()
    decoded = await PayloadCodec(None).decode(data)  # dirigent's own schemas only
    assert decoded.datum is None
    assert decoded.hex == data.hex()
    assert "no schema with fingerprint" in (decoded.error or "")


@pytest.mark.parametrize(("value", "why"), [(b"plain text", "no known framing"),
                                            (None, "tombstone")])  # fmt: skip
async def test_other_payloads(value: bytes | None, why: str) -> None:
    decoded = await PayloadCodec(SCHEMAS).decode(value)
    assert why in (decoded.error or "")


async def test_an_edited_datum_is_encoded_with_the_writer_schema_after_validation() -> None:
    codec, schema, datum = await PayloadCodec(SCHEMAS).writer(_reserve())
    edited = codec.encode_raw(schema, {**datum, "order_id": "o2"})
    assert codec.decode_raw(edited) == (schema.name, {**datum, "order_id": "o2"})
    with pytest.raises(ContractError, match=r"ReserveStock.*order_id"):
        codec.encode_raw(schema, {**datum, "order_id": 7})


def test_jsonable_makes_bytes_and_times_readable() -> None:
    moment = datetime(2024, 1, 1, tzinfo=UTC)
    assert jsonable({"b": b"\xff", "t": b"ok", "d": moment, "l": (1,)}) == {
        "b": "base64:/w==", "t": "ok", "d": "2024-01-01T00:00:00+00:00", "l": [1]}  # fmt: skip
