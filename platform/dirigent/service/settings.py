"""Runtime settings of a ``Service`` (env prefix ``DIRIGENT_SERVICE_``)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["ServiceSettings"]


class ServiceSettings(BaseSettings):
    """How a service waits out infrastructure trouble and creates its dead-letter topics."""

    model_config = SettingsConfigDict(env_prefix="DIRIGENT_SERVICE_", frozen=True, extra="ignore")

    infra_backoff_initial_s: float = 0.5
    infra_backoff_max_s: float = 10.0  # a wait on the store also ends once it answers
    dlt_partitions: int = 1
    dlt_replication_factor: int = 1
    max_payload_bytes: int = 1024 * 1024
    topic_wait_s: float = 30.0  # how long run() waits for missing input/reply topics
