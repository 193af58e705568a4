"""Local, Docker-free infrastructure: Apache Kafka from Maven Central, Debian's Redis."""

from dirigent.dev.kafka import KafkaNode, fetch_kafka_jars
from dirigent.dev.process import ManagedProcess
from dirigent.dev.redis import RedisNode
from dirigent.dev.stack import LocalStack, ServiceStatus

__all__ = [
    "KafkaNode",
    "LocalStack",
    "ManagedProcess",
    "RedisNode",
    "ServiceStatus",
    "fetch_kafka_jars",
]
