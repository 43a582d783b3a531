"""Every declared command exists on Discord, in the right group, and runs as itself."""

from __future__ import annotations

from bot.core.commands import Audience, listed
from tests.discord.conftest import Chat
from tests.discord.fake_discord import GUILD_ID, FakeDiscord
from tests.support.parity import NOT_RUN, commands, example_options, opens_form


async def test_the_synced_tree_lists_every_declared_command(fake: FakeDiscord, service):
    synced = {c["name"]: c for c in fake.commands[str(GUILD_ID)]}
    member = {o["name"] for o in synced["pmadvice"]["options"]}
    moderator = {o["name"] for o in synced["pmadvice-mod"]["options"]}
    assert member == {s.name for s in listed(Audience.MEMBER)}
    assert moderator == {s.name for s in listed(Audience.MODERATOR)}


async def test_every_declared_command_runs_as_itself(moderator: Chat, runtime):
    for spec in commands():
        group = "pmadvice-mod" if spec.moderator_only else "pmadvice"
        answer = await moderator.slash(spec.name, group, **example_options(spec, runtime.knowledge))
        if opens_form(spec):
            assert answer.type == 9, spec.name
            continue
        assert answer.title not in NOT_RUN, spec.name


async def test_restart_runs_on_discord(chat: Chat):
    answer = await chat.slash("restart")
    assert answer.title not in NOT_RUN
