"""Operational faults end in one clear line naming the setting, a non-zero exit and no
traceback: the real command in a subprocess, as an operator meets it."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.operations.support import ROOT, environment, pmadvice

UNREACHABLE = "postgresql+asyncpg://pmadvice:SENTINEL-PASSWORD@127.0.0.1:9/pmadvice"


def assert_one_clear_line(result: subprocess.CompletedProcess[str], setting: str) -> None:
    shown = result.stdout + result.stderr
    assert result.returncode == 2, shown
    assert "Traceback" not in shown
    assert len(result.stderr.strip().splitlines()) <= 3, result.stderr
    assert setting in result.stderr


@pytest.mark.parametrize(
    "command",
    [("db", "upgrade"), ("db", "current"), ("search", "roadmaps"), ("run", "console")],
    ids=lambda c: " ".join(c),
)
def test_an_unreachable_database(tmp_path: Path, command: tuple[str, ...]) -> None:
    env = environment(tmp_path, PMADVICE_DATABASE_URL=UNREACHABLE)
    result = pmadvice(*command, env=env)
    assert_one_clear_line(result, "PMADVICE_DATABASE_URL")
    assert "SENTINEL-PASSWORD" not in result.stdout + result.stderr


@pytest.mark.parametrize("command", [("db", "upgrade"), ("run", "console")], ids=" ".join)
def test_a_data_folder_that_cannot_be_written(tmp_path: Path, command: tuple[str, ...]) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data folder should be")
    env = environment(
        tmp_path, PMADVICE_DATABASE_URL=f"sqlite+aiosqlite:///{blocker / 'data' / 'bot.db'}"
    )
    result = pmadvice(*command, env=env)
    assert_one_clear_line(result, "PMADVICE_DATABASE_URL")


@pytest.mark.parametrize(
    "url",
    ["postgresql+asyncpg://u@db:notaport/pmadvice", "mysql://u@db/pmadvice", "postgresql://u@db"],
)
def test_a_bad_database_url(tmp_path: Path, url: str) -> None:
    result = pmadvice("search", "roadmaps", env=environment(tmp_path, PMADVICE_DATABASE_URL=url))
    assert_one_clear_line(result, "PMADVICE_DATABASE_URL")


def test_a_missing_knowledge_folder(tmp_path: Path) -> None:
    env = environment(tmp_path, PMADVICE_KNOWLEDGE_DIR=str(tmp_path / "nowhere"))
    result = pmadvice("knowledge", "check", env=env)
    assert_one_clear_line(result, "PMADVICE_KNOWLEDGE_DIR")


def test_an_invalid_knowledge_folder(tmp_path: Path) -> None:
    broken = tmp_path / "knowledge"
    (broken / "snippets").mkdir(parents=True)
    (broken / "snippets" / "bad.yaml").write_text("- {id: [unclosed\n")
    env = environment(tmp_path, PMADVICE_KNOWLEDGE_DIR=str(broken))
    result = pmadvice("search", "roadmaps", env=env)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("PMADVICE_KNOWLEDGE_DIR:")
    assert "bad.yaml" in result.stderr


def test_no_platform_and_no_terminal_refuses_to_start(tmp_path: Path) -> None:
    result = pmadvice("run", env=environment(tmp_path))
    assert_one_clear_line(result, "SLACK_BOT_TOKEN")


def test_a_second_bot_on_one_sqlite_file_is_refused(tmp_path: Path) -> None:
    env = environment(tmp_path)
    first = subprocess.Popen(
        [sys.executable, "-m", "bot", "console"],
        env=env,
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lock = tmp_path / "data" / "bot.db.lock"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not lock.exists():
            time.sleep(0.1)
        time.sleep(0.5)
        second = pmadvice("run", "console", env=env)
        assert_one_clear_line(second, "PMADVICE_DATABASE_URL")
        assert "another pmadvice bot" in second.stderr
    finally:
        assert first.stdin is not None
        first.stdin.close()
        first.wait(timeout=30)
    # One-shot commands still work beside a running bot.
    assert pmadvice("search", "roadmaps", env=env).returncode == 0


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """The file as a read-only disk or an immutable file presents it (root ignores modes)."""
    if os.getuid() != 0:
        path.chmod(0o444)
        yield
        path.chmod(0o644)
        return
    if subprocess.run(["chattr", "+i", str(path)], check=False).returncode != 0:
        pytest.skip("chattr is not available to make a file read-only for root")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=False)


def test_a_read_only_sqlite_file_is_noticed_at_start_up(tmp_path: Path) -> None:
    env = environment(tmp_path)
    assert pmadvice("db", "upgrade", env=env).returncode == 0
    with read_only(tmp_path / "data" / "bot.db"):
        result = pmadvice("run", "console", env=env, stdin="subscribe tue 09:00 UTC\n")
    assert_one_clear_line(result, "PMADVICE_DATABASE_URL")
    assert "read-only" in result.stderr
