"""The faust peer's orchestrator: two agents and a Table, as written without dirigent.

One agent opens a saga per ``OrderPlaced`` on ``<prefix>-orders.placed``; the other reads
the participants' replies on ``<prefix>-<domain>.events`` and moves the saga on. The
saga's record lives in a faust Table (in memory, made durable by its changelog topic in
Kafka), keyed by order id, which is also the key of every message: all topics have the
same partition count, so each key's table partition is the partition of its messages
(faust's co-partitioning rule). Offsets are committed at faust's commit interval, after
the producer (commands and changelog) was flushed: at-least-once, not atomic with the
table (``processing_guarantee="exactly_once"`` would make it transactional).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import faust

from bench.peers.faust_saga import DOMAINS, Outgoing, Saga, on_reply, start

__all__ = ["FaustPeer", "durability", "internal_topics"]


def internal_topics(prefix: str) -> list[str]:
    """The topics faust creates itself for the run ``prefix``: the table's changelog first."""
    app_id = f"{prefix}-orchestrator"
    return [f"{app_id}-sagas-changelog", f"{app_id}-__assignor-__leader"]


class FaustPeer:
    """The faust app with its topics and table, for one benchmark run (``prefix``)."""

    def __init__(self, *, bootstrap: str, prefix: str, partitions: int, datadir: Path,
                 guarantee: str = "at_least_once") -> None:  # fmt: skip
        self.app: Any = faust.App(
            f"{prefix}-orchestrator",  # internal_topics() follows this name
            broker=f"kafka://{bootstrap}",
            store="memory://",  # the changelog topic is the durable copy
            datadir=str(datadir),
            web_enabled=False,
            topic_allow_declare=True,  # the broker has auto.create.topics.enable=false
            topic_replication_factor=1,  # one broker
            topic_partitions=partitions,
            processing_guarantee=guarantee,
            key_serializer="raw",  # order ids as bytes, partitioned like every producer's
            value_serializer="json",  # topics and the table
        )
        self.placed = self.app.topic(f"{prefix}-orders.placed", partitions=partitions)
        self.replies = self.app.topic(*(f"{prefix}-{d}.events" for d in DOMAINS))
        self.commands = {d: self.app.topic(f"{prefix}-{d}.commands", partitions=partitions)
                         for d in DOMAINS}  # fmt: skip
        self.done = self.app.topic(f"{prefix}-sagas.done", partitions=partitions)
        self.sagas = self.app.Table("sagas", partitions=partitions)
        self.changelog: str = self.sagas.changelog_topic.get_topic_name()
        self.app.agent(self.placed, name="start_sagas")(self._start_sagas)
        self.app.agent(self.replies, name="apply_replies")(self._apply_replies)

    async def _start_sagas(self, stream: Any) -> None:
        async for key, order in stream.items():
            saga, first = start(order, _now_ms())
            self.sagas[key] = saga.to_json()
            await self._send(key, [first])

    async def _apply_replies(self, stream: Any) -> None:
        async for key, reply in stream.items():
            stored = self.sagas.get(key)
            before = Saga.from_json(stored) if stored is not None else None
            saga, out = on_reply(before, reply, _now_ms())
            if saga is not None and saga != before:
                self.sagas[key] = saga.to_json()
            await self._send(key, out)

    async def _send(self, key: bytes, out: list[Outgoing]) -> None:
        for o in out:
            topic = self.done if o.domain is None else self.commands[o.domain]
            await topic.send(key=key, value=o.value)  # buffered; flushed before commits


def durability(app: Any, changelog: str) -> dict[str, Any]:
    """The settings that decide what a crash can lose, read from the running app."""
    conf = app.conf
    guarantee = conf.processing_guarantee  # an enum in faust 0.15
    return {
        "producer_acks": "all" if conf.producer_acks == -1 else conf.producer_acks,
        "producer_idempotent": False,  # faust's aiokafka producer does not enable it
        "producer_linger_s": conf.producer_linger,
        "producer_max_batch_size": conf.producer_max_batch_size,
        "processing_guarantee": getattr(guarantee, "value", str(guarantee)),
        "commit_interval_s": conf.broker_commit_interval,
        "commit_every_messages": conf.broker_commit_every,
        "table_store": str(conf.store),
        "table_changelog_topic": changelog,
        "topic_replication_factor": conf.topic_replication_factor,
    }


def _now_ms() -> float:
    return time.time() * 1000
