"""A model that disagrees with its schema fails at class definition, naming the field."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from dirigent.errors import SchemaMismatch, UnknownSchema
from dirigent.events import Event, Record, SchemaCatalog, SingleObjectCodec

LINE = {"type": "record", "name": "Line", "fields": [{"name": "sku", "type": "string"}]}
SCHEMA = {
    "type": "record",
    "name": "Thing",
    "namespace": "test.binding",
    "fields": [
        {"name": "thing_id", "type": "string"},
        {"name": "count", "type": "long"},
        {"name": "note", "type": ["null", "string"], "default": None},
        {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "lines", "type": {"type": "array", "items": LINE}},
    ],
}


class Line(Record):
    sku: str


@pytest.fixture
def avsc(tmp_path: Path) -> Path:
    path = tmp_path / "Thing.avsc"
    path.write_text(json.dumps(SCHEMA))
    return path


def _define(avsc: Path, **fields: Any) -> type[Event]:
    annotations = {"thing_id": str, "count": int, "note": str | None, "at": datetime}
    annotations["lines"] = list[Line]
    annotations.update(fields)
    namespace = {"__annotations__": {k: v for k, v in annotations.items() if v is not None}}
    return type("Thing", (Event,), namespace, schema=avsc)


def test_a_matching_model_is_bound(avsc: Path) -> None:
    model = _define(avsc)
    assert model.event_type == "test.binding.Thing"
    assert model.avro_schema is not None
    assert model.avro_schema.path == avsc.resolve()


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"count": None}, "count", "missing from the model"),
        ({"extra": str}, "extra", "not in the schema"),
        ({"count": str}, "count", "model type str"),
        ({"note": str}, "note", "optionality differs"),
        ({"thing_id": str | None}, "thing_id", "allows None"),
        ({"at": int}, "at", "timestamp-millis"),
        ({"lines": list[str]}, "lines[]", "record"),
    ],
)
def test_a_mismatch_names_model_schema_and_field(
    avsc: Path, change: dict[str, Any], field: str, words: str
) -> None:
    with pytest.raises(SchemaMismatch) as caught:
        _define(avsc, **change)
    message = str(caught.value)
    assert "Thing" in message
    assert "test.binding.Thing" in message
    assert f"field {field!r}" in message
    assert words in message


def test_a_nested_record_field_is_checked(avsc: Path) -> None:
    class WrongLine(Record):
        code: str

    with pytest.raises(SchemaMismatch, match=r"field 'lines\[\]\.sku' is in the schema"):
        _define(avsc, lines=list[WrongLine])


def test_a_declared_event_type_must_agree(avsc: Path) -> None:
    with pytest.raises(SchemaMismatch, match="declares event_type"):
        type(
            "Other",
            (Event,),
            {"event_type": "x.Other", "__annotations__": {"thing_id": str}},
            schema=avsc,
        )


def test_a_missing_schema_file_is_a_mismatch(tmp_path: Path) -> None:
    with pytest.raises(SchemaMismatch, match="does not exist"):
        type("Nope", (Event,), {}, schema=tmp_path / "Nope.avsc")


def test_an_unbound_event_cannot_be_encoded() -> None:
    class Loose(Event):
        event_type = "test.Loose"
        x: str

    codec = SingleObjectCodec(SchemaCatalog())
    with pytest.raises(UnknownSchema, match="Loose is not bound"):
        codec.encode(Loose(x="1"))
