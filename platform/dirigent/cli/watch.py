"""``dirigent watch``: anomalies on saga steps, and lag forecasts for scaling."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys

import click

from dirigent.config import Settings
from dirigent.errors import DirigentError
from dirigent.events import Anomaly, SagaTransition, SchemaCatalog, SingleObjectCodec
from dirigent.observability import configure_logging
from dirigent.observability.http import HealthServer
from dirigent.watch.app import Watcher, WatchOptions
from dirigent.watch.detector import DetectorSettings

__all__ = ["watch"]


@click.command()
@click.option("--transitions-topic", default="dirigent.saga.transitions", show_default=True)
@click.option("--anomalies-topic", default="dirigent.anomalies", show_default=True)
@click.option("--group-id", default="dirigent-watch", show_default=True)
@click.option("--window-s", type=click.FloatRange(min=1), default=60.0, show_default=True,
              help="Length of one window of step figures.")  # fmt: skip
@click.option("--sensitivity", type=click.FloatRange(min=0.5), default=4.0, show_default=True,
              help="Robust z-score that counts as abnormal (lower: more alerts).")  # fmt: skip
@click.option("--min-windows", type=click.IntRange(min=2), default=10, show_default=True,
              help="Windows of history before a step is judged (cold start).")  # fmt: skip
@click.option("--lag-group", "lag_groups", multiple=True,
              help="Consumer group to forecast lag and arrival rate for (repeatable).")  # fmt: skip
@click.option("--metrics-port", type=int, default=None, help="Serve /metrics, /healthz, /readyz.")
def watch(transitions_topic: str, anomalies_topic: str, group_id: str, window_s: float,
          sensitivity: float, min_windows: int, lag_groups: tuple[str, ...],
          metrics_port: int | None) -> None:  # fmt: skip
    """Watch the transitions stream; publish anomalies to ANOMALIES_TOPIC until SIGTERM."""
    settings = Settings()
    configure_logging(json=settings.log_json, level=settings.log_level)
    options = WatchOptions(
        bootstrap=settings.kafka(), transitions_topic=transitions_topic,
        anomalies_topic=anomalies_topic, group_id=group_id, window_s=window_s,
        detector=DetectorSettings(sensitivity=sensitivity, min_windows=min_windows),
        lag_groups=lag_groups,
    )  # fmt: skip
    try:
        asyncio.run(_run(options, metrics_port))
    except DirigentError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)


async def _run(options: WatchOptions, metrics_port: int | None) -> None:
    codec = SingleObjectCodec(SchemaCatalog(), models=[SagaTransition, Anomaly])
    watcher = Watcher(options, codec=codec)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    server = None
    if metrics_port is not None:
        server = HealthServer(watcher.metrics.registry, live=lambda: True, ready=lambda: True,
                              port=metrics_port)  # fmt: skip
        await server.start()
    try:
        await watcher.run(stop)
    finally:
        if server is not None:
            await server.close()
