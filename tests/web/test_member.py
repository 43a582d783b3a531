"""A member's own page, reached through a one-time link."""

from __future__ import annotations

import re

from markupsafe import escape

from bot.core.models import SubscriptionStatus, WebRole
from tests.web.conftest import MEMBER, Form, sign_in, sign_in_link


async def test_the_page_shows_the_track_what_was_handed_in_and_the_streak(client, runtime):
    facade = runtime.facade
    await facade.handle(MEMBER, "subscribe mon 09:00 Europe/Lisbon")
    await facade.handle(MEMBER, "done https://example.com/my-teardown")
    await facade.handle(MEMBER, "skip")
    await facade.handle(MEMBER, "done wrote up the ops-to-PM story as three bullets")
    await sign_in(client, await sign_in_link(runtime, MEMBER, WebRole.MEMBER))
    page = await (await client.get("/me")).text()

    first, second, third = runtime.knowledge.exercises[:3]
    assert page.count("done 02 Mar 2026") == 2
    assert page.count("skipped 02 Mar 2026") == 1
    assert 'href="https://example.com/my-teardown" rel="nofollow noopener"' in page
    assert "wrote up the ops-to-PM story as three bullets" in page
    assert "<dd>2 of" in page
    assert "<dd>1 week</dd>" in page
    assert "Mondays at 09:00 (Europe/Lisbon)" in page
    for exercise in (first, second, third):
        assert escape(exercise.title) in page


async def test_changing_the_nudge_settings_from_the_page(member, runtime):
    token = Form.of(await (await member.get("/me")).text(), "/me/subscription").fields["csrf"]

    saved = await member.post(
        "/me/subscription",
        data={"csrf": token, "weekday": "3", "time": "18:15", "timezone": "america/new_york"},
    )

    assert saved.status == 200
    subscription = await runtime.repositories.subscriptions.get(MEMBER.user)
    assert subscription is not None
    assert (subscription.weekday, f"{subscription.local_time:%H:%M}") == (3, "18:15")
    assert subscription.timezone == "America/New_York"
    paused = await member.post("/me/pause", data={"csrf": token, "weeks": "2"})
    assert "Paused" in await paused.text()
    subscription = await runtime.repositories.subscriptions.get(MEMBER.user)
    assert subscription.status == SubscriptionStatus.PAUSED


async def test_a_bad_time_zone_is_explained_and_nothing_changes(member, runtime):
    token = Form.of(await (await member.get("/me")).text(), "/me/subscription").fields["csrf"]

    response = await member.post(
        "/me/subscription",
        data={"csrf": token, "weekday": "1", "time": "09:00", "timezone": "Mars/Olympus"},
    )

    assert response.status == 422
    assert "Europe/London" in await response.text()
    assert await runtime.repositories.subscriptions.get(MEMBER.user) is None


async def test_a_settings_change_without_the_csrf_token_is_refused(member, runtime):
    response = await member.post(
        "/me/subscription", data={"weekday": "1", "time": "09:00", "timezone": "UTC"}
    )

    assert response.status == 403
    assert await runtime.repositories.subscriptions.get(MEMBER.user) is None


async def test_me_without_a_session_asks_to_sign_in(client):
    response = await client.get("/me")

    assert response.status == 401
    assert "progress" in await response.text()


async def _hand_in_two(runtime):
    await runtime.facade.handle(MEMBER, "done https://example.com/my-teardown")
    await runtime.facade.handle(MEMBER, "done a private note about my manager")


async def test_portfolios_are_off_by_default(member, runtime):
    await _hand_in_two(runtime)
    page = await (await member.get("/me")).text()
    token = Form.of(page, "/me/subscription").fields["csrf"]

    assert "public portfolio" not in page
    response = await member.post("/me/portfolio", data={"csrf": token, "show": "1:x"})
    assert response.status == 404


async def test_a_member_publishes_only_the_work_they_tick(member, runtime):
    runtime.facade.portfolios.enabled = True
    await _hand_in_two(runtime)
    page = await (await member.get("/me")).text()
    token = Form.of(page, "/me/portfolio").fields["csrf"]
    first = runtime.knowledge.exercises[0].id

    published = await member.post(
        "/me/portfolio", data={"csrf": token, "show": [f"1:{first}", "1:not-mine"]}
    )

    text = await published.text()
    address = re.search(r"/portfolio/[A-Za-z0-9_-]+", text)
    assert address is not None
    public = await member.get(address.group(0))
    shown = await public.text()
    assert public.status == 200
    assert "https://example.com/my-teardown" in shown
    assert "private note" not in shown
    assert MEMBER.user.user_id not in shown
    off = await member.post("/me/portfolio", data={"csrf": token})
    assert "Portfolio page off" in await off.text()
    assert (await member.get(address.group(0))).status == 404
