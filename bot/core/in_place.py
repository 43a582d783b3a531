"""Buttons whose answer replaces the message they were pressed in, rather than adding one.

"Another answer" swaps the answer for the next one. A vote keeps the snippet on screen, drops
the vote buttons (the vote is in) and says thanks underneath. Platforms that can edit the
message a button sits in use this; the others post the reply as usual.
"""

from __future__ import annotations

from dataclasses import replace

from bot.core import commands as c
from bot.core.reply import Reply

VOTE_PREFIX = "vote "


def replaces_message(command: c.Command) -> bool:
    return isinstance(command, c.Vote) or (isinstance(command, c.Ask) and command.offset > 0)


def snippet_command(command: c.Command) -> str | None:
    """For a vote: the command that shows the snippet voted on, to redraw it."""
    return f"show {command.snippet_id}" if isinstance(command, c.Vote) else None


def after_vote(snippet: Reply, thanks: Reply) -> Reply:
    """The snippet as it was shown, without vote buttons, the thanks above its footnote."""
    kept = tuple(b for b in snippet.buttons if not b.command.startswith(VOTE_PREFIX))
    extra = tuple(b for b in thanks.buttons if b not in kept)
    context = "\n".join(part for part in (thanks.body, snippet.context) if part)
    return replace(snippet, buttons=kept + extra, context=context)
