"""The operator actions, done by the ops functions the CLI calls, each audited first.

Before an action runs, the dashboard writes a ``dashboard.<action>`` record to the audit
topic (who, from where, why); the ops layer then audits what happened as it does for
the CLI: the coordinator its answer to a saga action, a replay its plan and outcome.
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from dirigent.dashboard.context import Dashboard
from dirigent.errors import ConfigurationError
from dirigent.ops import record_audit
from dirigent.ops.dlt_filter import DltFilter
from dirigent.ops.replay import plan, run_selection
from dirigent.ops.replay_plan import PlanOptions, PlanSummary
from dirigent.ops.replay_run import RunOptions, RunReport
from dirigent.ops.replay_select import Selection, read_selection
from dirigent.ops.saga_admin import AdminOutcome, request_action
from dirigent.saga import AdminAction
from dirigent.transport import RawProducer

__all__ = [
    "SAGA_ACTIONS",
    "Actor",
    "dry_run",
    "load_selection",
    "replay",
    "saga_action",
]

# What the dashboard offers (``migrate`` belongs to a deploy, ``dirigent saga migrate``).
SAGA_ACTIONS = (AdminAction.RETRY, AdminAction.COMPENSATE, AdminAction.ABORT, AdminAction.RESUME)
_SELECTION_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,200}\.selection\.jsonl")


@dataclass(frozen=True, slots=True)
class Actor:
    """Who asks, from where, and why (recorded in every audit record)."""

    who: str
    why: str
    client: str

    @property
    def name(self) -> str:
        return f"dashboard:{self.who}"


async def _audit(d: Dashboard, actor: Actor, action: str, target: str, **details: str) -> None:
    async with RawProducer(d.bootstrap) as producer:
        await record_audit(
            producer,
            who=actor.name,
            action=f"dashboard.{action}",
            target=target,
            details={"outcome": "requested", "why": actor.why, "client": actor.client, **details},
            topic=d.config.audit_topic,
        )


async def saga_action(
    d: Dashboard, saga_id: str, action: AdminAction, actor: Actor, *, step: str | None = None
) -> AdminOutcome:
    """``dirigent saga <action> SAGA_ID``: ask the owning coordinator, wait for its answer."""
    await _audit(d, actor, f"saga.{action.value}", saga_id, **({"step": step} if step else {}))
    return await request_action(
        d.bootstrap,
        d.group_id,
        saga_id,
        action,
        who=actor.name,
        why=actor.why,
        step=step,
        wait_s=d.config.action_wait_s,
        audit_topic=d.config.audit_topic,
    )


async def dry_run(d: Dashboard, topic: str, fingerprint: str, actor: Actor) -> PlanSummary:
    """``dirigent dlt replay TOPIC --fingerprint FP --dry-run``: decide, write the selection."""
    await _audit(d, actor, "dlt.dry-run", topic, fingerprint=fingerprint)
    out = d.config.replays_dir / (
        f"{topic}-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}.selection.jsonl"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    f = DltFilter(fingerprints=frozenset({fingerprint}))
    return await plan(
        d.bootstrap, topic, f, out, PlanOptions(actor.name, store=d.store()), payloads=d.payloads()
    )


def load_selection(d: Dashboard, name: str) -> Selection:
    """A selection file a dry run wrote, by file name only (no paths from clients)."""
    if not _SELECTION_NAME.fullmatch(name):
        raise ConfigurationError(f"{name!r} is not the name of a selection file")
    path: Path = d.config.replays_dir / name
    if not path.is_file():
        raise ConfigurationError(f"no selection {name!r} in {d.config.replays_dir}")
    return read_selection(path)


async def replay(
    d: Dashboard,
    selection: Selection,
    actor: Actor,
    *,
    canary: int = 0,
    reply_topics: tuple[str, ...] = (),
) -> RunReport:
    """``dirigent dlt replay --selection FILE [--canary N --reply-topic T]``."""
    action = "dlt.canary" if canary else "dlt.replay"
    await _audit(
        d,
        actor,
        action,
        selection.dlt,
        selection=selection.path.name,
        selection_id=selection.id,
        canary=str(canary),
    )
    options = RunOptions(
        actor.name,
        canary=canary,
        canary_timeout_s=d.config.canary_timeout_s,
        reply_topics=reply_topics,
        audit_topic=d.config.audit_topic,
    )
    return await run_selection(
        d.bootstrap, selection, options, redis_url=d.settings.redis_url,
        redis_security=d.settings.redis_security(), payloads=d.payloads(),
    )  # fmt: skip
