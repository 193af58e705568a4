"""Typed settings, read from the environment (prefix ``DIRIGENT_``) only at the edge.

Nothing here reads the environment at import: call ``Settings()`` (or a runtime's own
settings class) where a process starts, and pass the result down.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:  # imported where used: the store and transport packages import
    # observability, which reads these settings (and transport brings aiokafka)
    from dirigent.store.security import RedisSecurity
    from dirigent.transport.security import KafkaEndpoint

__all__ = ["DevSettings", "Settings"]


class Settings(BaseSettings):
    """Where Kafka, Redis and the schema catalog are.

    Example::

        settings = Settings()  # DIRIGENT_KAFKA_BOOTSTRAP, DIRIGENT_REDIS_URL, ...
        settings = Settings(kafka_bootstrap="kafka:9092")
    """

    model_config = SettingsConfigDict(env_prefix="DIRIGENT_", frozen=True, extra="ignore")

    kafka_bootstrap: str = "127.0.0.1:9092"
    # TLS and SASL to Kafka (dirigent.transport.security; docs/security.md)
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    kafka_sasl_mechanism: (
        Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"] | None
    ) = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    kafka_sasl_oauth_token_provider: str | None = None  # module:attr
    kafka_tls_ca_file: Path | None = None
    kafka_tls_cert_file: Path | None = None
    kafka_tls_key_file: Path | None = None
    kafka_tls_key_password: SecretStr | None = None
    kafka_tls_check_hostname: bool = True
    # redis://host:port/db, or redis+cluster://host:port[,host:port...] for a Redis
    # Cluster (docs/redis-cluster.md)
    redis_url: str = "redis://127.0.0.1:6379/0"
    # Credentials and TLS beside the URL (dirigent.store.security; docs/security.md)
    redis_username: str | None = None
    redis_password: SecretStr | None = None
    redis_tls_ca_file: Path | None = None
    redis_tls_cert_file: Path | None = None
    redis_tls_key_file: Path | None = None
    redis_tls_check_hostname: bool = True
    schema_registry_url: str | None = None
    schemas_dir: Path = Path("schemas")
    service_name: str = "dirigent"
    # None: JSON lines unless stderr is a terminal (then readable lines); true/false forces
    log_json: bool | None = None
    log_level: str = "INFO"
    # OpenTelemetry traces: None follows the OTEL_* variables (on when
    # OTEL_TRACES_EXPORTER or an OTLP endpoint is set); true/false forces (docs/observability.md)
    tracing: bool | None = None

    def kafka(self) -> KafkaEndpoint:
        """The Kafka bootstrap servers and security these settings name; pass it to any
        client where a bootstrap string goes (raises ``ConfigurationError``)."""
        from dirigent.transport.security import KafkaEndpoint, KafkaSecurity

        return KafkaEndpoint(
            self.kafka_bootstrap,
            KafkaSecurity(
                protocol=self.kafka_security_protocol,
                sasl_mechanism=self.kafka_sasl_mechanism,
                sasl_username=self.kafka_sasl_username,
                sasl_password=self.kafka_sasl_password,
                sasl_oauth_token_provider=self.kafka_sasl_oauth_token_provider,
                tls_ca_file=self.kafka_tls_ca_file,
                tls_cert_file=self.kafka_tls_cert_file,
                tls_key_file=self.kafka_tls_key_file,
                tls_key_password=self.kafka_tls_key_password,
                tls_check_hostname=self.kafka_tls_check_hostname,
            ),
        )

    def redis_security(self) -> RedisSecurity:
        """The Redis credentials and TLS files these settings name."""
        from dirigent.store.security import RedisSecurity

        return RedisSecurity(
            username=self.redis_username,
            password=self.redis_password,
            tls_ca_file=self.redis_tls_ca_file,
            tls_cert_file=self.redis_tls_cert_file,
            tls_key_file=self.redis_tls_key_file,
            tls_check_hostname=self.redis_tls_check_hostname,
        )


class DevSettings(BaseSettings):
    """Local, Docker-free infrastructure started by ``dirigent dev up``."""

    model_config = SettingsConfigDict(env_prefix="DIRIGENT_DEV_", frozen=True, extra="ignore")

    state_dir: Path = Field(default=Path(".dirigent"), description="pids, logs, data, jars")
    kafka_port: int = 9092
    kafka_controller_port: int = 9093
    redis_port: int = 6379
    host: str = "127.0.0.1"
    jars_dir: Path | None = Field(
        default=None, description="where Maven puts the Kafka jars; default: ~/.cache/dirigent"
    )
    startup_timeout_s: float = 90.0
    # `dirigent dev cluster`: node i listens on redis_cluster_port + i, its bus on +10000
    redis_cluster_port: int = 7000
    redis_cluster_nodes: int = Field(default=3, ge=1, description="masters, no replicas")
    redis_cluster_node_timeout_ms: int = Field(default=5000, gt=0)
