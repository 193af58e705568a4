"""Event contracts: typed models bound to Avro schemas, the codec and the envelope."""

from dirigent.events.model import Event

__all__ = ["Event"]
