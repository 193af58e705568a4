"""The HTTP API against its own OpenAPI schema (schemathesis), on the token-less
dashboard: reads are served to loopback, every action is refused, so nothing the
generated requests ask for can change a saga or produce a record."""

from __future__ import annotations

import httpx
import schemathesis
from hypothesis import HealthCheck, settings

from dirigent.config import Settings
from dirigent.dashboard import DashboardSettings, create_app
from tests.integration.dashboard.conftest import World

# Building the app does no I/O (it connects when it starts serving), so the schema is
# known when tests are collected; the served copy is checked to be the same below.
OPENAPI = create_app(Settings(), DashboardSettings(partitions=1)).openapi()
schema = schemathesis.openapi.from_dict(OPENAPI)


async def test_the_served_schema_is_the_one_checked(world: World) -> None:
    async with httpx.AsyncClient(base_url=world.bare) as client:
        served = (await client.get("/api/openapi.json")).json()
    assert served == OPENAPI
    assert all(path.startswith("/api/") for path in served["paths"])


@schema.parametrize()
@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_answers_as_its_schema_says(case: schemathesis.Case, world: World) -> None:
    case.call_and_validate(base_url=world.bare, timeout=60)
