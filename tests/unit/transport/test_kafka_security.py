"""Kafka security settings: what reaches aiokafka, and mistakes refused before connecting."""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

import certifi
import pytest
from aiokafka import errors as kerr
from aiokafka.abc import AbstractTokenProvider
from aiokafka.admin import AIOKafkaAdminClient
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth
from pydantic import SecretStr

from dirigent.config import Settings
from dirigent.errors import ConfigurationError
from dirigent.faust import faust_broker
from dirigent.transport import KafkaEndpoint, KafkaSecurity
from dirigent.transport.security import kafka_options, load_token_provider

CA = Path(certifi.where())  # any readable PEM bundle will do
SECRET = "s3cret-pw-0a9f"


def scram(**kw: Any) -> KafkaSecurity:
    values: dict[str, Any] = {
        "protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512", "sasl_username": "svc",
        "sasl_password": SecretStr(SECRET), "tls_ca_file": CA, **kw,
    }  # fmt: skip
    return KafkaSecurity(**values)


def test_plaintext_gives_aiokafka_the_bootstrap_servers_alone() -> None:
    assert kafka_options("h1:9092,h2:9092") == {"bootstrap_servers": "h1:9092,h2:9092"}
    assert kafka_options(Settings().kafka()) == {"bootstrap_servers": "127.0.0.1:9092"}
    assert str(KafkaEndpoint("h1:9092")) == "h1:9092"


def test_the_environment_names_every_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "SECURITY_PROTOCOL": "SASL_SSL", "SASL_MECHANISM": "SCRAM-SHA-256",
        "SASL_USERNAME": "svc", "SASL_PASSWORD": SECRET, "TLS_CA_FILE": str(CA),
        "TLS_CHECK_HOSTNAME": "false", "BOOTSTRAP": "b1:9093",
    }.items():  # fmt: skip
        monkeypatch.setenv(f"DIRIGENT_KAFKA_{name}", value)
    endpoint = Settings().kafka()
    options = kafka_options(endpoint)
    assert options["bootstrap_servers"] == "b1:9093"
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-256"
    assert (options["sasl_plain_username"], options["sasl_plain_password"]) == ("svc", SECRET)
    context: ssl.SSLContext = options["ssl_context"]
    assert context.verify_mode is ssl.CERT_REQUIRED
    assert context.check_hostname is False
    assert SECRET not in repr(Settings()) + repr(endpoint) + str(endpoint)


def test_hostname_verification_is_on_by_default() -> None:
    context = kafka_options(KafkaEndpoint("b:9093", scram()))["ssl_context"]
    assert context.check_hostname is True
    assert context.verify_mode is ssl.CERT_REQUIRED


async def test_aiokafka_accepts_the_options() -> None:
    admin = AIOKafkaAdminClient(**kafka_options(KafkaEndpoint("127.0.0.1:1", scram())))
    await admin.close()  # never started: nothing was connected


@pytest.mark.parametrize(
    ("security", "setting"),
    [
        (lambda: KafkaSecurity(tls_ca_file=CA), "DIRIGENT_KAFKA_SECURITY_PROTOCOL"),
        (lambda: KafkaSecurity(sasl_username="u"), "DIRIGENT_KAFKA_SECURITY_PROTOCOL"),
        (lambda: KafkaSecurity(protocol="SASL_SSL"), "DIRIGENT_KAFKA_SASL_MECHANISM"),
        (lambda: scram(sasl_password=None), "DIRIGENT_KAFKA_SASL_PASSWORD"),
        (lambda: scram(sasl_username=None), "DIRIGENT_KAFKA_SASL_USERNAME"),
        (
            lambda: scram(protocol="SASL_PLAINTEXT", sasl_mechanism="PLAIN", tls_ca_file=None),
            "DIRIGENT_KAFKA_SECURITY_PROTOCOL=SASL_SSL",
        ),
        (lambda: scram(tls_cert_file=CA), "DIRIGENT_KAFKA_TLS_KEY_FILE"),
        (lambda: scram(tls_ca_file=Path("/nope/ca.pem")), "DIRIGENT_KAFKA_TLS_CA_FILE"),
        (
            lambda: scram(sasl_mechanism="OAUTHBEARER", sasl_oauth_token_provider="m:f"),
            "DIRIGENT_KAFKA_SASL_USERNAME",
        ),
        (
            lambda: scram(sasl_mechanism="OAUTHBEARER", sasl_username=None, sasl_password=None),
            "DIRIGENT_KAFKA_SASL_OAUTH_TOKEN_PROVIDER",
        ),
        (
            lambda: scram(sasl_oauth_token_provider="m:f"),
            "DIRIGENT_KAFKA_SASL_OAUTH_TOKEN_PROVIDER",
        ),
    ],
)
def test_a_mistake_is_refused_before_connecting_naming_the_setting(
    security: Any, setting: str
) -> None:
    with pytest.raises(ConfigurationError, match=setting) as caught:
        security()
    assert SECRET not in str(caught.value)


def test_a_ca_file_that_is_not_a_certificate_names_the_setting(tmp_path: Path) -> None:
    bogus = tmp_path / "ca.pem"
    bogus.write_text("not a certificate\n")
    with pytest.raises(ConfigurationError, match="DIRIGENT_KAFKA_TLS_CA_FILE"):
        kafka_options(KafkaEndpoint("b:9093", scram(tls_ca_file=bogus)))


def test_a_pydantic_error_on_a_protocol_typo_hides_the_password() -> None:
    with pytest.raises(ValueError, match="kafka_security_protocol") as caught:
        Settings(kafka_security_protocol="SASL-SSL", kafka_sasl_password=SecretStr(SECRET))  # type: ignore[arg-type]
    assert SECRET not in str(caught.value)


def token_function() -> str:
    return "tok-1"


async def async_token_function() -> str:
    return "tok-2"


def broken_token_function() -> str:
    raise RuntimeError(f"boom {SECRET}")


class Tokens(AbstractTokenProvider):  # type: ignore[misc]
    async def token(self) -> str:
        return "tok-3"

    def extensions(self) -> dict[str, str]:
        return {"logicalCluster": "lkc-1"}


@pytest.mark.parametrize(
    ("attr", "token"),
    [("token_function", "tok-1"), ("async_token_function", "tok-2"), ("Tokens", "tok-3")],
)
async def test_a_token_provider_comes_from_an_import_path(attr: str, token: str) -> None:
    provider = load_token_provider(f"{__name__}:{attr}")
    assert await provider.token() == token


async def test_a_failing_token_provider_is_a_connection_error_without_its_message() -> None:
    provider = load_token_provider(broken_token_function)
    with pytest.raises(
        kerr.KafkaConnectionError, match="DIRIGENT_KAFKA_SASL_OAUTH_TOKEN_PROVIDER"
    ) as caught:
        await provider.token()
    assert SECRET not in str(caught.value)


def test_oauthbearer_reaches_aiokafka_with_the_provider_and_its_extensions() -> None:
    security = scram(sasl_mechanism="OAUTHBEARER", sasl_username=None, sasl_password=None,
                     sasl_oauth_token_provider=f"{__name__}:Tokens")  # fmt: skip
    options = kafka_options(KafkaEndpoint("b:9098", security))
    assert options["sasl_mechanism"] == "OAUTHBEARER"
    assert options["sasl_oauth_token_provider"].extensions() == {"logicalCluster": "lkc-1"}
    assert "sasl_plain_password" not in options


@pytest.mark.parametrize("path", ["no_colon", "dirigent.nope:f", f"{__name__}:missing"])
def test_a_bad_token_provider_path_names_the_setting(path: str) -> None:
    with pytest.raises(ConfigurationError, match="DIRIGENT_KAFKA_SASL_OAUTH_TOKEN_PROVIDER"):
        load_token_provider(path)


def test_a_faust_app_gets_the_same_login_as_every_client() -> None:
    assert faust_broker("h1:9092,h2:9092") == {"broker": "kafka://h1:9092;kafka://h2:9092"}
    options = faust_broker(KafkaEndpoint("b:9093", scram()))
    auth = credentials_to_aiokafka_auth(options["broker_credentials"])  # what Faust hands aiokafka
    ours = kafka_options(KafkaEndpoint("b:9093", scram()))
    for key in ("security_protocol", "sasl_mechanism", "sasl_plain_username",
                "sasl_plain_password", "ssl_context"):  # fmt: skip
        assert auth[key] == ours[key], key
    assert SECRET not in repr(options)
