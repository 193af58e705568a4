"""``dirigent saga``: show one saga's state, list sagas by status, plan version moves."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys
from collections.abc import Coroutine
from typing import Any, TypeVar

import click
from redis.asyncio import Redis
from rich.console import Console

from dirigent.cli.coordinator import load_sagas
from dirigent.config import Settings
from dirigent.coordinator.version_check import InstancePlan, plan_instances
from dirigent.errors import DirigentError
from dirigent.ops import find_saga, list_sagas
from dirigent.ops.render import migration_table, saga_list_table, saga_table, steps_table
from dirigent.ops.sagas import SagaView
from dirigent.saga import SagaCatalog
from dirigent.saga.state import SagaStatus
from dirigent.transport.reader import partition_count

__all__ = ["saga"]

T = TypeVar("T")

_GROUP = click.option("--group-id", required=True,
                      help="The coordinator's group id (its Redis namespace).")  # fmt: skip
_JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON (for scripts).")


@click.group()
def saga() -> None:
    """Saga state in Redis, as the coordinator stored it (read-only)."""


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
        partitions = await partition_count(settings.kafka_bootstrap, topic)
    redis = Redis.from_url(settings.redis_url)
    try:
        return await find_saga(redis, group_id, saga_id, partitions=partitions)
    finally:
        await redis.aclose()


async def _list(
    settings: Settings, group_id: str, partitions: int, statuses: list[SagaStatus], limit: int
) -> list[Any]:
    redis = Redis.from_url(settings.redis_url)
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
@click.option("--dry-run", is_flag=True, help="Required: list the plan, change nothing.")
@click.option("--limit", type=click.IntRange(min=0), default=50, show_default=True,
              help="Instances listed per plan (the counts are always complete).")  # fmt: skip
@_JSON
def migrate(
    package: str, group_id: str, partitions: int, dry_run: bool, limit: int, as_json: bool
) -> None:
    """What the definitions in PACKAGE would do with every running instance.

    Each live (running, compensating, parked) instance either stays on the version it
    started on (loaded side by side), migrates to the newest version (a declared
    Migration; it moves when it next takes an input, by the coordinator that owns it),
    or is stranded. Exits 1 if any would be stranded: use it as a deploy gate.
    """
    if not dry_run:
        raise click.UsageError(
            "instances migrate by themselves when they next move (the coordinator that owns "
            "them applies the Migration); pass --dry-run to list the plan"
        )
    catalog = SagaCatalog(load_sagas(package))
    plans = _run(_plans(Settings(), group_id, partitions, catalog))
    if as_json:
        click.echo(json.dumps([dataclasses.asdict(p) for p in plans], indent=2))
    else:
        Console().print(migration_table(plans, limit, f"{group_id}: {len(plans)} live instance(s)"))
    if any(p.stranded for p in plans):
        sys.exit(1)


async def _plans(
    settings: Settings, group_id: str, partitions: int, catalog: SagaCatalog
) -> list[InstancePlan]:
    redis = Redis.from_url(settings.redis_url)
    try:
        return [p async for p in plan_instances(redis, group_id, partitions, catalog)]
    finally:
        await redis.aclose()


def _run(coro: Coroutine[Any, Any, T]) -> T:
    try:
        return asyncio.run(coro)
    except DirigentError as exc:
        raise click.ClickException(str(exc)) from exc
