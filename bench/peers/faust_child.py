"""``python -m bench.peers.faust_child``: the faust orchestrator as a worker process.

In a process of its own, like dirigent's coordinator in ``bench/``. Once faust has its
partitions and has recovered its table it writes ``--ready`` (JSON: its durability
settings, read from the app); SIGTERM stops it the way ``faust worker`` stops.

``--fetch-max-wait-ms`` is the one tuning of the ``faust-tuned`` peer: faust-streaming
hard-codes ``fetch_max_wait_ms=1500`` for its consumer (no setting exists). In a request
-> reply loop that wait shows: a partition with records still buffered is left out of the
next fetch request, so its next records wait until the broker answers that request, up to
1.5 s later, when the other partitions it asks for have nothing (docs/peers.md).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any

import faust

from bench.peers.faust_app import FaustPeer, durability

FAUST_FETCH_WAIT_MS = 1500  # faust/transport/drivers/aiokafka.py, faust-streaming 0.15


def _use_fetch_wait(ms: int) -> None:
    """Make faust's consumer ask the broker to wait at most ``ms`` for data (not 1,500)."""
    from faust.transport.drivers import aiokafka as driver

    thread: Any = driver.AIOKafkaConsumerThread
    create = thread._create_worker_consumer

    def create_with_wait(self: Any, transport: Any) -> Any:
        consumer = create(self, transport)
        consumer._fetch_max_wait_ms = ms  # aiokafka reads it when the consumer starts
        return consumer

    thread._create_worker_consumer = create_with_wait


class _Worker(faust.Worker):
    def __init__(self, peer: FaustPeer, ready: Path, fetch_wait_ms: int, **kwargs: Any) -> None:
        super().__init__(peer.app, **kwargs)
        self.peer, self.ready, self.fetch_wait_ms = peer, ready, fetch_wait_ms

    async def on_startup_finished(self) -> None:
        await super().on_startup_finished()
        settings = {**durability(self.peer.app, self.peer.changelog),
                    "consumer_fetch_max_wait_ms": self.fetch_wait_ms}  # fmt: skip
        partial = self.ready.with_suffix(".partial")  # the parent never reads half a file
        await asyncio.to_thread(partial.write_text, json.dumps(settings))
        await asyncio.to_thread(partial.replace, self.ready)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.peers.faust_child")
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--partitions", type=int, required=True)
    parser.add_argument("--datadir", type=Path, required=True)
    parser.add_argument("--guarantee", choices=("at_least_once", "exactly_once"),
                        default="at_least_once")  # fmt: skip
    parser.add_argument("--fetch-max-wait-ms", type=int, help="default: faust's 1,500")
    parser.add_argument("--ready", type=Path, required=True)
    args = parser.parse_args()
    if args.fetch_max_wait_ms is not None:
        _use_fetch_wait(args.fetch_max_wait_ms)
    peer = FaustPeer(bootstrap=args.bootstrap, prefix=args.prefix, partitions=args.partitions,
                     datadir=args.datadir, guarantee=args.guarantee)  # fmt: skip
    fetch_wait_ms = args.fetch_max_wait_ms or FAUST_FETCH_WAIT_MS
    _Worker(peer, args.ready, fetch_wait_ms, loglevel="WARNING").execute_from_commandline()


if __name__ == "__main__":
    main()
