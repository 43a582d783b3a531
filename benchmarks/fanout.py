"""Fan-out benchmark for the weekly nudges (prints numbers; not a test).

1. Fan-out: N subscribers due at the same instant; a fake chat platform on 127.0.0.1 accepts
   at most R direct messages in any one-second window and answers 429 with a Retry-After
   (fractional seconds, as Discord does) beyond that. Engines run in separate worker
   processes with the real engine, real SQL, the real clock and real asyncio sleeps: wall
   time is measured, not simulated. Reported against the floor N/R, with duplicates and
   losses counted at the platform. Once on SQLite (one process) and once on PostgreSQL with
   two engine processes sharing the database.
2. Idle tick: 100,000 subscriptions, none due (plus last week's 100,000 sent deliveries):
   the cost of one tick, with the schema's indexes and, for comparison, without them.

Usage: python benchmarks/fanout.py [--n 5000] [--rate 100] [--latency-ms 50]
       [--postgres-url URL] [--idle 100000] [--only fanout|idle]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import insert, make_url, pool, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.catalog import load_knowledge  # noqa: E402
from bot.core.models import UserRef  # noqa: E402
from bot.core.nudges import NudgeEngine  # noqa: E402
from bot.core.ports import SendOutcome, SystemClock  # noqa: E402
from bot.core.reply import Reply  # noqa: E402
from bot.settings import SHIPPED_KNOWLEDGE  # noqa: E402
from bot.storage.deliveries import SqlDeliveryRepository  # noqa: E402
from bot.storage.engine import create_engine  # noqa: E402
from bot.storage.migrate import upgrade  # noqa: E402
from bot.storage.repositories import build_repositories  # noqa: E402
from bot.storage.tables import DeliveryRow, SubscriptionRow, UserRow  # noqa: E402

DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
WORKSPACE = "T-bench"


# --- The fake platform ----------------------------------------------------------------------


class Platform:
    """At most `rate` accepted DMs in any one-second window; 429 + Retry-After beyond."""

    def __init__(self, rate: int, latency: float) -> None:
        self.rate = rate
        self.latency = latency
        self.window: collections.deque[float] = collections.deque()
        self.accepted: collections.Counter[tuple[str, str]] = collections.Counter()
        self.first_accept = 0.0
        self.last_accept = 0.0
        self.limited = 0

    async def dm(self, request: web.Request) -> web.Response:
        body = await request.json()
        await asyncio.sleep(self.latency)
        now = time.time()
        while self.window and self.window[0] <= now - 1.0:
            self.window.popleft()
        if len(self.window) >= self.rate:
            self.limited += 1
            retry_after = self.window[0] + 1.0 - now
            return web.json_response({"ok": False, "retry_after": retry_after}, status=429)
        self.window.append(now)
        self.accepted[(body["user"], body["week"])] += 1
        self.first_accept = self.first_accept or now
        self.last_accept = now
        return web.json_response({"ok": True, "id": f"msg-{sum(self.accepted.values())}"})

    @asynccontextmanager
    async def serving(self) -> AsyncIterator[str]:
        app = web.Application()
        app.router.add_post("/dm", self.dm)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        try:
            yield f"http://127.0.0.1:{port}/dm"
        finally:
            await runner.cleanup()


class HttpMessenger:
    """The engine's messenger for the fake platform: the same outcomes a real adapter gives."""

    def __init__(self, http: aiohttp.ClientSession, url: str) -> None:
        self._http = http
        self._url = url

    async def send(self, user: UserRef, reply: Reply) -> SendOutcome:
        week = reply.title  # the benchmark's platform keys duplicates by member and nudge
        try:
            async with self._http.post(self._url, json={"user": user.user_id, "week": week}) as r:
                body = await r.json()
        except (aiohttp.ClientError, TimeoutError) as error:
            return SendOutcome.transient(type(error).__name__)
        if r.status == 429:
            return SendOutcome.rate_limited(float(body["retry_after"]))
        if r.status >= 500:
            return SendOutcome.transient(f"HTTP {r.status}")
        return SendOutcome.sent(str(body["id"]))


# --- Databases ----------------------------------------------------------------------------------


@asynccontextmanager
async def scratch_database(kind: str, postgres_url: str) -> AsyncIterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite+aiosqlite:///{folder}/bench.db"
        return
    admin = create_async_engine(postgres_url, isolation_level="AUTOCOMMIT", poolclass=pool.NullPool)
    name = f"pmadvice_bench_{uuid.uuid4().hex[:10]}"
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE template0'))
    try:
        yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


async def postgres_reachable(url: str) -> bool:
    engine = create_async_engine(url, poolclass=pool.NullPool, connect_args={"timeout": 3})
    try:
        async with engine.connect():
            return True
    except Exception:
        return False
    finally:
        await engine.dispose()


async def seed(
    engine: AsyncEngine, count: int, due: datetime, spread: timedelta, history: bool = False
) -> None:
    """`count` Slack members in one workspace, subscribed; the i-th due at due + i*spread/count."""
    created = due - timedelta(weeks=4)
    chunk = 5000
    async with engine.begin() as conn:
        for start in range(0, count, chunk):
            ids = range(start + 1, min(start + chunk, count) + 1)
            await conn.execute(
                insert(UserRow),
                [
                    {"id": i, "platform": "slack", "workspace": WORKSPACE, "user_id": f"U{i:06d}",
                     "created_at": created}
                    for i in ids
                ],
            )  # fmt: skip
            rows = []
            for i in ids:
                at = due + spread * (i / count)
                rows.append(
                    {"id": i, "user_id": i, "weekday": at.weekday(),
                     "local_time": at.time().replace(microsecond=0), "timezone": "UTC",
                     "status": "active", "next_due_at": at, "created_at": created,
                     "updated_at": created}
                )  # fmt: skip
            await conn.execute(insert(SubscriptionRow), rows)
            if history:
                last_week = due - timedelta(weeks=1)
                await conn.execute(
                    insert(DeliveryRow),
                    [
                        {"subscription_id": i, "user_id": i, "week": "2026-W01", "status": "sent",
                         "due_at": last_week, "next_attempt_at": last_week, "sent_at": last_week,
                         "attempts": 1, "created_at": last_week, "updated_at": last_week}
                        for i in ids
                    ],
                )  # fmt: skip
        if engine.dialect.name == "postgresql":
            for table in ("users", "subscriptions", "deliveries"):
                await conn.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {count + 1})")
                )
                await conn.execute(text(f"ANALYZE {table}"))
        else:
            await conn.execute(text("ANALYZE"))


async def count_sent(url: str) -> int:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            sent = await conn.scalar(text("SELECT count(*) FROM deliveries WHERE status = 'sent'"))
            return int(sent or 0)
    finally:
        await engine.dispose()


# --- Fan-out ------------------------------------------------------------------------------------


async def run_worker(args: argparse.Namespace) -> None:
    """One engine process: tick until no delivery is left anywhere, then report."""
    engine = create_engine(args.url)
    repositories = build_repositories(engine)
    deliveries = SqlDeliveryRepository(engine)
    knowledge = load_knowledge(SHIPPED_KNOWLEDGE)
    connector = aiohttp.TCPConnector(limit=128)
    async with aiohttp.ClientSession(connector=connector) as http:
        nudges = NudgeEngine(
            deliveries=deliveries,
            progress=repositories.progress,
            exercises=knowledge.exercises,
            messengers={"slack": HttpMessenger(http, args.platform)},
            clock=SystemClock(),
            owner=args.owner,
        )
        await asyncio.sleep(max(args.start_at - time.time(), 0))
        totals: collections.Counter[str] = collections.Counter()
        ticks = 0
        while True:
            report = await nudges.tick()
            ticks += 1
            totals.update(report.as_dict())
            now = datetime.now(UTC)
            seen = await deliveries.overview(now, now - nudges.policy.grace)
            if seen.subscriptions_due + seen.pending + seen.retrying + seen.sending == 0:
                break
            if not report.due:
                await asyncio.sleep(0.05)  # the other process holds the rest
    await engine.dispose()
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"owner": args.owner, "ticks": ticks, "rss_mb": rss_kb / 1024, **totals}))


async def fanout(kind: str, processes: int, args: argparse.Namespace) -> dict[str, Any]:
    async with scratch_database(kind, args.postgres_url) as url:
        await asyncio.to_thread(upgrade, url)
        engine = create_engine(url)
        await seed(engine, args.n, datetime.now(UTC) - timedelta(seconds=1), timedelta(0))
        await engine.dispose()
        platform = Platform(args.rate, args.latency_ms / 1000)
        async with platform.serving() as endpoint:
            start_at = time.time() + 3.0  # after the workers have imported and connected
            workers = [
                await asyncio.create_subprocess_exec(
                    sys.executable, __file__, "worker", "--url", url, "--platform", endpoint,
                    "--owner", f"{kind}-{n}", "--start-at", str(start_at),
                    stdout=subprocess.PIPE,
                )
                for n in range(processes)
            ]  # fmt: skip
            outputs = [await w.communicate() for w in workers]
        reports = [json.loads(out.decode().strip().splitlines()[-1]) for out, _ in outputs]
        sent_rows = await count_sent(url)
    wall = platform.last_accept - start_at
    floor = args.n / args.rate
    members = {user for user, _ in platform.accepted}
    return {
        "database": kind,
        "processes": processes,
        "wall_s": round(wall, 2),
        "floor_s": floor,
        "ratio": round(wall / floor, 3),
        "first_send_s": round(platform.first_accept - start_at, 2),
        "duplicates": sum(c - 1 for c in platform.accepted.values()),
        "losses": args.n - len(members),
        "sent_rows": sent_rows,
        "answered_429": platform.limited,
        "per_process_sent": [r["sent"] for r in reports],
        "peak_rss_mb": [round(r["rss_mb"], 1) for r in reports],
    }


# --- Idle tick ----------------------------------------------------------------------------------


async def idle_tick(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    async with scratch_database(kind, args.postgres_url) as url:
        await asyncio.to_thread(upgrade, url)
        engine = create_engine(url)
        now = datetime.now(UTC)
        # None due: the next nudges spread over the coming week.
        await seed(engine, args.idle, now + timedelta(hours=1), timedelta(days=6), history=True)
        deliveries = SqlDeliveryRepository(engine)
        nudges = NudgeEngine(
            deliveries=deliveries,
            progress=build_repositories(engine).progress,
            exercises=(),
            messengers={"slack": _NeverCalled()},
            clock=SystemClock(),
        )

        async def measure() -> tuple[float, float]:
            for _ in range(5):
                await nudges.tick()
            samples = []
            for _ in range(50):
                started = time.perf_counter()
                report = await nudges.tick()
                samples.append((time.perf_counter() - started) * 1000)
                assert report.due == 0
            return statistics.median(samples), sorted(samples)[int(len(samples) * 0.95) - 1]

        indexed = await measure()
        async with engine.begin() as conn:
            await conn.execute(text("DROP INDEX ix_subscriptions_status_next_due_at"))
            await conn.execute(text("DROP INDEX ix_deliveries_status_next_attempt_at"))
        unindexed = await measure()
        await engine.dispose()
    return {
        "database": kind,
        "subscriptions": args.idle,
        "tick_ms_median": round(indexed[0], 2),
        "tick_ms_p95": round(indexed[1], 2),
        "without_indexes_ms_median": round(unindexed[0], 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


class _NeverCalled:
    async def send(self, user: UserRef, reply: Reply) -> SendOutcome:
        raise AssertionError("nothing is due")


# --- Main ---------------------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> None:
    postgres = await postgres_reachable(args.postgres_url)
    if not postgres:
        print(f"PostgreSQL at {args.postgres_url} is unreachable: its runs are skipped")
    if args.only in (None, "fanout"):
        print(
            f"Fan-out: N={args.n} due at once, platform limit R={args.rate}/s "
            f"(429 + Retry-After beyond), {args.latency_ms} ms per call, wall clock"
        )
        runs = [("sqlite", 1)] + ([("postgres", 1), ("postgres", 2)] if postgres else [])
        for kind, processes in runs:
            print(json.dumps(await fanout(kind, processes, args)))
    if args.only in (None, "idle"):
        print(f"Idle tick: {args.idle} subscriptions, none due, last week's sends on record")
        for kind in ["sqlite"] + (["postgres"] if postgres else []):
            print(json.dumps(await idle_tick(kind, args)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("role", nargs="?", default="bench", choices=["bench", "worker"])
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--rate", type=int, default=100)
    parser.add_argument("--latency-ms", type=float, default=50)
    parser.add_argument("--idle", type=int, default=100_000)
    parser.add_argument("--only", choices=["fanout", "idle"])
    parser.add_argument(
        "--postgres-url", default=os.environ.get("PMADVICE_TEST_POSTGRES_URL", DEFAULT_POSTGRES)
    )
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--platform", help=argparse.SUPPRESS)
    parser.add_argument("--owner", help=argparse.SUPPRESS)
    parser.add_argument("--start-at", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    asyncio.run(run_worker(args) if args.role == "worker" else run(args))


if __name__ == "__main__":
    main()
