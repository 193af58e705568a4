"""``dirigent dev up | down | status``: local Kafka and Redis without Docker."""

from __future__ import annotations

import asyncio
import sys

import click

from dirigent.config import DevSettings
from dirigent.dev import LocalStack
from dirigent.errors import DirigentError

__all__ = ["dev"]


def _stack() -> LocalStack:
    return LocalStack(DevSettings())


@click.group()
def dev() -> None:
    """Run Kafka and Redis locally as plain processes (state in .dirigent/).

    Ports and folders: DIRIGENT_DEV_KAFKA_PORT, DIRIGENT_DEV_REDIS_PORT,
    DIRIGENT_DEV_STATE_DIR, DIRIGENT_DEV_JARS_DIR.
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
