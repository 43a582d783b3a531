"""The slash commands: `/pmadvice ...` for members and `/pmadvice-mod ...` for moderators.

Each command turns its typed options into the core's text grammar (`bot.core.commands`) and
hands it to the interaction handler, so Discord and every other platform run the same code.
"""

from __future__ import annotations

import logging

import discord
from discord import app_commands

from bot.core.commands import WEEKDAY_NAMES, parse_time, valid_timezone
from bot.core.facade import PmAdvice
from bot.core.reply import Button, Reply
from bot.core.validation import NOTE_MAX, QUERY_MAX
from bot.discord_adapter import lookup
from bot.discord_adapter.identity import MODERATOR_PERMISSIONS
from bot.discord_adapter.interactions import InteractionHandler

log = logging.getLogger(__name__)

Interaction = discord.Interaction[discord.Client]
Choice = app_commands.Choice
MEMBER_GROUP = "pmadvice"
MODERATOR_GROUP = "pmadvice-mod"
WEEKDAYS = [Choice(name=name, value=name[:3].lower()) for name in WEEKDAY_NAMES]
REASON_MAX = 500


def _not_quite(message: str) -> Reply:
    return Reply(title="Not quite", body=message, buttons=(Button("Help", "help"),))


class MemberCommands(app_commands.Group):
    """`/pmadvice`: advice, topics and the weekly portfolio exercises."""

    def __init__(self, handler: InteractionHandler, facade: PmAdvice) -> None:
        super().__init__(
            name=MEMBER_GROUP,
            description="Advice and weekly exercises for moving from operations into product",
        )
        self.handler = handler
        self.facade = facade

    @app_commands.command(description="Ask a question in your own words")
    @app_commands.describe(question="e.g. how do I talk about my supply chain work")
    async def ask(
        self, interaction: Interaction, question: app_commands.Range[str, 1, QUERY_MAX]
    ) -> None:
        await self.handler.command(interaction, self._ask_or_show(question))

    async def _ask_or_show(self, question: str) -> str:
        """A title picked from the autocomplete shows that very snippet."""
        picked = await lookup.snippet_by_title(self.facade.library, question)
        return f"show {picked.id}" if picked is not None else f"ask {question}"

    @ask.autocomplete("question")
    async def _ask_titles(self, interaction: Interaction, current: str) -> list[Choice[str]]:
        return await lookup.snippet_choices(self.facade.library, current, by_id=False)

    @app_commands.command(description="List the topics I have advice on")
    async def topics(self, interaction: Interaction) -> None:
        await self.handler.command(interaction, "topics")

    @app_commands.command(description="Show the advice on one topic")
    @app_commands.describe(name="The topic, e.g. portfolio")
    async def topic(self, interaction: Interaction, name: app_commands.Range[str, 1, 100]) -> None:
        slug = lookup.topic_slug(self.facade.knowledge, name)
        await self.handler.command(interaction, f"topic {slug}")

    @topic.autocomplete("name")
    async def _topic_names(self, interaction: Interaction, current: str) -> list[Choice[str]]:
        return lookup.topic_choices(self.facade.knowledge, current)

    @app_commands.command(description="This week's portfolio exercise")
    async def challenge(self, interaction: Interaction) -> None:
        await self.handler.command(interaction, "challenge")

    @app_commands.command(description="Get one portfolio exercise by DM every week")
    @app_commands.describe(
        day="Which day (default Monday)",
        time="Your local time, 24-hour HH:MM (default 09:00)",
        timezone="Your time zone, e.g. Europe/London (Discord doesn't tell me)",
    )
    @app_commands.choices(day=WEEKDAYS)
    async def subscribe(
        self,
        interaction: Interaction,
        day: Choice[str] | None = None,
        time: app_commands.Range[str, 1, 10] | None = None,
        timezone: app_commands.Range[str, 1, 64] | None = None,
    ) -> None:
        parts = ["subscribe"]
        if day is not None:
            parts.append(day.value)
        if time is not None:
            at = parse_time(time.replace(" ", ""))
            if at is None:
                reply = _not_quite(
                    f"{time[:10]!r} isn't a time I understand. Use 24-hour HH:MM, "
                    "like 08:30 or 18:00."
                )
                await self.handler.reply(interaction, reply)
                return
            parts.append(f"{at:%H:%M}")
        if timezone is not None:
            zone = valid_timezone(timezone.strip().replace(" ", "_"))
            if zone is None:
                reply = _not_quite(
                    f"I don't know the time zone {timezone[:64]!r}. Start typing a city and "
                    "pick from the list, e.g. Europe/London or America/New_York."
                )
                await self.handler.reply(interaction, reply)
                return
            parts.append(zone)
        await self.handler.command(interaction, " ".join(parts))

    @subscribe.autocomplete("timezone")
    async def _zones(self, interaction: Interaction, current: str) -> list[Choice[str]]:
        return lookup.zone_choices(current)

    @app_commands.command(description="Take a break from the weekly nudges")
    @app_commands.describe(weeks="How many weeks, 1 to 12 (default 1)")
    async def pause(
        self, interaction: Interaction, weeks: app_commands.Range[int, 1, 12] = 1
    ) -> None:
        await self.handler.command(interaction, f"pause {weeks}")

    @app_commands.command(description="Start the weekly nudges again after a pause")
    async def resume(self, interaction: Interaction) -> None:
        await self.handler.command(interaction, "resume")

    @app_commands.command(description="Stop the weekly nudges (your progress is kept)")
    async def unsubscribe(self, interaction: Interaction) -> None:
        await self.handler.command(interaction, "unsubscribe")

    @app_commands.command(description="Mark this week's exercise done")
    @app_commands.describe(link_or_note="A link to what you made, or a one-line reflection")
    async def done(
        self,
        interaction: Interaction,
        link_or_note: app_commands.Range[str, 1, NOTE_MAX] | None = None,
    ) -> None:
        text = f"done {link_or_note}" if link_or_note else "done"
        await self.handler.command(interaction, text)

    @app_commands.command(description="Skip this week's exercise")
    async def skip(self, interaction: Interaction) -> None:
        await self.handler.command(interaction, "skip")

    @app_commands.command(description="Your progress through the exercises")
    async def progress(self, interaction: Interaction) -> None:
        await self.handler.command(interaction, "progress")

    @app_commands.command(description="Suggest a snippet for the moderators to review")
    async def suggest(self, interaction: Interaction) -> None:
        await self.handler.command(interaction, "suggest")

    @app_commands.command(description="Mid-week reminders when the week's exercise is open")
    @app_commands.describe(setting="on or off")
    @app_commands.choices(setting=[Choice(name="on", value="on"), Choice(name="off", value="off")])
    async def remind(self, interaction: Interaction, setting: str) -> None:
        await self.handler.command(interaction, f"remind {setting}")

    @app_commands.command(description="Everything pmadvice stores about you, as a JSON file")
    async def mydata(self, interaction: Interaction) -> None:
        await self.handler.command(interaction, "mydata")

    @app_commands.command(description="Erase what pmadvice stores about you (asks first)")
    async def forget(self, interaction: Interaction) -> None:
        await self.handler.command(interaction, "forget")

    @app_commands.command(name="help", description="How to use pmadvice")
    async def help_(self, interaction: Interaction) -> None:
        await self.handler.command(interaction, "help")


class ModeratorCommands(app_commands.Group):
    """`/pmadvice-mod`: hidden from members by default and checked again on every use."""

    def __init__(self, handler: InteractionHandler, facade: PmAdvice) -> None:
        super().__init__(
            name=MODERATOR_GROUP,
            description="Moderator tools for pmadvice: snippets and the suggestion queue",
            guild_only=True,
            default_permissions=MODERATOR_PERMISSIONS,
        )
        self.handler = handler
        self.facade = facade

    async def _snippet_ids(self, current: str) -> list[Choice[str]]:
        return await lookup.snippet_choices(self.facade.library, current, by_id=True)

    @app_commands.command(description="Write a new snippet")
    async def add(self, interaction: Interaction) -> None:
        await self.handler.command(interaction, "add")

    @app_commands.command(description="Edit a snippet")
    @app_commands.describe(snippet="The snippet's id (shown under every answer)")
    async def edit(self, interaction: Interaction, snippet: app_commands.Range[str, 1, 60]) -> None:
        await self.handler.command(interaction, f"edit {snippet.strip().lower()}")

    @edit.autocomplete("snippet")
    async def _edit_ids(self, interaction: Interaction, current: str) -> list[Choice[str]]:
        return await self._snippet_ids(current)

    @app_commands.command(description="Retire a snippet so it no longer appears in answers")
    @app_commands.describe(snippet="The snippet's id (shown under every answer)")
    async def retire(
        self, interaction: Interaction, snippet: app_commands.Range[str, 1, 60]
    ) -> None:
        await self.handler.command(interaction, f"retire {snippet.strip().lower()}")

    @retire.autocomplete("snippet")
    async def _retire_ids(self, interaction: Interaction, current: str) -> list[Choice[str]]:
        return await self._snippet_ids(current)

    @app_commands.command(description="The suggestions waiting for review")
    async def review(self, interaction: Interaction) -> None:
        await self.handler.command(interaction, "review")

    @app_commands.command(description="Publish a suggestion from the review queue")
    @app_commands.describe(number="The suggestion's number, e.g. 12")
    async def approve(
        self, interaction: Interaction, number: app_commands.Range[int, 1, 999_999_999]
    ) -> None:
        await self.handler.command(interaction, f"approve {number}")

    @app_commands.command(description="Decline a suggestion and tell the member why")
    @app_commands.describe(number="The suggestion's number", reason="Shown to the member")
    async def reject(
        self,
        interaction: Interaction,
        number: app_commands.Range[int, 1, 999_999_999],
        reason: app_commands.Range[str, 1, REASON_MAX],
    ) -> None:
        await self.handler.command(interaction, f"reject {number} {reason}")

    @app_commands.command(description="Questions I couldn't answer in the last 30 days")
    async def gaps(self, interaction: Interaction) -> None:
        await self.handler.command(interaction, "gaps")

    @app_commands.command(description="Usage numbers")
    async def stats(self, interaction: Interaction) -> None:
        await self.handler.command(interaction, "stats")

    @app_commands.command(description="Snippets changed from chat, as a patch to commit")
    async def export(self, interaction: Interaction) -> None:
        await self.handler.command(interaction, "export")

    @app_commands.command(description="A snippet's revisions, newest first, with short diffs")
    @app_commands.describe(snippet="The snippet's id (shown under every answer)")
    async def history(
        self, interaction: Interaction, snippet: app_commands.Range[str, 1, 60]
    ) -> None:
        await self.handler.command(interaction, f"history {snippet.strip().lower()}")

    @history.autocomplete("snippet")
    async def _history_ids(self, interaction: Interaction, current: str) -> list[Choice[str]]:
        return await self._snippet_ids(current)

    @app_commands.command(description="Restore a revision of a snippet (undoes a retire too)")
    @app_commands.describe(
        snippet="The snippet's id", revision="From history, e.g. r2; git for the YAML version"
    )
    async def revert(
        self,
        interaction: Interaction,
        snippet: app_commands.Range[str, 1, 60],
        revision: app_commands.Range[str, 1, 12],
    ) -> None:
        await self.handler.command(
            interaction, f"revert {snippet.strip().lower()} {revision.strip().lower()}"
        )


def build_tree(
    client: discord.Client, handler: InteractionHandler, facade: PmAdvice
) -> app_commands.CommandTree[discord.Client]:
    tree: app_commands.CommandTree[discord.Client] = app_commands.CommandTree(
        client, fallback_to_global=True
    )
    tree.add_command(MemberCommands(handler, facade))
    tree.add_command(ModeratorCommands(handler, facade))

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
