"""Dead-letter topics filled the way services fill them, and the CLI run against them."""

from __future__ import annotations

import asyncio
import json
import os
from asyncio.subprocess import DEVNULL, PIPE
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from dirigent.cli import main
from dirigent.events import Envelope, Event, OpsAudit, SchemaCatalog, SingleObjectCodec
from dirigent.ops import AUDIT_TOPIC
from dirigent.transport import (
    Failure,
    InboundRecord,
    OutgoingRecord,
    RawProducer,
    SentRecord,
    dead_letter_record,
)
from dirigent.transport.reader import read_topic
from tests.support.infra import Infra

SCHEMAS = Path(__file__).resolve().parents[3] / "schemas"


def cli(infra: Infra, *args: str, input: str | None = None, **env: str) -> Result:
    base = {
        "DIRIGENT_KAFKA_BOOTSTRAP": infra.kafka_bootstrap,
        "DIRIGENT_REDIS_URL": infra.redis_url,
        "DIRIGENT_SCHEMAS_DIR": str(SCHEMAS),
    }
    return CliRunner().invoke(main, list(args), env={**base, **env}, input=input,
                              catch_exceptions=False)  # fmt: skip


def ok_json(result: Result | Run) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def failure(fp: str, *, cls: str = "app.errors.Declined", message: str = "boom",
            handler: str = "inventory.reserve", at_ms: int = 20) -> Failure:  # fmt: skip
    return Failure(cls, message, "Traceback ...", fp, handler, 3, at_ms, at_ms)


def command(codec: SingleObjectCodec, event: Event, *, topic: str, saga_id: str | None,
            message_id: str | None = None, causation_id: str | None = "cause",
            partition: int = 0, offset: int = 0) -> InboundRecord:  # fmt: skip
    """``event`` as the record a participant read (and then dead-lettered)."""
    env = Envelope.new(type=event.event_type, source="coordinator", saga_id=saga_id,
                       schema_ref=codec.schema_ref(type(event)), causation_id=causation_id,
                       message_id=message_id)  # fmt: skip
    key = (saga_id or env.message_id).encode()
    return InboundRecord(topic, partition, offset, 1, key, codec.encode(event),
                         tuple(env.to_headers()))  # fmt: skip


async def dead_letter(
    bootstrap: str, dlt: str, letters: Sequence[tuple[InboundRecord, Failure]], *,
    group: str = "inventory", partition: int | None = None,
) -> list[SentRecord]:  # fmt: skip
    """Write ``letters`` to ``dlt`` as the DLT writer does (full form, original bytes)."""
    out = []
    for r, f in letters:
        d = dead_letter_record(r, f, group=group)
        out.append(OutgoingRecord(dlt, d.value, d.key, d.headers, partition))
    async with RawProducer(bootstrap) as producer:
        return await producer.send_batch(out)


def shop_codec(*models: type[Event]) -> SingleObjectCodec:
    return SingleObjectCodec(SchemaCatalog.load(SCHEMAS), models=models)


async def audits(infra: Infra, target: str) -> list[OpsAudit]:
    codec = SingleObjectCodec(SchemaCatalog(), models=[OpsAudit])
    records = await read_topic(infra.kafka_bootstrap, AUDIT_TOPIC, timeout_s=60)
    events = [codec.decode(r.value or b"", reader=OpsAudit) for r in records]
    return [e for e in events if isinstance(e, OpsAudit) and e.target == target]


@dataclass(frozen=True)
class Run:
    """A finished ``dirigent`` process, shaped like click's ``Result``."""

    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


DIRIGENT = Path(__file__).resolve().parents[3] / ".venv" / "bin" / "dirigent"


async def cli_process(infra: Infra, *args: str, timeout_s: float = 120.0) -> Run:
    """``dirigent ARGS`` in its own process (its output is not mixed with this one's logs)."""
    env = {**os.environ, "DIRIGENT_KAFKA_BOOTSTRAP": infra.kafka_bootstrap,
           "DIRIGENT_REDIS_URL": infra.redis_url, "DIRIGENT_SCHEMAS_DIR": str(SCHEMAS)}  # fmt: skip
    proc = await asyncio.create_subprocess_exec(
        str(DIRIGENT), *args, env=env, stdout=PIPE, stderr=PIPE, stdin=DEVNULL
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout_s)
    assert proc.returncode is not None
    return Run(proc.returncode, out.decode(), err.decode())
