"""Operator tooling: dead letters (list, group, replay) and saga state (show, list).

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
from dirigent.ops.dlt_groups import FingerprintGroup, group_by_fingerprint
from dirigent.ops.replay import Replayed, load_dead_letters, replay
from dirigent.ops.sagas import SagaView, find_saga, list_sagas, partition_for

__all__ = [
    "AUDIT_TOPIC",
    "DeadLetter",
    "FingerprintGroup",
    "OffsetRef",
    "Replayed",
    "SagaView",
    "find_saga",
    "group_by_fingerprint",
    "list_sagas",
    "load_dead_letters",
    "original_headers",
    "parse_offset",
    "partition_for",
    "record_audit",
    "replay",
    "replay_record",
    "select",
]
