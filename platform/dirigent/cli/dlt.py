"""``dirigent dlt``: list, group and replay dead letters."""

from __future__ import annotations

import asyncio
import getpass
import json
import os
from collections.abc import Coroutine
from typing import Any, TypeVar

import click
from rich.console import Console

from dirigent.config import Settings
from dirigent.errors import DirigentError
from dirigent.ops import group_by_fingerprint, load_dead_letters, parse_offset, replay, select
from dirigent.ops.render import dead_letters_table, groups_table

__all__ = ["dlt"]

T = TypeVar("T")

_JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON (for scripts).")


@click.group()
def dlt() -> None:
    """Dead-letter topics (<topic>.dlt): inspect, group by failure, replay.

    Reading never joins a consumer group and never commits an offset.
    """


@dlt.command("list")
@click.argument("topic")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most N records.")
@_JSON
def list_(topic: str, limit: int | None, as_json: bool) -> None:
    """Show the dead letters of TOPIC (a .dlt topic) from its beginning."""
    letters = _run(load_dead_letters(Settings().kafka_bootstrap, topic, limit=limit))
    if as_json:
        click.echo(json.dumps([d.to_dict() for d in letters], indent=2))
    else:
        Console().print(dead_letters_table(letters, f"{topic}: {len(letters)} dead letter(s)"))


@dlt.command()
@click.argument("topic")
@_JSON
def groups(topic: str, as_json: bool) -> None:
    """Count the dead letters of TOPIC by fingerprint (one kind of failure each)."""
    found = group_by_fingerprint(_run(load_dead_letters(Settings().kafka_bootstrap, topic)))
    if as_json:
        click.echo(json.dumps([g.to_dict() for g in found], indent=2))
    else:
        Console().print(groups_table(found, f"{topic}: {len(found)} fingerprint(s)"))


@dlt.command("replay")
@click.argument("topic")
@click.option("--fingerprint", default=None, help="Only dead letters with this fingerprint.")
@click.option(
    "--offset",
    "offsets",
    multiple=True,
    help="Only this record: OFFSET or PARTITION:OFFSET in the .dlt topic (repeatable).",
)
@click.option("--dry-run", is_flag=True, help="Show what would be replayed; produce nothing.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--who", default=None, help="Operator named in the audit record [$USER].")
def replay_(
    topic: str,
    fingerprint: str | None,
    offsets: tuple[str, ...],
    dry_run: bool,
    yes: bool,
    who: str | None,
) -> None:
    """Produce dead letters of TOPIC back to their original topics.

    Key, value and headers go back byte for byte, without the dirigent-dlt-* headers,
    through the idempotent producer; an OpsAudit record (action dlt.replay) goes to
    dirigent.ops.audit. Replaying is safe: the coordinator and participants skip
    message ids they have already processed. The dead letters stay in TOPIC.
    """
    try:
        refs = [parse_offset(o) for o in offsets]
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--offset") from exc
    bootstrap = Settings().kafka_bootstrap
    chosen = select(_run(load_dead_letters(bootstrap, topic)), fingerprint=fingerprint,
                    offsets=refs)  # fmt: skip
    if not chosen:
        raise click.ClickException(f"no dead letter in {topic} matches the selection")
    Console().print(dead_letters_table(chosen, f"{len(chosen)} dead letter(s) to replay"))
    if dry_run:
        click.echo(f"dry run: {len(chosen)} record(s) would be replayed; nothing produced")
        return
    if not yes:
        click.confirm(f"Replay {len(chosen)} record(s)?", abort=True)
    operator = who or os.environ.get("USER") or getpass.getuser()
    done = _run(replay(bootstrap, topic, chosen, who=operator, fingerprint=fingerprint))
    for d, sent in zip(done.letters, done.sent, strict=True):
        click.echo(f"{d.record.partition}:{d.record.offset} -> "
                   f"{sent.topic}[{sent.partition}]@{sent.offset}")  # fmt: skip
    click.echo(f"replayed {len(done.sent)} record(s); audit written by {operator}")


def _run(coro: Coroutine[Any, Any, T]) -> T:
    try:
        return asyncio.run(coro)
    except DirigentError as exc:
        raise click.ClickException(str(exc)) from exc
