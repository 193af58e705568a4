"""Everything about one dead letter: diagnostics, every header, the decoded payload,
what the ledger says and (when read) its saga and whether the saga still expects it."""

from __future__ import annotations

from typing import Any

from dirigent.ops.dlt import diagnostics
from dirigent.ops.dlt_ledger import Ledger
from dirigent.ops.dlt_scan import Found
from dirigent.ops.payload import PayloadCodec, jsonable
from dirigent.ops.replay_rule import expects
from dirigent.transport.deadletter import DLT_PREFIX

__all__ = ["describe", "header_value"]


async def describe(found: Found, payloads: PayloadCodec, ledger: Ledger | None) -> dict[str, Any]:
    """A JSON-ready document of one dead letter (``dlt show``)."""
    d, r = found.letter, found.letter.record
    doc: dict[str, Any] = d.to_dict()
    doc["dlt_topic"] = r.topic
    doc["diagnostics"] = diagnostics(r.headers)
    doc["headers"] = [
        {"name": name, "value": header_value(value), "dirigent_dlt": name.startswith(DLT_PREFIX)}
        for name, value in r.headers
    ]
    doc["key"] = header_value(r.key)
    doc["payload"] = (await payloads.decode(r.value)).to_dict()
    entry = ledger.entry(*d.position) if ledger else None
    doc["accounting"] = found.accounting.value if found.accounting else None
    doc["ledger"] = entry.to_dict() if entry else None
    if found.saga is not None:
        doc["saga"] = found.saga.to_dict()
        v = expects(saga_id=d.saga_id, message_id=d.message_id, causation_id=d.causation_id,
                    state=found.saga.state)  # fmt: skip
        doc["saga_expects"] = {"replay": v.replay, "code": v.code, "reason": v.reason}
    return jsonable(doc)  # type: ignore[no-any-return]


def header_value(value: bytes | None) -> str | None:
    """UTF-8 text, or ``hex:...`` for bytes that are not."""
    if value is None:
        return None
    try:
        return value.decode()
    except UnicodeDecodeError:
        return "hex:" + value.hex()
