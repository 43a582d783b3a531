"""Two replicas behind a load balancer: a moderator removed from the group loses their rights
on the replica that did not hear about it within 5 seconds."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack_adapter.directory import GROUP_TTL, Directory
from tests.slack.fake_slack import TEAM_ID, FakeSlack
from tests.slack.support import BOT_TOKEN

GROUP = "S0MODS001"
MOD = "U0MEMBER01"


class Seconds:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def client(fake: FakeSlack) -> AsyncIterator[AsyncWebClient]:
    async with aiohttp.ClientSession() as session:
        yield AsyncWebClient(
            token=BOT_TOKEN, base_url=fake.api_url, session=session, retry_handlers=[]
        )


async def test_a_removed_moderator_loses_rights_on_every_replica_within_5_seconds(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    clock = Seconds()
    told, other = (Directory(client, frozenset(), GROUP, clock=clock) for _ in range(2))
    fake.groups[GROUP] = [MOD]
    assert await told.is_moderator(MOD, TEAM_ID)
    assert await other.is_moderator(MOD, TEAM_ID)

    fake.groups[GROUP] = []
    told.forget_group(GROUP)  # Slack's subteam_members_changed reached this replica only
    assert not await told.is_moderator(MOD, TEAM_ID)
    clock.now += GROUP_TTL
    assert not await other.is_moderator(MOD, TEAM_ID)
    assert GROUP_TTL <= 5
