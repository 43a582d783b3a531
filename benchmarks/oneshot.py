"""CPU of one `pmadvice search --json QUERY`, with a cold and with a warm build cache.

    python benchmarks/oneshot.py [--runs 5] [--query "how do I write a PRD"]

Each run is a fresh process, as a person or script would start it. "cold" removes the cache of
the parsed knowledge and the built index before every run (the model's word vectors stay, as
they would after the first run on a machine); "warm" leaves it. Prints the median user + sys CPU
seconds of each (CPU, so a busy machine inflates it less than wall time), and the CPU of the
imports alone (a process that only imports what the command imports first).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bot.index_cache import FOLDER

ROOT = Path(__file__).resolve().parents[1]


def cpu_of(command: list[str], env: dict[str, str]) -> float:
    """User + sys CPU seconds of one child process."""
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, cwd=ROOT)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise SystemExit(f"{' '.join(command)} exited {process.returncode}")
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--query", default="how do I write a PRD")
    args = parser.parse_args()
    executable = shutil.which("pmadvice", path=str(Path(sys.executable).parent))
    command = [executable or "pmadvice", "search", "--json", args.query]
    # What the executable imports before it runs a command, the way it imports it.
    imports = [sys.executable, "-c", "import gc; gc.disable(); import bot.cli"]
    with tempfile.TemporaryDirectory() as scratch:
        env = {
            **os.environ,
            "PMADVICE_DATABASE_URL": f"sqlite+aiosqlite:///{scratch}/bench.db",
            "PMADVICE_CACHE_DIR": f"{scratch}/cache",
        }
        cpu_of(command, env)  # creates the database and the word-vector cache
        built = Path(scratch) / "cache" / FOLDER
        results: dict[str, list[float]] = {"cold": [], "warm": [], "imports": []}
        for _ in range(args.runs):
            # Interleaved, so a change in the machine's load touches both alike.
            shutil.rmtree(built, ignore_errors=True)
            results["cold"].append(cpu_of(command, env))
            results["warm"].append(cpu_of(command, env))
            results["imports"].append(cpu_of(imports, env))
    print(f"pmadvice search --json {args.query!r}: median of {args.runs} runs, user + sys CPU")
    for name, values in results.items():
        spread = f"{min(values):.2f}-{max(values):.2f}"
        label = "of which imports" if name == "imports" else f"{name} build cache"
        print(f"  {label:22s} {statistics.median(values):.2f} s  (range {spread})")


if __name__ == "__main__":
    main()
