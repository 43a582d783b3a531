"""`pmadvice nudges status|run-once` and nudges in the console, as an operator runs them."""

from __future__ import annotations

import asyncio
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.cli import main
from bot.core.models import Subscription, SubscriptionStatus, UserRef
from bot.storage.engine import create_engine
from bot.storage.migrate import upgrade
from bot.storage.repositories import build_repositories

COUNTS = {"due", "sent", "retrying", "failed", "skipped"}


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    monkeypatch.setenv("PMADVICE_DATABASE_URL", url)
    for name in ("SLACK_BOT_TOKEN", "DISCORD_TOKEN", "PMADVICE_NUDGE_GRACE_HOURS"):
        monkeypatch.delenv(name, raising=False)
    return url


def seed(url: str, missed: dict[str, timedelta]) -> None:
    """Subscriptions whose nudge came due `missed[user_id]` ago (`slack-` ids are on Slack)."""

    async def go() -> None:
        await asyncio.to_thread(upgrade, url)
        engine = create_engine(url)
        repos = build_repositories(engine)
        now = datetime.now(UTC)
        for user_id, ago in missed.items():
            due = now - ago
            platform = "slack" if user_id.startswith("slack-") else "console"
            await repos.subscriptions.save(
                Subscription(
                    user=UserRef(platform, "T1" if platform == "slack" else "local", user_id),
                    weekday=due.weekday(),
                    local_time=due.time(),
                    timezone="UTC",
                    status=SubscriptionStatus.ACTIVE,
                    created_at=due - timedelta(weeks=4),
                    next_due_at=due,
                    reminders=False,  # only the weekly nudges are counted here
                )
            )
        await engine.dispose()

    asyncio.run(go())


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_status_of_an_empty_database(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "nudges", "status", "--json")

    assert code == 0
    assert json.loads(out) == {
        "due_now": 0, "pending": 0, "retrying": 0, "sending": 0, "failed": 0, "paused": 0,
        "next_tick": None,
    }  # fmt: skip


def test_run_once_sends_what_is_due_and_reports_the_counts(
    database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    hour = timedelta(hours=1)
    seed(database, {"console-user": hour, "slack-ana": hour, "bo": timedelta(weeks=2) + hour})

    _, status, _ = run(capsys, "nudges", "status", "--json")
    assert json.loads(status)["due_now"] == 3

    code, dry, _ = run(capsys, "nudges", "run-once", "--dry-run", "--json")
    assert code == 0
    # Slack members wait for a bot process with Slack; bo's two older weeks are skipped.
    assert json.loads(dry) == {"due": 2, "sent": 0, "retrying": 0, "failed": 0, "skipped": 2}

    code, out, err = run(capsys, "nudges", "run-once", "--json")
    assert code == 0
    assert json.loads(out) == {"due": 2, "sent": 2, "retrying": 0, "failed": 0, "skipped": 2}
    assert err.count("[direct message to") == 2  # with --json, DMs go to stderr
    assert "This week's exercise" in err

    _, again, _ = run(capsys, "nudges", "run-once", "--json")
    assert json.loads(again) == dict.fromkeys(COUNTS, 0)

    _, status, _ = run(capsys, "nudges", "status", "--json")
    after = json.loads(status)
    assert (after["due_now"], after["pending"], after["failed"]) == (1, 1, 0)
    assert datetime.fromisoformat(after["next_tick"]) <= datetime.now(UTC)


def test_human_readable_output(database: str, capsys: pytest.CaptureFixture[str]) -> None:
    seed(database, {"console-user": timedelta(minutes=5)})

    _, dry, _ = run(capsys, "nudges", "run-once", "--dry-run")
    _, sent, _ = run(capsys, "nudges", "run-once")
    _, status, _ = run(capsys, "nudges", "status")

    assert "Due now: 1 (dry run, nothing sent)" in dry
    assert "[direct message to console-user]" in sent
    assert "Due: 1. Sent 1, retrying 0, failed 0." in sent
    assert "Due now: 0." in status
    assert "Next tick with work:" in status


def test_the_console_prints_a_nudge_that_came_due(
    database: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(database, {"console-user": timedelta(hours=3)})
    monkeypatch.setattr("sys.stdin", io.StringIO("progress\n"))

    code, out, _ = run(capsys, "console")

    assert code == 0
    assert out.count("[direct message to console-user]") == 1
    assert out.index("This week's exercise") < out.index("Your progress")
    assert "[1] Mark done  (done)" in out
