"""The "Suggest as advice" message shortcut opens the suggestion form filled with the message."""

from __future__ import annotations

import secrets
import time
from typing import Any

from bot.app import Runtime
from bot.slack_adapter.listeners import SUGGEST_SHORTCUT
from tests.slack.fake_slack import APP_ID, FakeSlack
from tests.slack.support import CHANNEL, Member
from tests.slack.test_manifest import manifest

ADVICE = (
    "When you interview, bring one page on a process you fixed: who felt the problem, what you "
    "tried, what changed for them and the number that moved. It shows product judgment."
)


def shortcut_payload(member: Member, text: str) -> dict[str, Any]:
    return {
        "type": "message_action",
        "callback_id": SUGGEST_SHORTCUT,
        "trigger_id": member._trigger(),
        "team": {"id": member.team, "domain": "fake-workspace"},
        "user": member._user(),
        "channel": {"id": CHANNEL, "name": "general"},
        "message": {
            "type": "message",
            "user": "U0SOMEONE",
            "text": text,
            "ts": f"{time.time():.6f}",
        },
        "message_ts": f"{time.time():.6f}",
        "response_url": member.fake.new_response_url("actions"),
        "token": "deprecated-verification-token",
        "action_ts": f"{time.time():.6f}",
        "api_app_id": APP_ID,
        "is_enterprise_install": False,
        "enterprise": None,
    }


async def test_suggest_as_advice_opens_the_form_with_the_message(
    member: Member, fake: FakeSlack, runtime: Runtime
) -> None:
    sent = await member.transport.interactive(shortcut_payload(member, ADVICE))
    assert sent.status == 200
    opened = await fake.wait_call("views.open")
    assert opened.params["trigger_id"] == member.trigger_ids[-1]
    view = opened.params["view"]
    body = next(b for b in view["blocks"] if b.get("block_id") == "body")
    assert body["element"]["initial_value"] == ADVICE
    slug = runtime.knowledge.topics[0].slug
    submitted = await member.submit(
        {**view, "id": "V" + secrets.token_hex(4)},
        {"title": "Bring a one-page story", "topics": [slug]},
    )
    assert submitted.status == 200
    assert await runtime.repositories.suggestions.count_pending() == 1


def test_the_manifest_declares_the_shortcut() -> None:
    shortcuts = manifest()["features"]["shortcuts"]
    assert [(s["callback_id"], s["type"]) for s in shortcuts] == [(SUGGEST_SHORTCUT, "message")]
