"""Fixtures: a fake Discord, a real runtime on SQLite, and the real service logged in to it.

`chat` drives it like a member would: `await chat.slash("ask", question=...)`, then press a
button of the answer or submit the modal it opened.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.app import Runtime
from bot.discord_adapter.service import DiscordService, build_service
from tests.discord.fake_discord import (
    GUILD_ID,
    TOKEN,
    Callback,
    FakeDiscord,
    Interaction,
    Where,
    component_data,
    interaction_payload,
    modal_submit_data,
)

MOD_ROLE = 1_500_000_000_000_000_001
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

MENTION_VECTORS = [  # text that would ping, plainly or disguised
    "@everyone",
    "@here",
    "<@123456789012345678>",
    "<@!123456789012345678>",
    "<@&123456789012345678>",
    "@every\u200bone",
    "@\u200beveryone",
    "@every@everyoneone",
    "@@here",
    "@EVERYONE",
    "<@\u200b123456789012345678>",
    "<@&\u2060123456789012345678>",
    "@ever\u00adyone",
    "@here\ufeff",
    "\u202e@everyone",
]


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        yield server
    assert not server.invalid, f"Discord would have rejected: {server.invalid}"


@pytest.fixture
def discord_env(monkeypatch: pytest.MonkeyPatch, fake: FakeDiscord) -> FakeDiscord:
    monkeypatch.setenv("DISCORD_TOKEN", TOKEN)
    monkeypatch.setenv("DISCORD_GUILD_IDS", str(GUILD_ID))
    monkeypatch.setenv("PMADVICE_DISCORD_MODERATOR_ROLE_IDS", str(MOD_ROLE))
    monkeypatch.setenv("PMADVICE_DISCORD_API_URL", fake.api_url)
    monkeypatch.setenv("PMADVICE_DISCORD_GATEWAY_URL", fake.gateway_url)
    return fake


async def started(runtime: Runtime, **options: Any) -> DiscordService:
    """Build and start the service exactly as `pmadvice run discord` does (see bot.app.serve)."""
    service = await build_service(runtime, dict(options))
    assert isinstance(service, DiscordService)
    runtime.facade.messengers[service.platform] = service.messenger
    await service.start()
    return service


@pytest.fixture
async def service(runtime: Runtime, discord_env: FakeDiscord) -> AsyncIterator[DiscordService]:
    running = await started(runtime)
    yield running
    await running.stop()


@dataclass
class Answer:
    """What the bot did with one interaction."""

    interaction: Interaction
    callback: Callback
    message: dict[str, Any] | None

    @property
    def type(self) -> int:
        return self.callback.type

    @property
    def in_place(self) -> bool:
        return self.callback.type == 7

    @property
    def ephemeral(self) -> bool:
        return bool(self.message and self.message["flags"] & 64)

    @property
    def modal(self) -> dict[str, Any]:
        assert self.callback.type == 9, f"expected a modal, got callback type {self.callback.type}"
        return self.callback.data

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return self.message["embeds"] if self.message else []

    @property
    def title(self) -> str:
        return str(self.embeds[0].get("title", "")) if self.embeds else ""

    def text(self) -> str:
        return "\n".join(embed_text(e) for e in self.embeds)

    def buttons(self) -> dict[str, str]:
        """Label -> custom id of every button under the message."""
        return buttons_of(self.message or {})


def embed_text(embed: dict[str, Any]) -> str:
    parts = [embed.get("title", ""), embed.get("description", "")]
    parts += [f"{f['name']}: {f['value']}" for f in embed.get("fields", [])]
    parts += [embed.get("footer", {}).get("text", ""), embed.get("author", {}).get("name", "")]
    return "\n".join(p for p in parts if p)


def buttons_of(message: dict[str, Any]) -> dict[str, str]:
    return {
        button["label"]: button["custom_id"]
        for row in message.get("components", [])
        for button in row.get("components", [])
    }


class Chat:
    """One member talking to the bot through the fake Discord."""

    def __init__(self, fake: FakeDiscord, where: Where | None = None) -> None:
        self.fake = fake
        self.where = where or Where()

    def as_(self, **changes: Any) -> Chat:
        return Chat(self.fake, dataclasses.replace(self.where, **changes))

    async def _answer(self, payload: dict[str, Any], within: float = 5.0) -> Answer:
        interaction = await self.fake.send_interaction(payload)
        callback = await self.fake.answered(interaction, within)
        message = None
        if callback.type in (4, 5):
            message = await self.fake.settled(interaction, within)
        elif callback.type == 7:  # the message the button is on, as updated in place
            message = payload.get("message")
        return Answer(interaction, callback, message)

    async def slash(self, sub: str, group: str = "pmadvice", **options: Any) -> Answer:
        data = self.fake.slash_data(group, sub, options, guild_id=self.where.guild_id or GUILD_ID)
        return await self._answer(interaction_payload(2, data, self.where))

    async def complete(
        self, sub: str, option: str, current: str, group: str = "pmadvice", **others: Any
    ) -> list[dict[str, Any]]:
        options = {**others, option: current}
        data = self.fake.slash_data(group, sub, options, focused=option)
        interaction = await self.fake.send_interaction(interaction_payload(4, data, self.where))
        callback = await self.fake.answered(interaction)
        assert callback.type == 8
        choices: list[dict[str, Any]] = callback.data["choices"]
        return choices

    async def press(self, message: dict[str, Any], label: str) -> Answer:
        custom_id = buttons_of(message)[label]
        return await self.click(message, custom_id)

    async def click(self, message: dict[str, Any], custom_id: str) -> Answer:
        payload = interaction_payload(3, component_data(custom_id), self.where, message)
        return await self._answer(payload)

    async def submit(self, modal: dict[str, Any], values: dict[str, str]) -> Answer:
        return await self._answer(
            interaction_payload(5, modal_submit_data(modal, values), self.where)
        )


@pytest.fixture
def chat(fake: FakeDiscord, service: DiscordService) -> Chat:
    return Chat(fake)


@pytest.fixture
def moderator(chat: Chat) -> Chat:
    return chat.as_(
        user_id=1_400_000_000_000_000_099, name="mo", global_name="Mo", roles=(MOD_ROLE,)
    )
