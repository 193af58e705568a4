"""Every public name of dirigent.testing, and every public method and property, has a
docstring: saga authors read them in their editor."""

from __future__ import annotations

import inspect

import dirigent.testing


def _members(cls: type) -> list[tuple[str, object]]:
    return [
        (attr, member)
        for attr, member in vars(cls).items()
        if not attr.startswith("_") and (callable(member) or isinstance(member, property))
    ]


def _undocumented() -> list[str]:
    missing = []
    for name in dirigent.testing.__all__:
        value = getattr(dirigent.testing, name)
        if not (inspect.isclass(value) or inspect.isfunction(value)):
            continue  # type aliases (CommandPattern, ScriptedReply) are documented in place
        if not inspect.getdoc(value):
            missing.append(name)
        if inspect.isclass(value):
            missing += [f"{name}.{a}" for a, m in _members(value) if not (m.__doc__ or "").strip()]
    return missing


def test_every_public_name_method_and_property_has_a_docstring() -> None:
    assert _undocumented() == []
