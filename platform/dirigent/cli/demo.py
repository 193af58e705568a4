"""``dirigent demo``: order fulfilment end to end, with injected failures, in one process."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn
from rich.table import Table

from dirigent.config import DevSettings, Settings
from dirigent.demo.logs import logs_to_file
from dirigent.demo.options import DemoOptions
from dirigent.errors import DirigentError

if TYPE_CHECKING:
    from dirigent.demo import DemoResult, DemoSummary

__all__ = ["demo"]


@click.command()
@click.option("--sagas", type=click.IntRange(1), default=200, show_default=True)
@click.option("--decline-rate", type=click.FloatRange(0, 1), default=0.10, show_default=True,
              help="Share of payments declined (the saga compensates).")  # fmt: skip
@click.option("--silent-rate", type=click.FloatRange(0, 1), default=0.02, show_default=True,
              help="Share of commands never answered (step timeout, retry).")  # fmt: skip
@click.option("--latency-ms", type=click.FloatRange(0), default=5.0, show_default=True,
              help="Mean handling time of a command.")  # fmt: skip
@click.option("--partitions", type=click.IntRange(1), default=6, show_default=True)
@click.option("--timeout-s", type=click.FloatRange(1), default=None,
              help="Give up waiting for sagas after this long (exit 1); default 240.")  # fmt: skip
@click.option("--seed", default="dirigent", show_default=True, help="Seeds declines/silences.")
@click.option("--keep-topics", is_flag=True, help="Keep this run's topics (default: deleted).")
@click.option("--json", "as_json", is_flag=True, help="Print only the summary, as JSON.")
def demo(as_json: bool, **opts: Any) -> None:
    """Run order-fulfilment sagas against local Kafka and Redis and summarise them.

    Starts the local stack if needed (`dirigent dev up`), then a coordinator and the
    inventory, payments, shipping and orders services in this process, on topics of
    their own (demo-<run id>-*). Logs go to .dirigent/demo/<run id>.log.
    """
    options = DemoOptions(**opts)
    out = sys.stdout
    console = Console(file=out, stderr=False)
    log_file = DevSettings().state_dir / "demo" / f"{options.run_id}.log"
    try:
        settings = _infrastructure(console, quiet=as_json)
        with logs_to_file(log_file):
            result = _run(options, settings, console, quiet=as_json)
    except DirigentError as exc:
        click.echo(f"error: {exc} (logs: {log_file})", err=True)
        sys.exit(1)
    _report(result.summary, out, console, as_json, log_file)
    for problem in result.problems[:20]:
        click.echo(f"ledger: {problem}", err=True)
    sys.exit(0 if result.summary.ok else 1)


def _infrastructure(console: Console, *, quiet: bool) -> Settings:
    if os.environ.get("DIRIGENT_KAFKA_BOOTSTRAP") and os.environ.get("DIRIGENT_REDIS_URL"):
        return Settings()
    from dirigent.dev import LocalStack

    if not quiet:
        console.print("[dim]starting local Kafka and Redis (reused if running)...[/dim]")
    kafka, redis = asyncio.run(LocalStack(DevSettings()).up())
    return Settings(kafka_bootstrap=kafka.address, redis_url=redis.address)


def _run(options: DemoOptions, settings: Settings, console: Console, *, quiet: bool) -> DemoResult:
    # Imported here, after the logs go to a file (the coordinator binds its logger at import),
    # and with the repository on sys.path (the demo uses `sagas` and `examples`).
    if "" not in sys.path:
        sys.path.insert(0, "")
    try:
        from dirigent.demo import run_demo
    except ModuleNotFoundError as exc:
        raise DirigentError(f"{exc}: run `dirigent demo` from the repository root") from exc
    if quiet:
        return asyncio.run(run_demo(options, settings))
    columns = ("{task.description}", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console) as bar:
        task = bar.add_task(f"sagas terminal (run {options.run_id})", total=options.sagas)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        return asyncio.run(run_demo(options, settings, progress=update))


def _report(
    summary: DemoSummary, out: TextIO, console: Console, as_json: bool, log_file: Path
) -> None:
    if as_json:
        out.write(json.dumps({**summary.to_json(), "log_file": str(log_file)}) + "\n")
        return
    table = Table(title="order fulfilment", show_header=False)
    rows = [
        ("completed", summary.completed), ("compensated", summary.compensated),
        ("failed", summary.failed), ("parked for an operator", summary.parked),
        ("still running", summary.running),
        ("dead-lettered", summary.dead_lettered),
        ("saga latency p50 / p99 / max", f"{summary.p50_ms:.0f} / {summary.p99_ms:.0f} / "
                                         f"{summary.max_ms:.0f} ms"),
        ("wall time", f"{summary.wall_s:.1f} s ({summary.sagas_per_s:.0f} sagas/s)"),
        ("declined / silenced commands", f"{summary.declined} / {summary.silenced}"),
        ("compensations with nothing to undo", summary.nothing_to_undo),
        ("effects applied (ledger)", summary.effects),
        ("ledger problems", summary.ledger_problems),
    ]  # fmt: skip
    for name, value in rows:
        table.add_row(name, str(value))
    console.print(table)
    verdict = "[green]ok[/green]" if summary.ok else "[red]FAILED[/red]"
    console.print(f"{verdict}  logs: {log_file}")
    console.print("Kafka and Redis keep running; stop them with: dirigent dev down")
