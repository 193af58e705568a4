"""``dirigent saga``: show, list and trace sagas; ask the coordinator to act on them."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import sys
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import click
from rich.console import Console

from dirigent.cli.coordinator import load_sagas
from dirigent.config import Settings
from dirigent.coordinator.version_check import InstancePlan, plan_instances
from dirigent.errors import DirigentError
from dirigent.ops import find_saga, list_sagas
from dirigent.ops.render import migration_table, saga_list_table, saga_table, steps_table
from dirigent.ops.render_sagas import history_table, saga_selection_table
from dirigent.ops.saga_admin import AUDIT_TOPIC, AdminOutcome, request_action
from dirigent.ops.saga_history import saga_history
from dirigent.ops.saga_select import Selection, select_sagas
from dirigent.ops.sagas import SagaView
from dirigent.saga import AdminAction, SagaCatalog
from dirigent.saga.state import SagaStatus
from dirigent.store.client import redis_client
from dirigent.transport.reader import partition_count

__all__ = ["saga"]

T = TypeVar("T")

_GROUP = click.option("--group-id", required=True,
                      help="The coordinator's group id (its Redis namespace).")  # fmt: skip
_JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON (for scripts).")


@click.group()
def saga() -> None:
    """Saga state and history; retry, compensate, abort or resume through the coordinator."""


@saga.command()
@click.argument("saga_id")
@_GROUP
@click.option("--partitions", type=click.IntRange(min=1), default=None,
              help="Partition count of the saga's topics.")  # fmt: skip
@click.option(
    "--topic", default=None, help="Or: a topic of the saga (its partition count is read)."
)
@_JSON
def show(
    saga_id: str, group_id: str, partitions: int | None, topic: str | None, as_json: bool
) -> None:
    """Show SAGA_ID: status, version, steps, data, reason, times.

    Its partition is the Kafka partition of the key SAGA_ID (murmur2, as every Kafka
    client computes it) over the partition count of the saga's co-partitioned topics.
    """
    settings = Settings()
    view = _run(_show(settings, saga_id, group_id, partitions, topic))
    if view is None:
        raise click.ClickException(f"saga {saga_id} not found in group {group_id}")
    if as_json:
        click.echo(json.dumps(view.to_dict(), indent=2, ensure_ascii=False, default=str))
        return
    console = Console()
    console.print(saga_table(view))
    console.print(steps_table(view))


@saga.command("list")
@_GROUP
@click.option("--partitions", type=click.IntRange(min=1), required=True,
              help="Partition count of the saga topics.")  # fmt: skip
@click.option("--status", "statuses", multiple=True,
              type=click.Choice([s.value for s in SagaStatus], case_sensitive=False),
              help="Only this status (repeatable) [all].")  # fmt: skip
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@_JSON
def list_(
    group_id: str, partitions: int, statuses: tuple[str, ...], limit: int, as_json: bool
) -> None:
    """List saga ids from the status indexes, most recently updated first.

    A terminal saga's state expires (terminal_ttl_s) while its index entry stays:
    such ids are still listed, and `saga show` reports them as not found.
    """
    wanted = [SagaStatus(s.upper()) for s in statuses] or list(SagaStatus)
    rows = _run(_list(Settings(), group_id, partitions, wanted, limit))
    if as_json:
        doc = [{"saga_id": r.saga_id, "status": st.value, "partition": r.partition,
                "updated_at": r.updated_at} for st, r in rows]  # fmt: skip
        click.echo(json.dumps(doc, indent=2))
    else:
        Console().print(saga_list_table(rows, f"{group_id}: {len(rows)} saga(s)"))


async def _show(
    settings: Settings, saga_id: str, group_id: str, partitions: int | None, topic: str | None
) -> SagaView | None:
    if partitions is None:
        if topic is None:
            raise click.UsageError("give --partitions N or --topic T (to read its partition count)")
        partitions = await partition_count(settings.kafka(), topic)
    redis = redis_client(settings.redis_url, settings.redis_security())
    try:
        return await find_saga(redis, group_id, saga_id, partitions=partitions)
    finally:
        await redis.aclose()


async def _list(
    settings: Settings, group_id: str, partitions: int, statuses: list[SagaStatus], limit: int
) -> list[Any]:
    redis = redis_client(settings.redis_url, settings.redis_security())
    try:
        return await list_sagas(redis, group_id, partitions=partitions, statuses=statuses,
                                limit=limit)  # fmt: skip
    finally:
        await redis.aclose()


@saga.command()
@click.option("--sagas", "package", default="sagas", show_default=True,
              help="Python package whose modules define the sagas to deploy.")  # fmt: skip
@_GROUP
@click.option("--partitions", type=click.IntRange(min=1), required=True,
              help="Partition count of the saga topics.")  # fmt: skip
@click.option("--dry-run", is_flag=True, help="List the plan, change nothing.")
@click.option("--why", default=None, help="Without --dry-run: recorded in each saga and audit.")
@click.option("--who", default=lambda: os.environ.get("USER", "operator"), show_default="$USER")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option("--limit", type=click.IntRange(min=0), default=50, show_default=True,
              help="Instances listed per plan (the counts are always complete).")  # fmt: skip
@_JSON
def migrate(
    package: str, group_id: str, partitions: int, dry_run: bool, why: str | None, who: str,
    yes: bool, limit: int, as_json: bool,
) -> None:  # fmt: skip
    """What the definitions in PACKAGE do with every live instance, and move them.

    Each live (running, compensating, parked) instance either stays on the version it
    started on (loaded side by side), migrates to the newest version (a declared
    Migration), or is stranded. With --dry-run: list the plan; exit 1 if any instance
    would be stranded (a deploy gate). Without it (and with --why): after the new
    definitions are deployed, ask the coordinator to migrate each "migrates" instance now
    instead of on its next input (audited like every saga action); nothing is sent while
    any instance would be stranded.
    """
    if not dry_run and not why:
        raise click.UsageError("give --dry-run to list the plan, or --why to migrate now")
    catalog = SagaCatalog(load_sagas(package))
    settings = Settings()
    plans = _run(_plans(settings, group_id, partitions, catalog))
    if as_json and dry_run:
        click.echo(json.dumps([dataclasses.asdict(p) for p in plans], indent=2))
    else:
        console = Console(stderr=not dry_run)
        console.print(migration_table(plans, limit, f"{group_id}: {len(plans)} live instance(s)"))
    if any(p.stranded for p in plans):
        if not dry_run:
            click.echo("some instances would be stranded: nothing sent", err=True)
        sys.exit(1)
    if dry_run:
        return
    moving = [p.saga_id for p in plans if p.plan.startswith("migrates")]
    if not moving:
        click.echo("no instance to migrate")
        return
    if not yes:
        click.confirm(f"migrate {len(moving)} instance(s) now?", abort=True)
    outcomes = [_run(request_action(settings.kafka(), group_id, sid, AdminAction.MIGRATE,
                                    who=who, why=why or ""))
                for sid in moving]  # fmt: skip
    _print_outcomes(outcomes, AdminAction.MIGRATE, as_json)


async def _plans(
    settings: Settings, group_id: str, partitions: int, catalog: SagaCatalog
) -> list[InstancePlan]:
    redis = redis_client(settings.redis_url, settings.redis_security())
    try:
        return [p async for p in plan_instances(redis, group_id, partitions, catalog)]
    finally:
        await redis.aclose()


@saga.command()
@click.argument("saga_id")
@_GROUP
@click.option("--transitions-topic", default="dirigent.saga.transitions", show_default=True)
@click.option("--audit-topic", default=AUDIT_TOPIC, show_default=True)
@click.option("--partitions", type=click.IntRange(min=1), default=None,
              help="Also show the stored state (partition count of the saga topics).")  # fmt: skip
@_JSON
def history(
    saga_id: str, group_id: str, transitions_topic: str, audit_topic: str,
    partitions: int | None, as_json: bool,
) -> None:  # fmt: skip
    """The timeline of SAGA_ID: every transition (cause, step, commands sent, reason) and
    every operator action with its outcome, oldest first; then its steps as stored."""
    settings = Settings()
    read = saga_history(settings.kafka(), saga_id,
                        transitions_topic=transitions_topic, audit_topic=audit_topic)  # fmt: skip
    entries = _run(read)
    view = _run(_show(settings, saga_id, group_id, partitions, None)) if partitions else None
    if as_json:
        doc: dict[str, Any] = {"saga_id": saga_id, "history": [e.to_dict() for e in entries]}
        if view is not None:
            doc["state"] = view.to_dict()
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False, default=str))
        return
    if not entries and view is None:
        raise click.ClickException(f"no history of saga {saga_id} on {transitions_topic}")
    console = Console()
    console.print(history_table(entries, f"saga {saga_id}: {len(entries)} entries"))
    if view is not None:
        console.print(steps_table(view))


def _admin_options(f: Callable[..., None]) -> Callable[..., None]:
    for option in reversed([
        click.argument("saga_id", required=False),
        _GROUP,
        click.option("--why", required=True, help="Recorded in the audit and the saga."),
        click.option("--who", default=lambda: os.environ.get("USER", "operator"),
                     show_default="$USER"),
        click.option("--wait", "wait_s", type=float, default=30.0, show_default=True,
                     help="Seconds to wait for the coordinator's answer (0: do not wait)."),
        click.option("--partitions", type=click.IntRange(min=1), default=None,
                     help="Bulk: partition count of the saga topics."),
        click.option("--type", "saga_type", default=None, help="Bulk: only this saga type."),
        click.option("--status", "statuses", multiple=True,
                     type=click.Choice([s.value for s in SagaStatus], case_sensitive=False),
                     help="Bulk: only this status (repeatable)."),
        click.option("--older-than", type=float, default=None,
                     help="Bulk: last changed more than this many seconds ago."),
        click.option("--reason-like", default=None, help="Bulk: reason matches this regex."),
        click.option("--dry-run", is_flag=True, help="Bulk: list the selection, send nothing."),
        click.option("--yes", is_flag=True, help="Bulk: do not ask for confirmation."),
        _JSON,
    ]):  # fmt: skip
        f = option(f)
    return f


def _act(action: AdminAction, step: str | None, **kw: Any) -> None:
    settings = Settings()
    if kw["saga_id"] is not None:
        ids = [kw["saga_id"]]
    else:
        if kw["partitions"] is None:
            raise click.UsageError("give SAGA_ID, or a selection with --partitions N")
        selection = Selection(kw["saga_type"], tuple(SagaStatus(x.upper()) for x in kw["statuses"]),
                              kw["older_than"], kw["reason_like"])  # fmt: skip
        views = _run(_select(settings, kw["group_id"], kw["partitions"], selection))
        Console(stderr=True).print(saga_selection_table(views, f"{len(views)} saga(s) selected"))
        if kw["dry_run"] or not views:
            return
        if not kw["yes"]:
            click.confirm(f"{action} {len(views)} saga(s)?", abort=True)
        ids = [v.state.saga_id for v in views]
    outcomes = [
        _run(request_action(settings.kafka(), kw["group_id"], sid, action,
                            who=kw["who"], why=kw["why"], step=step, wait_s=kw["wait_s"]))
        for sid in ids
    ]  # fmt: skip
    _print_outcomes(outcomes, action, kw["as_json"])


def _print_outcomes(outcomes: list[AdminOutcome], action: AdminAction, as_json: bool) -> None:
    """One line (or JSON object) per saga; exit 1 if one was refused, 2 if unanswered."""
    if as_json:
        click.echo(json.dumps([_outcome_doc(o) for o in outcomes], indent=2))
    else:
        for o in outcomes:
            verdict = "applied" if o.applied else "REFUSED" if o.answered else "sent, no answer"
            click.echo(f"{o.saga_id}: {action} {verdict}: {o.detail}")
    if not all(o.answered for o in outcomes):
        sys.exit(2)
    if not all(o.applied for o in outcomes):
        sys.exit(1)


def _outcome_doc(o: AdminOutcome) -> dict[str, Any]:
    return {"saga_id": o.saga_id, "request_id": o.request_id, "action": o.action.value,
            "answered": o.answered, "applied": o.applied, "detail": o.detail,
            "audit": dict(o.audit.details) if o.audit is not None else None}  # fmt: skip


@saga.command()
@_admin_options
@click.option("--step", default=None, help="Only this step (of the current unit).")
def retry(step: str | None, **kw: Any) -> None:
    """Send the failed or unknown step again: a FAILED saga (after its pivot), a PARKED
    one, or a step waiting for its backoff. A step whose outcome is unknown keeps its
    command id; one that was refused gets a new one. Exit 1 if refused, 2 if no answer."""
    _act(AdminAction.RETRY, step, **kw)


@saga.command()
@_admin_options
def compensate(**kw: Any) -> None:
    """Undo what may have happened, newest first, while the pivot has not succeeded
    (a parked pivot is taken as not done); carries on a compensation that stopped."""
    _act(AdminAction.COMPENSATE, None, **kw)


@saga.command()
@_admin_options
def abort(**kw: Any) -> None:
    """End the saga FAILED now, sending nothing; what was in flight keeps an unknown
    outcome (a later `compensate` undoes it)."""
    _act(AdminAction.ABORT, None, **kw)


@saga.command()
@_admin_options
def resume(**kw: Any) -> None:
    """A PARKED saga: send its unknown step again (same command id), or the
    compensations still owed."""
    _act(AdminAction.RESUME, None, **kw)


async def _select(
    settings: Settings, group_id: str, partitions: int, selection: Selection
) -> list[SagaView]:
    redis = redis_client(settings.redis_url, settings.redis_security())
    try:
        return await select_sagas(redis, group_id, partitions, selection)
    finally:
        await redis.aclose()


def _run(coro: Coroutine[Any, Any, T]) -> T:
    try:
        return asyncio.run(coro)
    except DirigentError as exc:
        raise click.ClickException(str(exc)) from exc
