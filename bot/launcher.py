"""The `pmadvice` executable: the command line, imported with the cyclic collector paused.

Importing the libraries makes a few hundred thousand long-lived objects and almost no garbage,
so collecting while they load is wasted work (about a tenth of a one-shot command's CPU).
Once they are in, they are frozen: later collections skip them, as they never become garbage.
"""

from __future__ import annotations

import gc


def main() -> int:
    gc.disable()
    try:
        from bot.cli import main as run
    finally:
        gc.freeze()
        gc.enable()
    return run()
