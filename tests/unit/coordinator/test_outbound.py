"""The hot path's records are what the general envelope and model paths would write:
precomputed headers equal ``Envelope.new(...).to_headers()``, a transition built as a
plain datum decodes to the ``SagaTransition`` the model would have encoded."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dirigent.coordinator.headers import HeaderMaker
from dirigent.coordinator.outbound import OutboundEncoder, TransitionBatcher
from dirigent.errors import EnvelopeError
from dirigent.events import (
    Envelope,
    SagaTransition,
    SagaTransitionBatch,
    SchemaCatalog,
    SingleObjectCodec,
    read_transitions,
)
from dirigent.saga import SagaStatus, Transition
from dirigent.store import OutboxRecord

CODEC = SingleObjectCodec(SchemaCatalog(), models=[SagaTransition])
ids = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=40)
times = st.floats(min_value=1e9, max_value=4e9, allow_nan=False)


traceparents = st.none() | st.builds(
    lambda t, s: f"00-{t:032x}-{s:016x}-01", st.integers(1, 2**128 - 1), st.integers(1, 2**64 - 1)
)


@given(mid=ids, sid=ids, cause=st.none() | ids, at=times, tp=traceparents)
def test_precomputed_headers_are_the_envelopes(mid: str, sid: str, cause: str | None,
                                               at: float, tp: str | None) -> None:  # fmt: skip
    maker = HeaderMaker("coord-1")
    made = maker.make(type="shop.X", schema_ref="fp:0011223344556677", message_id=mid,
                      saga_id=sid, at=at, causation_id=cause, traceparent=tp)  # fmt: skip
    env = Envelope.new(type="shop.X", source="coord-1", schema_ref="fp:0011223344556677",
                       saga_id=sid, correlation_id=sid, causation_id=cause, message_id=mid,
                       time=datetime.fromtimestamp(at, UTC), traceparent=tp)  # fmt: skip
    assert list(made) == env.to_headers()


def test_an_oversized_id_is_refused_naming_the_header() -> None:
    with pytest.raises(EnvelopeError, match="dirigent-correlation-id has 5000 bytes"):
        HeaderMaker("c").make(type="t", schema_ref="fp:0011223344556677", message_id="m",
                              saga_id="s" * 5000, at=1e9)  # fmt: skip


@given(at=times, reason=st.none() | ids, step=st.none() | ids, version=st.integers(1, 2**40))
def test_a_transition_decodes_to_what_the_model_would_write(
    at: float, reason: str | None, step: str | None, version: int
) -> None:
    enc = OutboundEncoder(CODEC, source="coord-1", transitions_topic="tr")
    t = Transition("s1", "order", version, SagaStatus.RUNNING, SagaStatus.COMPENSATING, step,
                   "reply:x", reason, at, ("a",), 2, ("c1",))  # fmt: skip
    rec = enc.transition(t, message_id="m1", causation_id="m0", partition=3)
    assert rec is not None
    expected = SagaTransition(
        saga_id="s1", saga_type="order", from_status="RUNNING", to_status="COMPENSATING",
        step=step, message_id="m1", causation_id="m0", version=version,
        timestamp=datetime.fromtimestamp(at, UTC), reason=reason, coordinator_id="coord-1",
        partition=3, skipped=["a"], definition_version=2, cause="reply:x", commands=["c1"],
    )  # fmt: skip
    assert rec.value == CODEC.encode(expected)  # byte for byte


def _transitions(enc: OutboundEncoder, n: int) -> list[OutboxRecord]:
    out = []
    for v in range(1, n + 1):
        t = Transition(f"s{v}", "order", v, None, SagaStatus.RUNNING, None, "start", None,
                       1e9 + v, (), 1, ())  # fmt: skip
        rec = enc.transition(t, message_id=f"m{v}", causation_id=None, partition=2)
        assert rec is not None
        out.append(rec)
    return out


def test_the_batcher_joins_a_partitions_transitions_and_passes_the_rest() -> None:
    enc = OutboundEncoder(CODEC, source="coord-1", transitions_topic="tr")
    trs = _transitions(enc, 5)
    cmd = OutboxRecord("pay.commands", b"s1", b"cmd", (("dirigent-id", b"c1"),))
    out = TransitionBatcher(enc, max_items=3)(2, [trs[0], cmd, *trs[1:]])
    assert [(r.topic, r.partition) for r in out] == [("pay.commands", None), ("tr", 2), ("tr", 2)]
    assert out[0].value == b"cmd"
    joined = [t for r in out[1:] for t in read_transitions(CODEC, r.value or b"")]
    assert joined == [t for r in trs for t in read_transitions(CODEC, r.value)]  # in order
    env = Envelope.from_headers(out[1].headers)  # a proper envelope, for any reader
    assert (env.type, env.message_id) == (SagaTransitionBatch.event_type, "s1:v1+2")


def test_a_lone_transition_is_sent_as_it_is() -> None:
    enc = OutboundEncoder(CODEC, source="coord-1", transitions_topic="tr")
    [tr] = _transitions(enc, 1)
    [out] = TransitionBatcher(enc)(2, [tr])
    assert (out.value, out.key, out.headers, out.partition) == (tr.value, tr.key, tr.headers, None)
