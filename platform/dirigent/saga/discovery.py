"""Find saga definitions in a package, explicitly (no import-time registries)."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

from dirigent.saga.definition import SagaDefinition

__all__ = ["discover_sagas"]


def discover_sagas(package_name: str) -> list[SagaDefinition]:
    """Import ``package_name`` and its submodules; return their module-level sagas.

    Each definition appears once, in module then attribute-name order.

    Example::

        sagas = discover_sagas("sagas")  # [order_fulfilment, trip_booking]
    """
    root = importlib.import_module(package_name)
    modules: list[ModuleType] = [root]
    for info in pkgutil.walk_packages(getattr(root, "__path__", []), prefix=f"{package_name}."):
        modules.append(importlib.import_module(info.name))
    found: list[SagaDefinition] = []
    seen: set[int] = set()
    for module in sorted(modules, key=lambda m: m.__name__):
        for attr in sorted(vars(module)):
            value = getattr(module, attr)
            if isinstance(value, SagaDefinition) and id(value) not in seen:
                seen.add(id(value))
                found.append(value)
    return found
