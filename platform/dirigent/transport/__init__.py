"""Kafka transport: the only package that touches aiokafka."""

from dirigent.transport.admin import TopicSpec, delete_topics, ensure_topics

__all__ = ["TopicSpec", "delete_topics", "ensure_topics"]
