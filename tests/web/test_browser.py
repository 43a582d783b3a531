"""The pages in a real browser: headless Chromium (Debian's package) driven by Playwright.

Signs in through a real one-time link, clicks through the dashboard, submits forms with and
without their CSRF token, and saves screenshots under test-artifacts/screenshots/. Without a
Chromium these tests are skipped on a developer machine and fail in CI (`.ci/run` installs it).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

from bot.core import commands as c
from bot.core.models import WebRole
from bot.runtime import Runtime
from bot.web_adapter import WebOptions, web_application
from tests.web.conftest import MEMBER, MODERATOR, sign_in_link
from tests.web.test_dashboard import member

playwright_api = pytest.importorskip("playwright.async_api")

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("PMADVICE_TEST_ARTIFACTS", ROOT / "test-artifacts")) / "screenshots"
CHROMIUM = os.environ.get("PMADVICE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
PAGE_BUDGET = 300 * 1024
PHONE = {"width": 390, "height": 844}


@dataclass
class Tab:
    """A browser page that records console errors and the bytes each load transfers."""

    page: Any
    base: str
    errors: list[str] = field(default_factory=list)
    weights: dict[str, int] = field(default_factory=dict)

    async def open(self, path: str) -> Any:
        response = await self.page.goto(self.base + path)
        await self.page.wait_for_load_state("load")
        return response

    async def shot(self, name: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        await self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def require_chromium() -> None:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"Chromium is not installed at {CHROMIUM}; .ci/run installs it")
        pytest.skip("Chromium is not installed (apt-get install chromium)")


@pytest.fixture
async def site(runtime: Runtime) -> AsyncIterator[str]:
    require_chromium()
    server = TestServer(web_application(runtime.facade, WebOptions()), host="127.0.0.1")
    await server.start_server()
    runtime.facade.web_links.base = str(server.make_url("")).rstrip("/")
    try:
        yield runtime.facade.web_links.base
    finally:
        await server.close()


@pytest.fixture
async def browser(site: str) -> AsyncIterator[Any]:
    async with playwright_api.async_playwright() as p:
        launched = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


async def new_tab(browser: Any, base: str, viewport: dict[str, int] | None = None) -> Tab:
    context = await browser.new_context(viewport=viewport or {"width": 1280, "height": 900})
    tab = Tab(await context.new_page(), base)

    def on_console(message: Any) -> None:
        if message.type == "error":
            tab.errors.append(message.text)

    async def on_response(response: Any) -> None:
        try:
            body = await response.body()
        except Exception:  # redirects have no body
            return
        tab.weights[response.url] = len(body)

    tab.page.on("console", on_console)
    tab.page.on("pageerror", lambda error: tab.errors.append(str(error)))
    tab.page.on("response", on_response)
    return tab


async def seed(runtime: Runtime) -> None:
    facade = runtime.facade
    for n in range(6):
        await facade.handle(member(n), "how do I reframe my ops experience")
        await facade.handle(member(n), "subscribe wed 08:00 Europe/Berlin")
        await facade.handle(member(n), "done https://example.com/work")
    await facade.handle(member(3), "what is the best pizza topping in naples")
    for text in ("how do I negotiate salary for a PM offer", "how to negotiate a PM salary offer"):
        await runtime.repositories.unanswered.add(text, runtime.clock.now())
    await facade.handle(member(1), "vote whether-not-how up")
    await facade.handle(member(2), "vote whether-not-how down")
    body = (
        "Before any PM interview, ask the recruiter for the job description and the team's "
        "current goals. Map each line to a story from your ops work, and note one question "
        "you would ask the hiring manager."
    )
    for title in ("Ask for the job description first", "Read the team's last launch post"):
        await facade.dispatch(MEMBER, c.Suggest(c.Draft(title, body, ("interviews",))))


async def test_the_library_renders_without_console_errors(browser, site, runtime):
    tab = await new_tab(browser, site)

    await tab.open("/")
    topics = await tab.page.locator("ul.cards > li").count()
    await tab.shot("home")
    await tab.page.get_by_label("Ask a question or search the library").fill(
        "how do I reframe my ops experience"
    )
    await tab.page.keyboard.press("Enter")
    await tab.page.wait_for_url("**/search?q=*")
    best = await tab.page.locator("#best a").get_attribute("href")
    await tab.shot("search")
    await tab.page.locator("#best a").click()
    await tab.page.wait_for_load_state("load")
    await tab.shot("snippet")
    await tab.open("/search?q=what+is+the+best+pizza+topping+in+naples")
    declined = await tab.page.locator("#decline").inner_text()
    await tab.open("/exercises")
    await tab.shot("exercises")

    assert topics == len(runtime.knowledge.topics)
    expected = await runtime.facade.advice.search("how do I reframe my ops experience")
    assert best == f"/snippets/{expected.hits[0].snippet.id}"
    assert declined == "I have nothing good on that yet"
    assert tab.errors == []
    assert max(tab.weights.values()) < PAGE_BUDGET


async def test_a_moderator_signs_in_once_and_works_through_the_dashboard(browser, site, runtime):
    await seed(runtime)
    link = await sign_in_link(runtime, MODERATOR, WebRole.MODERATOR)
    tab = await new_tab(browser, site)

    assert (await tab.open("/dashboard")).status == 401
    tab.errors.clear()  # the browser logs the 401 above as an error; the rest must be clean
    await tab.page.goto(link)
    await tab.page.get_by_role("button", name="Sign in").click()
    await tab.page.wait_for_url("**/dashboard")
    charts = await tab.page.locator("svg.chart").count()
    bars = await tab.page.locator("svg.chart rect").count()
    chart_box = await tab.page.locator("svg.chart").first.bounding_box()
    await tab.shot("dashboard")

    for label, name in (
        ("Unanswered", "gaps"),
        ("Snippets", "snippets"),
        ("Challenge", "challenge"),
        ("Review", "review"),
    ):
        await (
            tab.page.get_by_role("navigation", name="Dashboard")
            .get_by_role("link", name=label)
            .click()
        )
        await tab.page.wait_for_load_state("load")
        await tab.shot(f"dashboard-{name}")

    await tab.page.get_by_label("Reason for the member").first.fill("We cover this in interviews")
    await tab.page.get_by_role("button", name="Reject #1").click()
    await tab.page.wait_for_load_state("load")
    rejected = await tab.page.locator("h1").inner_text()

    clean = list(tab.errors)
    await tab.open("/dashboard/review")
    await tab.page.locator("form[action$='/review/2/approve'] input[name=csrf]").evaluate(
        "input => input.remove()"
    )
    await tab.page.get_by_role("button", name="Approve #2").click()
    await tab.page.wait_for_load_state("load")
    refused = await tab.page.locator("h1").inner_text()
    waiting = (await runtime.facade.dashboard.review_queue()).waiting

    await tab.open("/dashboard/gaps")
    await tab.page.get_by_role("button", name="Write a snippet for this").first.click()
    await tab.page.wait_for_load_state("load")
    prefilled = await tab.page.get_by_label("Questions people ask").input_value()

    second = await new_tab(browser, site)
    again = await second.page.goto(link)

    assert charts >= 4
    assert bars > 10
    assert chart_box is not None
    assert chart_box["width"] > 200
    assert rejected == "Rejected"
    assert refused == "This form has expired"
    assert waiting == 1
    assert "negotiate" in prefilled
    assert again.status == 403
    assert clean == []
    assert max(tab.weights.values()) < PAGE_BUDGET


async def test_a_member_page_reads_on_a_phone(browser, site, runtime):
    await runtime.facade.handle(MEMBER, "subscribe mon 09:00 Europe/Lisbon")
    await runtime.facade.handle(MEMBER, "done https://example.com/my-teardown")
    link = await sign_in_link(runtime, MEMBER, WebRole.MEMBER)
    tab = await new_tab(browser, site, PHONE)

    await tab.page.goto(link)
    await tab.page.get_by_role("button", name="Sign in").click()
    await tab.page.wait_for_url("**/me")
    await tab.shot("me-phone")
    await tab.page.get_by_label("Time zone").fill("Asia/Kolkata")
    await tab.page.get_by_role("button", name="Save").click()
    await tab.page.wait_for_load_state("load")
    notice = await tab.page.get_by_role("status").inner_text()
    overflow = await tab.page.evaluate(
        "() => document.scrollingElement.scrollWidth - window.innerWidth"
    )
    await tab.open("/")
    await tab.shot("home-phone")
    home_overflow = await tab.page.evaluate(
        "() => document.scrollingElement.scrollWidth - window.innerWidth"
    )

    assert "Asia/Kolkata" in notice
    assert overflow <= 0
    assert home_overflow <= 0
    assert tab.errors == []
