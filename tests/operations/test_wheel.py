"""A built wheel is self-contained: installed (not editable) into a fresh environment, the
commands work from an empty folder with the knowledge base and migrations it carries."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

from tests.operations.support import ROOT, environment

SKIPPED = (".venv*", ".git", "build", "*.egg-info", "__pycache__", ".*_cache", "*.db*")


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_the_wheel_carries_knowledge_and_migrations_and_runs_from_anywhere(
    tmp_path: Path,
) -> None:
    source, dist = tmp_path / "source", tmp_path / "dist"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(*SKIPPED))
    # uv (a development dependency) rather than pip, which uv-made environments lack.
    run(sys.executable, "-m", "uv", "build", "--wheel", "--no-build-isolation", "--quiet",
        "--python", sys.executable, "--out-dir", dist, source, cwd=tmp_path)  # fmt: skip
    [wheel] = dist.glob("pmadvice-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "bot/knowledge/topics.yaml" in names
    assert "bot/data/scope-wordllama.npz" in names
    assert any(n.startswith("bot/knowledge/snippets/") for n in names)
    assert "bot/migrations/env.py" in names
    assert any(n.startswith("bot/migrations/versions/0001") for n in names)

    # A fresh environment whose dependencies come from this one (no network needed); the
    # package itself only from the wheel.
    target = tmp_path / "venv"
    venv.create(target, with_pip=False)
    python = target / "bin" / "python"
    site = Path(
        run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])",
            cwd=tmp_path).strip()
    )  # fmt: skip
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run(sys.executable, "-m", "uv", "pip", "install", "--python", python, "--no-deps",
        "--quiet", wheel, cwd=tmp_path)  # fmt: skip

    empty = tmp_path / "empty"
    empty.mkdir()
    env = environment(tmp_path)
    pmadvice = target / "bin" / "pmadvice"
    located = run(python, "-c", "import bot; print(bot.__file__)", cwd=empty, env=env)
    assert str(site) in located

    assert "snippets" in run(pmadvice, "knowledge", "check", cwd=empty, env=env)
    assert "Database is at migration" in run(pmadvice, "db", "upgrade", cwd=empty, env=env)
    found = json.loads(run(pmadvice, "search", "--json", "what is product ops", cwd=empty, env=env))
    assert found["results"], found
