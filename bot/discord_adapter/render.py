"""Turn a neutral Reply into Discord messages that always fit Discord's limits.

Limits (a 400 from Discord would lose the reply): embed title 256, description 4,096, 25 fields
(name 256, value 1,024), footer 2,048, author 256 and 6,000 characters in all per message;
content 2,000; 25 buttons in rows of 5, labels of 80. Long replies are split over several
messages rather than rejected; buttons and the file ride on the last and first respectively.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import discord

from bot.core.reply import Attachment, Button, ButtonStyle, Reply
from bot.discord_adapter.custom_ids import BUTTON_PREFIX, CommandKeys, encode
from bot.discord_adapter.safety import clip, safe_text

TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELDS_MAX = 25
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_MAX = 2048
AUTHOR_MAX = 256
EMBED_TOTAL_MAX = 6000
CONTENT_MAX = 2000
BUTTONS_MAX = 25
BUTTONS_PER_ROW = 5
LABEL_MAX = 80
BLANK = "\u200b"

COLOUR = discord.Colour(0x4F7CAC)
ERROR_COLOUR = discord.Colour(0xD9822B)

_BOLD = re.compile(r"(?<![*\w])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![*\w])")
_ITALIC = re.compile(r"(?<![_\w])_(?=\S)([^_\n]+?)(?<=\S)_(?![_\w])")
_STYLES = {
    ButtonStyle.PRIMARY: discord.ButtonStyle.primary,
    ButtonStyle.DANGER: discord.ButtonStyle.danger,
    ButtonStyle.DEFAULT: discord.ButtonStyle.secondary,
}


@dataclass(frozen=True, slots=True)
class ButtonSpec:
    label: str
    custom_id: str
    style: discord.ButtonStyle
    row: int


@dataclass
class Outgoing:
    """One Discord message: embeds, the buttons under it, an optional file."""

    embeds: list[discord.Embed] = field(default_factory=list)
    buttons: tuple[ButtonSpec, ...] = ()
    attachment: Attachment | None = None
    content: str | None = None


def markdown(text: str) -> str:
    """The core's light markdown in Discord's dialect (`*bold*` is `**bold**` here)."""
    return _BOLD.sub(r"**\1**", text)


def plain(text: str) -> str:
    """For places Discord shows markdown literally (footers): drop the markers."""
    text = _BOLD.sub(r"\1", text).replace("`", "")
    return _ITALIC.sub(r"\1", text)


def prose(text: str) -> str:
    # Escape last: nothing done to the text afterwards can re-form a mention.
    return safe_text(markdown(text)).strip()


def chunks(text: str, limit: int) -> list[str]:
    """Split on line breaks, then spaces, then anywhere, into pieces of at most `limit`."""
    pieces: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit + 1)
        if cut < limit // 2:
            cut = text.rfind(" ", 0, limit + 1)
        if cut < limit // 2:
            cut = limit
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip("\n ")
    if text:
        pieces.append(text)
    return pieces


def render(reply: Reply, keys: CommandKeys) -> list[Outgoing]:
    """The messages that carry `reply`; always at least one."""
    colour = ERROR_COLOUR if reply.is_error else COLOUR
    embeds = _embeds(reply, colour)
    messages = [Outgoing(embeds=[embed]) for embed in embeds]
    messages[0].attachment = reply.attachment
    messages[-1].buttons = buttons(reply.buttons, keys)
    return messages


def buttons(items: tuple[Button, ...], keys: CommandKeys) -> tuple[ButtonSpec, ...]:
    specs: list[ButtonSpec] = []
    seen: set[str] = set()
    for item in items:
        custom_id = encode(BUTTON_PREFIX, item.command, keys)
        if custom_id in seen:  # Discord rejects a message with two equal custom ids
            continue
        seen.add(custom_id)
        label = clip(safe_text(item.label).strip() or "Open", LABEL_MAX)
        index = len(specs)
        specs.append(ButtonSpec(label, custom_id, _STYLES[item.style], index // BUTTONS_PER_ROW))
        if len(specs) == BUTTONS_MAX:
            break
    return tuple(specs)


class _EmbedBuilder:
    def __init__(self, colour: discord.Colour) -> None:
        self.colour = colour
        self.done: list[discord.Embed] = []
        self.current = discord.Embed(colour=colour)

    def room(self) -> int:
        return EMBED_TOTAL_MAX - len(self.current)

    def fresh(self) -> None:
        self.done.append(self.current)
        self.current = discord.Embed(colour=self.colour)

    def finish(self) -> list[discord.Embed]:
        if _has_text(self.current) or not self.done:
            if not _has_text(self.current):
                self.current.description = BLANK  # Discord rejects an empty embed
            self.done.append(self.current)
        return self.done


def _has_text(embed: discord.Embed) -> bool:
    return bool(embed.title or embed.description or embed.fields or embed.footer.text)


def _embeds(reply: Reply, colour: discord.Colour) -> list[discord.Embed]:
    builder = _EmbedBuilder(colour)
    title = clip(safe_text(reply.title).replace("\n", " ").strip(), TITLE_MAX)
    if title:
        builder.current.title = title
    if reply.shared_by:
        who = clip(safe_text(reply.shared_by).strip() or "A member", AUTHOR_MAX - 10)
        builder.current.set_author(name=f"Shared by {who}")
    for piece in chunks(prose(reply.body), DESCRIPTION_MAX):
        if builder.current.description or builder.room() < len(piece):
            builder.fresh()
        builder.current.description = piece
    for item in reply.fields:
        name = clip(safe_text(item.name).replace("\n", " ").strip(), FIELD_NAME_MAX) or BLANK
        value = clip(prose(item.value), FIELD_VALUE_MAX) or BLANK
        if len(builder.current.fields) == FIELDS_MAX or builder.room() < len(name) + len(value):
            builder.fresh()
        builder.current.add_field(name=name, value=value, inline=item.inline)
    footer = clip(safe_text(plain(reply.context)).strip(), FOOTER_MAX)
    if footer:
        if builder.room() < len(footer):
            builder.fresh()
        builder.current.set_footer(text=footer)
    return builder.finish()


def notice(text: str, items: tuple[Button, ...], keys: CommandKeys) -> Outgoing:
    """A short message from the adapter itself (not a core reply)."""
    embed = discord.Embed(colour=COLOUR, description=clip(prose(text), DESCRIPTION_MAX))
    return Outgoing(embeds=[embed], buttons=buttons(items, keys))


def all_text(message: Outgoing) -> list[str]:
    """Every user-visible string in a message, for checks and tests."""
    texts = [message.content or ""]
    for embed in message.embeds:
        texts += [embed.title or "", embed.description or "", embed.footer.text or ""]
        texts += [embed.author.name or ""]
        for item in embed.fields:
            texts += [item.name or "", item.value or ""]
    texts += [b.label for b in message.buttons]
    return texts
