"""What every shop service does around its business logic: faults, ledger, verdict."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum

from dirigent.service import HandlerContext
from examples.shop.faults import FaultPlan
from examples.shop.ledger import EffectLedger, EntryKind, LedgerEntry

__all__ = ["Participant", "Verdict"]


class Verdict(Enum):
    APPLIED = "applied"  # reply with the success event
    REFUSED = "refused"  # reply with the failure event
    SILENT = "silent"  # reply nothing


@dataclass
class Participant:
    """One service's name, ledger and fault plan.

    ``act`` decides and records the outcome of one command. The ledger write is
    idempotent on ``ctx.idempotency_key``: a command delivered again after a crash
    gets the same verdict and applies nothing new.
    """

    name: str
    ledger: EffectLedger
    faults: FaultPlan
    expire_after_s: float | None = None  # refuse commands older than this (step timeout)

    async def act(
        self,
        ctx: HandlerContext,
        effect: str,
        order_id: str,
        *,
        ref: str = "",
        refusable: bool = False,
    ) -> Verdict:
        key = ctx.idempotency_key
        await self.faults.delay()
        if self._expired(ctx) and await self._record(EntryKind.EXPIRED, effect, order_id, key):
            # The saga has timed this step out and will not compensate it: acting now
            # would leave an effect nobody undoes (docs/sagas.md, "Retries and timeouts").
            return Verdict.SILENT
        spared = self.faults.spares(order_id)
        if not spared and self.faults.silent(key):
            await self._record(EntryKind.SILENCE, effect, order_id, key)
            return Verdict.SILENT
        # Keyed on the order, not the command: a retried step meets the same answer.
        if refusable and not spared and self.faults.refuses(order_id):
            await self._record(EntryKind.REFUSAL, effect, order_id, key)
            return Verdict.REFUSED
        await self._record(EntryKind.EFFECT, effect, order_id, key, ref)
        # The effect is durable, the reply is not yet: the worst moment to die.
        self.faults.maybe_crash()
        return Verdict.APPLIED

    def _expired(self, ctx: HandlerContext) -> bool:
        if self.expire_after_s is None:
            return False
        age_s = (datetime.now(UTC) - ctx.envelope.time).total_seconds()
        return age_s > self.expire_after_s

    async def _record(
        self, kind: EntryKind, effect: str, order_id: str, key: str, ref: str = ""
    ) -> bool:
        """False if this command already has an outcome (a redelivery: same verdict)."""
        return await self.ledger.record(LedgerEntry(self.name, kind, effect, order_id, key, ref))
