"""The real bot process as an operator runs it: probes, metrics that move, and SIGTERM.

`pmadvice run slack --http --port N` against the fake Slack on 127.0.0.1, and the console
with `PMADVICE_HTTP_PORT`: `/readyz` turns 200, a question moves `pmadvice_` metrics, and
SIGTERM ends the process with exit 0 within 10 s, leaving no delivery claimed.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import sqlite3
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.operations.support import ROOT, environment
from tests.slack.fake_slack import FakeSlack
from tests.slack.support import BOT_TOKEN, SIGNING_SECRET, HttpTransport, Member

STOP_WITHIN = 10.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack(bot_token=BOT_TOKEN)
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
    assert "Traceback" not in err
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
    assert "Traceback" not in err
    assert claimed_rows(tmp_path / "data" / "bot.db") == 0
