"""dirigent: event-driven sagas for Python services on Apache Kafka, state in Redis."""

__version__ = "0.1.0"

__all__ = ["__version__"]
