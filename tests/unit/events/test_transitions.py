"""The transitions topic's two record forms: one transition, or a batch of them."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from dirigent.events import (
    BUILTIN_SCHEMAS,
    SagaTransition,
    SchemaCatalog,
    SingleObjectCodec,
    batch_transitions,
    read_transitions,
)


def test_the_batch_schema_inlines_the_transition_schema_as_it_is() -> None:
    item = json.loads((BUILTIN_SCHEMAS / "SagaTransition.avsc").read_text())
    batch = json.loads((BUILTIN_SCHEMAS / "SagaTransitionBatch.avsc").read_text())
    [field] = batch["fields"]
    assert field["type"]["items"] == item  # change SagaTransition.avsc: change both


def test_a_batch_reads_back_in_order_and_a_single_record_too() -> None:
    codec = SingleObjectCodec(SchemaCatalog(), models=[SagaTransition])  # no batch model
    ts = [SagaTransition(saga_id=f"s{i}", saga_type="t", to_status="RUNNING", message_id="m",
                         version=i, timestamp=datetime(2026, 1, 1, tzinfo=UTC),
                         coordinator_id="c", partition=0) for i in range(70)]  # fmt: skip
    values = [codec.encode(t) for t in ts]
    assert read_transitions(codec, batch_transitions(codec, values)) == ts  # 140: 2-byte count
    assert read_transitions(codec, values[3]) == [ts[3]]
    assert read_transitions(codec, batch_transitions(codec, [])) == []
