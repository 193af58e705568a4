"""Saga-aware replay of dead letters, in two steps: plan, then run.

``plan`` (the dry run) decides for every matching dead letter and writes the selection
file; ``run_selection`` replays exactly its ``replay`` entries, checking each once more,
and resumes an interrupted run. See ``replay_plan``, ``replay_run``, ``replay_select``.

Example::

    summary = await plan(bootstrap, "orders.events.dlt", DltFilter(fingerprints={fp}),
                         Path("sel.jsonl"), PlanOptions("alice", store=SagaStoreRef(url)))
    report = await run_selection(bootstrap, summary.selection, RunOptions("alice"),
                                 redis_url=url)
"""

from __future__ import annotations

from pathlib import Path

from dirigent.ops.dlt import DeadLetter
from dirigent.ops.dlt_filter import DltFilter
from dirigent.ops.dlt_session import SagaStoreRef, open_session
from dirigent.ops.payload import PayloadCodec
from dirigent.ops.progress import NO_PROGRESS, Progress
from dirigent.ops.replay_plan import PlanOptions, PlanSummary, plan_replay
from dirigent.ops.replay_run import ReplayRun, RunOptions, RunReport
from dirigent.ops.replay_select import Selection
from dirigent.store.security import RedisSecurity
from dirigent.transport import RawProducer
from dirigent.transport.scan import TopicReader
from dirigent.transport.security import Bootstrap

__all__ = ["load_dead_letters", "plan", "run_selection"]


async def load_dead_letters(
    bootstrap: Bootstrap, topic: str, *, limit: int | None = None
) -> list[DeadLetter]:
    """The dead letters of ``topic`` from its beginning (a list: for small topics; the
    commands stream with ``DeadLetterScan``)."""
    out: list[DeadLetter] = []
    async with TopicReader(bootstrap, topic) as reader:
        for b in await reader.bounds():
            async for batch in reader.scan(b.partition, b.start, b.end):
                out += map(DeadLetter.of, batch)
                if limit is not None and len(out) >= limit:
                    return out[:limit]
    return out


async def plan(
    bootstrap: Bootstrap,
    dlt: str,
    f: DltFilter,
    out: Path,
    options: PlanOptions,
    *,
    payloads: PayloadCodec | None = None,
    progress: Progress = NO_PROGRESS,
) -> PlanSummary:
    """The dry run: decide and write the selection to ``out``; nothing is produced."""
    store = options.store
    if store is None:
        raise ValueError("a replay plan reads saga state: give PlanOptions(store=...)")
    async with open_session(bootstrap, dlt, store=store, progress=progress) as session:
        return await plan_replay(session, f, out, options, payloads=payloads or PayloadCodec())


async def run_selection(
    bootstrap: Bootstrap,
    selection: Selection,
    options: RunOptions,
    *,
    redis_url: str,
    redis_security: RedisSecurity | None = None,
    payloads: PayloadCodec | None = None,
    progress: Progress = NO_PROGRESS,
) -> RunReport:
    """Replay (or resume) ``selection``, reading sagas where the plan did."""
    st = selection.header.get("saga_store") or {}
    store = SagaStoreRef(redis_url, st.get("group_id", "dirigent-coordinator"),
                         st.get("partitions"), st.get("saga_topic"), redis_security)  # fmt: skip
    async with (
        open_session(bootstrap, selection.dlt, store=store, progress=progress) as session,
        RawProducer(bootstrap) as producer,
    ):
        run = ReplayRun(session, selection, options, producer, payloads=payloads or PayloadCodec())
        return await run.run()
