"""The public API is a decision: changing it must change this test."""

import importlib

import pytest

import dirigent

PINNED = [
    "Compensation", "Coordinator", "CoordinatorSettings", "DirigentError", "Envelope", "Event",
    "HandlerContext", "Migration", "NonRetryableError", "OnTimeout", "Publisher", "RetryPolicy",
    "RetryableError", "SagaDefinition", "Service", "Settings", "Step", "StepKind", "__version__",
    "define_saga", "discover_sagas", "initiating", "parallel", "wait_for",
]  # fmt: skip


def test_top_level_exports_are_pinned() -> None:
    assert sorted(dirigent.__all__) == sorted(PINNED)


@pytest.mark.parametrize("name", [n for n in PINNED if n != "__version__"])
def test_every_export_resolves_to_its_subpackage_object(name: str) -> None:
    value = getattr(dirigent, name)
    module = importlib.import_module(dirigent._EXPORTS[name])
    assert value is getattr(module, name)


def test_unknown_names_raise_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_thing"):
        _ = dirigent.no_such_thing  # type: ignore[attr-defined]


SUBPACKAGES = [
    "dirigent.coordinator", "dirigent.errors", "dirigent.events", "dirigent.ops",
    "dirigent.saga", "dirigent.service", "dirigent.store", "dirigent.testing",
    "dirigent.transport", "dirigent.watch",
]  # fmt: skip


def test_one_name_per_concept_across_subpackages() -> None:
    """A public name means one thing everywhere: two ``RetryPolicy`` classes would let
    ``Service(retry=dirigent.RetryPolicy())`` build and then fail later."""
    seen: dict[str, tuple[str, object]] = {}
    clashes = []
    for name in SUBPACKAGES:
        module = importlib.import_module(name)
        for export in module.__all__:
            value = getattr(module, export)
            if export in seen and seen[export][1] is not value:
                clashes.append(f"{export}: {seen[export][0]} and {name}")
            seen.setdefault(export, (name, value))
    assert clashes == []
