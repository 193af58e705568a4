"""The progress file of a replay, next to its selection: what is done, so that an
interrupted replay resumes without sending anything twice.

It is rewritten (atomically: a temporary file renamed over it) after each batch the
broker acknowledged and the ledger recorded. ``done[partition]`` is the highest offset
of the selection whose entry is settled (replayed or skipped); entries are taken in
offset order, so everything below it is settled too. ``targets`` holds where the
topics written to ended before the first send: a resumed run reads them from there for
records of this replay (``dirigent-replay-id``) that were acknowledged after the last
rewrite, and does not send those again.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dirigent.errors import ContractError

__all__ = ["Checkpoint", "checkpoint_path"]


def checkpoint_path(selection: Path) -> Path:
    """``sel.json`` -> ``sel.json.progress``."""
    return selection.with_name(selection.name + ".progress")


@dataclass
class Checkpoint:
    """How far one replay of one selection got."""

    path: Path
    replay_id: str
    selection_id: str
    selection_sha256: str
    started_ms: int = field(default_factory=lambda: int(time.time() * 1000))
    done: dict[int, int] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)
    targets: dict[str, dict[int, int]] = field(default_factory=dict)
    canary: str = "none"  # "none", "passed", or why it failed
    finished: bool = False

    def is_done(self, partition: int, offset: int) -> bool:
        return offset <= self.done.get(partition, -1)

    def save(self) -> None:
        """Write atomically: a reader sees the old file or the new one, never half."""
        doc: dict[str, Any] = {
            "replay_id": self.replay_id, "selection_id": self.selection_id,
            "selection_sha256": self.selection_sha256, "started_ms": self.started_ms,
            "done": {str(p): o for p, o in self.done.items()}, "counts": dict(self.counts),
            "targets": {t: {str(p): o for p, o in e.items()} for t, e in self.targets.items()},
            "canary": self.canary, "finished": self.finished,
        }  # fmt: skip
        tmp = self.path.with_name(self.path.name + ".tmp")
        with tmp.open("w", encoding="utf-8") as f:
            json.dump(doc, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)

    @classmethod
    def load(cls, path: Path) -> Checkpoint | None:
        """The checkpoint at ``path``, or ``None`` if there is none."""
        if not path.exists():
            return None
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            return cls(
                path=path, replay_id=doc["replay_id"], selection_id=doc["selection_id"],
                selection_sha256=doc["selection_sha256"], started_ms=doc["started_ms"],
                done={int(p): int(o) for p, o in doc["done"].items()},
                counts=Counter(doc["counts"]),
                targets={t: {int(p): int(o) for p, o in ends.items()}
                         for t, ends in doc["targets"].items()},
                canary=doc["canary"], finished=doc["finished"],
            )  # fmt: skip
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ContractError(f"progress file {path} cannot be read: {exc}") from exc
