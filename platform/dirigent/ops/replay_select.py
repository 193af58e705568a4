"""The selection file: a replay's frozen list of dead letters, written by the dry run.

JSON Lines, so that it is written and read as a stream whatever its length:

1. a header: what was selected (topic, filters, saga store, ``--to``, edits), when, by whom;
2. one line per matching dead letter, in partition and offset order:
   ``{"p": 0, "o": 12, "act": "replay", "why": "command-awaited", "reason": ..., "mid": ...}``
   with ``act`` one of ``replay``, ``skip`` (``why`` says why) or ``dup`` (``of`` names
   the entry with the same message id that is replayed instead);
3. a trailer with the counts and the SHA-256 of every line before it, so a truncated or
   edited file is refused.

The real run replays exactly the ``replay`` entries (after checking each once more).
"""

from __future__ import annotations

import hashlib
import itertools
import json
from array import array
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

from dirigent.errors import ContractError

__all__ = [
    "SELECTION_KIND",
    "ReplayList",
    "Selection",
    "SelectionEntry",
    "SelectionWriter",
    "message_hash",
    "read_selection",
]

SELECTION_KIND = "dirigent.dlt.selection"
VERSION = 1


def message_hash(message_id: str | None) -> int:
    """A signed 64-bit hash of a message id (0 for none): checks a record is the one chosen."""
    if message_id is None:
        return 0
    return int.from_bytes(hashlib.blake2b(message_id.encode(), digest_size=8).digest(), "big",
                          signed=True)  # fmt: skip


@dataclass(frozen=True, slots=True)
class SelectionEntry:
    """One dead letter of the selection and what the plan decided for it."""

    partition: int
    offset: int
    act: str  # "replay", "skip" or "dup"
    why: str
    reason: str = ""
    message_id: str | None = None
    saga_id: str | None = None
    fingerprint: str | None = None
    of: tuple[int, int] | None = None  # for "dup": the entry replayed instead
    target: str | None = None  # for "replay": the topic it goes to

    def to_json(self) -> str:
        doc: dict[str, Any] = {"p": self.partition, "o": self.offset, "act": self.act,
                               "why": self.why, "reason": self.reason, "mid": self.message_id,
                               "saga": self.saga_id, "fp": self.fingerprint}  # fmt: skip
        if self.of is not None:
            doc["of"] = list(self.of)
        if self.target is not None:
            doc["to"] = self.target
        return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> SelectionEntry:
        of = doc.get("of")
        return cls(int(doc["p"]), int(doc["o"]), str(doc["act"]), str(doc["why"]),
                   str(doc.get("reason", "")), doc.get("mid"), doc.get("saga"), doc.get("fp"),
                   None if of is None else (int(of[0]), int(of[1])), doc.get("to"))  # fmt: skip


class SelectionWriter:
    """Writes a selection file line by line (``header`` first, ``close`` adds the trailer)."""

    def __init__(self, path: Path, header: dict[str, Any]) -> None:
        self.path = path
        self.header = {"kind": SELECTION_KIND, "version": VERSION, **header}
        self.counts: Counter[str] = Counter()
        self.skipped: Counter[str] = Counter()
        self.targets: set[str] = set()
        self._sha = hashlib.sha256()
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] = path.open("w", encoding="utf-8")
        self._line(json.dumps(self.header, ensure_ascii=False))

    def add(self, entry: SelectionEntry) -> None:
        self.counts[entry.act] += 1
        if entry.act == "skip":
            self.skipped[entry.why] += 1
        if entry.target is not None:
            self.targets.add(entry.target)
        self._line(entry.to_json())

    def _line(self, text: str) -> None:
        data = text + "\n"
        self._sha.update(data.encode())
        self._file.write(data)

    @property
    def sha256(self) -> str:
        return self._sha.hexdigest()

    def close(self) -> str:
        """Write the trailer and close; returns the SHA-256 recorded in it."""
        digest = self.sha256
        trailer = {"end": True, "counts": dict(self.counts), "skipped": dict(self.skipped),
                   "targets": sorted(self.targets), "sha256": digest}  # fmt: skip
        self._file.write(json.dumps(trailer) + "\n")
        self._file.close()
        return digest

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        if et is None:
            self.close()
        else:
            self._file.close()


@dataclass
class ReplayList:
    """The ``replay`` entries of a selection, compactly: per partition, ascending offsets
    and message hashes (16 bytes an entry), plus the duplicates each entry stands for."""

    offsets: dict[int, array[int]] = field(default_factory=dict)
    hashes: dict[int, array[int]] = field(default_factory=dict)
    dups: dict[tuple[int, int], list[tuple[int, int]]] = field(default_factory=dict)

    def add(self, e: SelectionEntry) -> None:
        self.offsets.setdefault(e.partition, array("q")).append(e.offset)
        self.hashes.setdefault(e.partition, array("q")).append(message_hash(e.message_id))

    def __len__(self) -> int:
        return sum(len(a) for a in self.offsets.values())


@dataclass(frozen=True)
class Selection:
    """A verified selection file: its header, trailer and path."""

    path: Path
    header: dict[str, Any]
    trailer: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.header["id"])

    @property
    def dlt(self) -> str:
        return str(self.header["dlt"])

    @property
    def sha256(self) -> str:
        return str(self.trailer["sha256"])

    @property
    def targets(self) -> list[str]:
        """The topics the replay writes to."""
        return list(self.trailer.get("targets", []))

    @property
    def replay_count(self) -> int:
        return int(self.trailer["counts"].get("replay", 0))

    def entries(self) -> Iterator[SelectionEntry]:
        """Every entry, in file order (streamed)."""
        with self.path.open(encoding="utf-8") as f:
            next(f)
            for line in f:
                doc = json.loads(line)
                if doc.get("end"):
                    return
                yield SelectionEntry.from_doc(doc)

    def replay_list(self) -> ReplayList:
        """The entries to replay, sorted by partition and offset."""
        out = ReplayList()
        for e in self.entries():
            if e.act == "replay":
                out.add(e)
            elif e.act == "dup" and e.of is not None:
                out.dups.setdefault(e.of, []).append((e.partition, e.offset))
        for p, offsets in out.offsets.items():
            if any(a > b for a, b in itertools.pairwise(offsets)):
                order = sorted(range(len(offsets)), key=offsets.__getitem__)
                out.offsets[p] = array("q", (offsets[i] for i in order))
                out.hashes[p] = array("q", (out.hashes[p][i] for i in order))
        return out


def read_selection(path: Path) -> Selection:
    """Open and verify a selection file (``ContractError`` naming what is wrong)."""
    sha = hashlib.sha256()
    header: dict[str, Any] | None = None
    trailer: dict[str, Any] | None = None
    try:
        with path.open(encoding="utf-8") as f:
            for line in f:
                if trailer is not None:
                    raise ContractError(f"selection {path}: lines after its trailer")
                doc = json.loads(line)
                if isinstance(doc, dict) and doc.get("end") is True:
                    trailer = doc
                    continue
                sha.update(line.encode())
                header = header or doc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ContractError(f"selection {path} cannot be read: {exc}") from exc
    if header is None or header.get("kind") != SELECTION_KIND:
        raise ContractError(f"{path} is not a dead-letter selection (no {SELECTION_KIND} header)")
    if trailer is None:
        raise ContractError(f"selection {path} is incomplete (no trailer): was the dry run cut?")
    if trailer.get("sha256") != sha.hexdigest():
        raise ContractError(f"selection {path} was changed after the dry run wrote it "
                            f"(SHA-256 differs): plan it again")  # fmt: skip
    return Selection(path, header, trailer)
