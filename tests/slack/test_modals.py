"""Modals for suggest, add and edit: topics multi-select, inline errors, checks at submission."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping

import pytest

from bot.app import Runtime
from bot.core.models import Actor
from bot.core.reply import Reply
from tests.slack.fake_slack import FakeSlack
from tests.slack.support import Member, section_text

BODY = (
    "Write the outcome first: who was better off and by how much, then the one decision you made "
    "that got there. A recruiter reads the first six words, so lead with the user, not the "
    "process, and keep the how for the interview."
)


def inputs(view: dict) -> dict[str, dict]:
    return {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}


async def test_suggest_opens_a_modal_with_the_topic_list(member: Member, runtime: Runtime) -> None:
    view = await member.open_form("suggest")
    assert view["type"] == "modal"
    assert view["submit"]["text"] == "Send for review"
    fields = inputs(view)
    assert list(fields) == ["title", "body", "topics", "questions"]
    topics = fields["topics"]["element"]
    assert topics["type"] == "multi_static_select"
    assert [o["value"] for o in topics["options"]] == [t.slug for t in runtime.knowledge.topics]
    assert fields["questions"]["optional"] is True
    assert json.loads(view["private_metadata"])["command"] == "suggest"


async def test_a_valid_suggestion_is_queued(member: Member, runtime: Runtime) -> None:
    view = await member.open_form("suggest")
    sent = await member.submit(view, {"title": "Lead with the outcome", "body": BODY,
                                      "topics": ["reframe-experience", "portfolio"]})  # fmt: skip
    ack = sent.json()
    assert ack["response_action"] == "update"
    assert "suggestion received" in section_text(ack["view"]["blocks"])
    pending = await runtime.repositories.suggestions.pending(5)
    assert [(s.title, s.topics) for s in pending] == [
        ("Lead with the outcome", ("reframe-experience", "portfolio"))
    ]


async def test_invalid_input_comes_back_as_inline_errors(member: Member, runtime: Runtime) -> None:
    view = await member.open_form("suggest")
    sent = await member.submit(view, {"title": "x", "body": "too short", "topics": []})
    ack = sent.json()
    assert ack["response_action"] == "errors"
    assert set(ack["errors"]) == {"title", "body", "topics"}
    assert await runtime.repositories.suggestions.count_pending() == 0


async def test_mentions_in_a_draft_are_refused_inline(member: Member) -> None:
    view = await member.open_form("suggest")
    sent = await member.submit(view, {"title": "Ping <!channel> now", "body": BODY,
                                      "topics": ["portfolio"]})  # fmt: skip
    assert "title" in sent.json()["errors"]


async def test_add_publishes_for_moderators(moderator: Member, member: Member) -> None:
    view = await moderator.open_form("add")
    assert view["submit"]["text"] == "Publish"
    sent = await moderator.submit(view, {"title": "Lead with the outcome", "body": BODY,
                                         "topics": ["reframe-experience"]})  # fmt: skip
    assert "Snippet published" in section_text(sent.json()["view"]["blocks"])
    shown = await member.ask("show lead-with-the-outcome")
    assert "Lead with the outcome" in section_text(shown.blocks)


async def test_edit_is_prefilled_and_saves(moderator: Member, runtime: Runtime) -> None:
    view = await moderator.open_form("edit product-teardown-structure")
    current = next(s for s in runtime.knowledge.snippets if s.id == "product-teardown-structure")
    fields = inputs(view)
    assert fields["title"]["element"]["initial_value"] == current.title
    assert [o["value"] for o in fields["topics"]["element"]["initial_options"]] == list(
        current.topics
    )
    sent = await moderator.submit(
        view, {"title": "A sharper teardown", "topics": list(current.topics)}
    )
    assert "Snippet updated" in section_text(sent.json()["view"]["blocks"])


async def test_moderator_status_is_checked_again_at_submission(
    moderator: Member, runtime: Runtime, monkeypatch: pytest.MonkeyPatch, fake: FakeSlack
) -> None:
    view = await moderator.open_form("add")
    moderator.user_id = "U0DEMOTED1"  # the same modal, submitted by someone who is not a moderator
    sent = await moderator.submit(view, {"title": "Lead with the outcome", "body": BODY,
                                         "topics": ["portfolio"]})  # fmt: skip
    assert "That's for moderators" in section_text(sent.json()["view"]["blocks"])
    assert await runtime.repositories.revisions.latest() == []


async def test_an_expired_trigger_offers_a_button_to_reopen(
    member: Member, fake: FakeSlack
) -> None:
    fake.fail("views.open", "expired_trigger_id")
    answer = await member.ask("suggest")
    assert "Open: Suggest a snippet" in answer.buttons()
    await member.press(answer, "Open: Suggest a snippet")
    call = await fake.wait_call("views.open", count=2)
    assert call.params["view"]["callback_id"] == "pmadvice:form"


async def test_a_slow_submission_acks_in_time_and_follows_up_by_dm(
    member: Member, runtime: Runtime, fake: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    view = await member.open_form("suggest")
    release = asyncio.Event()
    real = runtime.facade.submit_form

    async def slow(actor: Actor, command: str, values: Mapping[str, str]) -> Reply:
        await release.wait()
        return await real(actor, command, values)

    monkeypatch.setattr(runtime.facade, "submit_form", slow)
    monkeypatch.setattr("bot.slack_adapter.listeners.SUBMIT_BUDGET", 0.05)
    sent = await member.submit(view, {"title": "Lead with the outcome", "body": BODY,
                                      "topics": ["portfolio"]})  # fmt: skip
    assert sent.json()["response_action"] == "update"
    assert "Still working on it" in section_text(sent.json()["view"]["blocks"])
    release.set()
    dm = await fake.wait_call("chat.postMessage")
    assert "suggestion received" in dm.params["text"]


async def test_a_button_inside_a_result_modal_updates_that_modal(
    member: Member, fake: FakeSlack
) -> None:
    home = await member.open_home()
    await member.press(home, "Details")
    opened = await fake.wait_call("views.open")
    modal = fake.views[
        next(v for v, body in fake.views.items() if body["callback_id"] == "pmadvice:result")
    ]
    assert "This week's exercise" in section_text(opened.params["view"]["blocks"])
    await member.press(modal, "Mark done")
    updated = await fake.wait_call("views.update")
    assert updated.params["view_id"] == modal["id"]
    assert "is done" in section_text(updated.params["view"]["blocks"])
