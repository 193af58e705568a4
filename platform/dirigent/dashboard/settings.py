"""Dashboard settings (env prefix ``DIRIGENT_DASHBOARD_``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from dirigent.ops.audit import AUDIT_TOPIC

__all__ = ["DashboardSettings"]


class DashboardSettings(BaseSettings):
    """What the dashboard reads and who may act through it.

    Without ``token`` every action is refused and pages are served to loopback clients
    only; with it, actions need it (``Authorization: Bearer`` for the API, the token
    field or its cookie for forms) and other clients may read with it.

    Example::

        DashboardSettings(token=SecretStr("s3cret"), group_id="orders-coord", partitions=6)
    """

    model_config = SettingsConfigDict(env_prefix="DIRIGENT_DASHBOARD_", frozen=True, extra="ignore")

    token: SecretStr | None = None
    host: str = "127.0.0.1"
    port: int = Field(default=8700, ge=0, le=65535)
    # The coordinator group whose sagas are shown (its Redis namespace and admin topic).
    group_id: str = "dirigent-coordinator"
    # Partition count of the saga topics, or a saga topic to read it from.
    partitions: int | None = Field(default=None, ge=1)
    saga_topic: str | None = None
    transitions_topic: str = "dirigent.saga.transitions"
    audit_topic: str = AUDIT_TOPIC
    # Dead-letter topics listed on the DLT page (any other ``*.dlt`` topic opens by name).
    dlt_topics: tuple[str, ...] = ()
    # Where dry runs write their selection files (replays read them back from here).
    replays_dir: Path = Path(".dirigent") / "replays"
    action_wait_s: float = Field(default=30.0, ge=0)
    page_limit: int = Field(default=50, ge=1, le=1000)
    # Index entries read at most when a filter (type) has to look into each saga.
    scan_limit: int = Field(default=5000, ge=1)
    canary_timeout_s: float = Field(default=60.0, ge=0)

    @field_validator("token", mode="after")
    @classmethod
    def _no_empty_token(cls, token: SecretStr | None) -> SecretStr | None:
        """An empty token (``DIRIGENT_DASHBOARD_TOKEN=``) is no token: actions stay off."""
        return token if token is not None and token.get_secret_value() else None
