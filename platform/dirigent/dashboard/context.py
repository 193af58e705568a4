"""What every route shares: settings, the resolved partition count, one Redis client."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from fastapi import Request
from fastapi.templating import Jinja2Templates

from dirigent.config import Settings
from dirigent.dashboard.settings import DashboardSettings
from dirigent.errors import ConfigurationError
from dirigent.ops.dlt_session import SagaStoreRef
from dirigent.ops.payload import PayloadCodec
from dirigent.store.client import RedisClient, redis_client
from dirigent.transport.reader import partition_count
from dirigent.transport.security import Bootstrap

__all__ = ["Dashboard", "dashboard", "open_dashboard", "templates"]

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def _epoch(seconds: float | None) -> str:
    if not seconds:
        return "-"
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


templates.env.filters["epoch"] = _epoch
templates.env.filters["epoch_ms"] = lambda ms: _epoch(ms / 1000 if ms else None)


@dataclass
class Dashboard:
    """The object graph of a running dashboard, built once at startup."""

    settings: Settings
    config: DashboardSettings
    partitions: int
    redis: RedisClient

    @property
    def bootstrap(self) -> Bootstrap:
        return self.settings.kafka()

    @property
    def group_id(self) -> str:
        return self.config.group_id

    @property
    def actions_enabled(self) -> bool:
        return self.config.token is not None

    def store(self) -> SagaStoreRef:
        """Where replays read saga state (the same group and partitions as the pages)."""
        return SagaStoreRef(
            self.settings.redis_url, self.group_id, self.partitions,
            security=self.settings.redis_security(),
        )  # fmt: skip

    def payloads(self) -> PayloadCodec:
        return PayloadCodec(self.settings.schemas_dir, self.settings.schema_registry_url)

    async def close(self) -> None:
        await self.redis.aclose()


async def open_dashboard(settings: Settings, config: DashboardSettings) -> Dashboard:
    """Resolve the partition count (from ``saga_topic`` if not given) and connect Redis."""
    partitions = config.partitions
    if partitions is None:
        if config.saga_topic is None:
            raise ConfigurationError(
                "the dashboard needs the saga topics' partition count: set "
                "DIRIGENT_DASHBOARD_PARTITIONS or DIRIGENT_DASHBOARD_SAGA_TOPIC"
            )
        partitions = await partition_count(settings.kafka(), config.saga_topic)
    redis = redis_client(settings.redis_url, settings.redis_security())
    return Dashboard(settings, config, partitions, redis)


def dashboard(request: Request) -> Dashboard:
    """FastAPI dependency: the running dashboard."""
    found: Dashboard = request.app.state.dashboard
    return found
