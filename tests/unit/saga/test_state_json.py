"""Saga state JSON: orjson's output reads back exactly as the standard library's did."""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from dirigent.saga import SagaState, SagaStatus, StepState, StepStatus


def _state(data: dict[Any, Any]) -> SagaState:
    return SagaState(
        saga_id="s-1",
        saga_type="create_order",
        status=SagaStatus.RUNNING,
        version=2,
        data=data,
        steps={"reserve": StepState(StepStatus.PENDING, 1, "c-1", 0, None, False)},
        started_at=1733100000.123456,
        updated_at=1733100001.5,
        deadline_at=1e16,
    )


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b) and type(a) is type(b)


@given(st.dictionaries(st.text(), _json_values, max_size=5))
def test_any_data_reads_back_as_the_standard_library_reads_its_own(data: dict[str, Any]) -> None:
    stdlib = json.loads(json.dumps(data))
    back = SagaState.from_json(_state(data).to_json())
    assert _same(dict(back.data), stdlib)


def test_not_a_number_survives_the_round_trip_instead_of_becoming_null() -> None:
    back = SagaState.from_json(_state({"x": float("nan"), "y": [float("-inf")]}).to_json())
    assert math.isnan(back.data["x"])
    assert back.data["y"] == [float("-inf")]


def test_keys_that_are_not_strings_are_written_as_the_standard_library_writes_them() -> None:
    back = SagaState.from_json(_state({1: "a", "big": 2**70 + 1, "i64": -(2**63) - 1}).to_json())
    assert back.data == {"1": "a", "big": 2**70 + 1, "i64": -(2**63) - 1}
    assert all(type(back.data[k]) is int for k in ("big", "i64"))


def test_a_state_written_by_the_standard_library_with_nan_still_loads() -> None:
    raw = _state({"x": 1.0}).to_json().replace(b'"x":1.0', b'"x":NaN')
    assert math.isnan(SagaState.from_json(raw).data["x"])
