"""Hypothesis strategies that produce valid Avro data for a standalone record schema."""

from __future__ import annotations

from datetime import UTC, datetime
from types import ModuleType
from typing import Any

from hypothesis import strategies as st

from dirigent.events import Event

_TEXT = st.text(st.characters(codec="utf-8"), max_size=12)
_PRIMITIVES: dict[str, st.SearchStrategy[Any]] = {
    "string": _TEXT,
    "int": st.integers(-(2**31), 2**31 - 1),
    "long": st.integers(-(2**63), 2**63 - 1),
    "boolean": st.booleans(),
    "double": st.floats(allow_nan=False),
    "bytes": st.binary(max_size=12),
}
_MOMENTS = st.datetimes(
    min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
).map(lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000))


def datum(schema: Any, names: dict[str, Any] | None = None) -> st.SearchStrategy[Any]:
    names = {} if names is None else names
    if isinstance(schema, str):
        return _PRIMITIVES[schema] if schema in _PRIMITIVES else datum(names[schema], names)
    if isinstance(schema, list):
        return st.one_of(*(st.none() if b == "null" else datum(b, names) for b in schema))
    logical = schema.get("logicalType")
    if logical == "timestamp-millis":
        return _MOMENTS
    if logical == "date":
        return st.dates()
    kind = schema["type"]
    if kind == "record":
        names[schema["name"]] = schema
        fields = {f["name"]: datum(f["type"], names) for f in schema["fields"]}
        return st.fixed_dictionaries(fields)
    if kind == "array":
        return st.lists(datum(schema["items"], names), max_size=4)
    if kind == "map":
        return st.dictionaries(_TEXT, datum(schema["values"], names), max_size=4)
    return datum(kind, names)


def events_of(model: type[Event]) -> st.SearchStrategy[Event]:
    assert model.avro_schema is not None
    return datum(model.avro_schema.standalone).map(model.model_validate)


def bound_models(*modules: ModuleType) -> list[type[Event]]:
    found = [
        value
        for module in modules
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, Event) and value.avro_schema
    ]
    return sorted(set(found), key=lambda m: m.event_type)
