"""docs/saga-testing.md: every Python block runs, in order, and prints what the doc shows.

A Python block that prints must be followed by a ``text`` block holding its output, where
``...`` stands for any text (engine wording that may change).
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

GUIDE = Path(__file__).resolve().parents[3] / "docs" / "saga-testing.md"
_BLOCK = re.compile(r"^```(\w+)\n(.*?)^```$", re.DOTALL | re.MULTILINE)


def _blocks() -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in _BLOCK.finditer(GUIDE.read_text())]


def _fits(shown: str, printed: str) -> bool:
    pattern = ".*".join(re.escape(part) for part in shown.strip().split("..."))
    return re.fullmatch(pattern, printed.strip(), re.DOTALL) is not None


def test_every_example_runs_and_prints_what_the_guide_shows() -> None:
    blocks = _blocks()
    namespace: dict[str, object] = {"__name__": "saga_testing_guide"}
    checked = 0
    for i, (lang, code) in enumerate(blocks):
        if lang != "python":
            continue
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, f"{GUIDE.name} block {i + 1}", "exec"), namespace)
        if out.getvalue():
            following = blocks[i + 1] if i + 1 < len(blocks) else ("", "")
            assert following[0] == "text", f"block {i + 1} prints, but no text block follows"
            assert _fits(following[1], out.getvalue()), (
                f"block {i + 1} printed:\n{out.getvalue()}\nthe guide shows:\n{following[1]}"
            )
        checked += 1
    assert checked >= 8  # the guide keeps its examples
