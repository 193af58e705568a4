"""The local cluster's layout, without starting it: slots, ports, the URL it prints."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dirigent.config import DevSettings
from dirigent.dev import LocalRedisCluster, dev_cluster
from dirigent.dev.cluster import SLOTS, slot_ranges
from dirigent.store import is_cluster_url


@given(st.integers(min_value=1, max_value=64))
def test_the_masters_share_every_slot_once_and_evenly(masters: int) -> None:
    ranges = slot_ranges(masters)
    assert ranges[0][0] == 0
    assert ranges[-1][1] == SLOTS - 1
    assert all(a[1] + 1 == b[0] for a, b in itertools.pairwise(ranges))
    sizes = [hi - lo + 1 for lo, hi in ranges]
    assert max(sizes) - min(sizes) <= 1


def test_a_cluster_needs_a_master() -> None:
    with pytest.raises(ValueError, match="at least one"):
        slot_ranges(0)


def test_the_dev_cluster_follows_its_settings(tmp_path: Path) -> None:
    cluster = dev_cluster(
        DevSettings(state_dir=tmp_path, redis_cluster_port=7100, redis_cluster_nodes=4)
    )
    assert [m.port for m in cluster.members] == [7100, 7101, 7102, 7103]
    assert [m.bus_port for m in cluster.members] == [17100, 17101, 17102, 17103]
    assert cluster.members[2].home == (tmp_path / "redis-cluster" / "7102").resolve()
    assert cluster.url == (
        "redis+cluster://127.0.0.1:7100,127.0.0.1:7101,127.0.0.1:7102,127.0.0.1:7103"
    )
    assert is_cluster_url(cluster.url)


def test_bus_ports_are_one_per_node(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="one bus port per node"):
        LocalRedisCluster(tmp_path, ports=[1, 2, 3], bus_ports=[4, 5])
