"""Kafka transport: the only package that touches aiokafka."""

from dirigent.transport.admin import TopicSpec, delete_topics, ensure_topics, missing_topics
from dirigent.transport.consumer import BatchConsumer, ConsumerSettings, InboundRecord
from dirigent.transport.deadletter import Failure, dead_letter_record, dlt_topic, fingerprint
from dirigent.transport.dlt_sender import FailedRecord, send_dead_letters
from dirigent.transport.lag_probe import GroupLag, LagProbe
from dirigent.transport.producer import (
    Compression,
    OutgoingRecord,
    ProducerSettings,
    RawProducer,
    SentRecord,
)
from dirigent.transport.publisher import Publication, Publisher
from dirigent.transport.security import Bootstrap, KafkaEndpoint, KafkaSecurity

__all__ = [
    "BatchConsumer",
    "Bootstrap",
    "Compression",
    "ConsumerSettings",
    "FailedRecord",
    "Failure",
    "GroupLag",
    "InboundRecord",
    "KafkaEndpoint",
    "KafkaSecurity",
    "LagProbe",
    "OutgoingRecord",
    "ProducerSettings",
    "Publication",
    "Publisher",
    "RawProducer",
    "SentRecord",
    "TopicSpec",
    "dead_letter_record",
    "delete_topics",
    "dlt_topic",
    "ensure_topics",
    "fingerprint",
    "missing_topics",
    "send_dead_letters",
]
