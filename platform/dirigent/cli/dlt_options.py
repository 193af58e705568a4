"""What every ``dirigent dlt`` command shares: filter and saga options, progress, errors."""

from __future__ import annotations

import asyncio
import functools
import sys
import time
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any, Self, TypeVar

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress import Progress as RichProgress

from dirigent.config import Settings
from dirigent.errors import DirigentError
from dirigent.ops.dlt import parse_offset
from dirigent.ops.dlt_filter import DltFilter, parse_moment
from dirigent.ops.dlt_session import SagaStoreRef

__all__ = [
    "ConsoleProgress",
    "build_filter",
    "filter_options",
    "json_option",
    "run",
    "saga_options",
]

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON (for scripts).")

_FILTERS: list[Callable[[F], F]] = [
    click.option("--topic", "topics", multiple=True,
                 help="Original topic the record failed on (repeatable)."),
    click.option("--since", help="Failed at or after: ISO 8601 (UTC) or an age (15m, 2h, 3d)."),
    click.option("--until", help="Failed before: ISO 8601 (UTC) or an age."),
    click.option("--error-class", "error_classes", multiple=True,
                 help="Error class, full or last part (Declined) (repeatable)."),
    click.option("--fingerprint", "fingerprints", multiple=True,
                 help="Failure fingerprint (repeatable)."),
    click.option("--handler", "handlers", multiple=True, help="Handler name (repeatable)."),
    click.option("--consumer-group", "groups", multiple=True,
                 help="Consumer group that gave up on the record (repeatable)."),
    click.option("--saga-id", "saga_ids", multiple=True, help="Saga id (repeatable)."),
    click.option("--saga-type", "saga_types", multiple=True,
                 help="Saga type, read from the saga store (repeatable)."),
    click.option("--offset", "offsets", multiple=True,
                 help="OFFSET or PARTITION:OFFSET in the .dlt topic (repeatable)."),
    click.option("--replayed", "accounting", flag_value="replayed",
                 help="Only records already replayed."),
    click.option("--not-replayed", "accounting", flag_value="open",
                 help="Only records neither replayed nor judged dead."),
    click.option("--state", "accounting",
                 type=click.Choice(["open", "replayed", "judged-dead", "accounted"]),
                 help="Only records in this ledger state."),
]  # fmt: skip


def filter_options(func: F) -> F:
    """The filter options, in the order ``--help`` lists them."""
    for option in reversed(_FILTERS):
        func = option(func)
    return func


def saga_options(func: F) -> F:
    """Where the coordinator keeps saga state (read-only)."""
    func = click.option(
        "--saga-topic",
        default=None,
        help="Read the saga partition count from this topic (co-partitioned saga topics).",
    )(func)
    func = click.option(
        "--partitions",
        type=click.IntRange(min=1),
        default=None,
        help="Partition count of the saga topics [the record's original topic's].",
    )(func)
    return click.option(
        "--group-id",
        default="dirigent-coordinator",
        envvar="DIRIGENT_COORDINATOR_GROUP_ID",
        show_default=True,
        help="Coordinator group id (its Redis namespace).",
    )(func)


_NO_PROGRESS = click.option("--no-progress", is_flag=True, help="No progress on stderr.")


def progress_option(func: F) -> F:
    return _NO_PROGRESS(func)


def build_filter(
    *,
    topics: tuple[str, ...] = (),
    since: str | None = None,
    until: str | None = None,
    error_classes: tuple[str, ...] = (),
    fingerprints: tuple[str, ...] = (),
    handlers: tuple[str, ...] = (),
    groups: tuple[str, ...] = (),
    saga_ids: tuple[str, ...] = (),
    saga_types: tuple[str, ...] = (),
    offsets: tuple[str, ...] = (),
    accounting: str | None = None,
) -> DltFilter:
    """The filter the options describe; ``BadParameter`` names a bad value."""
    try:
        refs = tuple(parse_offset(o) for o in offsets)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--offset") from exc
    return DltFilter(
        topics=frozenset(topics),
        since_ms=_moment(since, "--since"),
        until_ms=_moment(until, "--until"),
        error_classes=frozenset(error_classes),
        fingerprints=frozenset(fingerprints),
        handlers=frozenset(handlers),
        groups=frozenset(groups),
        saga_ids=frozenset(saga_ids),
        saga_types=frozenset(saga_types),
        offsets=refs,
        accounting=accounting,
    )


def _moment(text: str | None, hint: str) -> int | None:
    if text is None:
        return None
    try:
        return parse_moment(text)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=hint) from exc


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro``; a dirigent error becomes one clear message and exit status 1."""
    try:
        return asyncio.run(coro)
    except DirigentError as exc:
        raise click.ClickException(str(exc)) from exc


class ConsoleProgress:
    """Progress on stderr: a bar on a terminal, a line every ``every_s`` otherwise.

    Nothing is printed for work that ends within ``every_s`` when not on a terminal, so
    short runs in scripts stay quiet.
    """

    def __init__(self, *, enabled: bool = True, every_s: float = 2.0) -> None:
        self.enabled = enabled
        self.every_s = every_s
        self.console = Console(stderr=True)
        self.tty = self.console.is_terminal
        self._bar: RichProgress | None = None
        self._task: TaskID | None = None
        self._what, self._total, self._done = "", 0, 0
        self._t0 = self._last = 0.0

    def __enter__(self) -> Self:
        if self.enabled and self.tty:
            self._bar = RichProgress(
                TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                TimeElapsedColumn(), TimeRemainingColumn(), console=self.console,
            )  # fmt: skip
            self._bar.start()
        return self

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._bar is not None:
            self._bar.stop()

    def start(self, what: str, total: int) -> None:
        self._what, self._total, self._done = what, total, 0
        self._t0 = self._last = time.monotonic()
        if self._bar is not None:
            self._task = self._bar.add_task(what, total=total or None)

    def advance(self, units: int) -> None:
        self._done += units
        if self._bar is not None and self._task is not None:
            self._bar.advance(self._task, units)
            return
        now = time.monotonic()
        if self.enabled and now - self._last >= self.every_s:
            self._last = now
            self._line(now)

    def finish(self) -> None:
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, completed=self._done, total=self._done or 1)
        elif self.enabled and time.monotonic() - self._t0 >= self.every_s:
            self._line(time.monotonic(), done=True)

    def _line(self, now: float, *, done: bool = False) -> None:
        rate = self._done / max(now - self._t0, 1e-9)
        share = f" ({100 * self._done / self._total:.0f}%)" if self._total else ""
        state = "done" if done else "..."
        print(f"{self._what}: {self._done}/{self._total}{share}, {rate:,.0f}/s {state}",
              file=sys.stderr, flush=True)  # fmt: skip


def with_progress(func: F) -> F:
    """Hand the command a ``ConsoleProgress`` (``progress=``), honouring --no-progress."""

    @functools.wraps(func)
    def wrapper(*args: Any, no_progress: bool, **kwargs: Any) -> Any:
        with ConsoleProgress(enabled=not no_progress) as progress:
            return func(*args, progress=progress, **kwargs)

    return progress_option(wrapper)  # type: ignore[return-value]


def settings_store(group_id: str, partitions: int | None, saga_topic: str | None) -> SagaStoreRef:
    """The coordinator's saga store as the environment names it (URL, login, TLS)."""
    settings = Settings()
    return SagaStoreRef(
        settings.redis_url, group_id, partitions, saga_topic, settings.redis_security()
    )
