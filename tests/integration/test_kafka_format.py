"""Formatting KRaft storage works whatever the random cluster id looks like."""

from __future__ import annotations

import base64
import uuid
from pathlib import Path

import pytest

from dirigent.dev import kafka
from dirigent.dev.kafka import KafkaNode, fetch_kafka_jars
from dirigent.dev.tools import require_tool


def _id_starting_with_a_dash() -> str:
    while True:  # one in 64 random ids starts with "-"
        cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if cid.startswith("-"):
            return cid


def test_a_cluster_id_that_starts_with_a_dash_formats(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kafka, "new_cluster_id", _id_starting_with_a_dash)
    node = KafkaNode(home=tmp_path, jars_cache=Path.home() / ".cache" / "dirigent" / "kafka-jars",
                     port=19092, controller_port=19093)  # fmt: skip
    jars = fetch_kafka_jars(node.jars_cache)
    node._format(require_tool("java"), f"{jars}/*", node._write_config())
    assert (tmp_path / "data" / "meta.properties").exists()
