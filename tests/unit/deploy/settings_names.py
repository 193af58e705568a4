"""The DIRIGENT_* environment variable names that dirigent's settings classes read, and
which of them hold secrets."""

from __future__ import annotations

import re

from pydantic import SecretStr
from pydantic_settings import BaseSettings

from dirigent.config import Settings
from dirigent.coordinator.settings import CoordinatorSettings
from dirigent.dashboard.settings import DashboardSettings
from dirigent.service.settings import ServiceSettings
from dirigent.store.idempotency import IdempotencySettings
from dirigent.transport.consumer import ConsumerSettings
from dirigent.transport.producer import ProducerSettings

__all__ = ["SECRET_NAME", "known_env_names", "secret_env_names"]

# Every settings class a deployed process reads (DevSettings is `dirigent dev`'s only).
CLASSES: list[type[BaseSettings]] = [
    Settings,
    CoordinatorSettings,
    ServiceSettings,
    IdempotencySettings,
    ProducerSettings,
    ConsumerSettings,
    DashboardSettings,
]
# The chart's rule (templates/configmap.yaml) for a name that must never be in the ConfigMap.
SECRET_NAME = re.compile(r"_(PASSWORD|SECRET|TOKEN)$")


def _env_names(secret_only: bool) -> set[str]:
    names: set[str] = set()
    for cls in CLASSES:
        prefix = str(cls.model_config.get("env_prefix", ""))
        for field, info in cls.model_fields.items():
            secret = SecretStr in (info.annotation, *getattr(info.annotation, "__args__", ()))
            if secret or not secret_only:
                names.add(f"{prefix}{field}".upper())
    return names


def known_env_names() -> set[str]:
    return _env_names(secret_only=False)


def secret_env_names() -> set[str]:
    """The names of the settings typed ``SecretStr``."""
    return _env_names(secret_only=True)
