"""Fuzzing the operator tools' decoders of outside input: dead-letter records (any
headers, any bytes, written by anyone) and the CLI's offset selections. They never
crash: a bad input is a ``ContractError``/``ValueError`` that names it, or a gap."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from hypothesis import given, settings
from hypothesis import strategies as st

from dirigent.errors import ContractError
from dirigent.ops import (
    DeadLetter,
    OffsetRef,
    group_by_fingerprint,
    parse_offset,
    replay_record,
    select,
)
from dirigent.ops.render import dead_letters_table, groups_table
from dirigent.transport import InboundRecord

T = TypeVar("T")
names = st.one_of(
    st.sampled_from([f"dirigent-dlt-{n}" for n in (
        "topic", "partition", "offset", "fingerprint", "attempts", "first-failure", "reduced",
        "last-failure", "error-message", "error-class", "handler", "group")]),
    st.text(max_size=30),
    # header names that were not UTF-8 arrive surrogate-escaped
    st.binary(max_size=12).map(lambda b: b.decode("utf-8", "surrogateescape")),
)  # fmt: skip
headers = st.lists(st.tuples(names, st.binary(max_size=40)), max_size=12).map(tuple)
records = st.builds(
    InboundRecord,
    topic=st.text(min_size=1, max_size=20),
    partition=st.integers(0, 100),
    offset=st.integers(0, 2**40),
    timestamp_ms=st.integers(0, 2**45),
    key=st.none() | st.binary(max_size=20),
    value=st.none() | st.binary(max_size=200),
    headers=headers,
)


@settings(max_examples=300, deadline=500)
@given(st.lists(records, max_size=6), st.none() | st.text(max_size=20))
def test_any_dead_letter_parses_groups_selects_and_renders(
    raw: list[InboundRecord], fingerprint: str | None
) -> None:
    letters = [DeadLetter.of(r) for r in raw]
    groups = group_by_fingerprint(letters)
    assert sum(g.count for g in groups) == len(letters)
    chosen = select(letters, fingerprint=fingerprint)
    assert all(fingerprint is None or d.fingerprint == fingerprint for d in chosen)
    dead_letters_table(letters, "t")
    groups_table(groups, "t")
    for d in letters:
        out, error = _attempt(lambda d=d: replay_record(d))  # type: ignore[misc]
        if error is not None:
            assert d.where in str(error)  # names the record it refuses
        else:
            assert out.topic == d.topic


@settings(max_examples=500, deadline=200)
@given(st.text(max_size=30))
def test_offset_selections_parse_or_name_the_input(text: str) -> None:
    ref, error = _attempt(lambda: parse_offset(text))
    if error is not None:
        assert repr(text) in str(error)
    else:
        assert isinstance(ref, OffsetRef)


def _attempt(fn: Callable[[], T]) -> tuple[T, None] | tuple[None, Exception]:
    """The result, or the documented error (anything else propagates: a crash)."""
    try:
        return fn(), None
    except (ContractError, ValueError) as exc:
        return None, exc
