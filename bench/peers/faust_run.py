"""The faust peer's run: topics, the worker process, the participants, the load, the figures.

Shaped like ``bench.run.run_sagas``: the orchestrator in a child process, and in this
process a fast scripted participant for the three command topics (one batched consume ->
reply -> commit loop, as ``bench/participant.py``, but speaking the peer's JSON), the
closed-loop ``Feeder`` of ``bench/`` and an observer of the sagas' outcomes.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from typing import Any

from bench.drivers import Feeder
from bench.peers.faust_app import internal_topics
from bench.peers.faust_saga import DOMAINS, REPLY_OF
from bench.peers.loop import drive, run_deadline_s
from bench.peers.process import ChildProcess, python_module
from bench.peers.report import PeerRun
from bench.run import Params
from bench.tally import Tally
from dirigent.transport import (
    BatchConsumer,
    ConsumerSettings,
    InboundRecord,
    OutgoingRecord,
    RawProducer,
    TopicSpec,
    delete_topics,
    ensure_topics,
)

__all__ = ["run_faust"]


async def run_faust(
    p: Params, run: str, *, guarantee: str = "at_least_once", fetch_wait_ms: int | None = None
) -> PeerRun:
    """The faust peer; with ``fetch_wait_ms`` it is ``faust-tuned`` (faust_child's doc)."""
    name, prefix = "faust" if fetch_wait_ms is None else "faust-tuned", f"peer{run}"
    topics = [f"{prefix}-orders.placed", f"{prefix}-sagas.done"]
    topics += [f"{prefix}-{d}.{k}" for d in DOMAINS for k in ("commands", "events")]
    internal = internal_topics(prefix)
    datadir, ready = p.results / f"faust-{run}-data", p.results / f"faust-{run}.ready"
    await ensure_topics(p.bootstrap, [TopicSpec(t, p.partitions) for t in topics])
    tally = Tally(warmup=p.warmup, measured=p.sagas)
    try:
        child = await ChildProcess.spawn("faust worker", python_module(
            "bench.peers.faust_child", "--bootstrap", p.bootstrap, "--prefix", prefix,
            "--partitions", str(p.partitions), "--datadir", str(datadir),
            "--guarantee", guarantee, "--ready", str(ready),
            *([] if fetch_wait_ms is None else ["--fetch-max-wait-ms", str(fetch_wait_ms)]),
        ), p.results / f"{name}.log")  # fmt: skip
        try:
            await child.wait_until(lambda: asyncio.to_thread(ready.exists), 120)
            settings: dict[str, Any] = json.loads(await asyncio.to_thread(ready.read_text))
            await _load(p, run, prefix, tally)
        finally:
            code = await child.stop()
    finally:
        await delete_topics(p.bootstrap, topics + internal)
        await asyncio.to_thread(shutil.rmtree, datadir, True)
        ready.unlink(missing_ok=True)
    summary = (f"acks={settings['producer_acks']}, not idempotent, table changelog, commit "
               f"every {settings['commit_interval_s']} s, {settings['processing_guarantee']}, "
               f"fetch wait {settings['consumer_fetch_max_wait_ms']} ms")  # fmt: skip
    return PeerRun(name, tally.figures(), durability=settings, summary=summary,
                   detail={"worker_exit_code": code, "topics_prefix": prefix})  # fmt: skip


async def _load(p: Params, run: str, prefix: str, tally: Tally) -> None:
    participant = JsonParticipant(p.bootstrap, prefix, tally, group=f"peer-part-{run}")
    observer = BatchConsumer(p.bootstrap, [f"{prefix}-sagas.done"], group_id=f"peer-obs-{run}",
                             settings=ConsumerSettings(max_poll_records=2000))  # fmt: skip
    async with participant, observer, RawProducer(p.bootstrap) as producer:
        feeder = Feeder(producer, lambda i: _order(prefix, run, i),
                        total=p.warmup + p.sagas + p.in_flight, in_flight=p.in_flight)  # fmt: skip
        await drive(feeder.run, lambda: _observe(observer, participant, feeder, tally),
                    run_deadline_s(p.warmup + p.sagas + p.in_flight, floor_per_s=100))  # fmt: skip


def _order(prefix: str, run: str, i: int) -> OutgoingRecord:
    order_id = f"{run}-{i}"
    value = {"order_id": order_id, "customer_id": "c-bench", "amount_cents": 1999,
             "currency": "EUR", "items": [{"sku": "sku-1", "quantity": 1}]}  # fmt: skip
    return OutgoingRecord(f"{prefix}-orders.placed", json.dumps(value).encode(), order_id.encode())


async def _observe(consumer: BatchConsumer, participant: JsonParticipant, feeder: Feeder,
                   tally: Tally) -> None:  # fmt: skip
    """Read the outcomes until the tally is done; the last step's latency ends here."""
    while not tally.done:
        batch = await consumer.getmany(timeout_ms=100)
        finished = 0
        for records in batch.values():
            for r in records:
                done = json.loads(r.value or b"{}")
                if done.get("status") != "COMPLETED":
                    raise RuntimeError(f"saga {done.get('order_id')} ended {done.get('status')}")
                participant.applied(done)
                tally.completions.append(float(done["decided_ms"]))
                finished += 1
        feeder.finished(finished)


class JsonParticipant:
    """Replies success to every command; pairs each step's command time with its decision."""

    def __init__(self, bootstrap: str, prefix: str, tally: Tally, *, group: str) -> None:
        topics = [f"{prefix}-{d}.commands" for d in DOMAINS]
        self.consumer = BatchConsumer(bootstrap, topics, group_id=group,
                                      settings=ConsumerSettings(max_poll_records=1000))  # fmt: skip
        self.producer = RawProducer(bootstrap)
        self.tally = tally
        self.sent_at: dict[tuple[str, str], int] = {}  # (order id, step) -> command time ms
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> JsonParticipant:
        await self.producer.start()
        await self.consumer.start()
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.consumer.close()
        await self.producer.close()

    def applied(self, message: dict[str, Any]) -> None:
        """A command or outcome says when the reply to its ``after`` step was applied."""
        after = message.get("after")
        if after is None:
            return
        produced = self.sent_at.pop((message["order_id"], after), None)
        if produced is not None:
            at = float(message["decided_ms"])
            self.tally.steps.append((at, at - produced))

    async def _run(self) -> None:
        while True:
            batch = await self.consumer.getmany(timeout_ms=100)
            out = [self._reply(r) for records in batch.values() for r in records]
            if out:
                await self.producer.send_batch(out)
            if batch:
                await self.consumer.commit({tp: rs[-1].offset + 1 for tp, rs in batch.items()})

    def _reply(self, r: InboundRecord) -> OutgoingRecord:
        command = json.loads(r.value or b"{}")
        self.sent_at.setdefault((command["order_id"], command["step"]), r.timestamp_ms)
        self.applied(command)
        reply = {"type": REPLY_OF[command["type"]], "order_id": command["order_id"],
                 "step": command["step"], "ok": True}  # fmt: skip
        topic = r.topic.removesuffix(".commands") + ".events"
        return OutgoingRecord(topic, json.dumps(reply).encode(), r.key)
