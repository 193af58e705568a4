"""Checks that a pydantic model and the Avro record it is bound to agree, field by field.

Python annotation -> Avro type:

=========================  ============================================
``str``                    ``string``
``int``                    ``int`` or ``long``
``float``                  ``float`` or ``double``
``bool``                   ``boolean``
``bytes``                  ``bytes`` or ``fixed``
``datetime``               ``long`` + ``timestamp-millis``/``-micros``
``date``                   ``int`` + ``date``
``uuid.UUID``              ``string`` + ``uuid``
``StrEnum`` subclass       ``enum`` with the same symbols, in order
``Record`` subclass        ``record`` (checked recursively)
``list[T]``/``dict[str,T]``  ``array``/``map``
``T | None``               ``["null", T]``
=========================  ============================================
"""

from __future__ import annotations

import enum
import types
import typing
import uuid
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel

__all__ = ["model_problems"]

_PRIMITIVES: dict[Any, set[str]] = {
    str: {"string"},
    int: {"int", "long"},
    float: {"float", "double"},
    bool: {"boolean"},
    bytes: {"bytes", "fixed"},
}
_LOGICAL: dict[Any, set[tuple[str, str]]] = {
    datetime: {("long", "timestamp-millis"), ("long", "timestamp-micros")},
    date: {("int", "date")},
    uuid.UUID: {("string", "uuid")},
}
_NAMED = ("record", "enum", "fixed")

Problem = tuple[str, str]  # (field path, what is wrong)


def model_problems(model: type[BaseModel], record: dict[str, Any]) -> list[Problem]:
    """Every disagreement between ``model`` and a standalone Avro ``record`` schema."""
    names: dict[str, Any] = {}
    _collect_names(record, names)
    return list(_record_problems(model, record, names, ""))


def _collect_names(node: Any, names: dict[str, Any]) -> None:
    if isinstance(node, list):
        for item in node:
            _collect_names(item, names)
    elif isinstance(node, dict):
        if node.get("type") in _NAMED:
            names.setdefault(node["name"], node)
        for key in ("type", "items", "values", "fields"):
            if key in node:
                _collect_names(node[key], names)


def _record_problems(
    model: type[BaseModel], record: dict[str, Any], names: dict[str, Any], prefix: str
) -> Iterator[Problem]:
    in_schema = {f["name"]: f for f in record["fields"]}
    in_model = model.model_fields
    for name in in_schema.keys() - in_model.keys():
        yield prefix + name, "is in the schema but missing from the model"
    for name in in_model.keys() - in_schema.keys():
        yield prefix + name, "is in the model but not in the schema"
    for name in in_model.keys() & in_schema.keys():
        annotation = in_model[name].annotation
        yield from _type_problems(annotation, in_schema[name]["type"], names, prefix + name)


def _split_optional(annotation: Any) -> tuple[Any, bool]:
    if typing.get_origin(annotation) in (types.UnionType, typing.Union):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1 and len(args) < len(typing.get_args(annotation)):
            return args[0], True
    return annotation, False


def _type_problems(
    annotation: Any, avro: Any, names: dict[str, Any], path: str
) -> Iterator[Problem]:
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if isinstance(avro, str) and avro in names:
        avro = names[avro]
    inner, nullable = _split_optional(annotation)
    if isinstance(avro, list):
        branches = [b for b in avro if b != "null"]
        if len(branches) != 1:
            yield path, f"unions other than [null, T] are not supported: {avro}"
        elif nullable != ("null" in avro):
            yield path, f"optionality differs: the schema says {avro}, the model says {annotation}"
        else:
            yield from _type_problems(inner, branches[0], names, path)
        return
    if nullable:
        yield (
            path,
            f"the model allows None ({annotation}) but the schema type {avro} is not nullable",
        )
        return
    problem = _plain_problem(annotation, avro, names, path)
    if isinstance(problem, str):
        yield path, problem
    elif problem is not None:
        yield from problem


def _plain_problem(
    annotation: Any, avro: Any, names: dict[str, Any], path: str
) -> str | Iterator[Problem] | None:
    kind = avro if isinstance(avro, str) else avro.get("type")
    logical = avro.get("logicalType") if isinstance(avro, dict) else None
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    expected: str | None = None
    if annotation in _LOGICAL:
        if (kind, logical) not in _LOGICAL[annotation]:
            expected = f"one of {sorted(_LOGICAL[annotation])}"
    elif logical is not None and (kind, logical) in set().union(*_LOGICAL.values()):
        expected = f"a {logical} logical type, which the model must declare as such"
    elif annotation in _PRIMITIVES:
        if kind not in _PRIMITIVES[annotation]:
            expected = f"one of {sorted(_PRIMITIVES[annotation])}"
    elif isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return _enum_problem(annotation, avro, kind)
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if kind != "record":
            return f"the model has a record ({annotation.__name__}), the schema has {kind}"
        return _record_problems(annotation, avro, names, path + ".")
    elif origin is list and kind == "array":
        return _type_problems(args[0], avro["items"], names, path + "[]")
    elif origin is dict and kind == "map" and args[0] is str:
        return _type_problems(args[1], avro["values"], names, path + "{}")
    else:
        expected = "a type the model can represent"
    if expected is None:
        return None
    shown = kind if logical is None else f"{kind}/{logical}"
    model_type = getattr(annotation, "__name__", str(annotation))
    return f"has model type {model_type}, which needs {expected}; the schema has {shown}"


def _enum_problem(annotation: type[enum.Enum], avro: Any, kind: str) -> str | None:
    if kind != "enum":
        return f"the model has an enum ({annotation.__name__}), the schema has {kind}"
    if not issubclass(annotation, str):
        return f"{annotation.__name__} must be a StrEnum so that its members are Avro symbols"
    values = [m.value for m in annotation]
    if values != avro["symbols"]:
        return f"enum symbols differ: the model has {values}, the schema has {avro['symbols']}"
    return None
