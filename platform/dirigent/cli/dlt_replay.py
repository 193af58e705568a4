"""``dirigent dlt replay``: plan (dry run, selection file) and run a saga-aware replay."""

from __future__ import annotations

import getpass
import json
import os
import time
from pathlib import Path
from typing import Any

import click
from rich.console import Console

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
from dirigent.ops.dlt_filter import DltFilter
from dirigent.ops.dlt_render import counts_line, plan_table
from dirigent.ops.payload import PayloadCodec
from dirigent.ops.replay import plan, run_selection
from dirigent.ops.replay_edit import Edit, load_edit_file, parse_edit
from dirigent.ops.replay_plan import PlanOptions, PlanSummary
from dirigent.ops.replay_run import RunOptions, RunReport
from dirigent.ops.replay_select import Selection, read_selection

__all__ = ["replay"]

REPLAYS_DIR = Path(".dirigent") / "replays"


@click.command("replay")
@click.argument("topic", required=False)
@filter_options
@saga_options
@click.option("--again", is_flag=True, help="Replay records already replayed once more.")
@click.option("--to", "to", default=None, help="Replay to this topic instead of the original.")
@click.option(
    "--edit",
    "edits",
    multiple=True,
    help="FIELD=VALUE: change a payload field before replaying (repeatable).",
)
@click.option(
    "--edit-file",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help="JSON object of FIELD: VALUE edits.",
)
@click.option("--dry-run", is_flag=True, help="Decide and write the selection; send nothing.")
@click.option(
    "--out",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Where the dry run writes the selection [.dirigent/replays/...].",
)
@click.option(
    "--selection",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    help="Replay the selection a dry run wrote (resumes it if interrupted).",
)
@click.option(
    "--canary",
    type=click.IntRange(min=0),
    default=0,
    help="Replay N records first and go on only once they were processed.",
)
@click.option(
    "--canary-timeout",
    type=click.FloatRange(min=0),
    default=60.0,
    show_default=True,
    help="Seconds to wait for the canary.",
)
@click.option(
    "--reply-topic",
    "reply_topics",
    multiple=True,
    help="Where participants reply: a reply caused by a canary record proves it "
    "was processed (repeatable).",
)
@click.option(
    "--rate",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="At most R records per second.",
)
@click.option(
    "--batch",
    type=click.IntRange(min=1),
    default=200,
    show_default=True,
    help="Records per acknowledged batch.",
)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--who", default=None, help="Operator named in the audit [$USER].")
@json_option
@with_progress
def replay(topic: str | None, group_id: str, partitions: int | None, saga_topic: str | None,
           again: bool, to: str | None, edits: tuple[str, ...], edit_file: Path | None,
           dry_run: bool, out: Path | None, selection: Path | None, canary: int,
           canary_timeout: float, reply_topics: tuple[str, ...], rate: float | None,
           batch: int, yes: bool, who: str | None, as_json: bool, progress: ConsoleProgress,
           **filters: Any) -> None:  # fmt: skip
    """Produce dead letters of TOPIC back to their original topics, saga-aware.

    Each record is checked against its saga (read-only, from the coordinator's Redis
    namespace --group-id): one whose saga ended, or no longer waits for it, is skipped
    with the reason. Records already replayed are skipped unless --again. The dry run
    writes the decision to a selection file (--out); `replay --selection FILE` replays
    exactly those records, checking each once more, and resumes where it stopped if
    interrupted. Replayed records keep their message id and carry dirigent-replayed,
    dirigent-replay-id and dirigent-replay-of headers. Every replay is audited on
    dirigent.ops.audit (plan, selection in chunks, outcome).
    """
    operator = who or os.environ.get("USER") or getpass.getuser()
    run_options = RunOptions(operator, again, canary, canary_timeout, reply_topics, rate, batch)
    if selection is not None:
        _refuse_plan_options(topic, filters, to, edits, edit_file, dry_run, out, selection)
        _run_selection(read_selection(selection), run_options, yes, as_json, progress)
        return
    if topic is None:
        raise click.UsageError("give TOPIC (a .dlt topic) or --selection FILE")
    f = build_filter(**filters)
    store = settings_store(group_id, partitions, saga_topic)
    plan = PlanOptions(operator, again, to, tuple(_edits(edits, edit_file)), store)
    path = out or REPLAYS_DIR / f"{topic}-{time.strftime('%Y%m%dT%H%M%S')}.selection.jsonl"
    summary = run(_plan(topic, f, plan, path, progress))
    if dry_run or not as_json:
        _print_plan(summary, as_json)
    if summary.selection.trailer["counts"] == {}:
        path.unlink(missing_ok=True)  # an empty selection is nothing to keep
        raise click.ClickException(f"no dead letter in {topic} matches the selection")
    count = summary.selection.replay_count
    if dry_run:
        if not as_json:
            click.echo(f"dry run: {count} record(s) would be replayed; nothing produced. "
                       f"Selection: {path}\nReplay exactly these with: dirigent dlt replay "
                       f"--selection {path}")  # fmt: skip
        return
    if count == 0:
        if as_json:
            click.echo(json.dumps({"outcome": "nothing to replay", "plan": summary.counts,
                                   "skipped": summary.skipped}, indent=2))  # fmt: skip
        else:
            click.echo("nothing to replay")
        return
    _run_selection(summary.selection, run_options, yes, as_json, progress, shown=True)


_FILTER_FLAGS = {
    "topics": "--topic",
    "since": "--since",
    "until": "--until",
    "error_classes": "--error-class",
    "fingerprints": "--fingerprint",
    "handlers": "--handler",
    "groups": "--consumer-group",
    "saga_ids": "--saga-id",
    "saga_types": "--saga-type",
    "offsets": "--offset",
    "accounting": "--state",
}


def _refuse_plan_options(topic: str | None, filters: dict[str, Any], to: str | None,
                         edits: tuple[str, ...], edit_file: Path | None, dry_run: bool,
                         out: Path | None, selection: Path) -> None:  # fmt: skip
    given = [name for name, v in (("--to", to), ("--edit", edits), ("--edit-file", edit_file),
                                  ("--dry-run", dry_run), ("--out", out)) if v]  # fmt: skip
    given += [_FILTER_FLAGS.get(k, k) for k, v in filters.items() if v]
    if given:
        raise click.UsageError(f"{', '.join(given)} belong to the plan: the selection "
                               f"{selection} fixes them (plan again with --dry-run)")  # fmt: skip
    if topic is not None and topic != read_selection(selection).dlt:
        raise click.UsageError(f"selection {selection} is of {read_selection(selection).dlt}, "
                               f"not {topic}")  # fmt: skip


def _edits(edits: tuple[str, ...], edit_file: Path | None) -> list[Edit]:
    try:
        parsed = [parse_edit(e) for e in edits]
        return parsed + (load_edit_file(edit_file) if edit_file else [])
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--edit") from exc


async def _plan(topic: str, f: DltFilter, options: PlanOptions, path: Path,
                progress: ConsoleProgress) -> PlanSummary:  # fmt: skip
    settings = Settings()
    payloads = PayloadCodec(settings.schemas_dir, settings.schema_registry_url)
    return await plan(settings.kafka(), topic, f, path, options, payloads=payloads,
                      progress=progress)  # fmt: skip


def _print_plan(summary: PlanSummary, as_json: bool) -> None:
    s = summary.selection
    if as_json:
        doc = {"selection": str(s.path), "selection_id": s.id, "counts": summary.counts,
               "skipped": summary.skipped, "targets": s.targets,
               "entries": [json.loads(e.to_json()) for _, e in summary.sample]}  # fmt: skip
        click.echo(json.dumps(doc, indent=2))
        return
    if not summary.sample:
        return
    console = Console()
    shown = len(summary.sample)
    total = sum(summary.counts.values())
    title = f"{s.dlt}: {total} dead letter(s): {counts_line(summary.counts)}"
    console.print(plan_table(summary.sample, title, width=console.width))
    if shown < total:
        console.print(f"... and {total - shown} more (all of them in {s.path})")
    if summary.skipped:
        console.print(f"skipped: {counts_line(summary.skipped)}")


def _run_selection(selection: Selection, options: RunOptions, yes: bool, as_json: bool,
                   progress: ConsoleProgress, *, shown: bool = False) -> None:  # fmt: skip
    count = selection.replay_count
    if not shown and not as_json:
        click.echo(f"selection {selection.path}: {count} record(s) of {selection.dlt} to "
                   f"replay ({counts_line(selection.trailer['counts'])})")  # fmt: skip
    if not yes:
        click.confirm(f"Replay {count} record(s)?", abort=True)
    hint = f"`dirigent dlt replay --selection {selection.path}` goes on from where it stopped"
    try:
        report = run(_replay(selection, options, progress))
    except (click.ClickException, KeyboardInterrupt):
        click.echo(f"replay interrupted: {hint}", err=True)
        raise
    _print_report(report, as_json, selection)
    if not report.ok:
        raise click.ClickException(f"replay {report.replay_id} {report.outcome}; {hint}")


async def _replay(selection: Selection, options: RunOptions,
                  progress: ConsoleProgress) -> RunReport:  # fmt: skip
    settings = Settings()
    payloads = PayloadCodec(settings.schemas_dir, settings.schema_registry_url)
    return await run_selection(settings.kafka(), selection, options,
                               redis_url=settings.redis_url,
                               redis_security=settings.redis_security(), payloads=payloads,
                               progress=progress)  # fmt: skip


def _print_report(report: RunReport, as_json: bool, selection: Selection) -> None:
    if as_json:
        doc = {"replay_id": report.replay_id, "outcome": report.outcome,
               "selection": str(selection.path), "plan": selection.trailer["counts"],
               "skipped_in_plan": selection.trailer["skipped"],
               "resumed": report.resumed, "canary": report.canary, "counts": dict(report.counts),
               "sent": [{"from": where, "topic": s.topic, "partition": s.partition,
                         "offset": s.offset} for where, s in report.sent]}  # fmt: skip
        click.echo(json.dumps(doc, indent=2))
        return
    for where, s in report.sent:
        click.echo(f"{where} -> {s.topic}[{s.partition}]@{s.offset}")
    verb = "resumed and replayed" if report.resumed else "replayed"
    click.echo(f"{verb} {report.counts.get('sent', 0)} record(s) (replay {report.replay_id}, "
               f"{report.outcome}); {counts_line(dict(report.counts))}")  # fmt: skip
