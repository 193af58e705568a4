"""Fixtures of the heavy suite: the integration suite's infrastructure, reused as is.

Only ``make test-heavy`` (``pytest -m heavy tests/heavy``) runs this folder.
"""

from __future__ import annotations

from tests.integration.conftest import infra, make_topic, redis, uid

__all__ = ["infra", "make_topic", "redis", "uid"]
