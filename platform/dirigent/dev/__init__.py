"""Local, Docker-free infrastructure: Apache Kafka from Maven Central, Debian's Redis."""

from dirigent.dev.cluster import ClusterStatus, LocalRedisCluster, dev_cluster
from dirigent.dev.kafka import KafkaNode, fetch_kafka_jars
from dirigent.dev.process import ManagedProcess
from dirigent.dev.redis import RedisNode
from dirigent.dev.stack import LocalStack, ServiceStatus

__all__ = [
    "ClusterStatus",
    "KafkaNode",
    "LocalRedisCluster",
    "LocalStack",
    "ManagedProcess",
    "RedisNode",
    "ServiceStatus",
    "dev_cluster",
    "fetch_kafka_jars",
]
