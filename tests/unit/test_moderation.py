import pytest

from bot.core.models import RevisionAction, SuggestionStatus
from tests.support.factories import BODY, member

MOD = member("M1", moderator=True)
DRAFT = f"Coffee chat follow-ups | {BODY} | networking | how to follow up after a coffee chat"


@pytest.mark.parametrize(
    "command",
    [
        "add",
        "edit whether-not-how",
        "retire whether-not-how",
        "review",
        "gaps",
        "stats",
        "export",
        "approve 1",
        "reject 1 no",
    ],
)
async def test_members_cannot_moderate(bot, repos, command):
    reply = await bot.handle(member(), command)
    assert reply.title == "That's for moderators"
    assert await repos.audit.recent(10) == []


async def test_add_publishes_and_audits(bot, repos):
    reply = await bot.handle(MOD, f"add {DRAFT}")
    assert reply.title == "Snippet published"
    assert "`coffee-chat-follow-ups`" in reply.body
    shown = await bot.handle(member(), "show coffee-chat-follow-ups")
    assert shown.title == "Coffee chat follow-ups"
    found = await bot.handle(member(), "how to follow up after a coffee chat")
    assert found.title == "Coffee chat follow-ups"
    audit = await repos.audit.recent(5)
    assert [(a.action, a.target) for a in audit] == [("add", "coffee-chat-follow-ups")]


async def test_add_without_arguments_opens_a_form(bot):
    reply = await bot.handle(MOD, "add")
    assert reply.form is not None
    assert [f.name for f in reply.form.fields] == ["title", "body", "topics", "questions"]


@pytest.mark.parametrize(
    ("body", "field", "fragment"),
    [
        (f"<!channel> {BODY}", "body", "whole channel"),
        (f"@everyone {BODY}", "body", "whole channel"),
        (f"@every\u200bone {BODY}", "body", "whole channel"),
        (f"{BODY} token xoxb-123456789012-abcdefghijkl", "body", "API token"),
        ("Too short.", "body", "words"),
    ],
)
async def test_unsafe_or_invalid_snippets_are_refused(bot, repos, body, field, fragment):
    reply = await bot.submit_form(
        MOD, "add", {"title": "A title", "body": body, "topics": "networking"}
    )
    assert field in reply.errors
    assert fragment in reply.errors[field]
    assert await repos.revisions.latest() == []


async def test_unknown_topic_is_refused(bot, repos):
    reply = await bot.submit_form(
        MOD, "add", {"title": "A title", "body": BODY, "topics": "cooking"}
    )
    assert "Unknown topic 'cooking'" in reply.errors["topics"]


async def test_edit_prefills_then_saves_a_revision(bot, repos):
    form = await bot.handle(MOD, "edit whether-not-how")
    assert form.form is not None
    assert form.form.fields[0].initial == "Ask whether, not just how"
    values = {f.name: f.initial for f in form.form.fields}
    values["title"] = "Ask whether before how"
    reply = await bot.submit_form(MOD, form.form.command, values)
    assert reply.title == "Snippet updated"
    assert (await bot.handle(member(), "show whether-not-how")).title == "Ask whether before how"
    history = await repos.revisions.history("whether-not-how")
    # r1 is the shipped YAML version the edit started from, r2 the edit.
    assert [(r.revision, r.action) for r in history] == [
        (1, RevisionAction.YAML),
        (2, RevisionAction.EDIT),
    ]
    assert history[0].title == "Ask whether, not just how"
    assert "changed title" in (await repos.audit.recent(1))[0].detail


async def test_retire_hides_and_revert_brings_it_back(bot, repos):
    retired = await bot.handle(MOD, "retire coffee-chats")
    assert "revert coffee-chats r1" in retired.body
    reply = await bot.handle(member(), "show coffee-chats")
    assert reply.title == "That snippet was retired"
    assert "is retired" in (await bot.handle(MOD, "retire coffee-chats")).body
    undo = await bot.handle(MOD, retired.buttons[0].command)
    assert undo.title == "Reverted"
    assert (await bot.handle(member(), "show coffee-chats")).title != "That snippet was retired"
    actions = [r.action for r in await repos.revisions.history("coffee-chats")]
    # Restoring the shipped text records it as the YAML version again: no override is left.
    assert actions == [RevisionAction.YAML, RevisionAction.RETIRE, RevisionAction.YAML]


async def test_suggestion_review_and_approval_tells_the_member(bot, repos, messenger):
    author = member("S1")
    reply = await bot.handle(author, f"suggest {DRAFT}")
    assert "#1" in reply.body
    queue = await bot.handle(MOD, "review")
    assert queue.title == "Review queue (1 waiting)"
    reply = await bot.handle(MOD, "approve 1")
    assert reply.title == "Approved"
    assert messenger.sent[0][0] == author.user
    assert "published" in messenger.sent[0][1].title
    again = await bot.handle(MOD, "approve 1")
    assert "already approved" in again.body
    suggestion = await repos.suggestions.get(1)
    assert suggestion.status == SuggestionStatus.APPROVED


async def test_rejection_carries_the_reason(bot, messenger):
    await bot.handle(member("S1"), f"suggest {DRAFT}")
    await bot.handle(MOD, "reject 1 we cover this in coffee-chats")
    assert "we cover this in coffee-chats" in messenger.sent[0][1].body


async def test_gaps_and_stats(bot):
    await bot.handle(member(), "how do I negotiate a PM salary offer with no leverage zzzqqq")
    await bot.handle(member(), "recommend a good laptop")
    gaps = await bot.handle(MOD, "gaps")
    assert "recommend a good laptop" in gaps.body
    stats = await bot.handle(MOD, "stats")
    assert any(f.name == "Snippets live" and f.value == "4" for f in stats.fields)


async def test_reject_without_reason_asks_for_one_in_a_form(bot, repos, messenger):
    await bot.handle(member("S1"), f"suggest {DRAFT}")
    queue = await bot.handle(MOD, "review")
    assert "reject 1" in [b.command for b in queue.buttons]
    form = await bot.handle(MOD, "reject 1")
    assert form.form is not None
    assert form.form.command == "reject 1"
    empty = await bot.submit_form(MOD, "reject 1", {"reason": "  "})
    assert "reason" in empty.errors
    assert (await repos.suggestions.get(1)).status == SuggestionStatus.PENDING
    done = await bot.submit_form(MOD, "reject 1", {"reason": "covered by coffee-chats"})
    assert done.title == "Rejected"
    assert "covered by coffee-chats" in messenger.sent[0][1].body
