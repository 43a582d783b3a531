"""The bot's start-up: a console bot started, asked one question, answered, and stopped.

    python benchmarks/startup.py [--runs 5] [--checkout DIR]

Each run is a fresh process on a fresh SQLite database (so migrations run too), as someone
trying `make run` would start it. The first run also fills the build cache (parsed knowledge,
built index, the model's word vectors); the rest find it warm. Prints the first run and the
median of the others: wall time, user + sys CPU, and peak RSS. `--checkout` measures another
checkout of the project with this interpreter (e.g. an older commit made with `git worktree
add`), so two versions are compared on the same machine in the same run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUESTION = "how do I write a PRD\n"
START = "import sys; from bot.cli import main; sys.exit(main(['console']))"


def one_run(checkout: Path, scratch: Path, run: int) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak RSS (MB) of one start, question and stop."""
    env = {
        **os.environ,
        "PYTHONPATH": str(checkout),
        "PMADVICE_DATABASE_URL": f"sqlite+aiosqlite:///{scratch}/bot-{run}.db",
        "PMADVICE_CACHE_DIR": str(scratch / "cache"),
        "PMADVICE_KNOWLEDGE_DIR": str(checkout / "knowledge"),
    }
    env.pop("PMADVICE_HTTP_PORT", None)
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-c", START],
        cwd=checkout,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdin is not None
    assert process.stdout is not None
    process.stdin.write(QUESTION.encode())
    process.stdin.close()
    answer = process.stdout.read().decode()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) or not answer.strip():
        raise SystemExit(f"the bot in {checkout} did not answer (exit status {status})")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--checkout", type=Path, action="append", default=[])
    args = parser.parse_args()
    print("console bot: start, one question, answer, stop (fresh database each run)")
    for checkout in [ROOT, *args.checkout]:
        with tempfile.TemporaryDirectory() as folder:
            scratch = Path(folder)
            first = one_run(checkout.resolve(), scratch, 0)
            warm = [one_run(checkout.resolve(), scratch, run) for run in range(1, args.runs + 1)]
        median = [statistics.median(column) for column in zip(*warm, strict=True)]
        print(f"  {checkout.resolve()}")
        for label, (wall, cpu, rss) in (("first run", first), ("warm (median)", median)):
            print(f"    {label:14s} {wall:5.2f} s wall  {cpu:5.2f} s cpu  {rss:6.0f} MB peak RSS")


if __name__ == "__main__":
    main()
