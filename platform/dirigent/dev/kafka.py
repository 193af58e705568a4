"""A single-node Apache Kafka 4 (KRaft, broker+controller) from the Maven Central jars."""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from dirigent.dev.process import ManagedProcess
from dirigent.dev.tools import java_major_version, require_tool
from dirigent.errors import ConfigurationError, InfrastructureError

__all__ = ["KafkaNode", "fetch_kafka_jars"]

_RESOURCES = resources.files("dirigent.dev") / "resources"


def fetch_kafka_jars(cache_dir: Path) -> Path:
    """Resolve Kafka and its runtime dependencies with Maven, once per pom version.

    The jars land in ``cache_dir/<pom hash>/``; a marker file makes later calls free.
    """
    pom = (_RESOURCES / "pom.xml").read_bytes()
    target = cache_dir / hashlib.sha256(pom).hexdigest()[:12]
    if (target / ".complete").exists():
        return target
    mvn = require_tool("mvn")
    target.mkdir(parents=True, exist_ok=True)
    (target / "pom.xml").write_bytes(pom)
    cmd = [
        mvn, "-q", "-B", "-f", str(target / "pom.xml"), "dependency:copy-dependencies",
        f"-DoutputDirectory={target}", "-DincludeScope=runtime",
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=900)
    if done.returncode != 0:
        raise InfrastructureError(
            f"Maven could not fetch the Kafka jars (exit {done.returncode}):\n"
            f"{(done.stdout + done.stderr)[-2000:]}"
        )
    (target / ".complete").write_text("ok\n")
    return target


@dataclass(frozen=True)
class KafkaNode:
    """One combined broker+controller whose data, config and logs live in ``home``."""

    home: Path
    jars_cache: Path
    host: str = "127.0.0.1"
    port: int = 9092
    controller_port: int = 9093

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def process(self) -> ManagedProcess:
        return ManagedProcess("kafka", self.home / "kafka.pid", self.home / "kafka.log")

    def start(self) -> int:
        """Fetch jars, write config, format storage once, and start the broker."""
        java = require_tool("java")
        if (major := java_major_version(java)) < 17:
            raise ConfigurationError(
                f"Kafka 4 needs Java 17 or newer; {java} is Java {major}. "
                "On Debian: sudo apt-get install -y openjdk-17-jre-headless"
            )
        jars = fetch_kafka_jars(self.jars_cache)
        props = self._write_config()
        classpath = f"{jars}/*"
        if not (self.home / "data" / "meta.properties").exists():
            self._format(java, classpath, props)
        log4j = self.home / "log4j2.yaml"
        log4j.write_text((_RESOURCES / "log4j2.yaml").read_text())
        argv = [
            java, "-Xms256m", "-Xmx1g", "-XX:+UseG1GC", "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={log4j}", "-cp", classpath, "kafka.Kafka", str(props),
        ]  # fmt: skip
        return self.process.start(argv)

    def _write_config(self) -> Path:
        self.home.mkdir(parents=True, exist_ok=True)
        props = self.home / "server.properties"
        settings = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.bootstrap.servers": f"{self.host}:{self.controller_port}",
            "listeners": (
                f"PLAINTEXT://{self.host}:{self.port},CONTROLLER://{self.host}:{self.controller_port}"
            ),
            "advertised.listeners": f"PLAINTEXT://{self.host}:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "log.dirs": str(self.home / "data"),
            "num.partitions": "1",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "10",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            "auto.create.topics.enable": "false",
            "log.retention.hours": "24",
            "log.segment.bytes": str(64 * 1024 * 1024),
        }
        props.write_text("".join(f"{k}={v}\n" for k, v in settings.items()))
        return props

    def _format(self, java: str, classpath: str, props: Path) -> None:
        shutil.rmtree(self.home / "data", ignore_errors=True)
        argv = [
            java, "-cp", classpath, "kafka.tools.StorageTool", "format",
            f"--cluster-id={new_cluster_id()}", "-c", str(props), "--standalone",
        ]  # fmt: skip
        done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=120)
        if done.returncode != 0:
            raise InfrastructureError(
                f"formatting Kafka storage in {self.home / 'data'} failed:\n"
                f"{(done.stdout + done.stderr)[-2000:]}"
            )


def new_cluster_id() -> str:
    """A random KRaft cluster id (URL-safe base64 of a UUID, as ``kafka-storage
    random-uuid`` makes). One in 64 starts with ``-``: pass it as ``--cluster-id=ID``,
    never as a separate argument, or the tool's parser takes it for an option."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
