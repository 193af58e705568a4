"""The single-object codec round-trips every reference contract, and others can read it."""

from __future__ import annotations

import io
from pathlib import Path

import avro.io
import avro.schema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sagas.contracts.ftgo as ftgo
import sagas.contracts.shop as shop
import sagas.contracts.travel as travel
from dirigent.events import Event, SchemaCatalog, SingleObjectCodec, builtin
from tests.unit.events.events_strategies import bound_models, events_of

ROOT = Path(__file__).resolve().parents[3]
MODELS = bound_models(ftgo, shop, travel, builtin)
CATALOG = SchemaCatalog.load(ROOT / "schemas")
CODEC = SingleObjectCodec(CATALOG, models=MODELS)


def test_every_schema_in_the_folder_has_a_model() -> None:
    assert {m.event_type for m in MODELS} == {s.name for s in CATALOG}
    assert len(MODELS) == 62  # with dirigent.Anomaly


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.event_type)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_round_trip(model: type[Event], data: st.DataObject) -> None:
    event = data.draw(events_of(model))
    encoded = CODEC.encode(event)
    assert encoded[:2] == b"\xc3\x01"
    assert encoded[2:10] == bytes.fromhex(CATALOG.by_name(model.event_type).fingerprint)
    assert CODEC.decode(encoded) == event
    assert CODEC.decode_raw(encoded) == (model.event_type, event.to_avro())


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.event_type)
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_the_avro_package_reads_the_body_given_only_the_avsc(
    model: type[Event], data: st.DataObject
) -> None:
    event = data.draw(events_of(model))
    path = CATALOG.by_name(model.event_type).path
    assert path is not None
    writer = avro.schema.parse(path.read_text())
    body = CODEC.encode(event)[10:]
    datum = avro.io.DatumReader(writer).read(avro.io.BinaryDecoder(io.BytesIO(body)))
    assert model.model_validate(datum) == event


def test_fingerprint_matches_the_avro_package() -> None:
    # avro-python keeps {"type": "long"} for logical types in its canonical form, against
    # the spec (and Java); compare only schemas where both follow the spec.
    plain = [s for s in CATALOG if "logicalType" not in s.to_json()]
    assert len(plain) > 20
    for schema in plain:
        assert schema.path is not None
        theirs = avro.schema.parse(schema.path.read_text()).fingerprint("CRC-64-AVRO")
        assert theirs.hex() == schema.fingerprint, schema.name


def test_schema_ref_names_the_fingerprint() -> None:
    ref = CODEC.schema_ref(shop.OrderPlaced)
    assert ref == "fp:" + CATALOG.by_name("shop.orders.OrderPlaced").fingerprint
