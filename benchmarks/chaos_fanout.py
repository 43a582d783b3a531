"""Chaos: `kill -9` the only bot mid fan-out of the weekly nudges, restart it, count (prints
numbers; not a test).

N Slack members are due at once on PostgreSQL. The real bot (`pmadvice run slack --http`)
sends their DMs to the fake Slack on 127.0.0.1, which takes `--latency-ms` per message. When
`--kill-after` DMs have arrived, the bot gets SIGKILL; a new bot is started at once and runs
until every delivery is recorded and its leases could have run out twice. Every DM the
platform accepted is counted per member: duplicates (a member with more than one) and lost
(a member with none) should both be 0.

`--no-history` makes the fake refuse `conversations.history` (a workspace that did not grant
`im:history`): the bot cannot tell, so at most the rows whose send had begun go out again.

Usage: python benchmarks/chaos_fanout.py [--n 300] [--kill-after 60] [--latency-ms 300]
       [--postgres-url URL] [--no-history]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import signal
import socket
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import make_url, pool, text
from sqlalchemy.ext.asyncio import create_async_engine

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.fanout import seed  # noqa: E402
from bot.storage.migrate import upgrade  # noqa: E402
from tests.slack.fake_slack import FakeSlack  # noqa: E402
from tests.slack.support import BOT_TOKEN, SIGNING_SECRET  # noqa: E402

DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
LEASE = 60.0
"""The nudge engine's lease (NudgePolicy.lease): a killed bot's claims are due again after it."""


class SlowSlack(FakeSlack):
    """The fake Slack, taking a while to accept each DM (as a busy API does)."""

    latency = 0.3
    refuse_history = False

    async def _m_chat_postMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        await asyncio.sleep(self.latency)
        return await super()._m_chat_postMessage(params)

    async def _m_conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        if self.refuse_history:
            return {"ok": False, "error": "missing_scope"}
        return await super()._m_conversations_history(params)

    def dms(self) -> collections.Counter[str]:
        return collections.Counter(
            channel for channel, posted in self.history.items() for _ in posted
        )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def scratch_database(server: str) -> str:
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT", poolclass=pool.NullPool)
    name = f"pmadvice_chaos_{uuid.uuid4().hex[:10]}"
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE template0'))
    await admin.dispose()
    return make_url(server).set(database=name).render_as_string(hide_password=False)


async def drop_database(server: str, url: str) -> None:
    admin = create_async_engine(server, isolation_level="AUTOCOMMIT", poolclass=pool.NullPool)
    name = make_url(url).database
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    await admin.dispose()


async def start_bot(env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", "slack", "--http", "--port", str(free_port()),
        env=env, cwd=ROOT, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL, stderr=log.open("ab"),
    )  # fmt: skip


async def statuses(url: str) -> dict[str, int]:
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(text("SELECT status, count(*) FROM deliveries GROUP BY 1"))
            return {str(r[0]): int(r[1]) for r in rows}
    finally:
        await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--kill-after", type=int, default=60)
    parser.add_argument("--latency-ms", type=float, default=300)
    parser.add_argument("--postgres-url", default=os.environ.get("PMADVICE_TEST_POSTGRES_URL"))
    parser.add_argument("--no-history", action="store_true")
    args = parser.parse_args()
    server = args.postgres_url or DEFAULT_POSTGRES

    fake = SlowSlack(bot_token=BOT_TOKEN)
    fake.latency = args.latency_ms / 1000
    fake.refuse_history = args.no_history
    await fake.start()
    url = await scratch_database(server)
    log = Path(f"/tmp/{make_url(url).database}.log")
    try:
        await asyncio.to_thread(upgrade, url)
        engine = create_async_engine(url, poolclass=pool.NullPool)
        due = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
        await seed(engine, args.n, due, timedelta(0))
        await engine.dispose()
        env = {
            **{k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")},
            "PMADVICE_DATABASE_URL": url,
            "PMADVICE_NUDGE_TICK_SECONDS": "2",
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "PMADVICE_SLACK_API_URL": fake.api_url,
        }

        started = time.monotonic()
        first = await start_bot(env, log)
        while sum(fake.dms().values()) < args.kill_after:
            if first.returncode is not None:
                raise SystemExit(f"the bot exited early; see {log}")
            await asyncio.sleep(0.05)
        first.send_signal(signal.SIGKILL)
        await first.wait()
        at_kill = sum(fake.dms().values())
        in_flight = (await statuses(url)).get("sending", 0)
        killed_at = time.monotonic()

        second = await start_bot(env, log)
        deadline = killed_at + 4 * LEASE + 60
        while time.monotonic() < deadline:
            seen = await statuses(url)
            if seen.get("sent", 0) == args.n:
                break
            await asyncio.sleep(1)
        all_recorded = time.monotonic() - killed_at
        # Stay past a second lease: any late duplicate would arrive by then.
        await asyncio.sleep(max(0.0, killed_at + 2 * LEASE + 5 - time.monotonic()))
        second.send_signal(signal.SIGTERM)
        await asyncio.wait_for(second.wait(), 15)

        counts = fake.dms()
        members = args.n
        duplicates = sum(c - 1 for c in counts.values() if c > 1)
        lost = members - len(counts)
        final = await statuses(url)
        print(f"members due               {members}")
        print(f"DMs at the kill           {at_kill} (rows left 'sending': {in_flight})")
        print(f"history check             {'refused' if args.no_history else 'available'}")
        print(f"all recorded after kill   {all_recorded:.1f} s")
        print(f"DMs accepted in total     {sum(counts.values())}")
        print(f"duplicates                {duplicates}")
        print(f"lost                      {lost}")
        print(f"final statuses            {final}")
        print(f"second bot exit code      {second.returncode}")
        print(f"total wall time           {time.monotonic() - started:.1f} s  (log: {log})")
    finally:
        await drop_database(server, url)
        await fake.stop()


if __name__ == "__main__":
    asyncio.run(main())
