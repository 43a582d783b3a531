"""The web pages on a real aiohttp server over a real runtime (SQLite copy, fake clock)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from html.parser import HTMLParser

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.core.models import Actor, UserRef, WebRole
from bot.runtime import Runtime
from bot.web_adapter import WebOptions, web_application

MODERATOR = Actor(UserRef("console", "local", "mod-1"), is_moderator=True, display_name="Mo")
MEMBER = Actor(UserRef("console", "local", "member-1"), display_name="Ana")
LINK = re.compile(r"https?://\S+/signin/[A-Za-z0-9_-]+")


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[TestClient]:
    server = TestServer(web_application(runtime.facade, WebOptions()))
    async with TestClient(server) as test_client:
        runtime.facade.web_links.base = str(server.make_url("")).rstrip("/")
        yield test_client


async def sign_in_link(runtime: Runtime, actor: Actor, role: WebRole) -> str:
    """The link the bot sends in chat, read out of its reply as a member would."""
    reply = await runtime.facade.web_sign_in(actor, role)
    found = LINK.search(reply.body)
    assert found, reply.body
    return found.group(0)


async def sign_in(client: TestClient, link: str) -> str:
    """Open the link, press the button; returns the page signed in to."""
    path = link.split("://", 1)[1].split("/", 1)[1]
    shown = await client.get(f"/{path}")
    assert shown.status == 200
    form = Form.of(await shown.text())
    done = await client.post("/signin", data=form.fields, allow_redirects=False)
    assert done.status == 303, await done.text()
    return done.headers["Location"]


@dataclass
class Form:
    action: str
    fields: dict[str, str]

    @classmethod
    def of(cls, html: str, action: str | None = None) -> Form:
        """The first POST form (or the one with that action) and its hidden fields."""
        parser = _Forms()
        parser.feed(html)
        for form in parser.forms:
            if action is None or form.action == action:
                return form
        raise AssertionError(f"no form {action!r} in page")


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form" and values.get("method") == "post":
            self.forms.append(Form(values.get("action", ""), {}))
        elif tag == "input" and self.forms and values.get("type") == "hidden":
            self.forms[-1].fields[values["name"]] = values.get("value", "")


@pytest.fixture
async def moderator(client: TestClient, runtime: Runtime) -> TestClient:
    """The client, signed in as a moderator."""
    await sign_in(client, await sign_in_link(runtime, MODERATOR, WebRole.MODERATOR))
    return client


@pytest.fixture
async def member(client: TestClient, runtime: Runtime) -> TestClient:
    await sign_in(client, await sign_in_link(runtime, MEMBER, WebRole.MEMBER))
    return client
