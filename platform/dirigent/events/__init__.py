"""Event contracts: typed models bound to Avro schemas, the codec and the envelope."""

from dirigent.events.catalog import AvroSchema, SchemaCatalog, load_avsc
from dirigent.events.codec import SINGLE_OBJECT_MAGIC, AvroCodec, SingleObjectCodec
from dirigent.events.model import Event, Record

__all__ = [
    "SINGLE_OBJECT_MAGIC",
    "AvroCodec",
    "AvroSchema",
    "Event",
    "Record",
    "SchemaCatalog",
    "SingleObjectCodec",
    "load_avsc",
]
