"""The fault profile's fixtures: a private Kafka + Redis per session (``FaultStack``).

Run it by path: ``pytest tests/faults``. The shared ``dirigent dev up`` stack is never
touched: everything here runs on free ports, with state under the session's tmp dir,
and only those processes are killed and restarted.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from tests.faults.world import SUMMARIES, Env
from tests.support.faultstack import FaultStack
from tests.support.infra import Infra


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # These tests kill servers under live clients (the in-process participants, the
    # probes): sockets those clients leave unclosed are the fault itself, not a leak the
    # suite checks for, so their unraisable warnings do not fail a test here.
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(
                pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
            )


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line per scenario, passed or not: what was injected and what it came to."""
    if SUMMARIES:
        terminalreporter.section("fault profile")
        for line in SUMMARIES:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[FaultStack]:
    # the in-process participants' client logs every refused connection during an outage
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    fault_stack = FaultStack(tmp_path_factory.mktemp("faultstack"))
    try:
        await fault_stack.up()
        yield fault_stack
    finally:
        await fault_stack.down()


@pytest.fixture(scope="session")
def infra(stack: FaultStack) -> Infra:
    return Infra(stack.bootstrap, stack.redis.url)


@pytest.fixture
async def env(stack: FaultStack, infra: Infra, tmp_path: Path) -> AsyncIterator[Env]:
    """One test's clients; whatever the test left down is started again afterwards."""
    redis, ledger = Redis.from_url(infra.redis_url), Redis.from_url(stack.ledger.url)
    try:
        yield Env(stack, infra, redis, ledger, uuid.uuid4().hex[:8], tmp_path)
    finally:
        await stack.ensure_up()
        await redis.aclose()
        await ledger.aclose()
