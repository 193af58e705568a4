"""Operator tooling: dead letters (list, group, show, replay, purge) and saga state.

The logic lives here; ``dirigent dlt`` and ``dirigent saga`` are thin click commands.
"""

from dirigent.ops.audit import AUDIT_TOPIC, record_audit
from dirigent.ops.dlt import (
    DeadLetter,
    OffsetRef,
    original_headers,
    parse_offset,
    replay_record,
    select,
)
from dirigent.ops.dlt_filter import DltFilter
from dirigent.ops.dlt_groups import FingerprintGroup, group_by_fingerprint
from dirigent.ops.dlt_session import SagaStoreRef
from dirigent.ops.replay import load_dead_letters, plan, run_selection
from dirigent.ops.replay_plan import PlanOptions, PlanSummary
from dirigent.ops.replay_rule import Verdict, expects
from dirigent.ops.replay_run import RunOptions, RunReport
from dirigent.ops.replay_select import Selection, read_selection
from dirigent.ops.sagas import SagaView, find_saga, list_sagas, partition_for

__all__ = [
    "AUDIT_TOPIC",
    "DeadLetter",
    "DltFilter",
    "FingerprintGroup",
    "OffsetRef",
    "PlanOptions",
    "PlanSummary",
    "RunOptions",
    "RunReport",
    "SagaStoreRef",
    "SagaView",
    "Selection",
    "Verdict",
    "expects",
    "find_saga",
    "group_by_fingerprint",
    "list_sagas",
    "load_dead_letters",
    "original_headers",
    "parse_offset",
    "partition_for",
    "plan",
    "read_selection",
    "record_audit",
    "replay_record",
    "run_selection",
    "select",
]
