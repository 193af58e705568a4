"""Schema evolution check: each schema now against its version at a git revision.

Modes (as in Confluent's registry):

- ``BACKWARD`` (default): the new schema reads data written with the old one
  (consumers upgrade first). Adding a field needs a default; removing one is fine.
- ``FORWARD``: the old schema reads data written with the new one (producers upgrade
  first). Removing a field needs the old field to have had a default.
- ``FULL``: both.

Schemas are matched by full name, so moving a file is not a change.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import avro.schema
from avro.compatibility import ReaderWriterCompatibilityChecker, SchemaCompatibilityType

from dirigent.events.catalog import AvroSchema, SchemaCatalog
from dirigent.events.gitfiles import default_revision, files_at

__all__ = ["CompatReport", "Finding", "Mode", "check_against", "check_pair"]


class Mode(StrEnum):
    BACKWARD = "backward"
    FORWARD = "forward"
    FULL = "full"


@dataclass(frozen=True)
class Finding:
    """One incompatibility, explained."""

    schema: str
    path: Path | None
    direction: str  # "backward" or "forward"
    kind: str  # avro's SchemaIncompatibilityType name, or "removed"
    field: str | None
    detail: str

    def explain(self) -> str:
        where = f" ({self.path})" if self.path else ""
        at = f" field {self.field!r}:" if self.field else ""
        return f"{self.schema}{where}: not {self.direction}-compatible:{at} {self.detail}"


@dataclass
class CompatReport:
    against: str
    mode: Mode
    checked: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings


def check_against(
    directory: Path, *, against: str | None = None, mode: Mode = Mode.BACKWARD
) -> CompatReport:
    """Compare every schema under ``directory`` with its version at ``against``.

    ``against`` defaults to the merge base with ``main`` (``HEAD`` when there is none).

    Example::

        report = check_against(Path("schemas"), mode=Mode.FULL)
        for finding in report.findings:
            print(finding.explain())
    """
    rev = against or default_revision(directory)
    new = SchemaCatalog.load(directory)
    old = SchemaCatalog.from_texts(files_at(rev, directory, suffix=".avsc"))
    report = CompatReport(against=rev, mode=mode)
    for schema in new:
        previous = old.get(schema.name)
        if previous is None:
            report.added.append(schema.name)
            continue
        report.checked.append(schema.name)
        report.findings.extend(check_pair(schema, previous, mode))
    for gone in old:
        if gone.name not in new:
            detail = "the schema was removed; consumers and producers may still use it"
            report.findings.append(
                Finding(gone.name, gone.path, "backward", "removed", None, detail)
            )
    return report


def check_pair(new: AvroSchema, old: AvroSchema, mode: Mode = Mode.BACKWARD) -> list[Finding]:
    """Findings for one schema: ``new`` against ``old`` under ``mode``."""
    new_avro, old_avro = _parse(new), _parse(old)
    findings: list[Finding] = []
    if mode in (Mode.BACKWARD, Mode.FULL):
        findings += _findings(new, new_avro, old_avro, "backward")
    if mode in (Mode.FORWARD, Mode.FULL):
        findings += _findings(old, old_avro, new_avro, "forward")
    return findings


def _parse(schema: AvroSchema) -> avro.schema.Schema:
    return avro.schema.parse(json.dumps(schema.standalone))


def _findings(
    reader: AvroSchema, reader_avro: Any, writer_avro: Any, direction: str
) -> Iterator[Finding]:
    checker = ReaderWriterCompatibilityChecker()  # type: ignore[no-untyped-call]  # avro is untyped
    result = checker.get_compatibility(reader_avro, writer_avro)
    if result.compatibility is SchemaCompatibilityType.compatible:
        return
    for kind in result.incompatibilities:
        for location in sorted(result.locations) or ["/"]:
            field_name = _field_at(reader.standalone, location)
            detail = _detail(kind.name, field_name, direction, sorted(result.messages))
            yield Finding(reader.name, reader.path, direction, kind.name, field_name, detail)


def _detail(kind: str, field_name: str | None, direction: str, messages: list[str]) -> str:
    if kind == "reader_field_missing_default_value" and direction == "backward":
        return "added without a default, so the new schema cannot read old data"
    if kind == "reader_field_missing_default_value":
        return "removed, but it had no default, so old readers cannot read new data"
    if kind == "type_mismatch":
        return f"type changed incompatibly ({'; '.join(messages)})"
    return f"{kind.replace('_', ' ')} ({'; '.join(messages)})"


def _field_at(schema: dict[str, Any], location: str) -> str | None:
    """Map avro's ``/fields/2/type/items/fields/0`` to ``items.sku``."""
    node: Any = schema
    names: list[str] = []
    parts = [p for p in location.split("/") if p]
    for previous, part in zip(["", *parts], parts, strict=False):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
            if previous == "fields" and isinstance(node, dict):
                names.append(str(node.get("name")))
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            break
    return ".".join(names) or None
