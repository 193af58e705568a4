"""The saga of the heavy suite's coordinator processes (``--sagas tests.heavy.saga_under_test``).

``dirigent coordinator`` discovers sagas by importing a package, so the test's topic
prefix and step timeout cannot be passed as arguments; the test process sets them in
the child's environment. This module is imported only by that child (the edge of a
process), never by the test process itself.
"""

from __future__ import annotations

import os

from sagas.order_fulfilment import build_order_fulfilment

PREFIX_ENV = "DIRIGENT_HEAVY_PREFIX"
STEP_TIMEOUT_ENV = "DIRIGENT_HEAVY_STEP_TIMEOUT_S"

order_fulfilment = build_order_fulfilment(
    prefix=os.environ[PREFIX_ENV], step_timeout_s=float(os.environ[STEP_TIMEOUT_ENV])
)
