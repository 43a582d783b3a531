"""The escaping matrix: member and moderator text never pings or links, wherever it shows up.

Besides the explicit checks here, every test in this package ends by asserting that nothing the
bot sent carries a raw `<` or `>` in mrkdwn (see conftest.py).
"""

from __future__ import annotations

import pytest

from tests.slack.fake_slack import FakeSlack, Profile
from tests.slack.support import Member, section_text

MENTIONS = ["<!channel>", "<!here>", "<!everyone>", "<@U0ADMIN01>", "<!subteam^S0MODS|@mods>"]
BODY = (
    "Write the outcome first: who was better off and by how much, then the one decision you made "
    "that got there. A recruiter reads the first six words, so lead with the user, not the "
    "process, and keep the how for the interview."
)


def escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@pytest.mark.parametrize("mention", MENTIONS)
async def test_member_text_is_escaped_everywhere_it_is_echoed(
    mention: str, member: Member, moderator: Member, fake: FakeSlack
) -> None:
    question = f"quantum gauge {mention} lattice"
    declined = await member.ask(question)
    assert escaped(mention) in section_text(declined.blocks)
    assert escaped(mention) in declined.message["text"]

    usage = await member.ask(f"subscribe {mention}")
    assert escaped(mention) in section_text(usage.blocks)

    topic = await member.ask(f"topic {mention}")
    assert "No such topic" in section_text(topic.blocks)

    gaps = await moderator.ask("gaps")
    assert escaped(mention) in section_text(gaps.blocks)

    home = await moderator.open_home()
    assert escaped(mention) in section_text(home["blocks"])


@pytest.mark.parametrize("mention", MENTIONS)
async def test_a_moderators_reject_reason_is_escaped_in_the_dm(
    mention: str, member: Member, moderator: Member, fake: FakeSlack
) -> None:
    view = await member.open_form("suggest")
    await member.submit(
        view, {"title": "Lead with the outcome", "body": BODY, "topics": ["portfolio"]}
    )
    await moderator.ask(f"reject 1 duplicate of {mention} see the guide")
    dm = await fake.wait_call("chat.postMessage", lambda c: c.params["channel"] == "U0MEMBER01")
    assert escaped(mention) in dm.params["text"]
    assert escaped(mention) in section_text(dm.params["blocks"])


@pytest.mark.parametrize(
    "name", ["<!channel>", "<@U0ADMIN01>", "Bob & <https://evil.example|Alice>"]
)
async def test_the_sharers_display_name_is_escaped(
    name: str, member: Member, fake: FakeSlack
) -> None:
    fake.users[member.user_id] = Profile(name="ada", display_name=name)
    shared = await member.ask("share product-teardown-structure")
    assert f"Shared by {escaped(name)}" in section_text(shared.blocks)


async def test_entity_tricks_and_disguised_links_in_a_suggestion_stay_literal(
    member: Member, moderator: Member
) -> None:
    view = await member.open_form("suggest")
    title = "See &lt;!here&gt; and <https://evil.example|the guide>"
    sent = await member.submit(view, {"title": title[:80], "body": BODY, "topics": ["portfolio"]})
    assert sent.json()["response_action"] == "update"
    queue = await moderator.ask("review")
    text = section_text(queue.blocks)
    assert "&amp;lt;!here&amp;gt;" in text
    assert "&lt;https://evil.example|the guide&gt;" in text
