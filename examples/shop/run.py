"""Run one shop service as its own process (crash tests, or beside ``dirigent coordinator``).

    python -m examples.shop.run --service payments --prefix demo-x- --run-id x \\
        --failure-rate 0.1 --crash-rate 0.01

Kafka and Redis come from ``DIRIGENT_KAFKA_BOOTSTRAP`` / ``DIRIGENT_REDIS_URL``. A crash
(``--crash-rate``, ``--crash-after``) exits with code 70 without committing anything;
restart the process and it picks up where the group's committed offsets are.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence

from dirigent.config import Settings
from dirigent.observability import configure_logging
from dirigent.store import redis_client
from dirigent.transport import ConsumerSettings
from examples.shop.faults import FaultPlan
from examples.shop.ledger import EffectLedger
from examples.shop.services import SERVICES, ShopEnv, build_service, shop_codec

__all__ = ["main", "parse_args"]


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m examples.shop.run", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--service", required=True, choices=sorted(SERVICES))
    p.add_argument("--prefix", default="", help="topic and group prefix, e.g. demo-x-")
    p.add_argument("--run-id", default="shop", help="names the effect ledger in Redis")
    p.add_argument("--failure-rate", type=float, default=0.0, help="refusals (declines)")
    p.add_argument("--silent-rate", type=float, default=0.0, help="commands left unanswered")
    p.add_argument("--latency-ms", type=float, default=0.0)
    p.add_argument("--crash-rate", type=float, default=0.0, help="os._exit probability")
    p.add_argument("--crash-after", type=int, default=None, help="os._exit after N messages")
    p.add_argument("--seed", default="dirigent", help="seed of refusal/silence decisions")
    p.add_argument("--session-timeout-ms", type=int, default=6000,
                   help="short, so a crashed member's partitions move on quickly")  # fmt: skip
    return p.parse_args(argv)


def faults_of(args: argparse.Namespace) -> FaultPlan:
    return FaultPlan(
        failure_rate=args.failure_rate, silent_rate=args.silent_rate, latency_ms=args.latency_ms,
        crash_rate=args.crash_rate, crash_after=args.crash_after, seed=args.seed,
    )  # fmt: skip


async def serve(args: argparse.Namespace, settings: Settings) -> None:
    redis = redis_client(settings.redis_url)
    try:
        env = ShopEnv(
            prefix=args.prefix, bootstrap=settings.kafka(), redis=redis,
            ledger=EffectLedger(redis, run_id=args.run_id), codec=shop_codec(),
            consumer=ConsumerSettings(
                client_id=f"{args.prefix}{args.service}",
                session_timeout_ms=args.session_timeout_ms,
                heartbeat_interval_ms=max(100, args.session_timeout_ms // 6),
            ),
        )  # fmt: skip
        service = build_service(args.service, env, faults_of(args))
        await service.run(handle_signals=True)
    finally:
        await redis.aclose()


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    settings = Settings()
    configure_logging(json=settings.log_json, level=settings.log_level)
    asyncio.run(serve(args, settings))


if __name__ == "__main__":
    main()
