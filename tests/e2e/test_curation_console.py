"""Curation, privacy and flood control as a member and a moderator use them: the real
`pmadvice` command in a subprocess, scripted through stdin, checked in its output, its
database and the files it exports."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot.catalog import load_knowledge

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = load_knowledge(ROOT / "knowledge")
TARGET = next(s for s in SHIPPED.snippets if s.id == "whether-not-how")
BODY = (
    "Pick one report, check or meeting you own and ask who would notice if it stopped. If "
    "nobody would, propose stopping it and write down what you learned. That story shows "
    "judgment about value, which is what product interviews probe for."
)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SLACK_", "DISCORD_", "PMADVICE_"))
    }
    environment["PMADVICE_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    environment["PMADVICE_LOG_LEVEL"] = "WARNING"
    return environment


def pmadvice(env: dict[str, str], *argv: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "bot", *argv],
        input=stdin,
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return result


def attachment(output: str, name: str) -> str:
    """The text the console printed for an attachment called `name`."""
    start = output.index(f"--- {name} ---\n") + len(f"--- {name} ---\n")
    end = output.index("\n---\n", start)
    return output[start:end] + "\n"


def database(env: dict[str, str]) -> sqlite3.Connection:
    return sqlite3.connect(env["PMADVICE_DATABASE_URL"].split("///", 1)[1])


def rows_mentioning(
    connection: sqlite3.Connection, value: str
) -> list[tuple[str, tuple[object, ...]]]:
    found = []
    tables = [r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    for table in tables:
        for row in connection.execute(f'SELECT * FROM "{table}"'):
            if any(isinstance(cell, str) and value in cell for cell in row):
                found.append((table, row))
    return found


def test_a_member_gets_their_data_then_is_forgotten(env: dict[str, str]) -> None:
    script = "\n".join(
        [
            "subscribe mon 09:00 Europe/Berlin",
            "done https://example.org/x",
            f"suggest Retire a report nobody reads | {BODY} | ops-vs-pm | which report should I stop",
            "vote whether-not-how up",
            "mydata",
            "",
        ]
    )
    out = pmadvice(env, "console", "--user", "ada-lovelace", stdin=script).stdout
    data = json.loads(attachment(out, "pmadvice-my-data.json"))
    assert data["subscription"]["timezone"] == "Europe/Berlin"
    assert data["subscription"]["weekday"] == 0
    assert data["subscription"]["local_time"] == "09:00:00"
    [completion] = data["progress"]
    assert (completion["status"], completion["link"]) == ("done", "https://example.org/x")
    [suggestion] = data["suggestions"]
    assert suggestion["title"] == "Retire a report nobody reads"
    assert suggestion["questions"] == ["which report should I stop"]
    assert data["votes"][0]["snippet_id"] == "whether-not-how"

    out = pmadvice(
        env, "console", "--user", "ada-lovelace", stdin="forget\nforget confirm\n"
    ).stdout
    assert "forget confirm" in out  # the first answer asks for the confirmation
    assert "you're forgotten" in out

    with database(env) as connection:
        assert rows_mentioning(connection, "ada-lovelace") == []
        [(title, author_platform)] = connection.execute(
            "SELECT title, author_platform FROM suggestions"
        ).fetchall()
        assert (title, author_platform) == ("Retire a report nobody reads", "erased")
        # The vote still counts, under a stand-in that names nobody.
        assert connection.execute("SELECT count(*) FROM feedback_votes").fetchone() == (1,)


def test_a_moderator_edits_twice_reads_the_history_and_reverts(env: dict[str, str]) -> None:
    script = "\n".join(
        [
            f"edit whether-not-how First rewrite of the title | {BODY} | ops-vs-pm",
            f"edit whether-not-how Second rewrite of the title | {BODY} Second. | ops-vs-pm",
            "history whether-not-how",
            "",
        ]
    )
    out = pmadvice(env, "console", "--user", "mo", "--mod", stdin=script).stdout
    history = out[out.index("History of whether-not-how") :]
    # Newest first: the two edits, then the shipped YAML version they started from.
    assert history.index("r3 edited") < history.index("r2 edited") < history.index("r1 YAML")
    assert "First rewrite of the title → Second rewrite of the title" in history

    out = pmadvice(
        env,
        "console",
        "--user",
        "mo",
        "--mod",
        stdin="revert whether-not-how r1\nshow whether-not-how\n",
    ).stdout
    assert "Reverted" in out
    shown = out[out.index(TARGET.title) :]
    assert TARGET.body.split("\n")[0] in shown
    assert "First rewrite" not in shown


def test_export_applied_as_told_passes_the_check_and_touches_one_snippet(
    env: dict[str, str], tmp_path: Path
) -> None:
    script = "\n".join(
        [
            f"edit whether-not-how {TARGET.title} | {' '.join(TARGET.body.split())} Say it in "
            "one minute. | " + ", ".join(TARGET.topics),
            "export",
            "",
        ]
    )
    out = pmadvice(env, "console", "--user", "mo", "--mod", stdin=script).stdout
    assert "git apply chat-changes.patch" in out
    patch = attachment(out, "chat-changes.patch")

    checkout = tmp_path / "checkout"
    shutil.copytree(ROOT / "knowledge", checkout / "knowledge")
    (checkout / "chat-changes.patch").write_text(patch, encoding="utf-8")
    subprocess.run(["git", "apply", "chat-changes.patch"], cwd=checkout, check=True)

    check = pmadvice(
        env | {"PMADVICE_KNOWLEDGE_DIR": str(checkout / "knowledge")}, "knowledge", "check"
    )
    assert check.returncode == 0, check.stderr
    assert check.stdout.startswith("OK:")

    diff = subprocess.run(
        ["git", "diff", "--no-index", "--unified=0", str(ROOT / "knowledge"), "knowledge"],
        cwd=checkout,
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    changed = [
        line
        for line in diff.splitlines()
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    shipped = (ROOT / "knowledge" / "snippets" / "ops-vs-pm.yaml").read_text(encoding="utf-8")
    start = shipped.index("  - id: whether-not-how\n")
    block = shipped[start : shipped.index("\n  - id: ", start + 1)].splitlines()
    assert 1 <= len(changed) <= 4
    assert all(line[1:] in block for line in changed if line.startswith("-"))
    assert "Say" in "".join(changed)
    assert "ops-vs-pm.yaml" in diff
    assert diff.count("diff --git") == 1

    # Once the files carry the change, the chat copy steps aside: nothing left to export.
    out = pmadvice(
        env | {"PMADVICE_KNOWLEDGE_DIR": str(checkout / "knowledge")},
        "console",
        "--mod",
        stdin="export\nhistory whether-not-how\n",
    ).stdout
    assert "Nothing to export" in out
    assert "git carries r2" in out


def test_ten_suggestions_in_a_minute_meet_the_limit(env: dict[str, str]) -> None:
    lines = [f"suggest Idea number {n} for the base | {BODY} | ops-vs-pm" for n in range(10)]
    out = pmadvice(env, "console", "--user", "eager", stdin="\n".join(lines) + "\n").stdout
    assert out.count("Thanks, suggestion received") == 3
    assert "Please try again in" in out
    with database(env) as connection:
        assert connection.execute("SELECT count(*) FROM suggestions").fetchone() == (3,)
