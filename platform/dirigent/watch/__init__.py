"""Self-watching: anomalies on saga steps, failure-pattern clustering, lag forecasts.

The core is pure (``StepWatch``: transitions in, ``Anomaly`` records out); the shell in
``dirigent.watch.app`` consumes ``dirigent.saga.transitions`` and publishes to
``dirigent.anomalies``.
"""

from dirigent.watch.core import StepWatch
from dirigent.watch.detector import METRICS, Detector, DetectorSettings
from dirigent.watch.outcomes import OutcomeKind, OutcomeReader, StepOutcome
from dirigent.watch.windows import Windower, WindowSummary

__all__ = [
    "METRICS",
    "Detector",
    "DetectorSettings",
    "OutcomeKind",
    "OutcomeReader",
    "StepOutcome",
    "StepWatch",
    "WindowSummary",
    "Windower",
]
