"""Reading the effect ledger: what a correct run of order fulfilment looks like.

``ledger_problems`` returns human-readable violations (empty: all good):

- an effect applied twice for one order (or one command id recorded twice);
- a compensation that undoes no applied step, or that comes before the step it undoes;
- compensations of one order not in reverse order of the steps they undo;
- with the sagas' final statuses: a COMPENSATED order with an effect left in place, or
  a COMPLETED order with a compensation or without its approval.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping

from examples.shop.ledger import EntryKind, LedgerEntry

__all__ = ["COMPENSATES", "ledger_problems", "refused_orders", "silences_by_order"]

COMPENSATES = {"release_stock": "reserve_stock", "void_payment": "authorize_payment"}
_UNDOABLE = frozenset(COMPENSATES.values())


def by_order(entries: Iterable[LedgerEntry]) -> dict[str, list[LedgerEntry]]:
    out: dict[str, list[LedgerEntry]] = defaultdict(list)
    for e in entries:
        out[e.order_id].append(e)
    return out


def refused_orders(entries: Iterable[LedgerEntry]) -> set[str]:
    return {e.order_id for e in entries if e.kind is EntryKind.REFUSAL}


def silences_by_order(entries: Iterable[LedgerEntry]) -> dict[str, Counter[str]]:
    """Per order, how many commands of each step got no reply (silenced)."""
    out: dict[str, Counter[str]] = defaultdict(Counter)
    for e in entries:
        if e.kind is EntryKind.SILENCE:
            out[e.order_id][e.name] += 1
    return out


def ledger_problems(
    entries: Iterable[LedgerEntry], statuses: Mapping[str, str] | None = None
) -> list[str]:
    entries = list(entries)
    problems: list[str] = []
    ids = Counter(e.command_id for e in entries)
    problems += [f"command {cid} recorded {n} times" for cid, n in ids.items() if n > 1]
    for order_id, rows in sorted(by_order(entries).items()):
        effects = [e for e in rows if e.kind is EntryKind.EFFECT]
        problems += _order_problems(order_id, effects)
        if statuses is not None:
            problems += _status_problems(order_id, effects, statuses.get(order_id))
    return problems


def _order_problems(order_id: str, effects: list[LedgerEntry]) -> list[str]:
    problems = [
        f"order {order_id}: {name} applied {n} times"
        for name, n in Counter(e.name for e in effects).items()
        if n > 1
    ]
    forward: list[LedgerEntry] = []
    undone: list[LedgerEntry] = []  # the forward effects, in the order they were undone
    for e in effects:
        target = COMPENSATES.get(e.name)
        if target is None:
            if undone:
                problems.append(f"order {order_id}: {e.name} applied after a compensation")
            forward.append(e)
            continue
        match = [f for f in forward if f.name == target and f.ref == e.ref]
        if not match:
            problems.append(f"order {order_id}: {e.name} ({e.ref}) undoes no applied {target}")
        else:
            undone.append(match[0])
    expected = [f for f in reversed(forward) if f in undone]
    if undone != expected:
        got = [u.name for u in undone]
        problems.append(f"order {order_id}: compensations not in reverse order: undid {got}")
    return problems


def _status_problems(order_id: str, effects: list[LedgerEntry], status: str | None) -> list[str]:
    names = [e.name for e in effects]
    if status == "COMPENSATED":
        left = [n for n in names if n in _UNDOABLE and _undo(n) not in names]
        if left or "schedule_shipment" in names:
            return [f"order {order_id}: COMPENSATED but effects left in place: {names}"]
    if status == "COMPLETED" and (set(names) & set(COMPENSATES) or "approve_order" not in names):
        return [f"order {order_id}: COMPLETED with effects {names}"]
    return []


def _undo(name: str) -> str:
    return next(k for k, v in COMPENSATES.items() if v == name)
