"""faust-streaming integration: dirigent's Avro codec and command handling in Faust agents."""

from dirigent.faust.bridge import FaustBridge
from dirigent.faust.broker import faust_broker
from dirigent.faust.codec import AvroEventCodec

__all__ = ["AvroEventCodec", "FaustBridge", "faust_broker"]
