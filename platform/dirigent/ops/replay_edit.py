"""``--edit field=value``: change fields of a dead letter's payload before it is replayed.

The payload is decoded with its writer schema, the fields are set, and the result is
validated against that same schema and encoded with the project's codec (same framing,
so the envelope's ``dirigent-schema`` stays true). A path names nested fields and list
items with dots (``items.0.quantity=3``); a value is JSON when it parses as JSON
(``3``, ``true``, ``null``, ``"7"``, ``{"a": 1}``), else the text itself.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dirigent.errors import ContractError
from dirigent.ops.payload import PayloadCodec, jsonable

__all__ = ["Change", "Edit", "apply_edits", "edit_payload", "load_edit_file", "parse_edit"]


@dataclass(frozen=True, slots=True)
class Edit:
    """Set the field at ``path`` to ``value``."""

    path: tuple[str, ...]
    value: Any

    @property
    def text(self) -> str:
        return f"{'.'.join(self.path)}={json.dumps(self.value, ensure_ascii=False)}"


@dataclass(frozen=True, slots=True)
class Change:
    """What an edit changed in one payload."""

    path: str
    old: Any
    new: Any

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "old": jsonable(self.old), "new": jsonable(self.new)}


def parse_edit(text: str) -> Edit:
    """``"items.0.quantity=3"`` -> ``Edit(("items", "0", "quantity"), 3)``."""
    path, sep, raw = text.partition("=")
    if not sep or not path.strip():
        raise ValueError(f"edit {text!r} is not FIELD=VALUE (e.g. items.0.quantity=3)")
    try:
        value: Any = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return Edit(tuple(path.strip().split(".")), value)


def load_edit_file(path: Path) -> list[Edit]:
    """Edits from a JSON object ``{"field.path": value, ...}``."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"edit file {path} cannot be read: {exc}") from exc
    if not isinstance(doc, dict):
        raise ValueError(f"edit file {path} must hold a JSON object of field paths")
    return [Edit(tuple(str(k).split(".")), v) for k, v in doc.items()]


def apply_edits(datum: dict[str, Any], edits: list[Edit]) -> tuple[dict[str, Any], list[Change]]:
    """A copy of ``datum`` with ``edits`` applied; ``ContractError`` for a path that does
    not exist (an edit never adds a field the schema does not have)."""
    out = copy.deepcopy(datum)
    changes = []
    for e in edits:
        parent: Any = out
        for i, part in enumerate(e.path[:-1]):
            parent = _child(parent, part, e.path[: i + 1])
        last = e.path[-1]
        old = _child(parent, last, e.path)
        if isinstance(parent, list):
            parent[int(last)] = e.value
        else:
            parent[last] = e.value
        changes.append(Change(".".join(e.path), old, e.value))
    return out, changes


def _child(node: Any, part: str, path: tuple[str, ...]) -> Any:
    where = ".".join(path)
    if isinstance(node, dict):
        if part not in node:
            raise ContractError(f"the payload has no field {where}")
        return node[part]
    if isinstance(node, list):
        try:
            return node[int(part)]
        except (ValueError, IndexError):
            raise ContractError(f"the payload has no item {where}") from None
    raise ContractError(f"{where}: {'.'.join(path[:-1])} is not a record or a list")


async def edit_payload(
    payloads: PayloadCodec, value: bytes | None, edits: list[Edit]
) -> tuple[bytes, list[Change]]:
    """The edited payload, validated and encoded with its writer schema."""
    if value is None:
        raise ContractError("a tombstone has no payload to edit")
    codec, schema, datum = await payloads.writer(value)
    edited, changes = apply_edits(datum, edits)
    return codec.encode_raw(schema, edited), changes
