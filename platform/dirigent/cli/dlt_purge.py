"""``dirigent dlt purge`` and ``dirigent dlt archive``: drop what is accounted for."""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.table import Table

from dirigent.cli.dlt_options import (
    ConsoleProgress,
    build_filter,
    filter_options,
    json_option,
    run,
    saga_options,
    settings_store,
    with_progress,
)
from dirigent.config import Settings
from dirigent.ops.dlt_archive import ARCHIVE_SUFFIX
from dirigent.ops.dlt_filter import DltFilter
from dirigent.ops.dlt_session import DltSession, SagaStoreRef, open_session
from dirigent.ops.purge import Judgement, PurgePlan, find_open, judge, purge
from dirigent.transport import RawProducer

__all__ = ["archive", "purge_"]

F = TypeVar("F", bound=Callable[..., Any])


def _common(func: F) -> F:
    for option in reversed([
        click.argument("topic"),
        click.option("--judged-dead", is_flag=True,
                     help="First judge the open dead letters that match the filters dead."),
        click.option("--reason", default=None, help="Why they are dead (with --judged-dead)."),
        filter_options, saga_options,
        click.option("--dry-run", is_flag=True, help="Show what would go; change nothing."),
        click.option("--yes", is_flag=True, help="Do not ask for confirmation."),
        click.option("--who", default=None, help="Operator named in the audit [$USER]."),
        json_option, with_progress,
    ]):  # fmt: skip
        func = option(func)
    return func


@click.command("purge")
@_common
def purge_(**kw: Any) -> None:
    """Delete the dead letters of TOPIC that are accounted for (replayed or judged dead).

    Kafka deletes only the head of a partition: per partition, everything before the
    first record not accounted for is deleted (DeleteRecords); that record and all
    after it stay. Nothing is copied first: see `dlt archive`.
    """
    _purge(archive_topic=None, archive_file=None, **kw)


@click.command("archive")
@click.option("--to-topic", default=None, help="Copy to this topic [TOPIC.archive].")
@click.option("--file", "archive_file", type=click.Path(path_type=Path, dir_okay=False),
              help="Copy to this JSON Lines file instead of a topic.")  # fmt: skip
@_common
def archive(to_topic: str | None, archive_file: Path | None, **kw: Any) -> None:
    """Copy the accounted-for dead letters of TOPIC to an archive, then purge them.

    The copy (TOPIC.archive, or --file) is acknowledged (or flushed to disk) before
    anything is deleted; each record keeps key, value and headers and says where it
    came from (dirigent-archived-from) and how it was accounted for.
    """
    topic = kw["topic"]
    target = None if archive_file else (to_topic or topic + ARCHIVE_SUFFIX)
    _purge(archive_topic=target, archive_file=archive_file, **kw)


def _purge(*, topic: str, judged_dead: bool, reason: str | None, group_id: str,
           partitions: int | None, saga_topic: str | None, dry_run: bool, yes: bool,
           who: str | None, as_json: bool, progress: ConsoleProgress,
           archive_topic: str | None, archive_file: Path | None,
           **filters: Any) -> None:  # fmt: skip
    f = build_filter(**filters)
    if judged_dead and not (reason or "").strip():
        raise click.UsageError("--judged-dead needs --reason: say why they will not be replayed")
    if not judged_dead and f.to_dict():
        raise click.UsageError("the filters choose what --judged-dead judges; a purge itself "
                               "always takes what is accounted for")  # fmt: skip
    store = settings_store(group_id, partitions, saga_topic) \
        if f.needs_sagas else None  # fmt: skip
    operator = who or os.environ.get("USER") or getpass.getuser()
    job = _Job(topic, f if judged_dead else None, reason or "", store, operator, archive_topic,
               archive_file, progress)  # fmt: skip
    judgement, plan = run(job.plan())
    idle = not plan.deletable and not (judgement and judgement.count)
    if dry_run or idle or not as_json:
        _print(judgement, plan, as_json, dry_run=True)
    if dry_run or idle:
        return
    if not yes:
        what = f"archive to {plan.archive} and delete" if plan.archive else "delete"
        click.confirm(f"{what} {plan.deletable} dead letter(s) of {topic}?", abort=True)
    judgement, plan = run(job.execute(judgement))
    _print(judgement, plan, as_json, dry_run=False)


class _Job:
    def __init__(self, topic: str, f: DltFilter | None, reason: str, store: SagaStoreRef | None,
                 who: str, archive_topic: str | None, archive_file: Path | None,
                 progress: ConsoleProgress) -> None:  # fmt: skip
        self.topic, self.f, self.reason, self.store, self.who = topic, f, reason, store, who
        self.archive_topic, self.archive_file, self.progress = archive_topic, archive_file, progress

    async def plan(self) -> tuple[Judgement | None, PurgePlan]:
        settings = Settings()
        async with open_session(settings.kafka(), self.topic, store=self.store,
                                progress=self.progress) as session:  # fmt: skip
            judgement = await find_open(session, self.f, self.reason) if self.f else None
            if judgement is not None:
                await judge(session, judgement, who=self.who, producer=None)
            plan = await self._purge(session, None)
        return judgement, plan

    async def execute(self, judgement: Judgement | None) -> tuple[Judgement | None, PurgePlan]:
        settings = Settings()
        async with (
            open_session(settings.kafka(), self.topic, store=self.store,
                         progress=self.progress) as session,
            RawProducer(settings.kafka()) as producer,
        ):  # fmt: skip
            if judgement is not None:
                await judge(session, judgement, who=self.who, producer=producer, filters=self.f)
            plan = await self._purge(session, producer)
        return judgement, plan

    async def _purge(self, session: DltSession, producer: RawProducer | None) -> PurgePlan:
        return await purge(
            session,
            who=self.who,
            producer=producer,
            archive_topic=self.archive_topic,
            archive_file=self.archive_file,
        )


def _print(judgement: Judgement | None, plan: PurgePlan, as_json: bool, dry_run: bool) -> None:
    if as_json:
        doc = {"dry_run": dry_run, **plan.to_dict(),
               "judged_dead": judgement.count if judgement else 0}  # fmt: skip
        click.echo(json.dumps(doc, indent=2))
        return
    console = Console()
    if judgement is not None:
        verb = "would judge" if dry_run else "judged"
        console.print(f"{verb} {judgement.count} open dead letter(s) dead: {judgement.reason}")
    table = Table(title=f"{plan.dlt}: {plan.deletable} dead letter(s) "
                  f"{'would go' if dry_run else 'deleted'}")  # fmt: skip
    for column in ("partition", "log start", "watermark", "end", "deletable"):
        table.add_column(column, no_wrap=True, justify="right")
    table.add_column("kept from", overflow="fold")
    for p in plan.partitions:
        table.add_row(str(p.partition), str(p.start), str(p.watermark), str(p.end),
                      str(p.deletable), p.blocked_by or "-")  # fmt: skip
    console.print(table)
    if plan.archive and not dry_run:
        console.print(f"archived {plan.archived} record(s) to {plan.archive}")
