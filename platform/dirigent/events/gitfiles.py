"""Read files as they were at a git revision (for the schema evolution check)."""

from __future__ import annotations

import posixpath
import subprocess
from pathlib import Path

from dirigent.errors import ConfigurationError

__all__ = ["default_revision", "files_at"]

_SYMLINK_MODE = "120000"


def _git(cwd: Path, *args: str) -> str:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    except FileNotFoundError as exc:
        raise ConfigurationError("git is not installed") from exc
    except subprocess.CalledProcessError as exc:
        raise ConfigurationError(f"git {' '.join(args)} failed: {exc.stderr.strip()}") from exc
    return done.stdout


def _repo_root(directory: Path) -> Path:
    return Path(_git(directory.resolve(), "rev-parse", "--show-toplevel").strip())


def default_revision(directory: Path) -> str:
    """The merge base of ``HEAD`` with ``main``; ``HEAD`` when there is none."""
    try:
        return _git(directory.resolve(), "merge-base", "HEAD", "main").strip()
    except ConfigurationError:
        return "HEAD"


def files_at(rev: str, directory: Path, *, suffix: str) -> dict[Path, str]:
    """``{path: text}`` of the files under ``directory`` at ``rev`` (symlinks followed).

    Paths are the ones the files would have in the working tree. A directory absent at
    ``rev`` gives ``{}``.
    """
    root = _repo_root(directory)
    relative = directory.resolve().relative_to(root).as_posix()
    out: dict[Path, str] = {}
    _collect(root, rev, relative, suffix, out, depth=0)
    return out


def _collect(root: Path, rev: str, rel: str, suffix: str, out: dict[Path, str], depth: int) -> None:
    if depth > 8:
        raise ConfigurationError(f"too many symlinks below {rel} at {rev}")
    spec = [] if rel == "." else ["--", rel + "/"]
    listing = _git(root, "ls-tree", "-r", "-z", rev, *spec)
    for entry in filter(None, listing.split("\0")):
        meta, _, path = entry.partition("\t")
        mode, _, obj = meta.split(" ")
        if mode == _SYMLINK_MODE:
            target = _git(root, "cat-file", "blob", obj).strip()
            resolved = posixpath.normpath(posixpath.join(posixpath.dirname(path), target))
            sub: dict[Path, str] = {}
            _collect(root, rev, resolved, suffix, sub, depth + 1)
            for sub_path, text in sub.items():
                linked = Path(path) / sub_path.relative_to(root / resolved)
                out[root / linked] = text
        elif path.endswith(suffix):
            out[root / path] = _git(root, "cat-file", "blob", obj)
