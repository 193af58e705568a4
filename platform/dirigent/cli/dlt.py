"""``dirigent dlt``: list, group, show, replay, purge and archive dead letters."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.syntax import Syntax
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
from dirigent.cli.dlt_purge import archive, purge_
from dirigent.cli.dlt_replay import replay
from dirigent.config import Settings
from dirigent.ops.dlt_filter import DltFilter
from dirigent.ops.dlt_groups import GroupCounter
from dirigent.ops.dlt_render import dead_letters_table, groups_table, similar_table
from dirigent.ops.dlt_scan import Found
from dirigent.ops.dlt_session import SagaStoreRef, open_session
from dirigent.ops.dlt_show import describe
from dirigent.ops.dlt_similar import SimilarCounter
from dirigent.ops.payload import PayloadCodec

__all__ = ["dlt"]

PAGE = 100  # table rows printed at a time: a listing never holds the topic in memory


@click.group()
def dlt() -> None:
    """Dead-letter topics (<topic>.dlt): inspect, group by failure, replay, purge.

    Reading never joins a consumer group and never commits an offset. Every command
    streams the topic (memory does not grow with it) and reports progress on stderr.
    """


def _store(f: DltFilter, group_id: str, partitions: int | None, saga_topic: str | None,
           *, wanted: bool = False) -> SagaStoreRef | None:  # fmt: skip
    """The saga store, when the filter or the command needs it."""
    if not (wanted or f.needs_sagas):
        return None
    return settings_store(group_id, partitions, saga_topic)


@dlt.command("list")
@click.argument("topic")
@filter_options
@saga_options
@click.option("--with-saga", is_flag=True, help="Read each record's saga (status in --json).")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most N records.")
@json_option
@with_progress
def list_(topic: str, group_id: str, partitions: int | None, saga_topic: str | None,
          with_saga: bool, limit: int | None, as_json: bool, progress: ConsoleProgress,
          **filters: Any) -> None:  # fmt: skip
    """Show the dead letters of TOPIC (a .dlt topic) that match the filters."""
    f = build_filter(**filters)
    store = _store(f, group_id, partitions, saga_topic, wanted=with_saga)
    run(_list(topic, f, store, limit, as_json, progress))


async def _list(topic: str, f: DltFilter, store: SagaStoreRef | None, limit: int | None,
                as_json: bool, progress: ConsoleProgress) -> None:  # fmt: skip
    console = Console()
    first = True
    async with open_session(Settings().kafka(), topic, store=store,
                            progress=progress) as session:  # fmt: skip
        scan = session.scan(f, limit=limit)
        if as_json:
            click.echo("[")
        async for batch in scan.batches():
            for i in range(0, len(batch), PAGE):
                page = batch[i : i + PAGE]
                if as_json:
                    lines = [json.dumps(_row(x)) for x in page]
                    click.echo(("" if first else ",\n") + ",\n".join(lines), nl=False)
                else:
                    console.print(dead_letters_table(page, None, width=console.width))
                first = False
        if as_json:
            click.echo("\n]")
        else:
            console.print(f"{topic}: {scan.matched} dead letter(s) of {scan.scanned} read")


def _row(found: Found) -> dict[str, Any]:
    row = found.letter.to_dict()
    row["accounting"] = found.accounting.value if found.accounting else None
    if found.saga is not None:
        row["saga"] = found.saga.to_dict()
    return row


@dlt.command()
@click.argument("topic")
@filter_options
@saga_options
@click.option("--similar", is_flag=True, help="Group by failure pattern (message template and "
              "stack similarity) instead of exact fingerprint.")  # fmt: skip
@json_option
@with_progress
def groups(topic: str, group_id: str, partitions: int | None, saga_topic: str | None,
           similar: bool, as_json: bool, progress: ConsoleProgress,
           **filters: Any) -> None:  # fmt: skip
    """Count the dead letters of TOPIC by fingerprint (one kind of failure each).

    `open` counts those neither replayed nor judged dead; `returned` those that are
    replayed records which failed again. With --similar, one row per failure pattern:
    messages that differ only in ids, numbers or quoted values are one group.
    """
    f = build_filter(**filters)
    store = _store(f, group_id, partitions, saga_topic)
    if similar:
        patterns, scanned = run(_groups(topic, f, store, progress, SimilarCounter()))
        _print_groups(topic, patterns.total, scanned, patterns.groups(), "pattern",
                      similar_table, as_json=as_json)  # fmt: skip
        return
    counter, scanned = run(_groups(topic, f, store, progress, GroupCounter()))
    _print_groups(topic, counter.total, scanned, counter.groups(), "fingerprint",
                  groups_table, as_json=as_json)  # fmt: skip


def _print_groups(topic: str, total: int, scanned: int, found: Sequence[Any], unit: str,
                  table: Callable[..., Any], *, as_json: bool) -> None:  # fmt: skip
    """Groups as JSON or as a table titled with what was read and found."""
    if as_json:
        click.echo(json.dumps([g.to_dict() for g in found], indent=2))
        return
    console = Console()
    title = (f"{topic}: {total} dead letter(s) of {scanned} read, "
             f"{len(found)} {unit}(s)")  # fmt: skip
    console.print(table(found, title, width=console.width))


_Counter = TypeVar("_Counter", GroupCounter, SimilarCounter)


async def _groups(
    topic: str, f: DltFilter, store: SagaStoreRef | None, progress: ConsoleProgress,
    counter: _Counter,
) -> tuple[_Counter, int]:  # fmt: skip
    async with open_session(Settings().kafka(), topic, store=store,
                            progress=progress) as session:  # fmt: skip
        scan = session.scan(f)
        async for batch in scan.batches():
            for x in batch:
                counter.add(x.letter, x.accounting)
    return counter, scan.scanned


@dlt.command()
@click.argument("topic")
@click.argument("positions", nargs=-1)
@filter_options
@saga_options
@click.option("--with-saga", is_flag=True, help="Read the saga and say if it expects the record.")
@click.option("--limit", type=click.IntRange(min=1), default=1, show_default=True,
              help="Show at most N records.")  # fmt: skip
@json_option
@with_progress
def show(topic: str, positions: tuple[str, ...], group_id: str, partitions: int | None,
         saga_topic: str | None, with_saga: bool, limit: int, as_json: bool,
         progress: ConsoleProgress, **filters: Any) -> None:  # fmt: skip
    """Show dead letters of TOPIC whole: every header, the payload decoded, the ledger.

    POSITIONS are PARTITION:OFFSET (or OFFSET) in the .dlt topic, like --offset. The
    payload is decoded with the schemas in DIRIGENT_SCHEMAS_DIR (and the registry at
    DIRIGENT_SCHEMA_REGISTRY_URL); a payload no schema reads is shown as hex.
    """
    filters["offsets"] = (*filters["offsets"], *positions)
    f = build_filter(**filters)
    store = _store(f, group_id, partitions, saga_topic, wanted=with_saga)
    docs = run(_show(topic, f, store, limit if not positions else len(positions), progress))
    if not docs:
        raise click.ClickException(f"no dead letter in {topic} matches")
    if as_json:
        click.echo(json.dumps(docs, indent=2, ensure_ascii=False))
        return
    console = Console()
    for doc in docs:
        _print_doc(console, doc)


async def _show(topic: str, f: DltFilter, store: SagaStoreRef | None, limit: int,
                progress: ConsoleProgress) -> list[dict[str, Any]]:  # fmt: skip
    settings = Settings()
    payloads = PayloadCodec(settings.schemas_dir, settings.schema_registry_url)
    keep = [(o.partition, o.offset) for o in f.offsets if o.partition is not None]
    docs = []
    async with open_session(settings.kafka(), topic, store=store, progress=progress,
                            keep=keep) as session:  # fmt: skip
        async for batch in session.scan(f, limit=limit).batches():
            docs += [await describe(x, payloads, session.ledger) for x in batch]
    return docs


def _print_doc(console: Console, doc: dict[str, Any]) -> None:
    title = f"{doc['dlt_topic']} {doc['dlt_partition']}:{doc['dlt_offset']}"
    facts = Table(title=title, show_header=False)
    facts.add_column("field", style="bold", no_wrap=True)
    facts.add_column("value", overflow="fold")
    for name in ("fingerprint", "error_class", "message", "topic", "partition", "offset",
                 "handler", "group", "attempts", "message_id", "type", "saga_id",
                 "causation_id", "replays", "replay_id", "accounting", "reduced"):  # fmt: skip
        facts.add_row(name, "-" if doc.get(name) is None else str(doc[name]))
    if "saga_expects" in doc:
        saga, verdict = doc["saga"], doc["saga_expects"]
        facts.add_row("saga", f"{saga['status'] or 'not found'} (v{saga['version'] or '-'})")
        facts.add_row("replay", f"{'yes' if verdict['replay'] else 'skip'}: {verdict['reason']}")
    console.print(facts)
    headers = Table(title="headers", show_header=True)
    headers.add_column("name", no_wrap=True)
    headers.add_column("value", overflow="fold")
    for h in doc["headers"]:
        if h["name"] != "dirigent-dlt-stacktrace":
            headers.add_row(h["name"], str(h["value"]))
    console.print(headers)
    payload = doc["payload"]
    console.print(f"payload: {payload['schema'] or 'undecoded'} ({payload['size']} bytes)")
    body = payload["datum"] if payload["datum"] is not None else payload
    console.print(Syntax(json.dumps(body, indent=2, ensure_ascii=False), "json"))
    stack = doc["diagnostics"].get("stacktrace")
    if stack:
        console.print(Syntax(stack, "pytb"))


dlt.add_command(replay)
dlt.add_command(purge_)
dlt.add_command(archive)
