"""Standard-library records that a healthy process always writes, kept at debug.

aiokafka logs the forming of a consumer group at ERROR and INFO: a fresh broker answers
``GroupCoordinatorNotAvailableError`` until ``__consumer_offsets`` exists, and every
start, join and rebalance writes half a dozen membership lines. Those records are
demoted to DEBUG (``level`` and ``levelname``) and shown only when DEBUG is on. A record
that means trouble (a heartbeat session expired, a fatal join error) keeps its level.
"""

from __future__ import annotations

import logging

__all__ = ["BENIGN", "DemoteBenign"]

# (logger name prefix, message template prefix, text that must appear in the
# formatted message or "" for any): matched against record.msg, the template, so a
# match costs no formatting unless the text check needs it.
BENIGN: tuple[tuple[str, str, str], ...] = (
    ("aiokafka", "Group Coordinator Request failed", "CoordinatorNotAvailable"),
    ("aiokafka", "Heartbeat failed for group %s because it is rebalancing", ""),
    ("aiokafka", "Heartbeat failed for group %s: coordinator", ""),
    ("aiokafka", "Updating subscribed topics to", ""),
    ("aiokafka", "Discovered coordinator", ""),
    ("aiokafka", "(Re-)joining group", ""),
    ("aiokafka", "Elected group leader", ""),
    ("aiokafka", "Successfully synced group", ""),
    ("aiokafka", "Revoking previously assigned partitions", "partitions set()"),
    ("aiokafka", "LeaveGroup request succeeded", ""),
)


class DemoteBenign(logging.Filter):
    """Demote the records in ``BENIGN`` to DEBUG; pass the rest at or above ``level``."""

    def __init__(self, level: int, benign: tuple[tuple[str, str, str], ...] = BENIGN) -> None:
        super().__init__()
        self.level = level
        self.benign = benign

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.DEBUG and self._benign(record):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return record.levelno >= self.level

    def _benign(self, record: logging.LogRecord) -> bool:
        template = record.msg if isinstance(record.msg, str) else ""
        for prefix, start, text in self.benign:
            if record.name.startswith(prefix) and template.startswith(start):
                return not text or text in record.getMessage()
        return False
