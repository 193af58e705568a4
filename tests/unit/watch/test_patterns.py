"""Failure patterns: one incident with slightly different messages is one group."""

from __future__ import annotations

from dirigent.ops.dlt_similar import SimilarCounter
from dirigent.transport import Failure
from dirigent.watch.patterns import PatternMiner, frames
from dirigent.watch.templates import mask
from tests.unit.ops.dlt_fixtures import letter

STACK = """Traceback (most recent call last):
  File "/app/dirigent/service/processor.py", line 88, in process
    out = await handler(event)
  File "/app/payments/handlers.py", line {line}, in authorize
    resp = await self.gateway.charge(cmd.card, cmd.amount)
  File "/app/payments/gateway.py", line 41, in charge
    raise GatewayTimeout(f"...")
"""
OTHER_STACK = """Traceback (most recent call last):
  File "/app/inventory/handlers.py", line 12, in reserve
    row = await self.db.fetch_one(sql)
  File "/app/inventory/db.py", line 77, in fetch_one
    raise DatabaseError(...)
"""

# One incident (a payment gateway timing out), as its dead letters say it.
INCIDENT = [
    "gateway 10.0.3.17:8443 timed out after 3000 ms charging order 'ord-8812' (attempt 3)",
    "gateway 10.0.3.21:8443 timed out after 2998 ms charging order 'ord-8907' (attempt 3)",
    "gateway 10.0.3.17:8443 timed out after 3001 ms charging order 'ord-9120' (attempt 2)",
    "gateway 10.0.3.9:8443 timed out after 3004 ms charging order 'ord-9311' (attempt 3)",
]
OTHERS = [
    ("app.DatabaseError", "deadlock detected on relation 'stock' txid=7712f3a9c0", OTHER_STACK),
    ("app.DatabaseError", "deadlock detected on relation 'stock' txid=88a1b2c3d4", OTHER_STACK),
    ("app.Rejected", "card 4242 declined: insufficient funds", None),
]


def test_masking_removes_ids_numbers_addresses_and_quoted_values() -> None:
    assert mask(INCIDENT[0]) == mask(INCIDENT[1])
    assert mask("saga 3f2b1c4e-1d2a-4b5c-9d8e-0a1b2c3d4e5f: key=abc failed") == (
        "saga <uuid>: key=<val> failed"
    )


def test_one_incident_is_one_pattern_and_other_failures_are_others() -> None:
    miner = PatternMiner()
    for i, m in enumerate(INCIDENT):
        miner.add("payments.GatewayTimeout", m, STACK.format(line=30 + i))
    for cls, m, stack in OTHERS:
        miner.add(cls, m, stack)
    found = miner.patterns()
    assert [p.count for p in found] == [4, 2, 1]
    assert (
        found[0].text
        == "gateway <ip> timed out after <num> ms charging order <str> (attempt <num>)"
    )
    assert found[1].error_class == "app.DatabaseError"


def test_a_similar_message_from_a_different_code_path_is_a_different_pattern() -> None:
    miner = PatternMiner()
    miner.add("app.DatabaseError", "deadlock detected on relation 'stock'", OTHER_STACK)
    miner.add("app.DatabaseError", "deadlock detected on relation 'order'", STACK.format(line=1))
    assert len(miner.patterns()) == 2
    assert frames(OTHER_STACK) == {"handlers.py:reserve", "db.py:fetch_one"}


def test_dead_letters_with_different_fingerprints_group_by_pattern() -> None:
    counter = SimilarCounter()
    for i, m in enumerate(INCIDENT):  # the handler's line moved between deploys: new fingerprint
        fail = Failure("payments.GatewayTimeout", m, STACK.format(line=30 + i), f"{i:016x}",
                       "payments.authorize", 3, 1_000, 2_000)  # fmt: skip
        counter.add(letter(i, fail=fail, message_id=f"m-{i}"))
    [group] = counter.groups()
    assert (group.count, group.open, len(group.fingerprints)) == (4, 4, 4)
    assert group.template.startswith("gateway <ip> timed out")
