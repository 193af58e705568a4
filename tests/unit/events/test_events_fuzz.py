"""Fuzzing the decoders of outside input: envelope headers and Avro payloads.

Property: any input either decodes or raises a ``ContractError`` (the documented
poison errors); nothing else escapes, nothing hangs (hypothesis deadline).
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import sagas.contracts.shop as shop
import sagas.contracts.travel as travel
from dirigent.errors import ContractError
from dirigent.events import SchemaCatalog, SingleObjectCodec
from dirigent.events.codec import SINGLE_OBJECT_MAGIC
from dirigent.events.envelope import HEADERS, Envelope, EnvelopeLimits
from tests.unit.events.events_strategies import bound_models, events_of

FUZZ = settings(
    max_examples=300,
    deadline=timedelta(milliseconds=500),
    suppress_health_check=[HealthCheck.too_slow],
)
MODELS = bound_models(shop, travel)
CODEC = SingleObjectCodec(SchemaCatalog(), models=MODELS)

# Header names as a consumer sees them: any text, including the lone surrogates that a
# ``surrogateescape`` decode of non-UTF-8 bytes produces, and our own names.
NAMES = st.one_of(
    st.sampled_from(sorted(HEADERS)),
    st.text(max_size=20),
    st.binary(min_size=1, max_size=12).map(lambda b: b.decode("utf-8", "surrogateescape")),
)
GOOD_VALUES = {
    "dirigent-id": b"m-1",
    "dirigent-type": b"shop.orders.OrderPlaced",
    "dirigent-source": b"shop",
    "dirigent-time": b"2026-01-01T00:00:00.000Z",
    "dirigent-correlation-id": b"c-1",
    "dirigent-schema": b"fp:0123456789abcdef",
}
VALUES = st.one_of(
    st.none(),
    st.binary(max_size=40),
    st.text(max_size=40).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.sampled_from(sorted(GOOD_VALUES.values())),
    st.integers(0, 3000).map(lambda n: b"x" * n),  # around the size limits
    st.sampled_from([b"0001-01-01T00:00:00+01:00", b"9999-12-31T23:59:59-01:00", b"nan"]),
)


def _decodes_or_contract_error(headers: list[tuple[str, bytes | None]]) -> None:
    try:
        env = Envelope.from_headers(headers, EnvelopeLimits(max_headers_bytes=4096))
    except ContractError:
        return
    assert env.message_id
    assert env.type
    assert env.schema_ref


@FUZZ
@given(st.lists(st.tuples(NAMES, VALUES), max_size=12))
def test_envelope_headers_of_any_shape_decode_or_raise_a_contract_error(
    headers: list[tuple[str, bytes | None]],
) -> None:
    _decodes_or_contract_error(headers)


@FUZZ
@given(
    st.sampled_from(sorted(GOOD_VALUES)),
    VALUES,
    st.lists(st.tuples(NAMES, VALUES), max_size=4),
)
@example("dirigent-time", b"0001-01-01T00:00:00+01:00", [])  # found by this test
def test_an_envelope_with_one_bad_field_decodes_or_raises_a_contract_error(
    field: str, value: bytes | None, extra: list[tuple[str, bytes | None]]
) -> None:
    ours = {**GOOD_VALUES, field: value}
    _decodes_or_contract_error([*ours.items(), *extra])


def test_a_valid_envelope_survives_foreign_headers_with_non_utf8_names() -> None:
    env = Envelope.from_headers([("\udcff\udcfe", b"x"), *GOOD_VALUES.items()])
    assert env.message_id == "m-1"


@FUZZ
@given(st.binary(max_size=200))
def test_arbitrary_bytes_decode_or_raise_a_contract_error(data: bytes) -> None:
    with contextlib.suppress(ContractError):
        CODEC.decode(data)


@FUZZ
@given(st.sampled_from(MODELS), st.binary(max_size=200))
def test_a_known_fingerprint_with_any_body_decodes_or_raises_a_contract_error(
    model: type, body: bytes
) -> None:
    framed = SINGLE_OBJECT_MAGIC + model.avro_schema.fingerprint_bytes + body
    for reader in (None, model):
        with contextlib.suppress(ContractError):
            CODEC.decode(framed, reader=reader)


@FUZZ
@given(st.data())
def test_a_valid_payload_cut_or_extended_decodes_or_raises_a_contract_error(
    data: st.DataObject,
) -> None:
    model = data.draw(st.sampled_from(MODELS))
    encoded = CODEC.encode(data.draw(events_of(model)))
    cut = data.draw(st.integers(0, len(encoded)))
    tail = data.draw(st.binary(max_size=16))
    with contextlib.suppress(ContractError):
        CODEC.decode(encoded[:cut] + tail, reader=model)
