"""Slack DM fan-out after a restart: N members due at the same minute (prints numbers).

The real nudge engine, the real SQLite storage and the real Slack messenger send to a fake
Slack on 127.0.0.1 that enforces Slack's published limits: conversations.open is Tier 3
(50 a minute per workspace), chat.postMessage about one a second per channel. Time is
simulated (the engine's clock, its waits and the fake's limits all read one clock), so twenty
minutes of Slack pacing take seconds to measure. The process has just started: no DM channel
is cached.

    python benchmarks/slack_fanout.py                      # the messenger in this checkout
    python benchmarks/slack_fanout.py --messenger-from REV # the messenger of a git revision

Reported: simulated minutes until every member has their nudge, Web API calls by method,
429s received, and duplicates (members who got more than one).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import importlib.util
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.app import build_runtime  # noqa: E402
from bot.core.models import Actor, UserRef  # noqa: E402
from bot.core.nudges import NudgeEngine  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from tests.slack.fake_slack import FakeSlack  # noqa: E402
from tests.support.fakes import FakeClock  # noqa: E402

TOKEN = "xoxb-111-222-benchmarktoken"
TEAM = "T0BENCH01"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday, 09:00 UTC
TIER_3 = (50, 60.0)
PER_CHANNEL = (1, 1.0)
TICK = timedelta(seconds=30)  # PMADVICE_NUDGE_TICK_SECONDS' default


def messenger_module(revision: str | None) -> ModuleType:
    if revision is None:
        return importlib.import_module("bot.slack_adapter.messenger")
    source = subprocess.run(
        ["git", "show", f"{revision}:bot/slack_adapter/messenger.py"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    path = Path(tempfile.mkdtemp()) / "messenger_at_revision.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("messenger_at_revision", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def run(members: int, revision: str | None) -> dict[str, object]:
    clock = FakeClock(START - timedelta(minutes=1))
    fake = FakeSlack(bot_token=TOKEN)
    fake.clock = lambda: clock.now().timestamp()
    fake.limits = {"conversations.open": TIER_3, "chat.postMessage": PER_CHANNEL}
    await fake.start()
    folder = Path(tempfile.mkdtemp())
    settings = load_settings(PMADVICE_DATABASE_URL=f"sqlite+aiosqlite:///{folder / 'bench.db'}")
    module = messenger_module(revision)
    try:
        async with (
            build_runtime(settings, clock=clock) as runtime,
            aiohttp.ClientSession() as session,
        ):
            for index in range(members):
                actor = Actor(UserRef("slack", TEAM, f"U{index:08d}"))
                await runtime.facade.handle(actor, "subscribe mon 09:00 UTC")
            client = AsyncWebClient(
                token=TOKEN, base_url=fake.api_url, session=session, retry_handlers=[]
            )
            messenger = module.SlackMessenger(client, clock=lambda: clock.now().timestamp())

            async def sleep_until(when: datetime) -> None:
                clock.current = max(clock.current, when)

            engine = NudgeEngine(
                deliveries=runtime.deliveries,
                progress=runtime.repositories.progress,
                exercises=runtime.knowledge.exercises,
                messengers={"slack": messenger},
                clock=clock,
                sleep_until=sleep_until,
                jitter=lambda: 0.0,
            )
            clock.current = START
            sent = ticks = 0
            finished = START
            wall = time.perf_counter()
            while sent < members and ticks < 10_000:
                started = clock.now()
                report = await engine.tick()
                sent += report.sent
                ticks += 1
                finished = clock.now()
                clock.current = max(clock.now(), started + TICK)
            wall = time.perf_counter() - wall
    finally:
        await fake.stop()
    methods = collections.Counter(c.method for c in fake.calls)
    posted = collections.Counter(
        str(c.params.get("channel")) for c in fake.calls if c.method == "chat.postMessage"
    )
    return {
        "messenger": revision or "working tree",
        "members": members,
        "delivered": sent,
        "minutes_until_all_delivered": round((finished - START).total_seconds() / 60, 1),
        "engine_ticks": ticks,
        "calls": dict(methods),
        "rate_limited_answers": fake.rate_limited_answers,
        "members_messaged_twice": sum(1 for n in posted.values() if n > 1),
        "wall_seconds": round(wall, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="members due at once")
    parser.add_argument("--messenger-from", default=None, help="a git revision to compare")
    options = parser.parse_args()
    result = asyncio.run(run(options.n, options.messenger_from))
    for key, value in result.items():
        print(f"{key:30} {value}")


if __name__ == "__main__":
    main()
