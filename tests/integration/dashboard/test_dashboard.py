"""The dashboard in a real headless Chromium, over sagas a real coordinator ran.

Pages load, filters narrow, a saga action is refused without the token and, with it,
confirmed, applied by the coordinator and written to the audit topic. Screenshots of
the saga list, a timeline and a dead-letter group are kept in tests/artifacts/dashboard.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Page, async_playwright

from dirigent.events import OpsAudit, SchemaCatalog, SingleObjectCodec
from dirigent.transport.reader import read_topic
from tests.integration.dashboard.conftest import ARTIFACTS, TOKEN, World

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        await b.close()


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport={"width": 1400, "height": 900})
    p = await context.new_page()
    yield p
    await context.close()


async def _shot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    path.unlink(missing_ok=True)
    await page.screenshot(path=str(path), full_page=True)
    return path


async def _ids(page: Page) -> list[str]:
    return await page.locator("#sagas tbody tr[data-saga]").evaluate_all(
        "rows => rows.map(r => r.dataset.saga)"
    )


async def _audits(w: World, target: str) -> list[OpsAudit]:
    codec = SingleObjectCodec(SchemaCatalog(), models=[OpsAudit])
    records = await read_topic(w.bootstrap, w.audit_topic, timeout_s=30)
    events = [codec.decode(r.value or b"", reader=OpsAudit) for r in records]
    return [e for e in events if isinstance(e, OpsAudit) and e.target == target]


async def test_the_saga_list_shows_every_saga_and_its_filters_narrow_it(
    world: World, page: Page
) -> None:
    response = await page.goto(f"{world.armed}/sagas")
    assert response is not None
    assert response.status == 200
    everyone = {*world.completed, world.compensated, *world.parked}
    assert set(await _ids(page)) == everyone
    assert await page.locator("#counts").inner_text() != ""
    assert "shop_order" in await page.locator("#counts").inner_text()
    path = await _shot(page, "saga-list")

    await page.check("#filters input[value=COMPLETED]")
    await page.click("#filters button")
    assert sorted(await _ids(page)) == sorted(world.completed)
    assert "status=COMPLETED" in page.url

    await page.uncheck("#filters input[value=COMPLETED]")
    await page.check("#filters input[value=PARKED]")
    await page.check("#filters input[value=COMPENSATED]")
    await page.click("#filters button")
    assert set(await _ids(page)) == {world.compensated, *world.parked}

    await page.fill("#filters input[name=type]", "no_such_type")
    await page.click("#filters button")
    assert await _ids(page) == []
    assert "no saga matches" in await page.locator("#sagas").inner_text()

    await page.goto(f"{world.armed}/sagas?type=shop_order")
    assert set(await _ids(page)) == everyone

    await page.fill("#search input[name=q]", world.compensated)
    await page.click("#search button")
    assert page.url.endswith(f"/sagas/{world.compensated}")
    assert path.stat().st_size > 10_000


async def test_a_timeline_shows_transitions_commands_attempts_and_compensation(
    world: World, page: Page
) -> None:
    response = await page.goto(f"{world.armed}/sagas/{world.compensated}")
    assert response is not None
    assert response.status == 200
    state = await page.locator("#state").inner_text()
    assert "COMPENSATED" in state
    assert "shop_order" in state
    timeline = await page.locator("#timeline").inner_text()
    for change in ("new -> RUNNING", "RUNNING -> COMPENSATING", "COMPENSATING -> COMPENSATED"):
        assert change in timeline
    assert "start" in timeline
    assert "reply:shop.payments.PaymentDeclined" in timeline
    assert "ReleaseStock" in timeline  # the compensating command sent
    steps = await page.locator("#steps").inner_text()
    assert "reserve" in steps
    assert "COMPENSATED" in steps
    path = await _shot(page, "saga-timeline")
    assert path.stat().st_size > 10_000

    missing = await page.goto(f"{world.armed}/sagas/nobody-{world.uid}")
    assert missing is not None
    assert missing.status == 404


async def test_dead_letters_are_grouped_by_cause_with_their_records(
    world: World, page: Page
) -> None:
    await page.goto(f"{world.armed}/dlt")
    await page.click(f"a[href='/dlt?topic={world.dlt}']")
    groups = page.locator("#groups tbody tr[data-fingerprint]")
    found = await groups.evaluate_all("r => r.map(x => x.dataset.fingerprint)")
    assert sorted(found) == sorted(world.fingerprints)
    declined = page.locator("#groups tr[data-fingerprint=fp-declined]")
    cells = await declined.locator("td").all_inner_texts()
    assert cells[1] == "app.errors.Declined"
    assert cells[5] == "3"  # letters 0, 2, 4 of five

    await declined.locator("a").click()
    rows = page.locator("#records tbody tr")
    assert await rows.count() == 3
    text = await page.locator("#records").inner_text()
    assert world.completed[0] in text
    assert "COMPLETED" in text  # each record joined to its saga
    assert "failure 1" not in text  # the other cause
    path = await _shot(page, "dlt-group")
    assert path.stat().st_size > 10_000


async def test_a_saga_action_is_refused_without_the_token_and_audited_with_it(
    world: World, page: Page
) -> None:
    target = world.parked[0]
    await page.goto(f"{world.armed}/sagas/{target}")
    form = page.locator("#action-abort")
    await form.locator("input[name=why]").fill("customer cancelled")
    await form.locator("input[name=who]").fill("alice")
    async with page.expect_response(lambda r: r.request.method == "POST") as refused:
        await form.locator("button").click()
    assert (await refused.value).status == 401
    assert "needs the dashboard token" in await page.locator("#refused").inner_text()
    await page.goto(f"{world.armed}/sagas/{target}")
    assert "PARKED" in await page.locator("#state").inner_text()

    form = page.locator("#action-abort")
    await form.locator("input[name=why]").fill("customer cancelled")
    await form.locator("input[name=who]").fill("alice")
    await form.locator("input[name=token]").fill(TOKEN)
    await form.locator("button").click()
    facts = await page.locator("#confirm").inner_text()
    assert "abort" in facts
    assert target in facts
    assert not [a for a in await _audits(world, target) if a.action.startswith("dashboard.")]
    await page.click("#confirm-form button")  # the token is remembered in a cookie
    outcome = await page.locator("#outcome").inner_text()
    assert outcome.startswith("applied"), outcome

    audits = await _audits(world, target)
    mine = [a for a in audits if a.action == "dashboard.saga.abort"]
    assert len(mine) == 1
    assert mine[0].who == "dashboard:alice"
    assert mine[0].details["why"] == "customer cancelled"
    assert mine[0].details["client"] == "127.0.0.1"
    applied = [a for a in audits if a.action == "saga.abort"]
    assert [a.details["outcome"] for a in applied] == ["applied"]
    assert applied[0].who == "dashboard:alice"

    await page.goto(f"{world.armed}/sagas/{target}")
    assert "FAILED" in await page.locator("#state").inner_text()
    timeline = await page.locator("#timeline").inner_text()
    assert "timer:step_timeout" in timeline  # the pivot's timeout that parked it
    assert "RUNNING -> PARKED" in timeline
    assert "dashboard.saga.abort requested" in timeline
    assert "saga.abort applied" in timeline
    assert "PARKED -> FAILED" in timeline


async def test_without_a_configured_token_actions_are_disabled(world: World, page: Page) -> None:
    target = world.parked[1]
    await page.goto(f"{world.bare}/sagas/{target}")
    assert await page.locator("#actions-disabled").count() == 1
    assert await page.locator("form[id^=action-]").count() == 0
    form = {"why": "try anyway", "who": "mallory", "token": TOKEN}
    async with httpx.AsyncClient(base_url=world.bare) as client:
        html = await client.post(f"/sagas/{target}/abort", data=form)
        api = await client.post(
            f"/api/sagas/{target}/actions/abort",
            json={"why": "x", "confirm": True},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
    assert html.status_code == 403
    assert "actions are disabled" in html.text
    assert api.status_code == 403
    assert not await _audits(world, target)
    async with httpx.AsyncClient(base_url=world.armed) as client:
        state = (await client.get(f"/api/sagas/{target}")).json()["state"]
    assert state["status"] == "PARKED"


async def test_a_dry_run_of_a_dead_letter_group_is_confirmed_and_audited(
    world: World, page: Page
) -> None:
    await page.goto(f"{world.armed}/dlt/{world.dlt}/fp-timeout")
    form = page.locator("#dry-run")
    await form.locator("input[name=why]").fill("timeouts fixed")
    await form.locator("input[name=who]").fill("bob")
    await form.locator("input[name=token]").fill(TOKEN)
    await form.locator("button").click()
    assert "nothing is produced" in await page.locator("#confirm").inner_text()
    await page.click("#confirm-form button")
    plan = await page.locator("#plan").inner_text()
    assert "nothing was produced" in plan
    selection = await page.locator("#selection").inner_text()
    assert (world.replays_dir / selection).is_file()
    [audit] = [a for a in await _audits(world, world.dlt) if a.action == "dashboard.dlt.dry-run"]
    assert (audit.who, audit.details["fingerprint"]) == ("dashboard:bob", "fp-timeout")


async def test_the_api_needs_the_bearer_token_and_a_confirmation(world: World) -> None:
    target = world.parked[1]
    url = f"/api/dlt/{world.dlt}/groups/fp-declined/dry-run"
    body = {"why": "check", "who": "carol", "confirm": True}
    async with httpx.AsyncClient(base_url=world.armed, timeout=60) as client:
        listed = await client.get("/api/sagas", params={"status": "PARKED"})
        anonymous = await client.post(url, json=body)
        wrong = await client.post(url, json=body, headers={"Authorization": "Bearer nope"})
        unconfirmed = await client.post(
            url, json={**body, "confirm": False}, headers={"Authorization": f"Bearer {TOKEN}"}
        )
        planned = await client.post(url, json=body, headers={"Authorization": f"Bearer {TOKEN}"})
    assert target in [r["saga_id"] for r in listed.json()]
    assert (anonymous.status_code, wrong.status_code) == (401, 401)
    assert unconfirmed.status_code == 400
    assert planned.status_code == 200, planned.text
    doc = planned.json()
    assert doc["dlt"] == world.dlt
    # every record's saga has settled: none of them waits for its command any more
    assert doc["replay_count"] == 0
    assert sum(doc["counts"].values()) == 3


async def test_a_canary_replay_of_a_group_is_confirmed_checked_and_audited(
    world: World, page: Page
) -> None:
    await page.goto(f"{world.armed}/dlt/{world.dlt}/fp-orphan")
    form = page.locator("#dry-run")
    await form.locator("input[name=why]").fill("orders is back")
    await form.locator("input[name=who]").fill("dave")
    await form.locator("input[name=token]").fill(TOKEN)
    await form.locator("button").click()
    await page.click("#confirm-form button")
    assert (await page.locator("#plan").inner_text()).startswith("2 record(s) would be replayed")

    canary = page.locator("#canary")
    await canary.locator("input[name=canary]").fill("1")
    await canary.locator("input[name=reply_topics]").fill(f"{world.prefix}-orders.events")
    await canary.locator("button").click()
    facts = await page.locator("#confirm").inner_text()
    assert "canary of 1 record(s), then the rest" in facts
    await page.click("#confirm-form button")
    outcome = await page.locator("#replay-outcome").inner_text()
    assert outcome.startswith("completed"), outcome
    assert "canary passed" in outcome
    assert await page.locator("ul li code").count() == 2  # both records sent

    audits = await _audits(world, world.dlt)
    [asked] = [a for a in audits if a.action == "dashboard.dlt.canary"]
    assert (asked.who, asked.details["canary"]) == ("dashboard:dave", "1")
    done = [a for a in audits if a.action == "dlt.replay.done"]
    assert [a.who for a in done] == ["dashboard:dave"]
