"""Records an outside client writes, produced with Debian's ``kcat`` (librdkafka).

kcat is the point: its default partitioner (CRC32, random for a null key) is not the
Java client's murmur2, and it writes what aiokafka cannot (a header *name* that is not
UTF-8). Every poison record carries a unique key, its marker, so its dead letter can be
found in ``<topic>.dlt``.
"""

from __future__ import annotations

import asyncio
import subprocess
import tempfile
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dirigent.events import Envelope
from dirigent.transport.reader import partition_for
from sagas.contracts.shop import OrderLine, OrderPlaced
from tests.heavy.harness import PARTITIONS
from tests.heavy.participants import shop_codec

KCAT = "kcat"
BIG_RECORD_BYTES = 1_047_500  # just under the broker's 1 MiB: a DLT copy with headers is not
GZIP_INFLATED_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class Poison:
    """``records`` records keyed ``key`` written to ``topic``; all must reach its DLT."""

    case: str
    topic: str
    key: str
    records: int = 1


Headers = Sequence[tuple[bytes, bytes]]


def _kcat(bootstrap: str, topic: str, files: Sequence[Path], *, key: str | None,
          headers: Headers = (), extra: Sequence[str] = ()) -> None:  # fmt: skip
    argv: list[str | bytes] = [KCAT, "-P", "-b", bootstrap, "-t", topic, "-q",
                               "-X", "message.max.bytes=10000000", *extra]  # fmt: skip
    if key is not None:
        argv += ["-k", key]
    for name, value in headers:
        argv += [b"-H", name + b"=" + value]
    argv += [str(f) for f in files]
    done = subprocess.run(argv, capture_output=True, timeout=60, check=False)
    assert done.returncode == 0, f"kcat failed on {topic}: {done.stderr.decode(errors='replace')}"


def order_placed(oid: str) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """Envelope headers and Avro value of a valid ``OrderPlaced`` for ``oid``."""
    codec = shop_codec()
    o = OrderPlaced(order_id=oid, customer_id="c1", amount_cents=1000, currency="EUR",
                    items=[OrderLine(sku="sku-1", quantity=1)])  # fmt: skip
    env = Envelope.new(type=o.event_type, source="kcat", saga_id=oid,
                       schema_ref=codec.schema_ref(OrderPlaced))  # fmt: skip
    return [(k.encode(), v) for k, v in env.to_headers()], codec.encode(o)


def lands_elsewhere(oid: str) -> bool:
    """Whether kcat's default partitioner (CRC32 of the key) misses the murmur2 partition."""
    return zlib.crc32(oid.encode()) % PARTITIONS != partition_for(oid, PARTITIONS)


async def produce_starts(bootstrap: str, topic: str, ids: Sequence[str], *, null_key: bool) -> None:
    """Start events as an outside producer writes them: null key, or kcat's partitioner."""
    for oid in ids:
        headers, value = order_placed(oid)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "v"
            path.write_bytes(value)
            key = None if null_key else oid
            await asyncio.to_thread(_kcat, bootstrap, topic, [path], key=key, headers=headers)


async def produce_poison(
    bootstrap: str, topic: str, marker: str, *, coordinator: bool
) -> list[Poison]:
    """Every poison case on ``topic``; ``coordinator``: also the coordinator-only ones."""

    def envelope(case: str) -> tuple[list[tuple[bytes, bytes]], bytes]:
        return order_placed(f"{marker}-{case}-order")  # a message id of its own

    headers, value = envelope("header-name")
    cases: list[tuple[str, dict[str, bytes], list[tuple[bytes, bytes]], Sequence[str]]] = [
        ("header-name", {"v": value}, [*headers, (b"\xff\xfe-bad\xc3", b"1")], ()),
        ("big", {"v": b"\x00" + b"x" * (BIG_RECORD_BYTES - 1)}, envelope("big")[0], ()),
        # kcat puts its files in one compressed batch; one header set for all three, so
        # no message id: none of them can pass for a duplicate of another
        ("gzip", {"a": b"\x00" * GZIP_INFLATED_BYTES, "b": b"\x01junk", "c": b"\x02junk"},
         [h for h in envelope("gzip")[0] if h[0] != b"dirigent-id"], ("-z", "gzip")),
        ("bad-avro", {"v": b"\xc3\x01garbage-not-avro"}, envelope("bad-avro")[0], ()),
    ]  # fmt: skip
    if coordinator:
        headers, value = envelope("unknown-type")
        unknown = [(k, b"shop.NoSuchEvent" if k == b"dirigent-type" else v) for k, v in headers]
        cases.append(("unknown-type", {"v": value}, unknown, ()))
    out = []
    for case, files, hdrs, extra in cases:
        key = f"{marker}-{case}"
        with tempfile.TemporaryDirectory() as tmp:
            paths = []
            for name, data in files.items():
                (path := Path(tmp) / name).write_bytes(data)
                paths.append(path)
            await asyncio.to_thread(_kcat, bootstrap, topic, paths, key=key, headers=hdrs,
                                    extra=extra)  # fmt: skip
        out.append(Poison(case, topic, key, len(files)))
    return out


def dlt_keys(bootstrap: str, topic: str) -> Counter[str]:
    """Keys of every record in ``topic`` (read with kcat: header names may not be UTF-8)."""
    argv = [KCAT, "-C", "-b", bootstrap, "-t", topic, "-o", "beginning", "-e", "-q",
            "-X", "fetch.message.max.bytes=10000000", "-f", "%k\\n"]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, timeout=60, check=False)
    assert done.returncode == 0, f"kcat could not read {topic}: {done.stderr!r}"
    return Counter(line.decode(errors="replace") for line in done.stdout.splitlines() if line)


def missing_dead_letters(bootstrap: str, poison: Sequence[Poison]) -> list[str]:
    """One line per poison record that did not reach its topic's dead-letter topic."""
    seen: dict[str, Counter[str]] = {}
    out = []
    for p in poison:
        dlt = f"{p.topic}.dlt"
        if dlt not in seen:
            seen[dlt] = dlt_keys(bootstrap, dlt)
        if seen[dlt][p.key] < p.records:
            out.append(f"{p.case} on {p.topic} (key {p.key}): {seen[dlt][p.key]} of "
                       f"{p.records} records in {dlt}")  # fmt: skip
    return out
