"""Installing the app in several workspaces through Slack's OAuth flow.

The install link, the redirect with a code exchanged through oauth.v2.access on the
configured API URL, the installation stored in the bot's own database, and every request
afterwards answered with the token of the workspace it came from.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
import yaml
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import MetaData

from bot.app import Runtime
from bot.core.models import UserRef
from bot.core.ports import SendStatus
from bot.core.reply import Reply
from bot.runtime import StartupError
from bot.slack_adapter.service import SlackService
from bot.slack_adapter.settings import load_slack_settings
from bot.storage import platform_tables
from tests.slack.conftest import start_service
from tests.slack.fake_slack import APP_ID, FakeSlack
from tests.slack.support import SIGNING_SECRET, HttpTransport, Member

ROOT = Path(__file__).resolve().parents[2]
CLIENT_ID = "1234567890.9876543210"
CLIENT_SECRET = "SENTINELclientsecret00000001"
STATE_SECRET = "SENTINELstatesecret000000001"
TEAM_A, TOKEN_A = "T0AAAAAA1", "xoxb-team-a-SENTINEL-000001"
TEAM_B, TOKEN_B = "T0BBBBBB2", "xoxb-team-b-SENTINEL-000002"


@pytest.fixture
def distributed_env(monkeypatch: pytest.MonkeyPatch, fake: FakeSlack) -> None:
    for name in (
        "SLACK_BOT_TOKEN",
        "SLACK_APP_TOKEN",
        "PMADVICE_SLACK_MODERATOR_GROUP",
        "PMADVICE_SLACK_MODERATOR_IDS",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SLACK_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("SLACK_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("SLACK_STATE_SECRET", STATE_SECRET)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
    monkeypatch.setenv("PMADVICE_SLACK_API_URL", fake.api_url)
    fake.client_id, fake.client_secret = CLIENT_ID, CLIENT_SECRET


@pytest.fixture
async def distributed(runtime: Runtime, distributed_env: None) -> AsyncIterator[SlackService]:
    started = await start_service(runtime, {"http": True})
    yield started
    await started.stop()


@pytest.fixture
async def browser() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        yield session


def base(service: SlackService) -> str:
    return f"http://127.0.0.1:{service.bound_port}"


async def install(
    browser: aiohttp.ClientSession, service: SlackService, fake: FakeSlack, team: str, token: str
) -> tuple[str, int, str]:
    """Click "Add to Slack", approve on Slack, follow the redirect back. Returns the authorize
    URL, the status of the redirect page and its text."""
    async with browser.get(f"{base(service)}/slack/install", allow_redirects=False) as response:
        assert response.status == 302
        authorize = response.headers["Location"]
        # The state cookie is Secure: a browser sends it back over HTTPS; here, by hand.
        cookie = response.headers["Set-Cookie"].split(";")[0]
    state = parse_qs(urlsplit(authorize).query)["state"][0]
    assert cookie == f"slack-app-oauth-state={state}"
    code = f"code-for-{team}"
    fake.grant(code, team, token)
    async with browser.get(
        f"{base(service)}/slack/oauth_redirect",
        params={"code": code, "state": state},
        headers={"Cookie": cookie},
    ) as response:
        return authorize, response.status, await response.text()


def manifest_scopes() -> list[str]:
    manifest: dict[str, Any] = yaml.safe_load((ROOT / "slack-manifest.yaml").read_text())
    return list(manifest["oauth_config"]["scopes"]["bot"])


async def test_install_redirects_to_slack_with_the_manifests_scopes(
    distributed: SlackService, browser: aiohttp.ClientSession
) -> None:
    async with browser.get(f"{base(distributed)}/slack/install", allow_redirects=False) as sent:
        assert sent.status == 302
        location = urlsplit(sent.headers["Location"])
    query = parse_qs(location.query)
    assert f"{location.scheme}://{location.netloc}{location.path}" == (
        "https://slack.com/oauth/v2/authorize"
    )
    assert query["client_id"] == [CLIENT_ID]
    assert query["scope"][0].split(",") == manifest_scopes()
    assert len(query["state"][0]) > 40


async def test_the_redirect_exchanges_the_code_and_stores_the_installation(
    distributed: SlackService, browser: aiohttp.ClientSession, fake: FakeSlack, runtime: Runtime
) -> None:
    _, status, page = await install(browser, distributed, fake, TEAM_A, TOKEN_A)
    assert status == 200, page
    exchange = fake.called("oauth.v2.access")
    assert [c.params["code"] for c in exchange] == [f"code-for-{TEAM_A}"]
    store = distributed.directory._clients.store  # type: ignore[attr-defined]
    stored = await store.async_find_installation(enterprise_id=None, team_id=TEAM_A)
    assert stored is not None
    assert stored.bot_token == TOKEN_A
    assert stored.app_id == APP_ID
    assert stored.user_id == "U0INSTALL1"


async def test_a_forged_state_or_a_used_one_installs_nothing(
    distributed: SlackService, browser: aiohttp.ClientSession, fake: FakeSlack
) -> None:
    authorize, status, _ = await install(browser, distributed, fake, TEAM_A, TOKEN_A)
    assert status == 200
    used = parse_qs(urlsplit(authorize).query)["state"][0]
    forged = used[:-1] + ("0" if used[-1] != "0" else "1")
    fake.grant("again", TEAM_B, TOKEN_B)
    for state in (used, forged):
        async with browser.get(
            f"{base(distributed)}/slack/oauth_redirect",
            params={"code": "again", "state": state},
            headers={"Cookie": f"slack-app-oauth-state={state}"},
        ) as response:
            assert response.status == 401
    assert len(fake.called("oauth.v2.access")) == 1


async def test_each_workspace_is_answered_with_its_own_token(
    distributed: SlackService, browser: aiohttp.ClientSession, fake: FakeSlack
) -> None:
    for team, token in ((TEAM_A, TOKEN_A), (TEAM_B, TOKEN_B)):
        assert (await install(browser, distributed, fake, team, token))[1] == 200
    async with aiohttp.ClientSession() as session:
        http = HttpTransport(f"{base(distributed)}/slack/events", session)
        ada = Member(http, fake, user_id="U0ADA0001", team=TEAM_A)
        bob = Member(http, fake, user_id="U0BOB0002", team=TEAM_B)
        for member, token in ((ada, TOKEN_A), (bob, TOKEN_B)):
            form = await member.open_form("suggest")
            assert form["type"] == "modal"
            opened = fake.called("views.open")[-1]
            assert opened.token == token
            await member.open_home()
            published = [
                c for c in fake.called("views.publish") if c.params["user_id"] == member.user_id
            ]
            assert {c.token for c in published} == {token}


async def test_the_installer_moderates_their_own_workspace_only(
    distributed: SlackService, browser: aiohttp.ClientSession, fake: FakeSlack
) -> None:
    for team, token in ((TEAM_A, TOKEN_A), (TEAM_B, TOKEN_B)):
        await install(browser, distributed, fake, team, token)
    directory = distributed.directory
    assert await directory.is_moderator("U0INSTALL1", TEAM_A)
    assert not await directory.is_moderator("U0SOMEONE", TEAM_A)


async def test_uninstalling_drops_the_workspaces_tokens_and_pauses_its_nudges(
    distributed: SlackService, browser: aiohttp.ClientSession, fake: FakeSlack
) -> None:
    for team, token in ((TEAM_A, TOKEN_A), (TEAM_B, TOKEN_B)):
        await install(browser, distributed, fake, team, token)
    async with aiohttp.ClientSession() as session:
        http = HttpTransport(f"{base(distributed)}/slack/events", session)
        ada = Member(http, fake, user_id="U0ADA0001", team=TEAM_A)
        event = ada.home_event()
        event["event"] = {"type": "app_uninstalled", "event_ts": "1.2"}
        assert (await http.event(event)).status == 200
    store = distributed.directory._clients.store  # type: ignore[attr-defined]
    for _ in range(500):  # the event runs after its ack
        if await store.async_find_installation(enterprise_id=None, team_id=TEAM_A) is None:
            break
        await asyncio.sleep(0.01)
    assert await store.async_find_installation(enterprise_id=None, team_id=TEAM_A) is None
    nudge = Reply(title="This week's exercise", body="Reframe one win.")
    gone = await distributed.messenger.send(UserRef("slack", TEAM_A, "U0ADA0001"), nudge)
    assert gone.status == SendStatus.PERMANENT
    kept = await distributed.messenger.send(UserRef("slack", TEAM_B, "U0BOB0002"), nudge)
    assert kept.status == SendStatus.SENT
    assert fake.called("chat.postMessage")[-1].token == TOKEN_B


def test_the_stores_tables_match_what_slack_sdk_reads_and_writes() -> None:
    theirs = MetaData()
    SQLAlchemyInstallationStore.build_installations_table(theirs, "slack_installations")
    SQLAlchemyInstallationStore.build_bots_table(theirs, "slack_bots")
    SQLAlchemyOAuthStateStore.build_oauth_states_table(theirs, "slack_oauth_states")
    ours = {t.name: t for t in platform_tables.metadata.tables.values()}
    for table in theirs.tables.values():
        mine = ours[table.name]
        assert [c.name for c in mine.columns] == [c.name for c in table.columns]
        for column in table.columns:
            other = mine.columns[column.name]
            assert type(other.type) is type(column.type), column.name
            assert getattr(other.type, "length", None) == getattr(column.type, "length", None)
            assert other.nullable == column.nullable, column.name


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SLACK_CLIENT_ID": CLIENT_ID}, "SLACK_CLIENT_SECRET"),
        (
            {"SLACK_CLIENT_ID": CLIENT_ID, "SLACK_CLIENT_SECRET": CLIENT_SECRET},
            "SLACK_STATE_SECRET",
        ),
        ({"SLACK_CLIENT_ID": "not-an-id"}, "SLACK_CLIENT_ID"),
        ({"SLACK_STATE_SECRET": "short"}, "SLACK_STATE_SECRET"),
    ],
)
def test_distribution_settings_are_checked_at_start_up(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], named: str
) -> None:
    for name in ("SLACK_BOT_TOKEN", "SLACK_CLIENT_ID", "SLACK_CLIENT_SECRET", "SLACK_STATE_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SLACK_SIGNING_SECRET", SIGNING_SECRET)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(StartupError) as raised:
        load_slack_settings().require(http=True)
    assert named in str(raised.value)
    assert CLIENT_SECRET not in str(raised.value)
