"""``dirigent dashboard``: serve the web dashboard (sagas, dead letters, operator actions)."""

from __future__ import annotations

from typing import Any

import click

from dirigent.config import Settings
from dirigent.observability import configure_logging

__all__ = ["dashboard"]


@click.command()
@click.option("--host", default=None, help="Address to listen on [127.0.0.1].")
@click.option("--port", type=click.IntRange(0, 65535), default=None, help="Port [8700].")
@click.option("--group-id", default=None, help="The coordinator's group id [dirigent-coordinator].")
@click.option(
    "--partitions",
    type=click.IntRange(min=1),
    default=None,
    help="Partition count of the saga topics.",
)
@click.option("--saga-topic", default=None, help="Or: a saga topic to read the count from.")
@click.option(
    "--dlt-topic", "dlt_topics", multiple=True, help="A dead-letter topic to list (repeatable)."
)
@click.option("--transitions-topic", default=None, help="[dirigent.saga.transitions]")
def dashboard(**options: Any) -> None:
    """Serve the dashboard: sagas by type and status, one saga's timeline, dead letters
    by cause, and the saga and replay actions (docs/dashboard.md).

    Options override DIRIGENT_DASHBOARD_* settings. Actions need DIRIGENT_DASHBOARD_TOKEN;
    without it they are disabled and only loopback clients may read.
    """
    import uvicorn  # only this command needs the web stack

    from dirigent.dashboard import DashboardSettings, create_app

    settings = Settings()
    configure_logging(json=settings.log_json, level=settings.log_level)
    given = {k: v for k, v in options.items() if v not in (None, ())}
    config = DashboardSettings(**given)
    if config.token is None and config.host not in ("127.0.0.1", "::1", "localhost"):
        click.echo(
            f"no DIRIGENT_DASHBOARD_TOKEN: actions disabled, and clients other than "
            f"this machine are refused on {config.host}",
            err=True,
        )
    uvicorn.run(
        create_app(settings, config),
        host=config.host,
        port=config.port,
        log_level="info",
        ws="none",
    )
