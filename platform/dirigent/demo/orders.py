"""The demo's input: a batch of ``OrderPlaced`` events, published like a shop would."""

from __future__ import annotations

import random

from dirigent.demo.options import DemoOptions
from dirigent.events import AvroCodec
from dirigent.transport import Publication, Publisher
from dirigent.transport.security import Bootstrap
from sagas.contracts.shop import OrderLine, OrderPlaced

__all__ = ["make_orders", "publish_orders", "warmup_order"]

_SKUS = ("kettle", "teapot", "mug", "strainer", "tea-tin", "cosy")


def make_orders(options: DemoOptions) -> list[OrderPlaced]:
    """``options.sagas`` orders with ids ``<run id>-o00001`` ..., reproducible per seed."""
    rng = random.Random(f"{options.seed}:{options.run_id}")
    orders = []
    for i in range(1, options.sagas + 1):
        lines = [OrderLine(sku=s, quantity=rng.randint(1, 3))
                 for s in rng.sample(_SKUS, rng.randint(1, 3))]  # fmt: skip
        orders.append(OrderPlaced(
            order_id=f"{options.run_id}-o{i:05d}", customer_id=f"c{rng.randint(1, 50):03d}",
            items=lines, amount_cents=rng.randint(500, 20_000), currency="EUR",
        ))  # fmt: skip
    return orders


def warmup_order(options: DemoOptions) -> OrderPlaced:
    """One order sent first: once it is terminal, every consumer group has joined."""
    return OrderPlaced(order_id=f"{options.run_id}-warmup", customer_id="c000",
                       items=[OrderLine(sku="mug", quantity=1)], amount_cents=100,
                       currency="EUR")  # fmt: skip


async def publish_orders(bootstrap: Bootstrap, codec: AvroCodec, orders: list[OrderPlaced],
                         options: DemoOptions) -> None:  # fmt: skip
    """Publish the orders to the saga's start topic (``<prefix>orders.events``)."""
    topic = f"{options.prefix}orders.events"
    async with Publisher(bootstrap, codec, source="demo-shop") as publisher:
        batch = [
            Publication(o, topic, envelope=publisher.envelope_for(o, saga_id=o.order_id))
            for o in orders
        ]
        for i in range(0, len(batch), 500):
            await publisher.publish_many(batch[i : i + 500])
