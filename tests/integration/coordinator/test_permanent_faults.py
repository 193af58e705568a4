"""Permanent faults end the coordinator process with one clear message and exit code 1.

Transient faults (Redis restarting, the broker away) are retried and reported (the fault
profile in ``tests/faults`` kills both under load); a fault that retrying cannot cure
must not be retried for ever: the operator needs to hear about it, once.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient

from dirigent.transport import delete_topics
from tests.support.infra import Infra

ROOT = Path(__file__).resolve().parents[3]


def run_coordinator(
    infra: Infra, uid: str, *args: str, **env: str
) -> subprocess.CompletedProcess[str]:
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("DIRIGENT_")}
    child_env |= {
        "DIRIGENT_KAFKA_BOOTSTRAP": infra.kafka_bootstrap,
        "DIRIGENT_REDIS_URL": infra.redis_url,
        "DIRIGENT_HEAVY_PREFIX": f"perm{uid}-",
        "DIRIGENT_HEAVY_STEP_TIMEOUT_S": "5",
        "DIRIGENT_COORDINATOR_GROUP_ID": f"perm-{uid}",
        "DIRIGENT_COORDINATOR_TRANSITIONS_TOPIC": f"perm{uid}-transitions",
        **env,
    }
    cmd = [sys.executable, "-c", "from dirigent.cli import main; main()", "coordinator",
           "--sagas", "tests.heavy.saga_under_test", *args]  # fmt: skip
    return subprocess.run(cmd, cwd=ROOT, env=child_env, capture_output=True, text=True,
                          timeout=90, check=False)  # fmt: skip


def test_a_missing_topic_ends_the_process_naming_the_topic(infra: Infra, uid: str) -> None:
    proc = run_coordinator(infra, uid)
    assert proc.returncode == 1, proc.stderr[-2000:]
    assert f"topic perm{uid}-" in proc.stderr
    assert "does not exist" in proc.stderr


async def test_a_redis_that_refuses_the_login_ends_the_process_naming_the_setting(
    infra: Infra, uid: str
) -> None:
    host_port = infra.redis_url.split("://", 1)[1].split("/", 1)[0]
    proc = run_coordinator(infra, uid, "--partitions", "2",
                           DIRIGENT_REDIS_URL=f"redis://nobody:wrong@{host_port}/0")  # fmt: skip
    assert proc.returncode == 1, proc.stderr[-2000:]
    created = await topics_with_prefix(infra, f"perm{uid}-")
    await delete_topics(infra.kafka_bootstrap, created)
    assert "DIRIGENT_REDIS_URL" in proc.stderr
    assert proc.stderr.count("error:") == 1  # one message, not a retry loop


async def topics_with_prefix(infra: Infra, prefix: str) -> list[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=infra.kafka_bootstrap)
    await admin.start()
    try:
        return [t for t in await admin.list_topics() if t.startswith(prefix)]
    finally:
        await admin.close()
