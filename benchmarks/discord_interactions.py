"""Discord adapter speed, against the fake Discord on 127.0.0.1 (no internet).

1. Interactions: N concurrent `/pmadvice ask` through the fake gateway; time from dispatching
   INTERACTION_CREATE to the interaction callback arriving at the fake (target p99 <= 250 ms).
2. Fan-out: M weekly nudges by DM through the real messenger while the fake enforces Discord's
   global limit (50 requests per rolling second, 429 with retry_after/global/Via beyond it).
   Driven like the nudge engine (32 sends in flight). Reported cold (every member needs a DM
   channel opened first: 2 requests each) and warm (channels cached: 1 request each), against
   the floor = requests / limit (target <= 1.15 x the floor, 0 duplicates, 0 losses).
3. Overdriven: the messenger paced at twice the limit (as if a second process shared the
   token), so the fake really answers 429s: what honouring Retry-After costs, and that
   nothing is lost or duplicated.

Run: python benchmarks/discord_interactions.py [--asks 50] [--nudges 1000] [--limit 50]
                                               [--overdriven 500]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.app import Runtime, build_runtime
from bot.core.models import UserRef
from bot.core.ports import SendOutcome, SendStatus
from bot.core.presenter import exercise_reply
from bot.discord_adapter.service import DiscordService, build_service
from bot.settings import load_settings
from tests.discord.fake_discord import (
    GUILD_ID,
    TOKEN,
    FakeDiscord,
    Where,
    interaction_payload,
)

ENGINE_CONCURRENCY = 32
RETRYABLE = (SendStatus.RATE_LIMITED, SendStatus.TRANSIENT)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))
    return ordered[index]


async def start_service(runtime: Runtime, fake: FakeDiscord, **options: Any) -> DiscordService:
    os.environ.update(
        DISCORD_TOKEN=TOKEN,
        DISCORD_GUILD_IDS=str(GUILD_ID),
        PMADVICE_DISCORD_API_URL=fake.api_url,
        PMADVICE_DISCORD_GATEWAY_URL=fake.gateway_url,
    )
    service = await build_service(runtime, dict(options))
    assert isinstance(service, DiscordService)
    runtime.facade.messengers["discord"] = service.messenger
    await service.start()
    return service


def questions(runtime: Runtime, count: int) -> list[str]:
    pool = [q for s in runtime.knowledge.snippets for q in s.questions] or ["portfolio ideas"]
    return [pool[n % len(pool)] for n in range(count)]


async def bench_asks(runtime: Runtime, count: int) -> dict[str, Any]:
    async with FakeDiscord() as fake:
        service = await start_service(runtime, fake)
        try:
            warm = await fake.send_interaction(ask_payload(fake, "warm up the index", 1))
            await fake.answered(warm)
            sent = [
                await fake.send_interaction(ask_payload(fake, question, 10_000 + n))
                for n, question in enumerate(questions(runtime, count))
            ]
            callbacks = await asyncio.gather(*(fake.answered(i, 30) for i in sent))
        finally:
            await service.stop()
    latencies = [(c.at - i.sent_at) * 1000 for c, i in zip(callbacks, sent, strict=True)]
    return {
        "asks": count,
        "p50_ms": statistics.median(latencies),
        "p99_ms": percentile(latencies, 99),
        "max_ms": max(latencies),
        "deferred": sum(1 for c in callbacks if c.type == 5),
    }


def ask_payload(fake: FakeDiscord, question: str, user: int) -> dict[str, Any]:
    data = fake.slash_data("pmadvice", "ask", {"question": question})
    return interaction_payload(2, data, Where(user_id=user))


async def bench_fanout(
    runtime: Runtime, nudges: int, limit: int, runs: tuple[str, ...], **options: Any
) -> list[dict[str, Any]]:
    """Deliver one week's nudge to every member per run, retrying what comes back rate limited
    or transient after the wait it asked for, as the nudge engine does."""
    users = [UserRef("discord", str(GUILD_ID), str(2_000_000 + n)) for n in range(nudges)]
    results = []
    async with FakeDiscord(global_limit=limit) as fake:
        service = await start_service(runtime, fake, **options)
        gate = asyncio.Semaphore(ENGINE_CONCURRENCY)

        async def send(user: UserRef, message: Any) -> SendOutcome:
            async with gate:
                return await service.messenger.send(user, message)

        try:
            for week, label in enumerate(runs):
                reply = exercise_reply(runtime.knowledge.exercises[week], f"{week}/14")
                before, limited_before = len(fake.requests), fake.rate_limited
                messages_before = sum(len(m) for m in fake.messages.values())
                started = time.perf_counter()
                pending, deferred, rounds = list(users), 0, 0
                outcomes: dict[str, SendOutcome] = {}
                while pending and rounds < 20:
                    rounds += 1
                    batch = await asyncio.gather(*(send(u, reply) for u in pending))
                    outcomes.update({u.user_id: o for u, o in zip(pending, batch, strict=True)})
                    retry = [o for o in batch if o.status in RETRYABLE]
                    deferred += len(retry)
                    pending = [
                        u for u, o in zip(pending, batch, strict=True) if o.status in RETRYABLE
                    ]
                    if pending:
                        await asyncio.sleep(max(o.retry_after or 1.0 for o in retry))
                wall = time.perf_counter() - started
                accepted = [r for r in fake.requests[before:] if r.status not in (0, 429)]
                posts = [r for r in accepted if r.path.startswith("/channels/")]
                created = sum(len(m) for m in fake.messages.values()) - messages_before
                per_member = Counter(channel for channel, m in fake.messages.items() for _ in m)
                floor = len(accepted) / limit
                results.append(
                    {
                        "run": label,
                        "nudges": nudges,
                        "requests": len(accepted),
                        "wall_s": wall,
                        "floor_s": floor,
                        "ratio": wall / floor,
                        "429s": fake.rate_limited - limited_before,
                        "sent": sum(1 for o in outcomes.values() if o.status == SendStatus.SENT),
                        "losses": sum(1 for o in outcomes.values() if o.status != SendStatus.SENT),
                        "duplicates": sum(max(0, n - (week + 1)) for n in per_member.values()),
                        "deduplicated": len(posts) - created,
                        "deferred": deferred,
                        "rounds": rounds,
                    }
                )
        finally:
            await service.stop()
    return results


async def main(asks: int, nudges: int, limit: int, overdriven: int) -> None:
    logging.basicConfig(level=logging.ERROR)
    with tempfile.TemporaryDirectory() as directory:
        url = f"sqlite+aiosqlite:///{Path(directory) / 'bench.db'}"
        async with build_runtime(load_settings(PMADVICE_DATABASE_URL=url)) as runtime:
            result = await bench_asks(runtime, asks)
            print(
                f"{result['asks']} concurrent asks: time to interaction callback "
                f"p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, "
                f"max {result['max_ms']:.1f} ms, deferred {result['deferred']} "
                f"(target p99 <= 250 ms)"
            )
            runs = await bench_fanout(runtime, nudges, limit, ("cold", "warm"))
            if overdriven:
                runs += await bench_fanout(
                    runtime, overdriven, limit, ("overdriven, cold",), pace=2 * limit
                )
            for run in runs:
                print(
                    f"{run['nudges']} DM nudges ({run['run']}, {run['requests']} requests at "
                    f"{limit}/s): wall {run['wall_s']:.2f} s vs floor {run['floor_s']:.2f} s "
                    f"= {run['ratio']:.3f}x (target <= 1.15x); sent {run['sent']}, "
                    f"losses {run['losses']}, duplicates {run['duplicates']}; "
                    f"429s {run['429s']}, sends deferred by a surfaced 429 {run['deferred']} "
                    f"(rounds {run['rounds']}), retries absorbed by the nonce "
                    f"{run['deduplicated']}"
                )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--asks", type=int, default=50)
    parser.add_argument("--nudges", type=int, default=1000)
    parser.add_argument("--limit", type=int, default=50, help="fake global limit, requests/s")
    parser.add_argument("--overdriven", type=int, default=500, help="nudges; 0 skips the run")
    args = parser.parse_args()
    asyncio.run(main(args.asks, args.nudges, args.limit, args.overdriven))
