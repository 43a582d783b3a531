"""Every button the bot shows runs its command through the core, as the member who pressed it."""

from __future__ import annotations

import json

import pytest

from bot.app import Runtime
from bot.core.models import Actor, UserRef
from tests.slack.fake_slack import TEAM_ID, FakeSlack
from tests.slack.support import Answer, Member, section_text

QUESTION = "how do I talk about my supply chain work"


def shown(answer: Answer) -> str:
    return section_text(answer.blocks)


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("Browse topics", "Topics"),
        ("This week's exercise", "This week's exercise"),
        ("My progress", "Your progress"),
        ("Help", "How to use pmadvice"),
    ],
)
async def test_menu_buttons(member: Member, label: str, expected: str) -> None:
    menu = await member.ask("")
    reply = await member.click(menu, label)
    assert expected in shown(reply)
    assert reply.message["response_type"] == "ephemeral"
    assert reply.message["replace_original"] is False


async def test_answer_buttons_related_another_votes_and_share(
    member: Member, runtime: Runtime
) -> None:
    answer = await member.ask(QUESTION)
    first_id = shown(answer).split("id: ")[1].split()[0]
    related = [label for label, b in answer.buttons().items() if b["value"].startswith("show ")]
    assert related
    shown_related = await member.click(answer, related[0])
    assert "id: " in shown(shown_related)

    another = await member.click(answer, "Another answer")
    assert f"id: {first_id}" not in shown(another)
    assert another.message["replace_original"] is True  # the answer is swapped in place

    liked = await member.click(answer, "👍 Helpful")
    assert liked.message["replace_original"] is True
    assert f"id: {first_id}" in shown(liked)  # the snippet stays on screen
    assert "Thanks! Glad it helped" in shown(liked)
    assert "👍 Helpful" not in liked.buttons()
    disliked = await member.click(answer, "👎 Not helpful")
    assert "Suggest a snippet" in disliked.buttons()
    tallies = await runtime.repositories.feedback.tallies()
    assert (tallies[first_id].up, tallies[first_id].down) == (0, 1)

    shared = await member.click(answer, "Share to channel")
    assert shared.message["response_type"] == "in_channel"
    assert "Shared by Ada L" in shown(shared)


async def test_exercise_buttons_mark_done_skip_and_pause(member: Member, runtime: Runtime) -> None:
    await member.ask("subscribe")
    exercise = await member.ask("challenge")
    done = await member.click(exercise, "Mark done")
    assert "is done" in shown(done)
    next_one = await member.click(done, "Show next exercise")
    skipped = await member.click(next_one, "Skip")
    assert "Skipped" in shown(skipped)
    paused = await member.click(await member.ask("challenge"), "Pause a week")
    assert "Paused" in shown(paused)
    resumed = await member.click(paused, "Resume now")
    assert "Welcome back" in shown(resumed)
    entries = await runtime.repositories.progress.list_for(
        UserRef("slack", TEAM_ID, member.user_id)
    )
    assert [e.status.value for e in entries] == ["done", "skipped"]


async def test_the_subscribe_button_uses_the_slack_time_zone(member: Member) -> None:
    nothing = await member.ask("pause")
    subscribed = await member.click(nothing, "Subscribe")
    assert "Europe/Berlin" in shown(subscribed)


async def test_a_button_that_needs_a_form_opens_a_modal(member: Member, fake: FakeSlack) -> None:
    declined = await member.ask("quantum chromodynamics lattice gauge")
    sent = await member.press(declined, "Suggest a snippet")
    assert sent.status == 200
    call = await fake.wait_call("views.open")
    assert call.params["trigger_id"] == member.trigger_ids[-1]
    assert call.params["view"]["callback_id"] == "pmadvice:form"


async def test_review_approve_tells_the_suggester_by_dm(
    member: Member, moderator: Member, fake: FakeSlack, runtime: Runtime
) -> None:
    await suggest(member)
    queue = await moderator.ask("review")
    assert "Review queue (1 waiting)" in shown(queue)
    approved = await moderator.click(queue, "Approve #1")
    assert "is live as" in shown(approved)
    dm = await fake.wait_call("chat.postMessage", lambda c: c.params["channel"] == member.user_id)
    assert "Your suggestion was published" in dm.params["text"]
    assert "Nothing waiting" in shown(await moderator.click(approved, "Next"))


async def test_review_reject_asks_for_a_reason_then_tells_the_suggester(
    member: Member, moderator: Member, fake: FakeSlack, runtime: Runtime
) -> None:
    await suggest(member)
    queue = await moderator.ask("review")
    assert queue.buttons()["Reject #1"]["value"] == "reject 1"
    assert "Reject #1…" not in queue.buttons()  # no adapter-made duplicate any more
    before = len(fake.called("views.open"))
    sent = await moderator.press(queue, "Reject #1")
    assert sent.status == 200
    opened = await fake.wait_call("views.open", count=before + 1)
    assert opened.params["trigger_id"] == moderator.trigger_ids[-1]
    view = opened.params["view"]
    assert view["callback_id"] == "pmadvice:form"
    assert json.loads(view["private_metadata"])["command"] == "reject 1"
    assert [b["block_id"] for b in view["blocks"] if b["type"] == "input"] == ["reason"]

    empty = await moderator.submit(view, {"reason": "   "})
    assert empty.json()["response_action"] == "errors"
    assert set(empty.json()["errors"]) == {"reason"}
    assert await runtime.repositories.suggestions.count_pending() == 1

    done = await moderator.submit(view, {"reason": "We cover this in product-teardown-structure."})
    assert done.json()["response_action"] == "update"
    assert "declined" in section_text(done.json()["view"]["blocks"])
    dm = await fake.wait_call("chat.postMessage", lambda c: c.params["channel"] == member.user_id)
    assert "We cover this in product-teardown-structure." in dm.params["text"]
    assert await runtime.repositories.suggestions.count_pending() == 0


async def test_a_member_cannot_use_a_moderators_reject_button(
    member: Member, moderator: Member, fake: FakeSlack
) -> None:
    await suggest(member)
    queue = await moderator.ask("review")
    pressed = await member.press(queue, "Reject #1")
    assert pressed.status == 200
    refusal = await fake.wait_hook(member.last_response_url)
    assert "That's for moderators" in section_text(refusal["blocks"])
    assert len(fake.called("views.open")) == 1  # only the member's own suggest form


async def test_a_member_cannot_submit_a_moderators_reject_form(
    member: Member, moderator: Member, fake: FakeSlack, runtime: Runtime
) -> None:
    await suggest(member)
    await moderator.press(await moderator.ask("review"), "Reject #1")
    opened = await fake.wait_call("views.open", count=2)
    forged = await member.submit(opened.params["view"], {"reason": "not yours to decide"})
    assert forged.json()["response_action"] == "update"
    assert "That's for moderators" in section_text(forged.json()["view"]["blocks"])
    assert await runtime.repositories.suggestions.count_pending() == 1


async def test_a_reject_button_from_before_the_upgrade_still_opens_the_reason_form(
    member: Member, moderator: Member, fake: FakeSlack
) -> None:
    await suggest(member)
    old = {"type": "button", "text": {"type": "plain_text", "text": "Reject #1…"},
           "action_id": "pmadvice:reject:0", "value": "1", "style": "danger"}  # fmt: skip
    message = Answer(ack=None, message={"blocks": [{"type": "actions", "elements": [old]}]},  # type: ignore[arg-type]
                     response_url="")  # fmt: skip
    await moderator.press(message, "Reject #1…")
    opened = await fake.wait_call("views.open", count=2)
    assert json.loads(opened.params["view"]["private_metadata"])["command"] == "reject 1"


async def test_a_member_cannot_use_a_moderators_approve_button(
    member: Member, moderator: Member, runtime: Runtime
) -> None:
    await suggest(member)
    queue = await moderator.ask("review")
    refused = await member.click(queue, "Approve #1")
    assert "That's for moderators" in shown(refused)
    assert await runtime.repositories.suggestions.count_pending() == 1


async def test_nudge_buttons_in_a_dm_work(
    member: Member, runtime: Runtime, fake: FakeSlack
) -> None:
    actor_user = UserRef("slack", TEAM_ID, member.user_id)
    nudge = await runtime.facade.progress.challenge(Actor(actor_user))
    outcome = await runtime.facade.messengers["slack"].send(actor_user, nudge)
    assert outcome.status.value == "sent"
    dm = fake.called("chat.postMessage")[-1]
    message = Answer(ack=None, message=dm.params, response_url="")  # type: ignore[arg-type]
    member.channel = dm.params["channel"]
    done = await member.click(message, "Mark done")
    assert "is done" in shown(done)


async def suggest(member: Member) -> None:
    view = await member.open_form("suggest")
    body = ("Write the outcome first: who was better off and by how much, then the one decision "
            "you made that got there. A recruiter reads the first six words, so lead with the user, "
            "not the process, and keep the how for the interview.")  # fmt: skip
    result = await member.submit(view, {"title": "Lead with the outcome", "body": body,
                                        "topics": ["reframe-experience"]})  # fmt: skip
    assert result.json()["response_action"] == "update", result.body
