"""The slash commands, generated from the core's command table: `/pmadvice ...` for members and
`/pmadvice-mod ...` for moderators.

Each declared argument becomes a typed option (numbers with bounds, a weekday picker,
autocompleted topics, snippets and time zones). The options are turned back into the core's
text grammar and handed to the interaction handler, so Discord runs the same code as every
other platform, and a command declared in the core appears here without Discord-side code.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Optional

import discord
from discord import app_commands

from bot.core.commands import (
    WEEKDAY_NAMES,
    Arg,
    ArgKind,
    CommandSpec,
    listed,
    parse_time,
    valid_timezone,
)
from bot.core.facade import PmAdvice
from bot.core.presenter import usage_reply
from bot.core.reply import Reply
from bot.discord_adapter import lookup
from bot.discord_adapter.identity import MODERATOR_PERMISSIONS
from bot.discord_adapter.interactions import InteractionHandler

log = logging.getLogger(__name__)

Interaction = discord.Interaction[discord.Client]
Choice = app_commands.Choice
Complete = Callable[[Interaction, str], Awaitable[list[Choice[str]]]]
MEMBER_GROUP = "pmadvice"
MODERATOR_GROUP = "pmadvice-mod"
OPTION_KINDS = frozenset(ArgKind) - {ArgKind.DRAFT}
"""Arguments offered as options; a draft is written in a form (modal) instead."""
WEEKDAYS = [Choice(name=name, value=name[:3].lower()) for name in WEEKDAY_NAMES]


class Options:
    """Turns typed option values back into the text grammar, and completes what is typed."""

    def __init__(self, handler: InteractionHandler, facade: PmAdvice) -> None:
        self.handler = handler
        self.facade = facade

    async def run(
        self, interaction: Interaction, spec: CommandSpec[Any], values: dict[str, Any]
    ) -> None:
        parts = [spec.name]
        for arg in spec.args:
            value = values.get(arg.name)
            if value is None or value == "":
                continue
            converted = self.convert(arg, value)
            if isinstance(converted, Reply):
                await self.handler.reply(interaction, converted)
                return
            parts.append(converted)
        text = " ".join(parts)
        if any(a.kind is ArgKind.QUESTION for a in spec.args) and len(parts) > 1:
            await self.handler.command(interaction, self._ask_or_show(text, parts[-1]))
            return
        await self.handler.command(interaction, text)

    def convert(self, arg: Arg, value: Any) -> str | Reply:
        text = str(value)
        match arg.kind:
            case ArgKind.TIME:
                at = parse_time(text.replace(" ", ""))
                if at is None:
                    return usage_reply(
                        f"{text[:10]!r} isn't a time I understand. Use 24-hour HH:MM, "
                        "like 08:30 or 18:00."
                    )
                return f"{at:%H:%M}"
            case ArgKind.TIMEZONE:
                zone = valid_timezone(text.strip().replace(" ", "_"))
                if zone is None:
                    return usage_reply(
                        f"I don't know the time zone {text[:64]!r}. Start typing a city and "
                        "pick from the list, e.g. Europe/London or America/New_York."
                    )
                return zone
            case ArgKind.TOPIC:
                return self.facade.topic_slug(text)
            case ArgKind.SNIPPET:
                return text.strip().lower()
            case _:
                return text

    async def _ask_or_show(self, text: str, question: str) -> str:
        """A title picked from the autocomplete shows that very snippet."""
        picked = await self.facade.snippet_titled(question, lookup.CHOICE_MAX)
        return f"show {picked.id}" if picked is not None else text

    def completer(self, kind: ArgKind) -> Complete | None:
        async def titles(interaction: Interaction, current: str) -> list[Choice[str]]:
            found = await self.facade.snippets_matching(current, lookup.CHOICES_MAX)
            return lookup.snippet_choices(found, by_id=False)

        async def ids(interaction: Interaction, current: str) -> list[Choice[str]]:
            found = await self.facade.snippets_matching(current, lookup.CHOICES_MAX)
            return lookup.snippet_choices(found, by_id=True)

        async def topics(interaction: Interaction, current: str) -> list[Choice[str]]:
            return lookup.topic_choices(self.facade.topics, current)

        async def zones(interaction: Interaction, current: str) -> list[Choice[str]]:
            return lookup.zone_choices(current)

        completers: dict[ArgKind, Complete] = {
            ArgKind.QUESTION: titles,
            ArgKind.SNIPPET: ids,
            ArgKind.TOPIC: topics,
            ArgKind.TIMEZONE: zones,
        }
        return completers.get(kind)


def _annotation(arg: Arg) -> Any:
    if arg.kind is ArgKind.COUNT:
        typed: Any = app_commands.Range[int, arg.low, arg.high]
    elif arg.kind is ArgKind.WEEKDAY:
        typed = str
    else:
        typed = app_commands.Range[str, 1, arg.high]
    return typed if arg.required or arg.default is not None else Optional[typed]  # noqa: UP045


def slash_command(spec: CommandSpec[Any], options: Options) -> app_commands.Command[Any, ..., None]:
    """A Discord subcommand for one declared command, with a typed option per argument."""

    async def callback(interaction: Interaction, **values: Any) -> None:
        await options.run(interaction, spec, values)

    typed = [arg for arg in spec.args if arg.kind in OPTION_KINDS]

    parameters = [
        inspect.Parameter("interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD),
        *(
            inspect.Parameter(
                arg.name,
                inspect.Parameter.KEYWORD_ONLY,
                annotation=_annotation(arg),
                default=inspect.Parameter.empty if arg.required else arg.default,
            )
            for arg in typed
        ),
    ]
    callback.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    if typed:
        callback.__discord_app_commands_param_description__ = {  # type: ignore[attr-defined]
            arg.name: arg.description for arg in typed
        }
    picks = {a.name: WEEKDAYS for a in typed if a.kind is ArgKind.WEEKDAY}
    picks |= {a.name: [Choice(name=c, value=c) for c in a.choices] for a in typed if a.choices}
    if picks:
        callback.__discord_app_commands_param_choices__ = picks  # type: ignore[attr-defined]
    completers = {a.name: options.completer(a.kind) for a in typed}
    if any(completers.values()):
        callback.__discord_app_commands_param_autocomplete__ = {  # type: ignore[attr-defined]
            name: complete for name, complete in completers.items() if complete is not None
        }
    return app_commands.Command(name=spec.name, description=spec.summary, callback=callback)


def build_tree(
    client: discord.Client, handler: InteractionHandler, facade: PmAdvice
) -> app_commands.CommandTree[discord.Client]:
    tree: app_commands.CommandTree[discord.Client] = app_commands.CommandTree(
        client, fallback_to_global=True
    )
    member = app_commands.Group(
        name=MEMBER_GROUP,
        description="Advice and weekly exercises for moving from operations into product",
    )
    moderator = app_commands.Group(
        name=MODERATOR_GROUP,
        description="Moderator tools for pmadvice: snippets and the suggestion queue",
        guild_only=True,
        default_permissions=MODERATOR_PERMISSIONS,
    )
    options = Options(handler, facade)
    for spec in listed():
        group = moderator if spec.moderator_only else member
        group.add_command(slash_command(spec, options))
    tree.add_command(member)
    tree.add_command(moderator)

    @tree.error
    async def on_error(interaction: Interaction, error: app_commands.AppCommandError) -> None:
        log.warning("slash command failed: %s", type(error).__name__, exc_info=error)
        reply = Reply(
            title="That didn't work",
            body="Sorry, I couldn't run that command. Please check the options and try again.",
        )
        if interaction.type == discord.InteractionType.autocomplete:
            return
        if interaction.response.is_done():
            return
        await handler.reply(interaction, reply)

    return tree
