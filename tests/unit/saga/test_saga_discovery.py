"""discover_sagas finds module-level definitions without any registry."""

from __future__ import annotations

from dirigent.saga import discover_sagas


def test_discovers_the_reference_sagas() -> None:
    names = [d.name for d in discover_sagas("sagas")]
    assert names == ["create_order", "order_fulfilment", "trip_booking"]
