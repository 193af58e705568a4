"""``dirigent demo``: order fulfilment end to end with the example shop services.

``run_demo`` is loaded on first use: it needs the repository checkout on ``sys.path``
(the ``sagas`` and ``examples`` packages), and the coordinator it imports binds its
logger at import, so the CLI sends logs to a file first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dirigent.demo.options import DemoOptions
from dirigent.demo.summary import DemoResult, DemoSummary

if TYPE_CHECKING:
    from dirigent.demo.runner import run_demo

__all__ = ["DemoOptions", "DemoResult", "DemoSummary", "run_demo"]


def __getattr__(name: str) -> Any:
    if name == "run_demo":
        from dirigent.demo.runner import run_demo

        return run_demo
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
