"""Coordinator settings (env prefix ``DIRIGENT_COORDINATOR_``)."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["CoordinatorSettings", "admin_topic_for"]


class CoordinatorSettings(BaseSettings):
    """How one coordinator process consumes, stores and sends.

    ``group_id`` names the consumer group and the Redis namespace: every replica of one
    deployment shares it.
    """

    model_config = SettingsConfigDict(
        env_prefix="DIRIGENT_COORDINATOR_", frozen=True, extra="ignore"
    )

    group_id: str = "dirigent-coordinator"
    coordinator_id: str = ""  # default: host name + pid
    extra_topics: tuple[str, ...] = ()
    # Event types other services put on the coordinator's topics that no saga reads:
    # skipped and counted. Any other type no saga knows is dead-lettered.
    ignored_types: tuple[str, ...] = ()
    transitions_topic: str = "dirigent.saga.transitions"
    # Operators' requests (dirigent saga retry|compensate|abort|resume); default
    # "<group_id>.admin", created at start with the input topics' partition count.
    admin_topic: str = ""
    audit_topic: str = "dirigent.ops.audit"
    publish_transitions: bool = True
    # Join the transitions the relay sends together into SagaTransitionBatch records (only
    # when the transitions topic has as many partitions as the saga topics).
    batch_transitions: bool = True
    poll_timeout_ms: int = 100
    max_batch_records: int = 1000
    timer_interval_s: float = 0.2
    relay_interval_s: float = 0.5
    max_in_flight_sagas: int = 50_000
    max_outbox: int = 100_000
    breaker_failure_threshold: int = 5
    breaker_reset_s: float = 10.0
    # Opt-in: open a participant's breaker when ``dirigent watch`` reports its step timing
    # out or slowing down (``anomalies_topic``); anomalies older than the max age are old news.
    breaker_advice: bool = False
    anomalies_topic: str = "dirigent.anomalies"
    breaker_advice_max_age_s: float = 120.0
    # How long a command that has not left the outbox (an open breaker holds it, or the
    # broker is away) keeps its step timeout on hold; past that the timeout runs again.
    unsent_hold_s: float = 60.0
    seen_ttl_s: int = 7 * 24 * 3600
    terminal_ttl_s: int = 7 * 24 * 3600
    conflict_retries: int = 3
    # Read every live instance at start and refuse to run if the loaded definitions
    # would strand one (a renamed or removed step with no migration).
    check_versions: bool = True
    metrics_port: int | None = None  # serves /metrics, /healthz, /readyz when set
    metrics_host: str = "127.0.0.1"  # "0.0.0.0" to be scraped from another host or container
    gauge_interval_s: float = 5.0  # how often gauges (lag, outbox, timers) are sampled
    # A saga whose deadline is this close (or past) counts in dirigent_sagas_deadline_at_risk.
    deadline_risk_s: float = 300.0
    session_timeout_ms: int = 10_000
    heartbeat_interval_ms: int = 1_000

    @property
    def admin_topic_name(self) -> str:
        """The admin topic this coordinator reads (``<group_id>.admin`` by default)."""
        return self.admin_topic or admin_topic_for(self.group_id)


def admin_topic_for(group_id: str) -> str:
    """Where operators send requests for the sagas of coordinator group ``group_id``."""
    return f"{group_id}.admin"
