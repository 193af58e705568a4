"""``dirigent coordinator``: run sagas from a Python package."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys

import click

from dirigent.config import Settings
from dirigent.coordinator import Coordinator, CoordinatorSettings, Topology
from dirigent.coordinator.provision import provision_topics
from dirigent.errors import DirigentError
from dirigent.observability import Tracing, configure_logging, configure_tracing
from dirigent.saga import SagaDefinition, discover_sagas

__all__ = ["coordinator", "load_sagas"]


def load_sagas(package: str) -> list[SagaDefinition]:
    """Import ``package`` (from the current directory too) and collect its sagas."""
    if "" not in sys.path and "." not in sys.path:
        sys.path.insert(0, "")
    sagas = discover_sagas(package)
    if not sagas:
        raise click.UsageError(f"no saga definitions found in package {package!r}")
    return sagas


@click.command()
@click.option(
    "--sagas",
    "package",
    default="sagas",
    show_default=True,
    help="Python package whose modules define sagas.",
)
@click.option("--group-id", default=None, help="Consumer group and Redis namespace.")
@click.option("--metrics-port", type=int, default=None, help="Serve /metrics, /healthz, /readyz.")
@click.option(
    "--partitions",
    type=int,
    default=None,
    help="Create missing topics with this many partitions before starting.",
)
def coordinator(
    package: str, group_id: str | None, metrics_port: int | None, partitions: int | None
) -> None:
    """Run the saga coordinator until SIGTERM or SIGINT (drains, flushes, commits)."""  # fmt: skip
    settings = Settings()
    configure_logging(json=settings.log_json, level=settings.log_level)
    overrides = {k: v for k, v in {"group_id": group_id, "metrics_port": metrics_port}.items()
                 if v is not None}  # fmt: skip
    config = CoordinatorSettings(**overrides)  # type: ignore[arg-type]
    sagas = load_sagas(package)
    try:
        tracing = configure_tracing(settings, install_global=True)  # off unless OTEL_*
    except DirigentError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    try:
        asyncio.run(_run(sagas, settings, config, partitions, tracing))
    except DirigentError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    finally:
        tracing.shutdown()  # exports what is queued (bounded by the exporter's timeout)


async def _run(
    sagas: list[SagaDefinition],
    settings: Settings,
    config: CoordinatorSettings,
    partitions: int | None,
    tracing: Tracing,
) -> None:
    runner = Coordinator(sagas, settings=settings, config=config, tracing=tracing)  # no I/O
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):  # from the start: a stop during start-up
        with contextlib.suppress(NotImplementedError):  # drains too
            loop.add_signal_handler(sig, runner.stop)
    if partitions is not None:
        topology = Topology.of(sagas, config.extra_topics)
        await provision_topics(settings.kafka(), topology, partitions=partitions,
                               transitions_topic=config.transitions_topic)  # fmt: skip
    await runner.run()
