"""Reference participant services of the order-fulfilment saga, with fault injection.

In process::

    env = ShopEnv(prefix="demo-1-", bootstrap=..., redis=redis,
                  ledger=EffectLedger(redis, run_id="1"), codec=shop_codec())
    payments = build_service("payments", env, FaultPlan(failure_rate=0.1))
    task = asyncio.create_task(payments.run())

As a process: ``python -m examples.shop.run --service payments --prefix demo-1- ...``.
"""

from examples.shop.checks import ledger_problems, refused_orders, silences_by_order
from examples.shop.faults import CRASH_EXIT_CODE, FaultPlan
from examples.shop.ledger import EffectLedger, EntryKind, LedgerEntry
from examples.shop.participant import Participant, Verdict
from examples.shop.services import SERVICES, ShopEnv, build_service, shop_codec

__all__ = [
    "CRASH_EXIT_CODE",
    "SERVICES",
    "EffectLedger",
    "EntryKind",
    "FaultPlan",
    "LedgerEntry",
    "Participant",
    "ShopEnv",
    "Verdict",
    "build_service",
    "ledger_problems",
    "refused_orders",
    "shop_codec",
    "silences_by_order",
]
