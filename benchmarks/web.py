"""Server-side render time of the web pages with a busy month in the database.

    python benchmarks/web.py [--questions 10000] [--requests 200] [--database-url URL]

Logs `--questions` chat questions over the last 30 days (a quarter declined, as unanswered
gaps too), with members who subscribe, vote and finish exercises, then requests `/` and
`/dashboard` (signed in through a real one-time link) and prints p50/p99 of the time the
server spends on each request, and the size of each page.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import statistics
import tempfile
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import insert

from bot.app import build_runtime
from bot.core.models import Actor, UserRef, WebRole
from bot.runtime import Runtime
from bot.settings import load_settings
from bot.storage.migrate import upgrade
from bot.storage.tables import (
    FeedbackVoteRow,
    ProgressRow,
    QuestionLogRow,
    SubscriptionRow,
    UnansweredQueryRow,
    UserRow,
)
from bot.web_adapter import WebOptions, web_application

MEMBERS = 800
PAGES = ("/", "/dashboard", "/dashboard/gaps", "/dashboard/snippets", "/dashboard/challenge")


async def fill(runtime: Runtime, questions: int, seed: int = 11) -> None:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    state = await runtime.facade.library.state()
    ids = [s.id for s in state.snippets]
    exercises = [x.id for x in runtime.knowledge.exercises]
    gap_words = ["salary", "visa", "equity", "remote", "mba", "certificate", "bootcamp", "pivot"]

    def when() -> datetime:
        return now - timedelta(seconds=rng.randint(0, 30 * 86400))

    log, gaps = [], []
    for _ in range(questions):
        at = when()
        if rng.random() < 0.25:
            log.append({"at": at, "answered": False, "snippet_id": None})
            text = f"how do I handle {rng.choice(gap_words)} {rng.choice(gap_words)} as a new PM"
            gaps.append({"text": text, "normalised": text.lower(), "at": at})
        else:
            log.append({"at": at, "answered": True, "snippet_id": rng.choice(ids)})
    users = [
        {"platform": rng.choice(["slack", "discord"]), "workspace": "T1", "user_id": f"U{n}",
         "created_at": now - timedelta(days=90)}
        for n in range(MEMBERS)
    ]  # fmt: skip
    async with runtime.engine.begin() as connection:
        await connection.execute(insert(QuestionLogRow), log)
        await connection.execute(insert(UnansweredQueryRow), gaps)
        await connection.execute(insert(UserRow), users)
        subscriptions, votes, progress = [], [], []
        for pk in range(1, MEMBERS + 1):
            created = now - timedelta(days=rng.randint(0, 80))
            status = rng.choice(["active"] * 8 + ["paused", "cancelled"])
            subscriptions.append(
                {"user_id": pk, "weekday": rng.randint(0, 6), "local_time": time(9),
                 "timezone": "UTC", "status": status, "created_at": created,
                 "updated_at": created}
            )  # fmt: skip
            for snippet_id in rng.sample(ids, 3):
                votes.append(
                    {"user_id": pk, "snippet_id": snippet_id,
                     "value": rng.choice([1, 1, 1, -1]), "at": when()}
                )  # fmt: skip
            for position in range(rng.randint(0, len(exercises))):
                progress.append(
                    {"user_id": pk, "exercise_id": exercises[position],
                     "status": rng.choice(["done"] * 4 + ["skipped"]), "round": 1,
                     "at": created + timedelta(weeks=position)}
                )  # fmt: skip
        await connection.execute(insert(SubscriptionRow), subscriptions)
        await connection.execute(insert(FeedbackVoteRow), votes)
        await connection.execute(insert(ProgressRow), progress)


async def measure(database_url: str, questions: int, requests: int) -> None:
    settings = load_settings(PMADVICE_DATABASE_URL=database_url)
    async with build_runtime(settings) as runtime:
        await fill(runtime, questions)
        timings: list[tuple[str, float]] = []
        server = TestServer(web_application(runtime.facade, WebOptions(timings=timings)))
        async with TestClient(server) as client:
            runtime.facade.web_links.base = str(server.make_url("")).rstrip("/")
            moderator = Actor(UserRef("console", "local", "bench"), is_moderator=True)
            reply = await runtime.facade.web_sign_in(moderator, WebRole.MODERATOR)
            path = "/" + re.search(r"/signin/\S+", reply.body).group(0).lstrip("/")  # type: ignore[union-attr]
            shown = await (await client.get(path)).text()
            fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', shown))
            await client.post("/signin", data=fields)
            sizes = {}
            for page in PAGES:
                body = await (await client.get(page)).read()
                sizes[page] = len(body)
            timings.clear()
            for _ in range(requests):
                for page in ("/", "/dashboard"):
                    response = await client.get(page)
                    assert response.status == 200, page
                    await response.read()
    print(f"database: {database_url.split('://', 1)[0]}, {questions} questions logged")
    for page in ("/", "/dashboard"):
        seconds = sorted(t for p, t in timings if p == page)
        p50 = statistics.median(seconds) * 1000
        p99 = seconds[min(len(seconds) - 1, int(len(seconds) * 0.99))] * 1000
        print(f"{page:<12} p50 {p50:6.1f} ms   p99 {p99:6.1f} ms   ({len(seconds)} requests)")
    for page, size in sizes.items():
        print(f"size {page:<22} {size / 1024:6.1f} kB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        upgrade(url)  # an empty PostgreSQL database is migrated here; SQLite would be anyway
        asyncio.run(measure(url, args.questions, args.requests))


if __name__ == "__main__":
    main()
