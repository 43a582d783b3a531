"""Socket Mode end to end: apps.connections.open, a local websocket, envelopes and acks."""

from __future__ import annotations

from bot.slack_adapter.service import SlackService
from tests.slack.fake_slack import FakeSlack
from tests.slack.support import Member, section_text

BODY = (
    "Write the outcome first: who was better off and by how much, then the one decision you made "
    "that got there. A recruiter reads the first six words, so lead with the user, not the "
    "process, and keep the how for the interview."
)


async def test_it_connects_with_the_app_token(
    socket_service: SlackService, fake: FakeSlack
) -> None:
    assert fake.connections_opened == 1
    assert fake.called("apps.connections.open")[0].token == fake.app_token
    assert socket_service.bound_port is None  # no HTTP listener in Socket Mode


async def test_a_command_is_acked_then_answered(socket_member: Member, fake: FakeSlack) -> None:
    ack, url = await socket_member.send("help")
    assert ack.body == ""
    message = await fake.wait_hook(url)
    assert "How to use pmadvice" in section_text(message["blocks"])


async def test_buttons_modals_and_home_over_the_socket(
    socket_member: Member, fake: FakeSlack
) -> None:
    answer = await socket_member.ask("how do I talk about my supply chain work")
    voted = await socket_member.click(answer, "👍 Helpful")
    assert "Glad it helped" in section_text(voted.blocks)

    view = await socket_member.open_form("suggest")
    errors = await socket_member.submit(view, {"title": "x", "body": "short", "topics": []})
    assert errors.json()["response_action"] == "errors"
    saved = await socket_member.submit(view, {"title": "Lead with the outcome", "body": BODY,
                                              "topics": ["portfolio"]})  # fmt: skip
    assert saved.json()["response_action"] == "update"

    home = await socket_member.open_home()
    assert "This week's exercise" in section_text(home["blocks"])


async def test_stop_closes_the_socket(socket_service: SlackService, fake: FakeSlack) -> None:
    await socket_service.stop()
    await fake.wait_for(lambda: not fake.socket_connected)
