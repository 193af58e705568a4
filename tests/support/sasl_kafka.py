"""A KRaft node of one test module's own whose client listener speaks only SASL_SSL.

Built on ``dirigent.dev.KafkaNode`` (the cached Maven jars, its own ports and
directory) with overrides appended to its properties (the last value of a key wins):

- ``SASL_SSL://`` on ``port`` for clients: a PEM keystore (key + certificate signed by
  the test's CA, made with ``openssl`` by ``tests.support.tls_redis.make_certificates``),
  mechanisms SCRAM-SHA-256, SCRAM-SHA-512 and PLAIN;
- ``INTERNAL://`` (plaintext) on ``internal_port``, for the broker itself and the
  readiness check; ``CONTROLLER://`` as usual.

SCRAM users are written by Kafka's own ``StorageTool format --add-scram`` (the
storage format step of KRaft); PLAIN users come from the listener's JAAS user list.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from dirigent.dev.health import kafka_ready
from dirigent.dev.kafka import KafkaNode, fetch_kafka_jars, new_cluster_id
from dirigent.dev.tools import require_tool
from tests.support.faultstack import HOST, JARS, free_port
from tests.support.tls_redis import Certificates

__all__ = ["SaslKafka"]

_SCRAM = "org.apache.kafka.common.security.scram.ScramLoginModule required;"


@dataclass(frozen=True)
class SaslKafka(KafkaNode):
    """``users``: name -> password, each a SCRAM-SHA-256, SCRAM-SHA-512 and PLAIN user."""

    certs: Certificates | None = None
    users: dict[str, str] = field(default_factory=dict)
    internal_port: int = 0

    @classmethod
    def create(cls, home: Path, certs: Certificates, users: dict[str, str]) -> SaslKafka:
        return cls(home=home, jars_cache=JARS, host=HOST, port=free_port(),
                   controller_port=free_port(), certs=certs, users=users,
                   internal_port=free_port())  # fmt: skip

    @property
    def internal_bootstrap(self) -> str:
        return f"{self.host}:{self.internal_port}"

    def _write_config(self) -> Path:
        props = super()._write_config()
        assert self.certs is not None
        keystore = self.home / "server.pem"  # Kafka's PEM keystore: key, then chain
        keystore.write_text(self.certs.server_key.read_text() + self.certs.server_cert.read_text())
        plain_users = " ".join(f'user_{u}="{p}"' for u, p in self.users.items())
        h, sasl, internal, ctl = self.host, self.port, self.internal_port, self.controller_port
        extra = {
            "listeners": f"SASL_SSL://{h}:{sasl},INTERNAL://{h}:{internal},CONTROLLER://{h}:{ctl}",
            "advertised.listeners": f"SASL_SSL://{h}:{sasl},INTERNAL://{h}:{internal}",
            "inter.broker.listener.name": "INTERNAL",
            "listener.security.protocol.map": (
                "SASL_SSL:SASL_SSL,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT"
            ),
            "sasl.enabled.mechanisms": "SCRAM-SHA-256,SCRAM-SHA-512,PLAIN",
            "listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config": _SCRAM,
            "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config": _SCRAM,
            "listener.name.sasl_ssl.plain.sasl.jaas.config": (
                f"org.apache.kafka.common.security.plain.PlainLoginModule required {plain_users};"
            ),
            "ssl.keystore.type": "PEM",
            "ssl.keystore.location": str(keystore),
            "ssl.truststore.type": "PEM",
            "ssl.truststore.location": str(self.certs.ca),
            "ssl.client.auth": "none",
        }
        with props.open("a") as f:
            f.write("".join(f"{k}={v}\n" for k, v in extra.items()))
        return props

    def _format(self, java: str, classpath: str, props: Path) -> None:
        scram = [
            f"--add-scram={mech}=[name={user},password={password}]"
            for user, password in self.users.items()
            for mech in ("SCRAM-SHA-256", "SCRAM-SHA-512")
        ]
        argv = [
            java,
            "-cp",
            classpath,
            "kafka.tools.StorageTool",
            "format",
            f"--cluster-id={new_cluster_id()}",
            "-c",
            str(props),
            "--standalone",
            *scram,
        ]
        done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"StorageTool format failed:\n{(done.stdout + done.stderr)[-2000:]}")

    async def up(self, timeout_s: float = 90) -> None:
        """Start the node and wait until its plaintext internal listener answers."""
        fetch_kafka_jars(self.jars_cache)
        require_tool("java")
        await asyncio.to_thread(self.start)
        began = time.monotonic()
        while not await kafka_ready(self.internal_bootstrap):
            if self.process.pid() is None or time.monotonic() - began > timeout_s:
                raise RuntimeError(f"the SASL_SSL broker did not start:\n{self.process.tail(40)}")
            await asyncio.sleep(0.25)

    async def down(self) -> None:
        await asyncio.to_thread(self.process.stop, timeout_s=20)
