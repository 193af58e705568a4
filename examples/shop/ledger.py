"""The effect ledger: every effect a shop service applies, once per command, in Redis.

One Redis stream per run (``{shop:<run>}:ledger``) holds entries in the order they were
applied; a marker per command id (``{shop:<run>}:done:<command id>``) makes recording
idempotent. Marker and entry are written by one Lua call, so a crash leaves both or
neither. The same call keeps, per order, the forward effects still in place
(``{shop:<run>}:held:<order id>``): a compensation looks up what to undo there, and
finds nothing when the step's command was never applied ("nothing to undo"). Tests
read the stream to prove that no effect was applied twice and that every compensation
undoes an applied step, newest first.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from dirigent.store import RedisClient

__all__ = ["EffectLedger", "EntryKind", "LedgerEntry"]

# KEYS: done marker, stream, held effects of the order
# ARGV: ttl, op ('hold' | 'release' | ''), effect name, ref, then the entry's fields
_RECORD = """
if redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then
  redis.call('XADD', KEYS[2], '*', unpack(ARGV, 5))
  redis.call('EXPIRE', KEYS[2], ARGV[1])
  if ARGV[2] == 'hold' then
    redis.call('HSET', KEYS[3], ARGV[3], ARGV[4])
    redis.call('EXPIRE', KEYS[3], ARGV[1])
  elseif ARGV[2] == 'release' then
    redis.call('HDEL', KEYS[3], ARGV[3])
  end
  return 1
end
return 0
"""


class EntryKind(StrEnum):
    EFFECT = "effect"  # something changed in the world (stock held, money authorized)
    REFUSAL = "refusal"  # the business said no (declined, out of stock): no effect
    SILENCE = "silence"  # injected: no effect and no reply, ever, for this command
    NOTHING_TO_UNDO = "nothing_to_undo"  # a compensation whose step never took effect


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """One outcome of one command. ``ref`` links a compensation to its effect."""

    service: str
    kind: EntryKind
    name: str  # the effect: reserve_stock, release_stock, authorize_payment, ...
    order_id: str
    command_id: str
    ref: str = ""
    at_ms: int = 0  # Redis time of recording (from the stream id)

    def fields(self) -> dict[str, str]:
        return {
            "service": self.service, "kind": self.kind.value, "name": self.name,
            "order_id": self.order_id, "command_id": self.command_id, "ref": self.ref,
        }  # fmt: skip


class EffectLedger:
    """Record outcomes at most once per command id; read them back in order.

    Example::

        ledger = EffectLedger(redis, run_id="demo-1a2b")
        if await ledger.record(LedgerEntry("payments", EntryKind.EFFECT, "authorize_payment",
                                           order_id, ctx.idempotency_key, ref=auth_id)):
            ...  # first time: the effect is applied now
    """

    def __init__(self, redis: RedisClient, *, run_id: str, ttl_s: int = 24 * 3600) -> None:
        self.redis = redis
        self.run_id = run_id
        self.ttl_s = ttl_s
        self._script: Any = redis.register_script(_RECORD)

    @property
    def _tag(self) -> str:
        return f"{{shop:{self.run_id}}}"

    @property
    def stream_key(self) -> str:
        return f"{self._tag}:ledger"

    def _done_key(self, command_id: str) -> str:
        return f"{self._tag}:done:{command_id}"

    def _held_key(self, order_id: str) -> str:
        return f"{self._tag}:held:{order_id}"

    async def record(
        self, entry: LedgerEntry, *, hold: bool = False, release: str | None = None
    ) -> bool:
        """True if recorded now; False if this command id already has an outcome.

        ``hold``: the entry is a forward effect now in place (compensations find it);
        ``release``: the entry undoes the held effect of that name.
        """
        flat = [x for kv in entry.fields().items() for x in kv]
        op, name = ("hold", entry.name) if hold else ("release", release or "")
        if not hold and release is None:
            op = ""
        keys = [self._done_key(entry.command_id), self.stream_key, self._held_key(entry.order_id)]
        args = [self.ttl_s, op, name, entry.ref, *flat]
        return bool(await self._script(keys=keys, args=args))

    async def held(self, order_id: str, effect: str) -> str | None:
        """The ref of ``effect`` if it is in place for ``order_id`` (None: never applied,
        or undone already)."""
        ref: Any = await self.redis.hget(self._held_key(order_id), effect)
        return ref.decode() if ref is not None else None

    async def entries(self) -> list[LedgerEntry]:
        """Every entry, oldest first."""
        out: list[LedgerEntry] = []
        start = "-"
        while True:
            rows: Any = await self.redis.xrange(self.stream_key, min=start, count=1000)
            for entry_id, raw in rows:
                f = {k.decode(): v.decode() for k, v in raw.items()}
                out.append(LedgerEntry(
                    f["service"], EntryKind(f["kind"]), f["name"], f["order_id"],
                    f["command_id"], f["ref"], int(entry_id.split(b"-")[0]),
                ))  # fmt: skip
            if len(rows) < 1000:
                return out
            start = "(" + rows[-1][0].decode()

    async def clear(self) -> None:
        """Drop this run's ledger and markers."""
        doomed = [k async for k in self.redis.scan_iter(match=f"{self._tag}:*", count=1000)]
        for i in range(0, len(doomed), 500):
            await self.redis.delete(*doomed[i : i + 500])
