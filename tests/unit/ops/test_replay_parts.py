"""Small parts of a replay: the replayed record, decisions, edits, the rate limit."""

from __future__ import annotations

import pytest

from dirigent.errors import ContractError
from dirigent.ops import replay_record
from dirigent.ops.dlt import REPLAY_ID_HEADER, REPLAY_OF_HEADER, REPLAYED_HEADER, DeadLetter
from dirigent.ops.dlt_ledger import Accounting
from dirigent.ops.dlt_scan import Found
from dirigent.ops.replay_edit import apply_edits, parse_edit
from dirigent.ops.replay_plan import decide
from dirigent.ops.replay_rate import RateLimiter
from dirigent.ops.saga_join import SagaLookup
from dirigent.saga.state import SagaState, SagaStatus
from dirigent.transport import InboundRecord, dead_letter_record
from tests.unit.ops.dlt_fixtures import failure, letter


def test_a_replayed_record_keeps_its_id_and_is_marked() -> None:
    d = letter(5, message_id="m-7")
    out = replay_record(d, replay_id="r1")
    headers = dict(out.headers)
    assert headers["dirigent-id"] == b"m-7"
    assert headers[REPLAYED_HEADER] == b"1"
    assert headers[REPLAY_ID_HEADER] == b"r1"
    assert headers[REPLAY_OF_HEADER] == b"shop.inventory.commands.dlt[0]@5"
    assert not any(k.startswith("dirigent-dlt-") for k, _ in out.headers)


def test_a_returned_record_replayed_again_counts_up_and_keeps_one_marker() -> None:
    first = replay_record(letter(5), replay_id="r1")
    back = InboundRecord(first.topic, 1, 99, 1, first.key, first.value, first.headers)
    d = DeadLetter.of(_stored(dead_letter_record(back, failure(), group="inventory")))
    assert (d.replays, d.replay_id) == (1, "r1")
    again = replay_record(d, replay_id="r2")
    names = [k for k, _ in again.headers]
    assert names.count(REPLAYED_HEADER) == names.count(REPLAY_ID_HEADER) == 1
    assert dict(again.headers)[REPLAYED_HEADER] == b"2"


def test_to_another_topic_and_an_edited_value() -> None:
    out = replay_record(letter(5), replay_id="r1", to="shop.inventory.v2.commands", value=b"x")
    assert (out.topic, out.value, out.partition) == ("shop.inventory.v2.commands", b"x", None)


def _stored(out: object) -> InboundRecord:
    o = out  # an OutgoingRecord for a .dlt topic
    return InboundRecord(o.topic, 0, 3, 1, o.key, o.value, o.headers)  # type: ignore[attr-defined]


def _compensated() -> SagaLookup:
    state = SagaState(saga_id="saga-1", saga_type="t", status=SagaStatus.COMPENSATED, version=2,
                      data={}, steps={})  # fmt: skip
    return SagaLookup("saga-1", 0, 2, state)


@pytest.mark.parametrize(
    ("found", "again", "code"),
    [
        (Found(letter(0, saga_id=None)), False, "not-saga-bound"),
        (Found(letter(0, saga_id=None), Accounting.REPLAYED), False, "already-replayed"),
        (Found(letter(0, saga_id=None), Accounting.REPLAYED), True, "not-saga-bound"),
        (Found(letter(0, saga_id=None), Accounting.JUDGED_DEAD), True, "already-judged-dead"),
        (Found(letter(0), saga=_compensated()), False, "saga-terminal"),
        (Found(letter(0), saga=SagaLookup("saga-1", error="unreadable state: x")), False,
         "saga-unreadable"),
    ],
)  # fmt: skip
def test_decisions(found: Found, again: bool, code: str) -> None:
    assert decide(found, again=again).code == code


def test_a_reduced_copy_is_never_replayed() -> None:
    original = InboundRecord("orders", 0, 1, 1, b"k", b"x" * 2_000_000, ())
    d = DeadLetter.of(_stored(dead_letter_record(original, failure(), group="g")))
    assert decide(Found(d)).code == "reduced"
    with pytest.raises(ContractError, match="reduced copy"):
        replay_record(d, replay_id="r1")


@pytest.mark.parametrize(
    ("text", "path", "value"),
    [
        ("quantity=3", ("quantity",), 3),
        ("items.0.sku=abc", ("items", "0", "sku"), "abc"),
        ('note="7"', ("note",), "7"),
        ("flag=true", ("flag",), True),
        ("gone=null", ("gone",), None),
        ("text=a=b", ("text",), "a=b"),
    ],
)
def test_edit_syntax(text: str, path: tuple[str, ...], value: object) -> None:
    e = parse_edit(text)
    assert (e.path, e.value) == (path, value)


@pytest.mark.parametrize("text", ["quantity", "=3", ""])
def test_a_bad_edit_names_itself(text: str) -> None:
    with pytest.raises(ValueError, match=repr(text)):
        parse_edit(text)


def test_edits_apply_to_a_copy_and_name_missing_fields() -> None:
    datum = {"order_id": "o1", "items": [{"sku": "a", "quantity": 1}]}
    edited, changes = apply_edits(datum, [parse_edit("items.0.quantity=4"),
                                          parse_edit("order_id=o2")])  # fmt: skip
    assert edited == {"order_id": "o2", "items": [{"sku": "a", "quantity": 4}]}
    assert datum["order_id"] == "o1"
    assert [(c.path, c.old, c.new) for c in changes] == [
        ("items.0.quantity", 1, 4), ("order_id", "o1", "o2")]  # fmt: skip
    for bad, message in (("items.3.sku=x", "no item items.3"), ("colour=red", "no field colour"),
                         ("order_id.x=1", "is not a record")):  # fmt: skip
        with pytest.raises(ContractError, match=message):
            apply_edits(datum, [parse_edit(bad)])


async def test_the_rate_limit_spaces_batches() -> None:
    now = [100.0]
    slept: list[float] = []

    async def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    limiter = RateLimiter(10, clock=lambda: now[0], sleep=sleep)
    assert limiter.batch_size(200) == 10
    for _ in range(3):
        await limiter.acquire(10)
    assert slept == [1.0, 1.0]  # 30 records at 10/s: the 2nd and 3rd batch wait a second
    now[0] += 5  # idle time is not saved up for a burst
    await limiter.acquire(5)
    await limiter.acquire(5)
    assert slept == [1.0, 1.0, 0.5]
    unlimited = RateLimiter(None)
    assert unlimited.batch_size(200) == 200
    with pytest.raises(ValueError, match="positive"):
        RateLimiter(0)
