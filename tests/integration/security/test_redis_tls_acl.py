"""The coordinator against a Redis that speaks only TLS and knows only ACL users.

The server asks for a client certificate, ``default`` is off, and the coordinator's user
has exactly the rule shipped in ``deploy/redis/users.acl``. Bad logins fail at once with
a ``StoreError`` that is not retryable and names the setting to fix; no secret appears
in any error or log line.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from dirigent.config import Settings
from dirigent.coordinator import Coordinator
from dirigent.errors import StoreError
from dirigent.store import IdempotencyStore, RedisSecurity, SagaStore, redis_client
from dirigent.transport import OutgoingRecord
from tests.integration.coordinator.test_coordinator_e2e import (
    DECLINED_AMOUNT,
    Shop,
    config,
    order,
    place,
    reply_to,
    wait_terminal,
)
from tests.support.responder import Responder
from tests.support.tls_redis import Certificates, TlsRedis, make_certificates

pytest_plugins = ["tests.integration.coordinator.test_coordinator_e2e"]

ACL_TEMPLATE = Path(__file__).parents[3] / "deploy" / "redis" / "users.acl"
PASSWORD = "coordinator-pw-7f3a9c"  # a throwaway server's passwords
ADMIN = "admin-pw-31b2"


@pytest.fixture
async def tls(tmp_path: Path, uid: str) -> AsyncIterator[TlsRedis]:
    async with _server(tmp_path, uid) as server:
        yield server


@pytest.fixture
async def tls12(tmp_path: Path, uid: str) -> AsyncIterator[TlsRedis]:
    # TLS 1.2 checks the client's certificate inside the handshake; 1.3 does it after,
    # so a client without one may see its first read reset instead of the alert.
    async with _server(tmp_path, uid, protocols="TLSv1.2") as server:
        yield server


@contextlib.asynccontextmanager
async def _server(tmp_path: Path, uid: str, **kw: str) -> AsyncIterator[TlsRedis]:
    certs = make_certificates(tmp_path / "certs")
    rules = ACL_TEMPLATE.read_text().replace("<GROUP>", f"coord-{uid}")
    rules = rules.replace("<PASSWORD>", PASSWORD).replace("<SERVICE_PASSWORD>", PASSWORD)
    rules = rules.replace("<SERVICE_GROUP>", f"inventory-{uid}")
    rules += f"user admin on >{ADMIN} ~* &* +@all\n"
    server = TlsRedis(tmp_path, certs, rules, **kw)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


def security(certs: Certificates, *, user: str = "dirigent-coordinator",
             password: str = PASSWORD, ca: Path | None = None,
             client_cert: bool = True) -> RedisSecurity:  # fmt: skip
    return RedisSecurity(
        username=user, password=SecretStr(password), tls_ca_file=ca or certs.ca,
        tls_cert_file=certs.client_cert if client_cert else None,
        tls_key_file=certs.client_key if client_cert else None,
    )  # fmt: skip


async def test_the_coordinator_runs_sagas_with_the_shipped_least_privilege_acl(
    tls: TlsRedis, shop: Shop, uid: str
) -> None:
    c = tls.certs
    settings = Settings(
        kafka_bootstrap=shop.settings.kafka_bootstrap, redis_url=tls.url(),
        redis_username="dirigent-coordinator", redis_password=SecretStr(PASSWORD),
        redis_tls_ca_file=c.ca, redis_tls_cert_file=c.client_cert,
        redis_tls_key_file=c.client_key,
    )  # fmt: skip
    orders = [order(i, DECLINED_AMOUNT if i % 4 == 0 else 100) for i in range(12)]
    # gauges sampled on every turn, so their reads run under the ACL too
    busy = config(shop, uid).model_copy(update={"gauge_interval_s": 0.05})
    coordinator = Coordinator([shop.saga], settings=settings, config=busy)
    topics = sorted(shop.saga.command_topics)
    async with Responder(shop.settings.kafka_bootstrap, topics, shop.codec, reply_to,
                         group=f"resp-{uid}"):  # fmt: skip
        task = asyncio.create_task(coordinator.run())
        await place(shop, orders)
        counts = await wait_terminal(coordinator, len(orders))
        coordinator.stop()
        await task
    assert (counts["COMPLETED"], counts["COMPENSATED"]) == (9, 3)

    admin = redis_client(tls.url(), security(c, user="admin", password=ADMIN))
    try:
        denied = await admin.execute_command("ACL", "LOG")
        keys = [k.decode() for k in await admin.keys("*")]
    finally:
        await admin.aclose()
    assert denied == [], f"the shipped ACL refused the coordinator: {denied}"
    assert keys
    assert all(k.startswith(f"{{dg:coord-{uid}:") for k in keys)


async def _refusal(url: str, sec: RedisSecurity) -> tuple[StoreError, float]:
    redis = redis_client(url, sec)
    began = time.monotonic()
    try:
        with pytest.raises(StoreError) as caught:
            await SagaStore(redis, namespace="x").count_status(0, "RUNNING")
    finally:
        await redis.aclose()
    return caught.value, time.monotonic() - began


async def test_a_wrong_password_fails_at_once_and_names_the_setting(tls: TlsRedis) -> None:
    err, took = await _refusal(tls.url(), security(tls.certs, password="not-the-password"))
    assert not err.retryable
    assert took < 5
    assert "DIRIGENT_REDIS_PASSWORD" in str(err)
    assert "not-the-password" not in str(err)


async def test_a_server_certificate_from_an_untrusted_ca_fails_at_once(tls: TlsRedis) -> None:
    err, took = await _refusal(tls.url(), security(tls.certs, ca=tls.certs.other_ca))
    assert not err.retryable
    assert took < 5
    assert "DIRIGENT_REDIS_TLS_CA_FILE" in str(err)
    assert "CERTIFICATE_VERIFY_FAILED" in str(err)


async def test_a_client_without_its_certificate_is_told_which_settings_give_one(
    tls12: TlsRedis,
) -> None:
    err, _ = await _refusal(tls12.url(), security(tls12.certs, client_cert=False))
    assert not err.retryable
    assert "DIRIGENT_REDIS_TLS_CERT_FILE" in str(err)


async def test_the_least_privilege_user_cannot_touch_other_keys(tls: TlsRedis) -> None:
    redis = redis_client(tls.url(), security(tls.certs))
    try:
        with pytest.raises(StoreError) as caught:
            await SagaStore(redis, namespace="someone-else").count_status(0, "RUNNING")
    finally:
        await redis.aclose()
    assert not caught.value.retryable
    assert "ACL" in str(caught.value)
    assert PASSWORD not in str(caught.value)


async def test_a_service_keeps_its_replies_with_the_shipped_service_acl(
    tls: TlsRedis, uid: str
) -> None:
    redis = redis_client(tls.url(), security(tls.certs, user="dirigent-service"))
    reply = OutgoingRecord("inventory.events", b"v", key=b"k", headers=(("h", b"1"),))
    try:
        store = IdempotencyStore(redis, namespace=f"inventory-{uid}")
        assert await store.get("m-1") is None
        assert await store.put("m-1", [reply]) == [reply]
        assert await store.get("m-1") == [reply]
        with pytest.raises(StoreError, match="ACL"):
            await IdempotencyStore(redis, namespace="payments").get("m-1")
    finally:
        await redis.aclose()


async def test_a_coordinator_with_a_wrong_password_stops_with_the_reason(
    tls: TlsRedis, shop: Shop, uid: str
) -> None:
    c = tls.certs
    settings = Settings(
        kafka_bootstrap=shop.settings.kafka_bootstrap, redis_url=tls.url(),
        redis_username="dirigent-coordinator", redis_password=SecretStr("wrong-pw-9d1e"),
        redis_tls_ca_file=c.ca, redis_tls_cert_file=c.client_cert,
        redis_tls_key_file=c.client_key,
    )  # fmt: skip
    coordinator = Coordinator([shop.saga], settings=settings, config=config(shop, uid))
    with pytest.raises(StoreError) as caught:
        async with asyncio.timeout(30):
            await coordinator.run()
    assert not caught.value.retryable
    assert "DIRIGENT_REDIS_PASSWORD" in str(caught.value)
    assert "wrong-pw-9d1e" not in str(caught.value)
