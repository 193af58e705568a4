"""A ``redis-server`` of one test's own that speaks only TLS and knows only ACL users.

Certificates come from the ``openssl`` command line (a CA, a server certificate for
127.0.0.1 and a client certificate), made in the test's own directory; the server
listens on a TLS port alone (``--port 0``), asks every client for a certificate
(``tls-auth-clients yes``) and reads its users from an ACL file (``default`` is off).
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from tests.support.throwaway_redis import HOST, free_port

__all__ = ["Certificates", "TlsRedis", "make_certificates"]


@dataclass(frozen=True)
class Certificates:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_ca: Path  # a CA that signed nothing here: a client trusting it must fail


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _ca(home: Path, name: str) -> tuple[Path, Path]:
    key, cert = home / f"{name}.key", home / f"{name}.crt"
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", f"/CN={name}", "-keyout", key.name, "-out", cert.name, cwd=home)  # fmt: skip
    return key, cert


def _signed(home: Path, name: str, ca: tuple[Path, Path], san: str | None) -> tuple[Path, Path]:
    key, csr, cert = home / f"{name}.key", home / f"{name}.csr", home / f"{name}.crt"
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}",
             "-keyout", key.name, "-out", csr.name, cwd=home)  # fmt: skip
    extra: list[str] = []
    if san is not None:
        (home / f"{name}.ext").write_text(f"subjectAltName={san}\n")
        extra = ["-extfile", f"{name}.ext"]
    _openssl("x509", "-req", "-in", csr.name, "-CA", ca[1].name, "-CAkey", ca[0].name,
             "-CAcreateserial", "-days", "2", "-out", cert.name, *extra, cwd=home)  # fmt: skip
    return cert, key


def make_certificates(home: Path) -> Certificates:
    home.mkdir(parents=True, exist_ok=True)
    ca = _ca(home, "test-ca")
    _, other = _ca(home, "other-ca")
    server_cert, server_key = _signed(home, "server", ca, "IP:127.0.0.1,DNS:localhost")
    client_cert, client_key = _signed(home, "client", ca, None)
    return Certificates(ca[1], server_cert, server_key, client_cert, client_key, other)


class TlsRedis:
    """The server; ``acl`` is the ACL file's text (one ``user ...`` rule a line)."""

    def __init__(
        self, home: Path, certs: Certificates, acl: str, *, protocols: str = "TLSv1.2 TLSv1.3"
    ) -> None:
        self.home, self.certs, self.port = home, certs, free_port()
        self.protocols = protocols
        self.acl_file = home / "users.acl"
        self.acl_file.write_text(acl)
        self.log = home / "redis.log"
        self.proc: asyncio.subprocess.Process | None = None
        self._log_file: BinaryIO | None = None

    def url(self, scheme: str = "rediss") -> str:
        return f"{scheme}://{HOST}:{self.port}/0"

    async def start(self) -> None:
        c = self.certs
        self._log_file = self.log.open("wb")
        self.proc = await asyncio.create_subprocess_exec(
            "redis-server", "--port", "0", "--tls-port", str(self.port), "--bind", HOST,
            "--tls-cert-file", str(c.server_cert), "--tls-key-file", str(c.server_key),
            "--tls-ca-cert-file", str(c.ca), "--tls-auth-clients", "yes",
            "--tls-protocols", self.protocols,
            "--aclfile", str(self.acl_file), "--save", "", "--appendonly", "no",
            "--dir", str(self.home),
            stdout=self._log_file, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while True:  # the TLS port accepts connections once the server is up
            try:
                _, writer = await asyncio.open_connection(HOST, self.port)
                writer.close()
                await writer.wait_closed()
                return
            except OSError as exc:
                if time.monotonic() > deadline or self.proc.returncode is not None:
                    await self.stop()
                    raise RuntimeError(
                        f"redis-server did not start: {self.log.read_text()}"
                    ) from exc
                await asyncio.sleep(0.05)

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        if self._log_file is not None:
            self._log_file.close()
