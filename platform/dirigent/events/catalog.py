"""The schema catalog: every ``.avsc`` of a directory, parsed once, by name and fingerprint.

Named types may reference each other across files; each record is also kept in a
*standalone* form (referenced types inlined) that is what gets fingerprinted, registered
and handed to other Avro implementations.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastavro.schema import fingerprint, parse_schema, to_parsing_canonical_form

from dirigent.errors import SchemaMismatch, UnknownSchema

__all__ = ["AvroSchema", "SchemaCatalog", "load_avsc", "parse_standalone"]

_NAMED = ("record", "enum", "fixed")
_TYPE_KEYS = ("type", "items", "values", "fields")


@dataclass(frozen=True, eq=False)
class AvroSchema:
    """One record schema: full name, CRC-64-AVRO fingerprint, JSON and fastavro forms."""

    name: str
    fingerprint: str  # 16 hex digits: the 8 little-endian bytes of CRC-64-AVRO
    standalone: dict[str, Any] = field(repr=False)
    parsed: dict[str, Any] = field(repr=False)
    path: Path | None = None

    @property
    def fingerprint_bytes(self) -> bytes:
        return bytes.fromhex(self.fingerprint)

    def to_json(self) -> str:
        return json.dumps(self.standalone, separators=(",", ":"))


def parse_standalone(schema: dict[str, Any], path: Path | None = None) -> AvroSchema:
    """Parse a self-contained record schema (e.g. one fetched from a registry)."""
    try:
        parsed: Any = parse_schema(schema, {})
    except (ValueError, TypeError, KeyError) as exc:
        where = path or schema.get("name", "?")
        raise UnknownSchema(f"invalid Avro schema {where}: {exc}") from exc
    if parsed.get("type") != "record":
        raise UnknownSchema(f"{path or schema}: top-level type must be a record")
    canonical = to_parsing_canonical_form(parsed)
    return AvroSchema(
        name=parsed["name"],
        fingerprint=fingerprint(canonical, "CRC-64-AVRO"),
        standalone=_strip(parsed),
        parsed=parsed,
        path=path,
    )


class SchemaCatalog:
    """Avro record schemas indexed by full name and by fingerprint.

    Example::

        catalog = SchemaCatalog.load(Path("schemas"))
        schema = catalog.by_name("shop.orders.OrderPlaced")
        assert catalog.by_fingerprint(schema.fingerprint) is schema
    """

    def __init__(self, schemas: Mapping[str, AvroSchema] | None = None) -> None:
        self._by_name: dict[str, AvroSchema] = dict(schemas or {})
        self._by_fp = {s.fingerprint: s for s in self._by_name.values()}

    @classmethod
    def load(cls, directory: Path) -> SchemaCatalog:
        """Load every ``*.avsc`` under ``directory`` (recursively, symlinks followed)."""
        if not directory.is_dir():
            raise UnknownSchema(f"schema directory {directory} does not exist")
        files = sorted(
            Path(root, name)
            for root, _, names in os.walk(directory, followlinks=True)
            for name in names
            if name.endswith(".avsc")
        )
        return cls.from_texts({p: p.read_text(encoding="utf-8") for p in files})

    @classmethod
    def from_texts(cls, texts: Mapping[Path, str]) -> SchemaCatalog:
        """Build a catalog from ``{path: avsc text}``; references resolve across files."""
        raw = {path: _load_json(path, text) for path, text in texts.items()}
        named, top = _parse_in_dependency_order(raw)
        schemas: dict[str, AvroSchema] = {}
        for path, parsed in top.items():
            if parsed.get("type") != "record":
                continue  # a shared enum or fixed: reachable through the records using it
            schema = parse_standalone(_inline(parsed, named, set()), path)
            if schema.name in schemas:
                raise UnknownSchema(
                    f"{schema.name} is defined twice: {path}, {schemas[schema.name].path}"
                )
            schemas[schema.name] = schema
        return cls(schemas)

    def by_name(self, name: str) -> AvroSchema:
        try:
            return self._by_name[name]
        except KeyError:
            raise UnknownSchema(f"no schema named {name!r} in the catalog") from None

    def by_fingerprint(self, fp: str) -> AvroSchema:
        try:
            return self._by_fp[fp]
        except KeyError:
            raise UnknownSchema(f"no schema with fingerprint {fp} in the catalog") from None

    def get(self, name: str) -> AvroSchema | None:
        return self._by_name.get(name)

    def add(self, schema: AvroSchema) -> None:
        """Add a schema (e.g. a writer schema learned from a registry)."""
        self._by_name.setdefault(schema.name, schema)
        self._by_fp[schema.fingerprint] = schema

    def __iter__(self) -> Iterator[AvroSchema]:
        return iter(sorted(self._by_name.values(), key=lambda s: s.name))

    def __len__(self) -> int:
        return len(self._by_name)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name


@functools.lru_cache(maxsize=64)
def _catalog_of(directory: Path) -> SchemaCatalog:
    return SchemaCatalog.load(directory)


def load_avsc(path: Path) -> AvroSchema:
    """The record defined in ``path``; references resolve within the file's directory."""
    path = path.resolve()
    if not path.is_file():
        raise SchemaMismatch(f"schema file {path} does not exist")
    for schema in _catalog_of(path.parent):
        if schema.path == path:
            return schema
    raise SchemaMismatch(f"{path} does not define a record")


def _load_json(path: Path, text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UnknownSchema(f"{path}: not JSON: {exc}") from exc
    if not isinstance(data, dict) or data.get("type") not in _NAMED:
        raise UnknownSchema(f"{path}: one named type (record, enum or fixed) per file")
    return data


def _parse_in_dependency_order(
    raw: dict[Path, dict[str, Any]],
) -> tuple[dict[str, Any], dict[Path, dict[str, Any]]]:
    named: dict[str, Any] = {}
    top: dict[Path, Any] = {}
    pending = dict(raw)
    while pending:
        missing: dict[Path, str] = {}
        progress = False
        for path, data in list(pending.items()):
            attempt = dict(named)
            try:
                top[path] = parse_schema(data, attempt)
            except ValueError as exc:  # fastavro's UnknownType, SchemaParseException
                missing[path] = str(exc)
                continue
            named = attempt
            del pending[path]
            progress = True
        if not progress:
            path, why = next(iter(missing.items()))
            raise UnknownSchema(f"{path}: cannot parse: {why}")
    return named, top


def _inline(node: Any, named: dict[str, Any], seen: set[str]) -> Any:
    """Replace the first reference to each named type by its definition (canonical-form style)."""
    if isinstance(node, str):
        if node in named and node not in seen:
            return _inline(named[node], named, seen)
        return node
    if isinstance(node, list):
        return [_inline(n, named, seen) for n in node]
    if not isinstance(node, dict):
        return node
    if node.get("type") in _NAMED and isinstance(node.get("name"), str):
        seen.add(node["name"])
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key.startswith("__"):
            continue
        out[key] = _inline(value, named, seen) if key in _TYPE_KEYS else value
    return out


def _strip(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _strip(v) for k, v in node.items() if not k.startswith("__")}
    if isinstance(node, list):
        return [_strip(n) for n in node]
    return node
