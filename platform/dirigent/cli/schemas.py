"""``dirigent schemas``: list the schema catalog and check schema evolution."""

from __future__ import annotations

from pathlib import Path

import click

from dirigent.errors import ContractError
from dirigent.events.catalog import SchemaCatalog
from dirigent.events.compat import Mode, check_against

__all__ = ["schemas"]

_DIR = click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("schemas"),
    show_default=True,
    help="Folder of .avsc files (searched recursively).",
)


@click.group()
def schemas() -> None:
    """Avro contracts: list them, check their evolution."""


@schemas.command("list")
@_DIR
def list_(directory: Path) -> None:
    """Print name, CRC-64-AVRO fingerprint and file of every schema."""
    try:
        catalog = SchemaCatalog.load(directory)
    except ContractError as exc:
        raise click.ClickException(str(exc)) from exc
    for schema in catalog:
        click.echo(f"{schema.name}\t{schema.fingerprint}\t{schema.path}")


@schemas.command()
@click.option("--against", "against", default=None, help="Git revision [merge base with main].")
@click.option(
    "--mode",
    type=click.Choice([m.value for m in Mode]),
    default=Mode.BACKWARD.value,
    show_default=True,
)
@_DIR
def check(against: str | None, mode: str, directory: Path) -> None:
    """Check every schema against its version at a git revision; exit 1 if incompatible."""
    try:
        report = check_against(directory, against=against, mode=Mode(mode))
    except ContractError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"{len(report.checked)} schema(s) checked ({report.mode.value}) against "
        f"{report.against}, {len(report.added)} new"
    )
    for finding in report.findings:
        click.echo(finding.explain(), err=True)
    if not report.ok:
        raise SystemExit(1)
