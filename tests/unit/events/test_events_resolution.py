"""Older readers read newer writers; poison input fails with a message that says why."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Annotated, Any

import pytest
from fastavro import schemaless_writer
from pydantic import Field

from dirigent.errors import DecodeError, UnknownSchema
from dirigent.events import Event, Record, SchemaCatalog, SingleObjectCodec

V1 = {
    "type": "record",
    "name": "Parcel",
    "namespace": "test.evolve",
    "fields": [
        {"name": "parcel_id", "type": "string"},
        {"name": "weight_g", "type": "int"},
    ],
}
V2 = {**V1, "fields": [*V1["fields"], {"name": "fragile", "type": "boolean", "default": False}]}


def _write(folder: Path, schema: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{schema['name']}.avsc"
    path.write_text(json.dumps(schema))
    return path


@pytest.fixture
def models(tmp_path: Path) -> tuple[type[Event], type[Event], SchemaCatalog]:
    v1_path, v2_path = _write(tmp_path / "v1", V1), _write(tmp_path / "v2", V2)

    class ParcelV1(Event, schema=v1_path):
        parcel_id: str
        weight_g: Annotated[int, Field(ge=1)]

    class ParcelV2(Event, schema=v2_path):
        parcel_id: str
        weight_g: int
        fragile: bool = False

    return ParcelV1, ParcelV2, SchemaCatalog.load(tmp_path / "v2")


def test_a_v1_reader_reads_a_v2_writers_event(models: Any) -> None:
    v1, v2, catalog = models
    data = SingleObjectCodec(catalog, models=[v2]).encode(
        v2(parcel_id="p", weight_g=5, fragile=True)
    )
    reader_side = SingleObjectCodec(catalog)  # knows v2 by fingerprint, decodes into v1
    assert reader_side.decode(data, reader=v1) == v1(parcel_id="p", weight_g=5)
    assert reader_side.decode_raw(data) == (
        "test.evolve.Parcel",
        {"parcel_id": "p", "weight_g": 5, "fragile": True},
    )


def test_a_v2_reader_fills_the_default_for_a_v1_writer(models: Any) -> None:
    v1, v2, catalog = models
    data = SingleObjectCodec(catalog, models=[v1]).encode(v1(parcel_id="p", weight_g=5))
    assert SingleObjectCodec(catalog, models=[v2]).decode(data) == v2(parcel_id="p", weight_g=5)


def test_named_types_resolve_across_files(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "type": "record",
            "name": "Box",
            "namespace": "t",
            "fields": [
                {"name": "b", "type": "t.Item"},
                {"name": "c", "type": ["null", "Item"], "default": None},
            ],
        },
    )
    _write(
        tmp_path,
        {
            "type": "record",
            "name": "Item",
            "namespace": "t",
            "fields": [{"name": "x", "type": "int"}],
        },
    )
    catalog = SchemaCatalog.load(tmp_path)
    box = catalog.by_name("t.Box")
    assert box.standalone["fields"][0]["type"]["name"] == "t.Item"  # inlined once
    assert box.standalone["fields"][1]["type"] == ["null", "t.Item"]  # then referenced

    class Item(Record):
        x: int

    class Box(Event, schema=box):
        b: Item
        c: Item | None = None

    codec = SingleObjectCodec(catalog, models=[Box])
    event = Box(b=Item(x=1), c=Item(x=2))
    assert codec.decode(codec.encode(event)) == event


def test_an_unresolvable_reference_names_the_file_and_type(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        {
            "type": "record",
            "name": "Box",
            "namespace": "t",
            "fields": [{"name": "b", "type": "t.Missing"}],
        },
    )
    with pytest.raises(UnknownSchema, match=r"Box\.avsc.*t\.Missing"):
        SchemaCatalog.load(path.parent)


@pytest.fixture
def encoded(models: Any) -> tuple[bytes, SingleObjectCodec]:
    _, v2, catalog = models
    codec = SingleObjectCodec(catalog, models=[v2])
    return codec.encode(v2(parcel_id="parcel-1", weight_g=300)), codec


@pytest.mark.parametrize(
    ("mangle", "error", "words"),
    [
        (lambda b: b[:5], DecodeError, "too short"),
        (lambda b: b"\x00\x01" + b[2:], DecodeError, "bad magic 0001"),
        (lambda b: b[:2] + b"\xff" * 8 + b[10:], UnknownSchema, "fingerprint ffffffffffffffff"),
        (lambda b: b[:-3], DecodeError, "not valid Avro"),
        (lambda b: b + b"\x00", DecodeError, "1 trailing bytes"),
        (lambda b: b[:10] + b"\x7f", DecodeError, "not valid Avro"),
    ],
)
def test_poison_input(encoded: Any, mangle: Any, error: type[Exception], words: str) -> None:
    data, codec = encoded
    with pytest.raises(error, match=words):
        codec.decode(mangle(data))
    with pytest.raises(error, match=words):
        codec.decode_raw(mangle(data))


def test_a_datum_that_fails_validation_is_a_decode_error(models: Any) -> None:
    v1, _, catalog = models
    assert v1.avro_schema is not None
    buf = io.BytesIO()
    buf.write(b"\xc3\x01" + v1.avro_schema.fingerprint_bytes)
    schemaless_writer(buf, v1.avro_schema.parsed, {"parcel_id": "p", "weight_g": 0})
    with pytest.raises(DecodeError, match="does not validate as ParcelV1"):
        SingleObjectCodec(catalog, models=[v1]).decode(buf.getvalue())


def test_an_event_of_another_record_cannot_be_read_as_this_one(models: Any) -> None:
    v1, _, catalog = models
    other = {"type": "record", "name": "Other", "fields": [{"name": "a", "type": "string"}]}
    path = Path(v1.avro_schema.path).parent.parent / "other" / "Other.avsc"
    _write(path.parent, other)

    class OtherModel(Event, schema=path):
        a: str

    codec = SingleObjectCodec(catalog, models=[OtherModel])
    with pytest.raises(DecodeError, match=r"Other cannot be read as test\.evolve\.Parcel"):
        codec.decode(codec.encode(OtherModel(a="x")), reader=v1)


def test_without_a_model_decode_asks_for_one(encoded: Any) -> None:
    data, codec = encoded
    with pytest.raises(UnknownSchema, match=r"no model for test\.evolve\.Parcel"):
        SingleObjectCodec(codec.catalog).decode(data)
