"""Event contracts: typed models bound to Avro schemas, the codec and the envelope.

Example::

    catalog = SchemaCatalog.load(Path("schemas"))
    codec = SingleObjectCodec(catalog, models=[OrderPlaced])
    env = Envelope.new(type=OrderPlaced.event_type, source="shop",
                       schema_ref=codec.schema_ref(OrderPlaced), saga_id=order_id)
    value, headers, key = codec.encode(placed), env.to_headers(), env.record_key

The evolution check lives in ``dirigent.events.compat`` (it imports the ``avro`` package,
which services do not need at runtime).
"""

from dirigent.events.builtin import (
    BUILTIN_SCHEMAS,
    Anomaly,
    OpsAudit,
    SagaAdmin,
    SagaTransition,
    SagaTransitionBatch,
)
from dirigent.events.catalog import AvroSchema, SchemaCatalog, load_avsc, parse_standalone
from dirigent.events.codec import SINGLE_OBJECT_MAGIC, AvroCodec, SingleObjectCodec, schema_of
from dirigent.events.envelope import DEFAULT_LIMITS, HEADERS, Envelope, EnvelopeLimits
from dirigent.events.model import Event, Record
from dirigent.events.registry import CONFLUENT_MAGIC, RegistryCodec, SchemaRegistryClient
from dirigent.events.transitions import batch_transitions, read_transitions

__all__ = [
    "BUILTIN_SCHEMAS",
    "CONFLUENT_MAGIC",
    "DEFAULT_LIMITS",
    "HEADERS",
    "SINGLE_OBJECT_MAGIC",
    "Anomaly",
    "AvroCodec",
    "AvroSchema",
    "Envelope",
    "EnvelopeLimits",
    "Event",
    "OpsAudit",
    "Record",
    "RegistryCodec",
    "SagaAdmin",
    "SagaTransition",
    "SagaTransitionBatch",
    "SchemaCatalog",
    "SchemaRegistryClient",
    "SingleObjectCodec",
    "batch_transitions",
    "load_avsc",
    "parse_standalone",
    "read_transitions",
    "schema_of",
]
