"""Redis credentials and TLS, as settings rather than parts of a URL.

``DIRIGENT_REDIS_URL`` may still carry ``user:password@``; these settings say the same
without putting a secret in a URL (which ends up in shell histories and process lists):

==============================  ===================================================
``DIRIGENT_REDIS_USERNAME``     ACL user (Redis 6+); default: the URL's, else none
``DIRIGENT_REDIS_PASSWORD``     that user's password (a secret: never logged)
``DIRIGENT_REDIS_TLS_CA_FILE``  CA bundle that signed the server's certificate
``DIRIGENT_REDIS_TLS_CERT_FILE`` client certificate, for ``tls-auth-clients yes``
``DIRIGENT_REDIS_TLS_KEY_FILE``  its private key
``DIRIGENT_REDIS_TLS_CHECK_HOSTNAME``  verify the server's name (default true)
==============================  ===================================================

TLS settings need a ``rediss://`` (or ``rediss+cluster://``) URL; a mistake is a
``ConfigurationError`` that names the setting, raised before any connection is made.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from dirigent.errors import ConfigurationError

__all__ = ["RedisSecurity"]

_TLS_SCHEMES = ("rediss", "rediss+cluster")


@dataclass(frozen=True, slots=True)
class RedisSecurity:
    """How to log in to Redis and verify it; every field optional."""

    username: str | None = None
    password: SecretStr | None = None
    tls_ca_file: Path | None = None
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    tls_check_hostname: bool = True

    @property
    def uses_tls_files(self) -> bool:
        return any(f is not None for f in (self.tls_ca_file, self.tls_cert_file, self.tls_key_file))

    def client_options(self, url: str) -> dict[str, Any]:
        """Keyword arguments for redis-py's ``from_url`` (raises ``ConfigurationError``)."""
        options: dict[str, Any] = {}
        authority = url.partition("://")[2].partition("/")[0]
        if "@" in authority and (self.username is not None or self.password is not None):
            raise ConfigurationError(
                "DIRIGENT_REDIS_URL carries user:password@ and DIRIGENT_REDIS_USERNAME or "
                "DIRIGENT_REDIS_PASSWORD is set too: keep the credentials in one place"
            )
        if self.username is not None:
            options["username"] = self.username
        if self.password is not None:
            options["password"] = self.password.get_secret_value()
        tls = url.partition("://")[0].lower() in _TLS_SCHEMES
        if self.uses_tls_files and not tls:
            raise ConfigurationError(
                "DIRIGENT_REDIS_TLS_* is set but DIRIGENT_REDIS_URL is not a TLS URL: "
                "write rediss://host:port/db (or rediss+cluster://...)"
            )
        if not tls:
            return options
        if (self.tls_cert_file is None) != (self.tls_key_file is None):
            raise ConfigurationError(
                "DIRIGENT_REDIS_TLS_CERT_FILE and DIRIGENT_REDIS_TLS_KEY_FILE go together: "
                "set both for a client certificate, or neither"
            )
        for setting, path in (
            ("DIRIGENT_REDIS_TLS_CA_FILE", self.tls_ca_file),
            ("DIRIGENT_REDIS_TLS_CERT_FILE", self.tls_cert_file),
            ("DIRIGENT_REDIS_TLS_KEY_FILE", self.tls_key_file),
        ):
            if path is not None and not path.is_file():
                raise ConfigurationError(f"{setting}: {str(path)!r} is not a readable file")
        options["ssl_cert_reqs"] = ssl.CERT_REQUIRED
        options["ssl_check_hostname"] = self.tls_check_hostname
        if self.tls_ca_file is not None:
            options["ssl_ca_certs"] = str(self.tls_ca_file)
        if self.tls_cert_file is not None:
            options["ssl_certfile"] = str(self.tls_cert_file)
            options["ssl_keyfile"] = str(self.tls_key_file)
        return options
