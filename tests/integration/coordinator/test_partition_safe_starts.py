"""Start events from producers that do not key by saga id land on the saga's partition.

kcat (librdkafka) hashes keys with CRC32 by default, not murmur2, and spreads null keys
at random: such a start lands on some partition, the saga's replies on another. The
coordinator forwards every such input to the partition its saga id hashes to, so each
saga runs in one place and ends with no effect applied twice or left behind.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from dirigent.coordinator import Coordinator
from dirigent.events import Envelope
from dirigent.transport import Publisher
from dirigent.transport.reader import partition_for
from sagas.contracts.shop import AuthorizePayment, OrderPlaced, ReleaseStock, ReserveStock
from tests.integration.coordinator.test_coordinator_e2e import (
    PARTITIONS,
    Shop,
    config,
    order,
    reply_to,
    shop,  # noqa: F401 - fixture
    wait_terminal,
)
from tests.support.responder import Responder


def kcat_produce(
    shop: Shop,  # noqa: F811
    placed: OrderPlaced,
    path: Path,
    *,
    key: str | None,
) -> None:
    """One record from kcat, with its own partitioner (key=None: no key at all)."""
    kcat = shutil.which("kcat")
    if kcat is None:
        pytest.fail("kcat is not installed (make deps installs Debian's kcat)")
    env = Envelope.new(type=placed.event_type, source="kcat",
                       schema_ref=shop.codec.schema_ref(OrderPlaced))  # fmt: skip
    path.write_bytes(shop.codec.encode(placed))
    cmd = [kcat, "-P", "-b", shop.settings.kafka_bootstrap, "-t", f"{shop.prefix}-orders.events"]
    cmd += [arg for name, value in env.to_headers() for arg in ("-H", f"{name}={value.decode()}")]
    if key is not None:
        cmd += ["-k", key]
    subprocess.run([*cmd, str(path)], check=True, timeout=30, capture_output=True)


async def test_starts_keyed_by_other_partitioners_are_forwarded_and_complete(
    shop: Shop,  # noqa: F811
    uid: str,
    tmp_path: Path,
) -> None:
    keyed = [order(i) for i in range(1, 9)]  # kcat's CRC32 partitioner
    null_key = [order(i) for i in range(9, 15)]  # kcat, no key: random partitions
    published = [order(i) for i in range(15, 19)]  # Publisher with sagas: murmur2 by saga id
    coordinator = Coordinator([shop.saga], settings=shop.settings, config=config(shop, uid))
    async with Responder(shop.settings.kafka_bootstrap, sorted(shop.saga.command_topics),
                         shop.codec, reply_to, group=f"resp-{uid}") as responder:  # fmt: skip
        task = asyncio.create_task(coordinator.run())
        for o in keyed:
            kcat_produce(shop, o, tmp_path / f"{o.order_id}.bin", key=o.order_id)
        for o in null_key:
            kcat_produce(shop, o, tmp_path / f"{o.order_id}.bin", key=None)
        async with Publisher(shop.settings.kafka_bootstrap, shop.codec, source="shop",
                             sagas=[shop.saga]) as publisher:  # fmt: skip
            for o in published:
                env = await publisher.publish(o, topic=f"{shop.prefix}-orders.events")
                assert env.saga_id == o.order_id  # derived from the saga's own rule
        total = len(keyed) + len(null_key) + len(published)
        counts = await wait_terminal(coordinator, total, timeout_s=60)
        assert coordinator.parts is not None  # read the store while its client is open
        homes = {o.order_id: partition_for(o.order_id, PARTITIONS) for o in keyed + null_key}
        rows = {sid: await coordinator.parts.store.load_many(home, [sid])
                for sid, home in homes.items()}  # fmt: skip
        coordinator.stop()
        await task
    assert counts["COMPLETED"] == total, counts
    for sid, [row] in rows.items():  # each saga lives on its home partition
        assert row is not None, f"saga {sid} is not on partition {homes[sid]}"
    sent = Counter((type(c).__name__, c.order_id) for _, c in responder.ledger)  # type: ignore[attr-defined]
    for o in keyed + null_key + published:
        assert sent[(ReserveStock.__name__, o.order_id)] == 1  # one saga per order, once
        assert sent[(AuthorizePayment.__name__, o.order_id)] == 1
        assert sent[(ReleaseStock.__name__, o.order_id)] == 0  # nothing leaked, nothing undone
    forwarded = coordinator.metrics.inputs.labels("forwarded")._value.get()
    assert forwarded >= 1  # kcat's partitioner disagreed with murmur2 for some keys
