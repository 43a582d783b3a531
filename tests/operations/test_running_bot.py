"""The real bot process as an operator runs it: probes, metrics that move, and SIGTERM.

`pmadvice run slack --http --port N` against the fake Slack on 127.0.0.1, and the console
with `PMADVICE_HTTP_PORT`: `/readyz` turns 200, a question moves `pmadvice_` metrics, and
SIGTERM ends the process with exit 0 within 10 s, leaving no delivery claimed.

`pmadvice run discord` (the fake Discord's REST and gateway) and `pmadvice run slack` in Socket
Mode (the fake Slack's websocket) are stopped the same way, on SQLite and on PostgreSQL, while
the weekly nudge they claimed on their first tick is stuck at the platform: SIGTERM still ends
them with exit 0 within 10 s, and the nudge is handed back for the next process to send.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.core.models import Subscription, SubscriptionStatus, UserRef
from bot.storage.engine import create_engine
from bot.storage.repositories import build_repositories
from bot.storage.tables import DeliveryRow
from tests.discord.fake_discord import GUILD_ID, FakeDiscord
from tests.discord.fake_discord import TOKEN as DISCORD_TOKEN
from tests.discord.fake_records import Request
from tests.operations.support import ROOT, environment
from tests.slack.fake_slack import TEAM_ID, FakeSlack
from tests.slack.support import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET, HttpTransport, Member

STOP_WITHIN = 10.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack(bot_token=BOT_TOKEN, app_token=APP_TOKEN)
    await fake.start()
    yield fake
    await fake.stop()


async def start(env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args,
        env=env, cwd=ROOT,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip


async def until_ready(session: aiohttp.ClientSession, base: str, bot: asyncio.subprocess.Process):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if bot.returncode is not None:
            break
        try:
            async with session.get(f"{base}/readyz") as response:
                if response.status == 200:
                    return await response.json()
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.2)
    _, err = await bot.communicate()
    pytest.fail(f"never ready: {err.decode()[-2000:]}")


async def metric(session: aiohttp.ClientSession, base: str, line: str) -> float:
    async with session.get(f"{base}/metrics") as response:
        assert response.status == 200
        text = await response.text()
    for row in text.splitlines():
        if row.startswith(line + " "):
            return float(row.split()[-1])
    return 0.0


async def terminate(bot: asyncio.subprocess.Process) -> tuple[int, float, str]:
    started = time.monotonic()
    bot.send_signal(signal.SIGTERM)
    _, err = await asyncio.wait_for(bot.communicate(), STOP_WITHIN + 5)
    assert bot.returncode is not None
    return bot.returncode, time.monotonic() - started, err.decode()


def claimed_rows(database: Path) -> int:
    with sqlite3.connect(database) as db:
        return int(
            db.execute("SELECT count(*) FROM deliveries WHERE status='sending'").fetchone()[0]
        )


async def test_slack_http_mode_serves_probes_and_metrics_and_stops_cleanly(
    fake_slack: FakeSlack, tmp_path: Path
) -> None:
    port = free_port()
    env = environment(
        tmp_path,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        PMADVICE_SLACK_API_URL=fake_slack.api_url,
        PMADVICE_LOG_FORMAT="json",
    )
    bot = await start(env, "run", "slack", "--http", "--port", str(port))
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as session:
        ready = await until_ready(session, base, bot)
        assert ready["checks"] == {"database": True, "knowledge": True, "slack": True}
        answered = 'pmadvice_questions_total{outcome="answered"}'
        before = await metric(session, base, answered)

        member = Member(HttpTransport(f"{base}/slack/events", session), fake_slack)
        answer = await member.ask("what is product ops")
        assert "product" in answer.text.lower()

        assert await metric(session, base, answered) == before + 1
        assert await metric(session, base, "pmadvice_answer_seconds_count") >= 1
        code, took, err = await terminate(bot)

    assert code == 0, err
    assert took < STOP_WITHIN
    assert "Traceback" not in err, err
    assert SIGNING_SECRET not in err
    assert BOT_TOKEN not in err
    assert '"message": "stopped"' in err  # JSON lines


async def test_the_console_serves_probes_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    env = environment(tmp_path, PMADVICE_HTTP_PORT=str(port))
    bot = await start(env, "console", "--user", "ops")
    assert bot.stdin is not None
    bot.stdin.write(b"subscribe mon 09:00 UTC\n")
    await bot.stdin.drain()
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession() as session:
        ready = await until_ready(session, base, bot)
        assert ready["checks"] == {"database": True, "knowledge": True}
        code, took, err = await terminate(bot)  # stdin still open: a read is pending

    assert code == 0, err
    assert took < STOP_WITHIN
    assert "Traceback" not in err, err
    assert claimed_rows(tmp_path / "data" / "bot.db") == 0


DISCORD_MEMBER = UserRef("discord", "discord", "1400000000000000001")
SLACK_MEMBER = UserRef("slack", TEAM_ID, "U0MEMBER01")


async def due_nudge(url: str, member: UserRef) -> None:
    """Subscribe `member` to a weekly nudge that came due a minute ago: the bot's first tick
    claims it and asks the platform to send it."""
    due = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=1)
    subscription = Subscription(
        user=member,
        weekday=due.weekday(),
        local_time=due.time(),
        timezone="UTC",
        status=SubscriptionStatus.ACTIVE,
        created_at=due - timedelta(days=7),
        next_due_at=due,
    )
    engine = create_engine(url)
    try:
        await build_repositories(engine).subscriptions.save(subscription)
    finally:
        await engine.dispose()


def stopped_cleanly(
    code: int,
    took: float,
    err: str,
    before: Counter[str],
    after: Counter[str],
    secrets: list[str],
) -> None:
    """Exit 0 in time, no traceback or secret in the log, and the nudge that was being sent
    handed back to be sent again."""
    assert before["sending"] == 1
    assert code == 0, err
    assert took < STOP_WITHIN
    assert "Traceback" not in err, err
    assert not [secret for secret in secrets if secret in err]
    assert '"message": "stopped"' in err
    assert after["sending"] == 0
    assert after["pending"] == before["pending"] + 1


async def delivery_statuses(url: str) -> Counter[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                select(DeliveryRow.status, func.count()).group_by(DeliveryRow.status)
            )
            return Counter({str(status): int(count) for status, count in rows})
    finally:
        await engine.dispose()


async def until_held(seen: Awaitable[object], bot: asyncio.subprocess.Process) -> None:
    """Until the fake platform holds the bot's request (`seen` resolves); failing if the bot
    exits first."""
    held = asyncio.ensure_future(seen)
    exited = asyncio.ensure_future(bot.wait())
    done, _ = await asyncio.wait({held, exited}, return_when=asyncio.FIRST_COMPLETED)
    exited.cancel()
    if held not in done:
        held.cancel()
        _, err = await bot.communicate()
        pytest.fail(f"exited before sending the nudge: {err.decode()[-2000:]}")
    held.result()


async def stop_when_ready(
    url: str, bot: asyncio.subprocess.Process, port: int, platform: str
) -> tuple[int, float, str, Counter[str], Counter[str]]:
    """Once `/readyz` has the platform connected: SIGTERM. The exit code, how long stopping
    took, stderr, and the deliveries by status before and after."""
    async with aiohttp.ClientSession() as session:
        ready = await until_ready(session, f"http://127.0.0.1:{port}", bot)
    assert ready["checks"] == {"database": True, "knowledge": True, platform: True}
    before = await delivery_statuses(url)
    code, took, err = await terminate(bot)
    return code, took, err, before, await delivery_statuses(url)


async def test_discord_stops_on_sigterm_and_hands_back_the_nudge_it_was_sending(
    database_url: str, tmp_path: Path
) -> None:
    await due_nudge(database_url, DISCORD_MEMBER)
    port = free_port()
    async with FakeDiscord() as fake:
        fake.hold("POST", r"^/channels/\d+/messages$")
        env = environment(
            tmp_path,
            PMADVICE_DATABASE_URL=database_url,
            PMADVICE_HTTP_PORT=str(port),
            PMADVICE_LOG_FORMAT="json",
            DISCORD_TOKEN=DISCORD_TOKEN,
            DISCORD_GUILD_IDS=str(GUILD_ID),
            PMADVICE_DISCORD_API_URL=fake.api_url,
            PMADVICE_DISCORD_GATEWAY_URL=fake.gateway_url,
        )
        bot = await start(env, "run", "discord")

        def sending() -> list[Request]:
            return [r for r in fake.requests if r.method == "POST" and r.path.endswith("/messages")]

        await until_held(fake.wait_for(lambda: bool(sending()), 30.0), bot)
        code, took, err, before, after = await stop_when_ready(database_url, bot, port, "discord")
        assert fake.invalid == []

    assert len(sending()) == 1
    stopped_cleanly(code, took, err, before, after, secrets=[DISCORD_TOKEN])


async def test_slack_socket_mode_stops_on_sigterm_and_hands_back_the_nudge_it_was_sending(
    fake_slack: FakeSlack, database_url: str, tmp_path: Path
) -> None:
    await due_nudge(database_url, SLACK_MEMBER)
    fake_slack.hold("chat.postMessage")
    port = free_port()
    env = environment(
        tmp_path,
        PMADVICE_DATABASE_URL=database_url,
        PMADVICE_HTTP_PORT=str(port),
        PMADVICE_LOG_FORMAT="json",
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_APP_TOKEN=APP_TOKEN,
        PMADVICE_SLACK_API_URL=fake_slack.api_url,
    )
    bot = await start(env, "run", "slack")
    await until_held(
        fake_slack.wait_for(lambda: bool(fake_slack.called("chat.postMessage")), 30.0), bot
    )
    assert fake_slack.socket_connected
    code, took, err, before, after = await stop_when_ready(database_url, bot, port, "slack")

    assert fake_slack.connections_opened == 1
    assert len(fake_slack.called("chat.postMessage")) == 1
    stopped_cleanly(code, took, err, before, after, secrets=[BOT_TOKEN, APP_TOKEN])
