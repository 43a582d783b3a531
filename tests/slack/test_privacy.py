"""`mydata` and `forget` through the real slack-bolt app: private answers, a confirming button."""

from __future__ import annotations

import json

from bot.app import Runtime
from bot.core.models import UserRef
from tests.slack.fake_slack import TEAM_ID, FakeSlack
from tests.slack.support import Member, section_text


async def test_mydata_is_private_and_forget_asks_then_erases(
    member: Member, runtime: Runtime, fake: FakeSlack
) -> None:
    await member.ask("subscribe mon 09:00 Europe/Berlin")
    answer = await member.ask("mydata")
    assert answer.message["response_type"] == "ephemeral"
    shown = section_text(answer.blocks)
    assert "pmadvice-my-data.json" in shown
    start = shown.index("```\n") + 4
    data = json.loads(shown[start : shown.index("\n```", start)])
    assert data["subscription"]["timezone"] == "Europe/Berlin"
    assert data["user"]["user_id"] == member.user_id

    question = await member.ask("forget")
    assert question.message["response_type"] == "ephemeral"
    me = UserRef("slack", TEAM_ID, member.user_id)
    assert await runtime.repositories.subscriptions.get(me) is not None
    pressed = await member.press(question, "Yes, erase my data")
    assert pressed.status == 200
    done = await fake.wait_hook(member.last_response_url)
    assert "forgotten" in section_text(done["blocks"])
    assert await runtime.repositories.subscriptions.get(me) is None
    assert (await runtime.repositories.members.collect(me)).first_seen is None
