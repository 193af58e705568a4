"""``python -m bench.peers.temporal_worker``: the Temporal worker as a process of its own.

It runs the workflow and its activities (the orchestrator and the participants), like
dirigent's coordinator runs in a child process in ``bench/``. It writes ``--ready``
(JSON: its settings) once it polls its task queue; SIGTERM shuts it down gracefully.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
from pathlib import Path

from temporalio.client import Client
from temporalio.worker import Worker

from bench.peers.temporal_saga import ACTIVITIES, OrderSaga

# The SDK's defaults (fixed 100 slots per kind, 1,000 cached workflows), said in results.
WORKFLOW_SLOTS = 100
ACTIVITY_SLOTS = 100
CACHED_WORKFLOWS = 1000


async def _serve(address: str, task_queue: str, ready: Path) -> None:
    stopping = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopping.set)
    client = await Client.connect(address, namespace="default")
    worker = Worker(client, task_queue=task_queue, workflows=[OrderSaga],
                    activities=list(ACTIVITIES), max_concurrent_workflow_tasks=WORKFLOW_SLOTS,
                    max_concurrent_activities=ACTIVITY_SLOTS,
                    max_cached_workflows=CACHED_WORKFLOWS)  # fmt: skip
    async with worker:
        settings = {"workflow_task_slots": WORKFLOW_SLOTS, "activity_slots": ACTIVITY_SLOTS,
                    "max_cached_workflows": CACHED_WORKFLOWS, "workflow_sandbox": True}  # fmt: skip
        partial = ready.with_suffix(".partial")  # the parent never reads half a file
        await asyncio.to_thread(partial.write_text, json.dumps(settings))
        await asyncio.to_thread(partial.replace, ready)
        await stopping.wait()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.peers.temporal_worker")
    parser.add_argument("--address", required=True)
    parser.add_argument("--task-queue", required=True)
    parser.add_argument("--ready", type=Path, required=True)
    args = parser.parse_args()
    asyncio.run(_serve(args.address, args.task_queue, args.ready))


if __name__ == "__main__":
    main()
