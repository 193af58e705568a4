"""The DIRIGENT_* environment variable names that dirigent's settings classes read."""

from __future__ import annotations

from pydantic_settings import BaseSettings

from dirigent.config import Settings
from dirigent.coordinator.settings import CoordinatorSettings
from dirigent.service.settings import ServiceSettings

__all__ = ["PENDING", "known_env_names"]

# Read by the service and coordinator metrics servers of the observability work, which is
# merged separately; until then the processes ignore them (extra="ignore"), after that
# they are settings fields like the others.
PENDING = frozenset(
    {
        "DIRIGENT_COORDINATOR_METRICS_HOST",
        "DIRIGENT_SERVICE_METRICS_PORT",
        "DIRIGENT_SERVICE_METRICS_HOST",
    }
)


def known_env_names() -> set[str]:
    classes: list[type[BaseSettings]] = [Settings, CoordinatorSettings, ServiceSettings]
    names: set[str] = set()
    for cls in classes:
        prefix = str(cls.model_config.get("env_prefix", ""))
        names |= {f"{prefix}{field}".upper() for field in cls.model_fields}
    return names
