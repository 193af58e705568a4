"""Redis credentials and TLS settings: options for redis-py, and mistakes named."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest
from pydantic import SecretStr

from dirigent.config import Settings
from dirigent.errors import ConfigurationError
from dirigent.store import RedisSecurity, redis_client


def _files(tmp_path: Path) -> tuple[Path, Path, Path]:
    paths = tuple(tmp_path / n for n in ("ca.crt", "client.crt", "client.key"))
    for p in paths:
        p.write_text("pem")
    return paths  # type: ignore[return-value]


def test_tls_files_and_credentials_become_redis_py_options(tmp_path: Path) -> None:
    ca, cert, key = _files(tmp_path)
    sec = RedisSecurity("svc", SecretStr("pw"), ca, cert, key, tls_check_hostname=False)
    assert sec.client_options("rediss://h:6380/0") == {
        "username": "svc", "password": "pw", "ssl_cert_reqs": ssl.CERT_REQUIRED,
        "ssl_check_hostname": False, "ssl_ca_certs": str(ca), "ssl_certfile": str(cert),
        "ssl_keyfile": str(key),
    }  # fmt: skip


def test_a_plain_url_gets_credentials_only() -> None:
    sec = RedisSecurity(password=SecretStr("pw"))
    assert sec.client_options("redis://h:6379/0") == {"password": "pw"}


@pytest.mark.parametrize(
    ("url", "kw", "names"),
    [
        ("redis://h:6379/0", {"tls_ca_file": "ca.crt"}, "DIRIGENT_REDIS_TLS_*"),
        ("rediss://h/0", {"tls_cert_file": "client.crt"}, "DIRIGENT_REDIS_TLS_KEY_FILE"),
        ("rediss://h/0", {"tls_ca_file": "missing.crt"}, "DIRIGENT_REDIS_TLS_CA_FILE"),
        ("redis://u:p@h/0", {"password": SecretStr("x")}, "DIRIGENT_REDIS_PASSWORD"),
    ],
)
def test_mistakes_are_refused_before_connecting_and_name_the_setting(
    tmp_path: Path, url: str, kw: dict[str, object], names: str
) -> None:
    _files(tmp_path)
    kw = {k: tmp_path / v if isinstance(v, str) else v for k, v in kw.items()}
    with pytest.raises(ConfigurationError, match=names.replace("*", r"\*")):
        redis_client(url, RedisSecurity(**kw))  # type: ignore[arg-type]


def test_the_environment_names_them_and_the_password_stays_secret(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    ca, _, _ = _files(tmp_path)
    monkeypatch.setenv("DIRIGENT_REDIS_USERNAME", "dirigent-coordinator")
    monkeypatch.setenv("DIRIGENT_REDIS_PASSWORD", "hunter2-long-secret")
    monkeypatch.setenv("DIRIGENT_REDIS_TLS_CA_FILE", str(ca))
    settings = Settings()
    sec = settings.redis_security()
    assert (sec.username, sec.tls_ca_file) == ("dirigent-coordinator", ca)
    assert sec.password is not None
    assert sec.password.get_secret_value() == "hunter2-long-secret"
    assert "hunter2" not in repr(settings)
    assert "hunter2" not in repr(sec)
