"""The ``dirigent`` command line.

Each face lives in its own module with one click group or command; ``main`` adds them.
Modules are imported lazily so that ``dirigent dev up`` does not import aiokafka.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

__all__ = ["main"]

# command name -> "module:attribute"
_COMMANDS: dict[str, str] = {
    "coordinator": "dirigent.cli.coordinator:coordinator",
    "dashboard": "dirigent.cli.dashboard:dashboard",
    "demo": "dirigent.cli.demo:demo",
    "dev": "dirigent.cli.dev:dev",
    "dlt": "dirigent.cli.dlt:dlt",
    "saga": "dirigent.cli.saga:saga",
    "schemas": "dirigent.cli.schemas:schemas",
    "watch": "dirigent.cli.watch:watch",
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = _COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, _, attr = target.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            return None  # not built yet
        command: Any = getattr(module, attr)
        assert isinstance(command, click.Command)
        return command


@click.group(cls=_LazyGroup)
@click.version_option(package_name="dirigent")
def main() -> None:
    """dirigent: event-driven sagas on Apache Kafka, with state in Redis."""
