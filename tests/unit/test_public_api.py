"""The public API is a decision: changing it must change this test."""

import dirigent


def test_top_level_exports_are_pinned() -> None:
    assert sorted(dirigent.__all__) == ["__version__"]
