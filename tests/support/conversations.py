"""The shipped `Conversation` interface (bot.testing) held through Slack and through Discord.

Slack: `/pmadvice <text>` and button presses through the real slack-bolt app and the fake Web
API. Discord: the text becomes the declared subcommand with its typed options, through the
real discord.py client and the fake gateway.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.core import commands as c
from bot.testing import Answer
from tests.discord.conftest import Answer as DiscordAnswer
from tests.discord.conftest import Chat, embed_text
from tests.slack.support import Answer as SlackAnswer
from tests.slack.support import Member, section_text


def slack_answer(answer: SlackAnswer) -> Answer:
    headers = [b["text"]["text"] for b in answer.blocks if b.get("type") == "header"]
    text = section_text(answer.blocks)
    title = headers[0] if headers else text.split("\n", 1)[0].strip("*")
    return Answer(title=title, text="\n".join([*headers, text]), buttons=tuple(answer.buttons()))


def discord_answer(answer: DiscordAnswer) -> Answer:
    if answer.type == 9:
        return Answer(answer.modal.get("title", ""), "", form=answer.modal.get("title"))
    text = "\n".join(embed_text(e) for e in answer.embeds)
    return Answer(answer.title, text, tuple(answer.buttons()))


@dataclass
class SlackConversation:
    member: Member
    last: SlackAnswer | None = field(default=None, init=False)

    async def say(self, text: str) -> Answer:
        self.last = await self.member.ask(text)
        return slack_answer(self.last)

    async def press(self, label: str) -> Answer:
        assert self.last is not None, "nothing to press yet"
        self.last = await self.member.click(self.last, label)
        return slack_answer(self.last)


@dataclass
class DiscordConversation:
    chat: Chat
    last: DiscordAnswer | None = field(default=None, init=False)

    async def say(self, text: str) -> Answer:
        sub, group, options = slash_for(text)
        self.last = await self.chat.slash(sub, group, **options)
        return discord_answer(self.last)

    async def press(self, label: str) -> Answer:
        message = self.last.message if self.last is not None else None
        assert message is not None, "nothing to press yet"
        self.last = await self.chat.press(message, label)
        return discord_answer(self.last)


def slash_for(text: str) -> tuple[str, str, dict[str, Any]]:
    """The subcommand, its group and options that mean what `text` means in chat."""
    command = c.parse(text)
    spec = c.spec_of(command)
    if spec is None or (isinstance(command, c.Ask) and spec.name == "ask"):
        query = command.query if isinstance(command, c.Ask) else text
        return "ask", "pmadvice", {"question": query}
    group = "pmadvice-mod" if spec.moderator_only else "pmadvice"
    typed = [a for a in spec.args if a.kind is not c.ArgKind.DRAFT]
    rest = text.split(" ", 1)[1] if " " in text else ""
    values = rest.split(maxsplit=max(len(typed) - 1, 0)) if rest else []
    options = {
        arg.name: int(value) if arg.kind is c.ArgKind.COUNT else value
        for arg, value in zip(typed, values, strict=False)
    }
    return spec.name, group, options
