"""What every shop service does around its business logic: faults, ledger, verdict."""

from __future__ import annotations

from dataclasses import dataclass
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

    ``act`` decides and records the outcome of one forward command, ``undo`` of one
    compensation. The ledger write is idempotent on ``ctx.idempotency_key``: a command
    delivered again after a crash gets the same verdict and applies nothing new.
    """

    name: str
    ledger: EffectLedger
    faults: FaultPlan

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
        if await self._silent(ctx, effect, order_id):
            return Verdict.SILENT
        # Keyed on the order, not the command: a retried step meets the same answer.
        if refusable and not self.faults.spares(order_id) and self.faults.refuses(order_id):
            await self._record(EntryKind.REFUSAL, effect, order_id, key)
            return Verdict.REFUSED
        await self._record(EntryKind.EFFECT, effect, order_id, key, ref, hold=True)
        # The effect is durable, the reply is not yet: the worst moment to die.
        self.faults.maybe_crash()
        return Verdict.APPLIED

    async def undo(self, ctx: HandlerContext, effect: str, undoes: str, order_id: str) -> Verdict:
        """Undo ``undoes`` for the order if it is in place; "nothing to undo" otherwise.

        A saga compensates every step that *may* have happened (a timed-out command
        included), so a compensation must accept finding nothing: it still answers
        with its success reply. It finds the effect by order, not by the saga's data
        (which has no reservation id when the step's reply never came).
        """
        key = ctx.idempotency_key
        await self.faults.delay()
        if await self._silent(ctx, effect, order_id):
            return Verdict.SILENT
        ref = await self.ledger.held(order_id, undoes)
        if ref is None:
            await self._record(EntryKind.NOTHING_TO_UNDO, effect, order_id, key)
            return Verdict.APPLIED
        await self._record(EntryKind.EFFECT, effect, order_id, key, ref, release=undoes)
        self.faults.maybe_crash()
        return Verdict.APPLIED

    async def _silent(self, ctx: HandlerContext, effect: str, order_id: str) -> bool:
        if self.faults.spares(order_id) or not self.faults.silent(ctx.idempotency_key):
            return False
        await self._record(EntryKind.SILENCE, effect, order_id, ctx.idempotency_key)
        return True

    async def _record(
        self, kind: EntryKind, effect: str, order_id: str, key: str, ref: str = "",
        *, hold: bool = False, release: str | None = None,
    ) -> bool:  # fmt: skip
        """False if this command already has an outcome (a redelivery: same verdict)."""
        entry = LedgerEntry(self.name, kind, effect, order_id, key, ref)
        return await self.ledger.record(entry, hold=hold, release=release)
