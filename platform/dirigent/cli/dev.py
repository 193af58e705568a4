"""``dirigent dev up | down | status``: local Kafka and Redis without Docker."""

from __future__ import annotations

import asyncio
import sys

import click

from dirigent.config import DevSettings
from dirigent.dev import LocalStack, dev_cluster
from dirigent.errors import DirigentError

__all__ = ["dev"]


def _stack() -> LocalStack:
    return LocalStack(DevSettings())


@click.group()
def dev() -> None:
    """Run Kafka and Redis locally as plain processes (state in .dirigent/).

    Ports and folders: DIRIGENT_DEV_KAFKA_PORT, DIRIGENT_DEV_REDIS_PORT,
    DIRIGENT_DEV_STATE_DIR, DIRIGENT_DEV_JARS_DIR. `dirigent dev cluster` runs a
    Redis Cluster beside them.
    """


@dev.command()
def up() -> None:
    """Start Kafka and Redis (reusing what runs) and wait until both are healthy."""
    try:
        statuses = asyncio.run(_stack().up())
    except DirigentError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    for status in statuses:
        click.echo(status.describe())
    click.echo(
        f"\nexport DIRIGENT_KAFKA_BOOTSTRAP={statuses[0].address}"
        f"\nexport DIRIGENT_REDIS_URL={statuses[1].address}"
    )


@dev.command()
def down() -> None:
    """Stop the Kafka and Redis that `dev up` started."""
    stopped = asyncio.run(_stack().down())
    click.echo(f"stopped: {', '.join(stopped)}" if stopped else "nothing of ours was running")


@dev.command()
def status() -> None:
    """Say what runs; exit 1 if anything is down."""
    statuses = asyncio.run(_stack().status())
    for s in statuses:
        click.echo(s.describe())
    sys.exit(0 if all(s.healthy for s in statuses) else 1)


@dev.group()
def cluster() -> None:
    """A local Redis Cluster: three masters, no replicas (state in .dirigent/redis-cluster).

    Node i listens on DIRIGENT_DEV_REDIS_CLUSTER_PORT + i (default 7000) and its cluster
    bus on that + 10000; DIRIGENT_DEV_REDIS_CLUSTER_NODES sets the count. Point
    dirigent at it with the DIRIGENT_REDIS_URL that `up` prints (docs/redis-cluster.md).
    """


@cluster.command("up")
def cluster_up() -> None:
    """Start the nodes (reusing what runs), form the cluster, wait for cluster_state:ok."""
    try:
        status = asyncio.run(dev_cluster(DevSettings()).up())
    except DirigentError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    for line in status.describe():
        click.echo(line)
    click.echo(f"\nexport DIRIGENT_REDIS_URL={status.url}")


@cluster.command("down")
def cluster_down() -> None:
    """Stop the cluster nodes that `dev cluster up` started (their data stays)."""
    stopped = asyncio.run(dev_cluster(DevSettings()).down())
    click.echo(f"stopped: {', '.join(stopped)}" if stopped else "nothing of ours was running")


@cluster.command("status")
def cluster_status() -> None:
    """Say what each node sees; exit 1 unless the whole cluster is ok."""
    status = asyncio.run(dev_cluster(DevSettings()).status())
    for line in status.describe():
        click.echo(line)
    click.echo(f"url: {status.url}")
    sys.exit(0 if status.healthy else 1)
