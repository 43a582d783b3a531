"""Test helpers shipped with the bot: a settable clock, and one way to hold a conversation.

`Conversation` is what a scenario talks to: `say` what a member types after /pmadvice, `press`
a button of the last answer, and read an `Answer`. `ConsoleConversation` holds one through the
console adapter over any facade (for example one on `bot.storage.memory` repositories); the
test suite drives Slack and Discord through the same interface, so a scenario is written once.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from rich.console import Console

from bot.console_adapter import ConsoleSession, console_user
from bot.core.facade import PmAdvice
from bot.core.models import Actor
from bot.core.reply import Reply


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, **kwargs: float) -> None:
        self.current += timedelta(**kwargs)


@dataclass(frozen=True)
class Answer:
    """What the member saw, the same shape on every platform."""

    title: str
    text: str
    """Everything shown: title, body, fields and notes, as plain text."""
    buttons: tuple[str, ...] = ()
    form: str | None = None
    """The title of the form that opened, if the answer was a form."""

    def __contains__(self, fragment: str) -> bool:
        return fragment in self.text


class Conversation(Protocol):
    async def say(self, text: str) -> Answer:
        """Type `text` after /pmadvice (or at the console prompt)."""
        ...

    async def press(self, label: str) -> Answer:
        """Press the button labelled `label` under the last answer."""
        ...


def answer_of(reply: Reply) -> Answer:
    parts = [reply.title, reply.body, *(f"{f.name}: {f.value}" for f in reply.fields)]
    parts.append(reply.context)
    return Answer(
        title=reply.title or (reply.form.title if reply.form else ""),
        text="\n".join(p for p in parts if p),
        buttons=tuple(b.label for b in reply.buttons),
        form=reply.form.title if reply.form else None,
    )


@dataclass
class ConsoleConversation:
    """A member at the console: lines typed in, numbered buttons pressed by number."""

    facade: PmAdvice
    user_id: str = "member"
    moderator: bool = False
    screen: io.StringIO = field(default_factory=io.StringIO)

    def __post_init__(self) -> None:
        actor = Actor(console_user(self.user_id), self.moderator, self.user_id)
        console = Console(file=self.screen, highlight=False, soft_wrap=True, width=10_000)
        self.session = ConsoleSession(self.facade.handle, self.facade.submit_form, actor, console)

    async def say(self, text: str) -> Answer:
        await self.session.run_line(text, interactive=False)
        return self._last()

    async def press(self, label: str) -> Answer:
        last = self.session.last_reply
        labels = [b.label for b in last.buttons] if last else []
        if label not in labels:
            raise LookupError(f"no button {label!r} under the last answer: {labels}")
        await self.session.run_line(str(labels.index(label) + 1), interactive=False)
        return self._last()

    def _last(self) -> Answer:
        assert self.session.last_reply is not None
        return answer_of(self.session.last_reply)
