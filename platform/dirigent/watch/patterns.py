"""Failure patterns: a small Drain-like template miner with stack similarity (pure).

Messages are masked (``templates.mask``) and split into words. A new failure joins the
most similar pattern of the same error class and word count when the share of equal
words reaches ``similarity`` (positions already generalised to ``<*>`` match anything);
the positions that differ then become ``<*>``. When both have a stack, the frames must
overlap too (Jaccard of ``file:function`` frames at least ``stack_similarity``); the
same stack with a less similar message still joins, at half the word threshold. One
incident whose messages differ slightly is one pattern; a new code path is another.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from dirigent.watch.templates import WILDCARD, tokens

__all__ = ["Pattern", "PatternMiner", "frames"]

_FRAME = re.compile(r'File "(?P<file>[^"]+)", line \d+, in (?P<fn>\S+)')


def frames(stack: str | None) -> frozenset[str]:
    """The ``file:function`` frames of a Python traceback (empty if none)."""
    if not stack:
        return frozenset()
    return frozenset(f"{m['file'].rsplit('/', 1)[-1]}:{m['fn']}" for m in _FRAME.finditer(stack))


@dataclass(slots=True)
class Pattern:
    """One kind of failure: its template, how many, and a first sample."""

    pattern_id: int
    error_class: str | None
    template: list[str]
    frames: frozenset[str]
    sample: str
    count: int = 0
    members: dict[str, int] = field(default_factory=dict)  # e.g. fingerprint -> count

    @property
    def text(self) -> str:
        return " ".join(self.template)


@dataclass
class PatternMiner:
    """``add`` failures one by one; ``patterns()`` gives the largest first.

    Example::

        miner = PatternMiner()
        miner.add("ConnectionError", "connect to 10.0.0.7:5432 timed out after 3000 ms")
        miner.add("ConnectionError", "connect to 10.0.0.9:5432 timed out after 2987 ms")
        [p] = miner.patterns()   # p.text == "connect to <ip> timed out after <num> ms"
    """

    similarity: float = 0.6
    stack_similarity: float = 0.5
    _by_shape: dict[tuple[str | None, int], list[Pattern]] = field(default_factory=dict)
    _count: int = 0

    def add(self, error_class: str | None, message: str | None, stack: str | None = None,
            *, member: str = "-") -> Pattern:  # fmt: skip
        """File one failure; returns the pattern it joined (or started)."""
        words = list(tokens(message or "")) or ["<empty>"]
        fr = frames(stack)
        bucket = self._by_shape.setdefault((error_class, len(words)), [])
        best, best_sim = None, 0.0
        for p in bucket:
            sim = _similar(p.template, words)
            if sim > best_sim and self._joins(p, sim, fr):
                best, best_sim = p, sim
        if best is None:
            self._count += 1
            best = Pattern(self._count, error_class, words, fr, message or "")
            bucket.append(best)
        else:
            best.template = [
                a if a == b else WILDCARD for a, b in zip(best.template, words, strict=True)
            ]
            best.frames = best.frames | fr
        best.count += 1
        best.members[member] = best.members.get(member, 0) + 1
        return best

    def _joins(self, p: Pattern, sim: float, fr: frozenset[str]) -> bool:
        if not p.frames or not fr:
            return sim >= self.similarity
        overlap = len(p.frames & fr) / len(p.frames | fr)
        if overlap >= 1.0:
            return sim >= self.similarity / 2
        return overlap >= self.stack_similarity and sim >= self.similarity

    def patterns(self) -> list[Pattern]:
        """Every pattern, largest first."""
        found = [p for b in self._by_shape.values() for p in b]
        return sorted(found, key=lambda p: (-p.count, p.pattern_id))


def _similar(template: list[str], words: list[str]) -> float:
    same = sum(1 for a, b in zip(template, words, strict=True) if a in (b, WILDCARD))
    return same / len(words)
