"""How fast /pmadvice is acknowledged under load, and how soon the full answer follows.

50 concurrent, correctly signed `/pmadvice <question>` requests over real HTTP to the Slack
service (slack-bolt behind aiohttp), with the Web API and response_urls served by the test
fake on 127.0.0.1. Prints ack p50/p99 and time to the full answer (the response_url post).

    python benchmarks/slack_ack.py [--requests 50] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.app import build_runtime
from bot.settings import load_settings
from bot.slack_adapter.service import build_service
from tests.slack.fake_slack import FakeSlack
from tests.slack.support import BOT_TOKEN, SIGNING_SECRET, HttpTransport, Member

QUESTIONS = [
    "what's the actual difference between ops thinking and product thinking",
    "pms keep asking why i want to switch and my answer feels weak",
    "how do I talk about my supply chain work so product people care",
    "what skills from operations actually transfer to PM",
    "what am I missing compared to a real PM candidate",
    "how do i do user interviews if i'm not a pm yet",
    "what should go in a product portfolio",
    "product teardown example",
    "should I apply to APM programs",
    "where do I even start with switching to product",
    "how to network with product managers without being awkward",
    "informational interview questions to ask a PM",
]


def percentile(values: list[float], pct: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


async def one_round(member: Member, fake: FakeSlack, count: int) -> tuple[list[float], list[float]]:
    async def one(index: int) -> tuple[float, str, float]:
        started = time.perf_counter()
        ack, url = await member.send(QUESTIONS[index % len(QUESTIONS)] + f" ({index})")
        if ack.status != 200:
            raise RuntimeError(f"request {index} got {ack.status}")
        return ack.elapsed, url, started

    results = await asyncio.gather(*(one(i) for i in range(count)))
    answers = []
    for _, url, started in results:
        await fake.wait_hook(url)
        hook = next(h for h in fake.hooks if h.url == url)
        answers.append(hook.at - started)
    return [r[0] for r in results], answers


async def main(count: int, rounds: int) -> None:
    fake = FakeSlack(bot_token=BOT_TOKEN)
    await fake.start()
    os.environ.update(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        PMADVICE_SLACK_API_URL=fake.api_url,
    )
    with tempfile.TemporaryDirectory() as folder:
        settings = load_settings(PMADVICE_DATABASE_URL=f"sqlite+aiosqlite:///{folder}/bench.db")
        async with build_runtime(settings) as runtime:
            service = await build_service(runtime, {"http": True, "port": 0, "host": "127.0.0.1"})
            await service.start()
            connector = aiohttp.TCPConnector(limit=0)
            async with aiohttp.ClientSession(connector=connector) as session:
                url = f"http://127.0.0.1:{service.bound_port}/slack/events"
                member = Member(HttpTransport(url, session), fake)
                await member.ask("warm up: what should go in a product portfolio")
                print(f"{count} concurrent signed /pmadvice <question> requests, {rounds} rounds")
                for number in range(1, rounds + 1):
                    started = time.perf_counter()
                    acks, answers = await one_round(member, fake, count)
                    total = time.perf_counter() - started
                    print(
                        f"round {number}: ack p50 {percentile(acks, 50) * 1000:6.1f} ms"
                        f"  p99 {percentile(acks, 99) * 1000:6.1f} ms"
                        f" | full answer p50 {percentile(answers, 50) * 1000:6.1f} ms"
                        f"  p99 {percentile(answers, 99) * 1000:6.1f} ms"
                        f"  max {max(answers) * 1000:6.1f} ms | all done in {total * 1000:6.1f} ms"
                    )
            await service.stop()
    await fake.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.requests, arguments.rounds))
