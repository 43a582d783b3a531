"""One-time links, sessions and CSRF, as a moderator and a member meet them."""

from __future__ import annotations

from bot.core.models import WebRole
from bot.core.reply import Visibility
from tests.web.conftest import LINK, MEMBER, MODERATOR, Form, sign_in, sign_in_link


async def test_the_dashboard_without_a_session_asks_to_sign_in_and_shows_no_data(client, runtime):
    await runtime.facade.handle(MEMBER, "what is the best pizza topping in naples")

    for path in ("/dashboard", "/dashboard/gaps", "/dashboard/review", "/dashboard/snippets"):
        response = await client.get(path, allow_redirects=False)
        page = await response.text()
        assert response.status == 401, path
        assert "Please sign in" in page
        assert "pizza" not in page
        assert "<svg" not in page


async def test_a_link_signs_in_once_and_a_second_use_is_refused(client, runtime):
    link = await sign_in_link(runtime, MODERATOR, WebRole.MODERATOR)

    landed = await sign_in(client, link)

    assert landed.endswith("/dashboard")
    dashboard = await client.get("/dashboard")
    assert dashboard.status == 200
    assert dashboard.headers["Cache-Control"] == "no-store"
    again = await client.get("/" + link.split("/", 3)[3])
    assert again.status == 403
    assert "already used" in await again.text()


async def test_replaying_the_sign_in_form_is_refused(client, runtime):
    link = await sign_in_link(runtime, MODERATOR, WebRole.MODERATOR)
    path = "/" + link.split("/", 3)[3]
    form = Form.of(await (await client.get(path)).text())

    first = await client.post("/signin", data=form.fields, allow_redirects=False)
    second = await client.post("/signin", data=form.fields, allow_redirects=False)

    assert first.status == 303
    assert second.status == 403


async def test_opening_the_link_does_not_spend_it(client, runtime):
    """Chat apps fetch links to preview them; only pressing the button signs in."""
    link = await sign_in_link(runtime, MODERATOR, WebRole.MODERATOR)
    path = "/" + link.split("/", 3)[3]

    for _ in range(3):
        assert (await client.get(path)).status == 200

    assert (await sign_in(client, link)).endswith("/dashboard")


async def test_a_link_expires_after_15_minutes(client, runtime, clock):
    link = await sign_in_link(runtime, MODERATOR, WebRole.MODERATOR)
    clock.advance(minutes=15, seconds=1)

    response = await client.get("/" + link.split("/", 3)[3])

    assert response.status == 410
    assert "expired" in await response.text()


async def test_the_session_cookie_is_http_only_and_same_site(client, runtime):
    link = await sign_in_link(runtime, MODERATOR, WebRole.MODERATOR)
    path = "/" + link.split("/", 3)[3]
    form = Form.of(await (await client.get(path)).text())

    response = await client.post("/signin", data=form.fields, allow_redirects=False)

    cookie = response.headers["Set-Cookie"]
    assert "pmadvice_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http on 127.0.0.1


async def test_the_session_ends_after_eight_hours(client, runtime, clock):
    await sign_in(client, await sign_in_link(runtime, MODERATOR, WebRole.MODERATOR))
    clock.advance(hours=8, seconds=1)

    assert (await client.get("/dashboard")).status == 401


async def test_only_moderators_get_a_dashboard_link(runtime):
    reply = await runtime.facade.web_sign_in(MEMBER, WebRole.MODERATOR)

    assert "/signin/" not in reply.body
    assert reply.title == "That's for moderators"


async def test_a_member_session_does_not_open_the_dashboard(client, runtime):
    landed = await sign_in(client, await sign_in_link(runtime, MEMBER, WebRole.MEMBER))

    assert landed.endswith("/me")
    assert (await client.get("/me")).status == 200
    assert (await client.get("/dashboard")).status == 401


async def test_no_link_when_the_web_pages_are_not_served(runtime):
    runtime.facade.web_links.base = None

    reply = await runtime.facade.web_sign_in(MODERATOR, WebRole.MODERATOR)

    assert "PMADVICE_HTTP_PORT" in reply.body


async def test_a_post_without_its_csrf_token_is_refused_and_changes_nothing(moderator, runtime):
    suggestion = await runtime.facade.handle(
        MEMBER,
        "suggest Ask for the job description first | Before any PM interview, ask the "
        "recruiter for the job description and the team's current goals. Map each line to a "
        "story from your ops work, and note one question you would ask the hiring manager. "
        "| interviews",
    )
    assert "#1" in suggestion.body

    refused = await moderator.post("/dashboard/review/1/approve", data={})
    forged = await moderator.post("/dashboard/review/1/approve", data={"csrf": "0" * 64})

    assert refused.status == 403
    assert forged.status == 403
    assert (await runtime.facade.dashboard.review_queue()).waiting == 1
    page = await (await moderator.get("/dashboard/review")).text()
    token = Form.of(page, "/dashboard/review/1/approve").fields["csrf"]
    approved = await moderator.post("/dashboard/review/1/approve", data={"csrf": token})
    assert approved.status == 200
    assert (await runtime.facade.dashboard.review_queue()).waiting == 0


async def test_signing_out_ends_the_session(moderator):
    page = await (await moderator.get("/dashboard")).text()
    token = Form.of(page, "/signout").fields["csrf"]

    response = await moderator.post("/signout", data={"csrf": token}, allow_redirects=False)

    assert response.status == 303
    assert (await moderator.get("/dashboard")).status == 401


async def test_links_and_sessions_are_stored_only_as_hashes(client, runtime):
    link = await sign_in_link(runtime, MODERATOR, WebRole.MODERATOR)
    token = link.rsplit("/", 1)[1]
    await sign_in(client, link)
    cookie = next(c.value for c in client.session.cookie_jar if c.key == "pmadvice_session")

    dump = await _all_text(runtime)

    assert token not in dump
    assert cookie not in dump


async def _all_text(runtime) -> str:
    from sqlalchemy import text

    async with runtime.engine.connect() as connection:
        rows = []
        for table in ("web_links", "web_sessions"):
            rows += [
                str(tuple(r)) for r in await connection.execute(text(f"SELECT * FROM {table}"))
            ]
    assert rows
    return "\n".join(rows)


async def test_the_dashboard_command_sends_a_moderator_a_private_link(client, runtime):
    reply = await runtime.facade.handle(MODERATOR, "dashboard")
    refused = await runtime.facade.handle(MEMBER, "dashboard")

    assert reply.visibility == Visibility.PRIVATE
    assert LINK.search(reply.body)
    assert "15 minutes" in reply.body
    assert refused.title == "That's for moderators"
    assert not LINK.search(refused.body)


async def test_progress_carries_a_link_to_the_members_own_page(client, runtime):
    reply = await runtime.facade.handle(MEMBER, "progress")

    found = LINK.search(reply.body)
    assert found
    assert (await sign_in(client, found.group(0))).endswith("/me")


async def test_share_links_to_the_snippets_page_only_with_a_public_address(runtime):
    local = await runtime.facade.handle(MEMBER, "share whether-not-how")
    runtime.facade.web_links.public = "https://pmadvice.example.org"
    public = await runtime.facade.handle(MEMBER, "share whether-not-how")

    assert "http" not in local.context
    assert public.visibility == Visibility.CHANNEL
    assert public.context.endswith("https://pmadvice.example.org/snippets/whether-not-how")
