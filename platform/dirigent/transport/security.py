"""Kafka TLS and SASL, one settings model for every Kafka client.

Every client takes a ``Bootstrap``: a plain ``"host:port[,host:port]"`` string
(PLAINTEXT, as before) or a ``KafkaEndpoint`` that adds a ``KafkaSecurity``.
``Settings.kafka()`` builds the endpoint from the environment:

=======================================  ==============================================
``DIRIGENT_KAFKA_SECURITY_PROTOCOL``     PLAINTEXT (default), SSL, SASL_PLAINTEXT, SASL_SSL
``DIRIGENT_KAFKA_SASL_MECHANISM``        PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, OAUTHBEARER
``DIRIGENT_KAFKA_SASL_USERNAME``         SCRAM/PLAIN user (a Confluent Cloud API key)
``DIRIGENT_KAFKA_SASL_PASSWORD``         its password (a secret: never logged)
``DIRIGENT_KAFKA_SASL_OAUTH_TOKEN_PROVIDER``  ``module:attr`` giving tokens (MSK IAM)
``DIRIGENT_KAFKA_TLS_CA_FILE``           CA bundle that signed the brokers' certificates
``DIRIGENT_KAFKA_TLS_CERT_FILE``         client certificate (mutual TLS)
``DIRIGENT_KAFKA_TLS_KEY_FILE``          its private key
``DIRIGENT_KAFKA_TLS_KEY_PASSWORD``      the key's passphrase, if it has one (a secret)
``DIRIGENT_KAFKA_TLS_CHECK_HOSTNAME``    verify the broker's name (default true)
=======================================  ==============================================

A mistake is a ``ConfigurationError`` naming the setting, raised when the endpoint is
made, before any connection.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeAlias, get_args

from aiokafka import errors as kerr
from aiokafka.abc import AbstractTokenProvider
from aiokafka.helpers import create_ssl_context
from pydantic import SecretStr

from dirigent.errors import ConfigurationError

__all__ = [
    "Bootstrap",
    "KafkaEndpoint",
    "KafkaSecurity",
    "SaslMechanism",
    "SecurityProtocol",
    "as_endpoint",
    "kafka_options",
    "load_token_provider",
]

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"]
TokenSource: TypeAlias = "str | AbstractTokenProvider | Callable[[], str | Awaitable[str]]"

PROTOCOL = "DIRIGENT_KAFKA_SECURITY_PROTOCOL"
MECHANISM = "DIRIGENT_KAFKA_SASL_MECHANISM"
USERNAME = "DIRIGENT_KAFKA_SASL_USERNAME"
PASSWORD = "DIRIGENT_KAFKA_SASL_PASSWORD"
TOKEN_PROVIDER = "DIRIGENT_KAFKA_SASL_OAUTH_TOKEN_PROVIDER"
CA_FILE = "DIRIGENT_KAFKA_TLS_CA_FILE"
CERT_FILE = "DIRIGENT_KAFKA_TLS_CERT_FILE"
KEY_FILE = "DIRIGENT_KAFKA_TLS_KEY_FILE"
KEY_PASSWORD = "DIRIGENT_KAFKA_TLS_KEY_PASSWORD"
CHECK_HOSTNAME = "DIRIGENT_KAFKA_TLS_CHECK_HOSTNAME"


@dataclass(frozen=True, slots=True)
class KafkaSecurity:
    """How to reach the brokers: TLS files and a SASL login; PLAINTEXT by default.

    Example::

        KafkaSecurity(protocol="SASL_SSL", sasl_mechanism="SCRAM-SHA-512",
                      sasl_username="svc", sasl_password=SecretStr("..."),
                      tls_ca_file=Path("/etc/kafka/ca.pem"))
    """

    protocol: SecurityProtocol = "PLAINTEXT"
    sasl_mechanism: SaslMechanism | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    sasl_oauth_token_provider: TokenSource | None = None
    tls_ca_file: Path | None = None
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    tls_key_password: SecretStr | None = None
    tls_check_hostname: bool = True

    def __post_init__(self) -> None:
        _check(self)

    @property
    def tls(self) -> bool:
        return self.protocol in ("SSL", "SASL_SSL")

    @property
    def sasl(self) -> bool:
        return self.protocol in ("SASL_PLAINTEXT", "SASL_SSL")

    def options(self) -> dict[str, Any]:
        """aiokafka's security keyword arguments (empty for PLAINTEXT)."""
        if self.protocol == "PLAINTEXT":
            return {}
        out: dict[str, Any] = {"security_protocol": self.protocol}
        if self.tls:
            out["ssl_context"] = _ssl_context(
                self.tls_ca_file, self.tls_cert_file, self.tls_key_file,
                self.tls_key_password, self.tls_check_hostname,
            )  # fmt: skip
        if self.sasl:
            out["sasl_mechanism"] = self.sasl_mechanism
            if self.sasl_mechanism == "OAUTHBEARER":
                assert self.sasl_oauth_token_provider is not None  # _check
                out["sasl_oauth_token_provider"] = load_token_provider(
                    self.sasl_oauth_token_provider
                )
            else:
                assert self.sasl_password is not None  # _check
                out["sasl_plain_username"] = self.sasl_username
                out["sasl_plain_password"] = self.sasl_password.get_secret_value()
        return out


@dataclass(frozen=True, slots=True)
class KafkaEndpoint:
    """Bootstrap servers and how to log in to them; ``str()`` is the servers alone."""

    bootstrap: str
    security: KafkaSecurity = field(default_factory=KafkaSecurity)

    def __str__(self) -> str:
        return self.bootstrap


Bootstrap = str | KafkaEndpoint


def as_endpoint(bootstrap: Bootstrap) -> KafkaEndpoint:
    """``bootstrap`` as an endpoint (a plain string is PLAINTEXT)."""
    return bootstrap if isinstance(bootstrap, KafkaEndpoint) else KafkaEndpoint(bootstrap)


def kafka_options(bootstrap: Bootstrap) -> dict[str, Any]:
    """Keyword arguments for any aiokafka client: ``bootstrap_servers`` and security.

    Example::

        AIOKafkaAdminClient(**kafka_options(settings.kafka()), client_id="ops")
    """
    endpoint = as_endpoint(bootstrap)
    return {"bootstrap_servers": endpoint.bootstrap, **endpoint.security.options()}


def _check(s: KafkaSecurity) -> None:
    if s.protocol not in get_args(SecurityProtocol):
        raise ConfigurationError(
            f"{PROTOCOL} must be one of {', '.join(get_args(SecurityProtocol))}"
        )
    tls_files = (s.tls_ca_file, s.tls_cert_file, s.tls_key_file, s.tls_key_password)
    if not s.tls and any(f is not None for f in tls_files):
        raise ConfigurationError(
            f"DIRIGENT_KAFKA_TLS_* is set but {PROTOCOL} is {s.protocol}: use SSL or SASL_SSL"
        )
    if s.tls:
        _check_files(s)
    login = (s.sasl_mechanism, s.sasl_username, s.sasl_password, s.sasl_oauth_token_provider)
    if not s.sasl:
        if any(v is not None for v in login):
            raise ConfigurationError(
                f"DIRIGENT_KAFKA_SASL_* is set but {PROTOCOL} is {s.protocol}: "
                "use SASL_SSL (or SASL_PLAINTEXT) for a SASL login"
            )
        return
    _check_sasl(s)


def _check_files(s: KafkaSecurity) -> None:
    if (s.tls_cert_file is None) != (s.tls_key_file is None):
        raise ConfigurationError(
            f"{CERT_FILE} and {KEY_FILE} go together: set both for a client certificate, or neither"
        )
    for setting, path in ((CA_FILE, s.tls_ca_file), (CERT_FILE, s.tls_cert_file),
                          (KEY_FILE, s.tls_key_file)):  # fmt: skip
        if path is not None and not Path(path).is_file():
            raise ConfigurationError(f"{setting}: {str(path)!r} is not a readable file")


def _check_sasl(s: KafkaSecurity) -> None:
    mechanism = s.sasl_mechanism
    if mechanism not in get_args(SaslMechanism):
        raise ConfigurationError(
            f"{PROTOCOL}={s.protocol} needs {MECHANISM}: one of "
            f"{', '.join(get_args(SaslMechanism))}"
        )
    if mechanism == "OAUTHBEARER":
        if s.sasl_oauth_token_provider is None:
            raise ConfigurationError(f"{MECHANISM}=OAUTHBEARER needs {TOKEN_PROVIDER}")
        if s.sasl_username is not None or s.sasl_password is not None:
            raise ConfigurationError(
                f"{MECHANISM}=OAUTHBEARER logs in with a token: unset {USERNAME} and {PASSWORD}"
            )
        return
    if s.sasl_oauth_token_provider is not None:
        raise ConfigurationError(f"{TOKEN_PROVIDER} is only used with {MECHANISM}=OAUTHBEARER")
    if not s.sasl_username or s.sasl_password is None:
        raise ConfigurationError(f"{MECHANISM}={mechanism} needs {USERNAME} and {PASSWORD}")
    if mechanism == "PLAIN" and not s.tls:
        raise ConfigurationError(
            f"{MECHANISM}=PLAIN sends the password as it is: set {PROTOCOL}=SASL_SSL"
        )


@functools.lru_cache(maxsize=32)
def _ssl_context(
    ca: Path | None, cert: Path | None, key: Path | None,
    key_password: SecretStr | None, check_hostname: bool,
) -> ssl.SSLContext:  # fmt: skip
    """One context per set of files (contexts are shared by connections, read-only)."""
    try:
        context: ssl.SSLContext = create_ssl_context(cafile=ca)
    except (ssl.SSLError, OSError) as exc:
        raise ConfigurationError(f"{CA_FILE}: cannot load {str(ca)!r} ({exc})") from exc
    if cert is not None:
        password = None if key_password is None else key_password.get_secret_value()
        try:
            context.load_cert_chain(cert, key, password)
        except (ssl.SSLError, OSError) as exc:
            raise ConfigurationError(
                f"{CERT_FILE}/{KEY_FILE}: cannot load the client certificate and key "
                f"({type(exc).__name__}; check {KEY_PASSWORD} if the key is encrypted)"
            ) from None  # the cause may quote the key file's passphrase prompt
    context.check_hostname = check_hostname
    return context


class _GuardedTokens(AbstractTokenProvider):  # type: ignore[misc]
    """A provider, or a plain function (sync or async) returning a token string, whose
    failures reach aiokafka as a connection error (retried, logged without the token)."""

    def __init__(self, source: object) -> None:
        self._source = source

    async def token(self) -> str:
        try:
            if isinstance(self._source, AbstractTokenProvider):
                return str(await self._source.token())
            out = self._source()  # type: ignore[operator]
            return str(await out if inspect.isawaitable(out) else out)
        except Exception as exc:  # the user's code: anything may come
            raise kerr.KafkaConnectionError(
                f"{TOKEN_PROVIDER} failed to give a token: {type(exc).__name__}"
            ) from exc

    def extensions(self) -> dict[str, str]:
        if isinstance(self._source, AbstractTokenProvider):
            return dict(self._source.extensions())
        return {}


def load_token_provider(source: TokenSource) -> AbstractTokenProvider:
    """An aiokafka token provider from an object, a function, or ``"module:attr"``.

    ``attr`` may be an ``AbstractTokenProvider`` instance, a class of one (made with no
    arguments), or a function returning a token string (sync or async).
    """
    target: object = _import(source) if isinstance(source, str) else source
    if isinstance(target, type) and issubclass(target, AbstractTokenProvider):
        target = target()
    if isinstance(target, AbstractTokenProvider) or callable(target):
        return _GuardedTokens(target)
    raise ConfigurationError(
        f"{TOKEN_PROVIDER}: {source!r} is neither a token provider nor a function returning a token"
    )


def _import(path: str) -> object:
    module, _, attr = path.partition(":")
    if not module or not attr:
        raise ConfigurationError(f"{TOKEN_PROVIDER} must be module:attr, not {path!r}")
    try:
        found: object = importlib.import_module(module)
        for part in attr.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError) as exc:
        raise ConfigurationError(f"{TOKEN_PROVIDER}: cannot import {path!r} ({exc})") from exc
    return found
