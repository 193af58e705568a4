"""Runtime settings of a ``Service`` (env prefix ``DIRIGENT_SERVICE_``)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["ServiceSettings"]


class ServiceSettings(BaseSettings):
    """How a service waits out infrastructure trouble, creates its dead-letter topics and
    serves its metrics."""

    model_config = SettingsConfigDict(env_prefix="DIRIGENT_SERVICE_", frozen=True, extra="ignore")

    infra_backoff_initial_s: float = 0.5
    infra_backoff_max_s: float = 10.0  # a wait on the store also ends once it answers
    dlt_partitions: int = 1
    dlt_replication_factor: int = 1
    max_payload_bytes: int = 1024 * 1024
    topic_wait_s: float = 30.0  # how long run() waits for missing input/reply topics
    metrics_port: int | None = None  # serves /metrics, /healthz, /readyz when set
    metrics_host: str = "127.0.0.1"  # "0.0.0.0" to be scraped from another host or container
