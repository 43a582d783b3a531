"""Running the real `pmadvice` command in a subprocess, as an operator would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KEEP = ("PATH", "HOME", "LANG", "LC_ALL", "SYSTEMROOT", "TMPDIR")


def environment(tmp_path: Path, **values: str) -> dict[str, str]:
    """A clean environment: no tokens from the developer's shell, data under tmp_path."""
    env = {name: os.environ[name] for name in KEEP if name in os.environ}
    env["HOME"] = str(tmp_path / "home")
    env["PMADVICE_DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'data' / 'bot.db'}"
    env.update(values)
    return env


def pmadvice(
    *args: str, env: dict[str, str], cwd: Path | None = None, timeout: float = 60, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env=env,
        cwd=cwd or ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
