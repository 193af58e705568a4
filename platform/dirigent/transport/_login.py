"""Why a Kafka client could not connect, when the answer is a setting to fix.

aiokafka's bootstrap logs the cause of each failed connection and raises a bare,
retriable ``KafkaConnectionError("Unable to bootstrap ...")``: a wrong password would
be retried for ever like a broker restart. ``start_client`` starts a client and, only
when that bootstrap error comes, opens one probe connection per bootstrap server with
the same options (bounded by ``PROBE_S``) to find the cause:

- a SASL login refused: ``DIRIGENT_KAFKA_SASL_USERNAME`` / ``..._PASSWORD`` (or the
  token provider), a mechanism the listener does not enable: ``..._SASL_MECHANISM``;
- a certificate not trusted: ``DIRIGENT_KAFKA_TLS_CA_FILE`` (a name mismatch:
  ``..._TLS_CHECK_HOSTNAME``), a client certificate asked for: ``..._TLS_CERT_FILE``;
- a plaintext client at a TLS port (the port completes a TLS handshake), a TLS client at
  a plaintext port (it answers a plaintext request), a SASL client at a listener without
  SASL or a client without SASL at a listener that asks for it (it answers a SASL
  handshake): ``DIRIGENT_KAFKA_SECURITY_PROTOCOL``.

Each is a ``ConfigurationError`` (not retryable) that names the setting, never a
secret. Anything else (a broker down or restarting) keeps the original retryable error.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from typing import Any

from aiokafka import errors as kerr
from aiokafka.conn import collect_hosts, create_conn
from aiokafka.protocol.admin import SaslHandShakeRequest

from dirigent.errors import ConfigurationError, TransportError
from dirigent.transport import security as sec
from dirigent.transport._errors import map_kafka_errors

__all__ = ["PROBE_S", "diagnose", "start_client"]

PROBE_S = 5.0  # one probe connection: TCP, TLS and a SASL exchange on a healthy broker


async def start_client(client: Any, bootstrap: sec.Bootstrap, what: str, *,
                       publish: bool = False) -> None:  # fmt: skip
    """``await client.start()``, translated; a refused login is a ``ConfigurationError``."""
    try:
        with map_kafka_errors(what, publish=publish):
            await client.start()
    except TransportError as exc:
        if isinstance(exc.__cause__, kerr.KafkaConnectionError):
            refusal = await diagnose(sec.as_endpoint(bootstrap))
            if refusal is not None:
                raise refusal from exc
        raise


async def diagnose(endpoint: sec.KafkaEndpoint) -> ConfigurationError | None:
    """The setting that stops a connection to ``endpoint``, if the brokers say so."""
    options = endpoint.security.options()
    options.pop("bootstrap_servers", None)
    for host, port, _ in collect_hosts(endpoint.bootstrap, randomize=False):
        refusal = await _probe(endpoint, host, port, options)
        if refusal is not None:
            return refusal
    return None


async def _probe(
    endpoint: sec.KafkaEndpoint, host: str, port: int, options: dict[str, Any]
) -> ConfigurationError | None:
    where = f"the Kafka broker at {host}:{port}"
    s = endpoint.security
    try:
        conn = await _connect(host, port, options)
    except TimeoutError:
        return None  # a hung broker is a fault to wait out, not a setting
    except ssl.SSLCertVerificationError as exc:
        return _untrusted(where, s, exc)
    except (kerr.SaslAuthenticationFailed, kerr.AuthenticationFailedError) as exc:
        return ConfigurationError(f"{where} refused the login: {_credentials(s)} ({exc})")
    except kerr.UnsupportedSaslMechanismError as exc:
        return ConfigurationError(f"{where}: {exc}; check {sec.MECHANISM}")
    except kerr.IllegalSaslStateError:
        return ConfigurationError(
            f"{where} does not take a SASL login on this listener: check {sec.PROTOCOL} "
            f"(now {s.protocol})"
        )
    except ssl.SSLError as exc:
        if "CERTIFICATE_REQUIRED" in str(exc) or "HANDSHAKE_FAILURE" in str(exc):
            return ConfigurationError(
                f"{where} refused the TLS handshake ({exc.reason}): it may want a client "
                f"certificate: set {sec.CERT_FILE} and {sec.KEY_FILE}"
            )
        return await _wrong_protocol(where, s, host, port)
    except (kerr.KafkaError, OSError):
        return await _wrong_protocol(where, s, host, port)
    try:
        return None if s.sasl else await _wants_sasl(where, s, conn)
    finally:
        conn.close()


async def _connect(host: str, port: int, options: dict[str, Any]) -> Any:
    """One aiokafka connection: TCP, TLS, ApiVersions and the SASL login if any."""
    async with asyncio.timeout(PROBE_S):
        return await create_conn(host, port, client_id="dirigent-probe",
                                 request_timeout_ms=int(PROBE_S * 1000), **options)  # fmt: skip


async def _wrong_protocol(
    where: str, s: sec.KafkaSecurity, host: str, port: int
) -> ConfigurationError | None:
    """A plaintext client at a TLS port, or a TLS client at a plaintext one."""
    if not s.tls and await _speaks_tls(host, port):
        return ConfigurationError(
            f"{where} speaks TLS but {sec.PROTOCOL} is {s.protocol}: set it to SSL or "
            f"SASL_SSL (and {sec.CA_FILE})"
        )
    if s.tls and await _speaks_plaintext(host, port):
        return ConfigurationError(
            f"{where} does not speak TLS but {sec.PROTOCOL} is {s.protocol}: use the port "
            "of the brokers' TLS listener, or PLAINTEXT / SASL_PLAINTEXT"
        )
    return None


async def _wants_sasl(where: str, s: sec.KafkaSecurity, conn: Any) -> ConfigurationError | None:
    """Whether a listener we reached without SASL asks for a SASL login."""
    try:
        async with asyncio.timeout(PROBE_S):
            answer = await conn.send(SaslHandShakeRequest("PLAIN"))
    except (kerr.KafkaError, OSError, TimeoutError):
        return None
    if answer.error_code not in (0, kerr.UnsupportedSaslMechanismError.errno):
        return None
    return ConfigurationError(
        f"{where} wants a SASL login ({', '.join(answer.enabled_mechanisms)}) but "
        f"{sec.PROTOCOL} is {s.protocol}: set it to SASL_SSL (or SASL_PLAINTEXT) with "
        f"{sec.MECHANISM}, {sec.USERNAME} and {sec.PASSWORD}"
    )


async def _speaks_plaintext(host: str, port: int) -> bool:
    """Whether ``host:port`` answers a plaintext Kafka request (ApiVersions)."""
    try:
        conn = await _connect(host, port, {})
    except (kerr.KafkaError, OSError, TimeoutError):
        return False
    conn.close()
    return True


def _untrusted(
    where: str, s: sec.KafkaSecurity, exc: ssl.SSLCertVerificationError
) -> ConfigurationError:
    if exc.verify_code == 62:  # X509_V_ERR_HOSTNAME_MISMATCH
        return ConfigurationError(
            f"{where} presented a certificate for another name ({exc.verify_message}): "
            f"connect by a name the certificate holds, or set {sec.CHECK_HOSTNAME}=false"
        )
    ca = (
        f"{sec.CA_FILE} ({s.tls_ca_file})"
        if s.tls_ca_file
        else f"{sec.CA_FILE} (unset: the system's CAs)"
    )
    return ConfigurationError(
        f"{where} presented a certificate we do not trust (CERTIFICATE_VERIFY_FAILED: "
        f"{exc.verify_message}): set {ca} to the CA that signed the brokers' certificates"
    )


def _credentials(s: sec.KafkaSecurity) -> str:
    if s.sasl_mechanism == "OAUTHBEARER":
        return f"check the token of {sec.TOKEN_PROVIDER}"
    return f"check {sec.USERNAME} (now {s.sasl_username!r}) and {sec.PASSWORD} ({s.sasl_mechanism})"


async def _speaks_tls(host: str, port: int) -> bool:
    """Whether ``host:port`` completes (or answers) a TLS handshake; nothing is sent."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # only asks "is this TLS?", never trusts it
    try:
        async with asyncio.timeout(PROBE_S):
            _, writer = await asyncio.open_connection(host, port, ssl=context)
    except ssl.SSLError as exc:
        return "ALERT" in str(exc).upper()  # the peer answered in TLS, with a refusal
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError, ssl.SSLError):
        await writer.wait_closed()
    return True
