"""The public API is a decision: changing it must change this test."""

import importlib

import pytest

import dirigent

PINNED = [
    "Compensation", "Coordinator", "CoordinatorSettings", "DirigentError", "Envelope", "Event",
    "HandlerContext", "NonRetryableError", "Publisher", "RetryPolicy", "RetryableError",
    "SagaDefinition", "Service", "Settings", "Step", "StepKind", "__version__", "define_saga",
    "discover_sagas", "parallel",
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
