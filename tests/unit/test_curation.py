"""History and revert, git conflicts, suggestions that keep everything, flood control, privacy
and streaks that survive a pause: the core through the facade, on the in-memory fakes."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

import pytest

from bot.catalog import YamlExporter
from bot.core import commands as c
from bot.core.facade import PmAdvice
from bot.core.flood import FloodLimits, Limit, parse_limit, window_start
from bot.core.history import RevertStatus
from bot.core.library import merge
from bot.core.models import (
    AuditEntry,
    PauseSpan,
    ProgressEntry,
    ProgressStatus,
    RevisionAction,
    SuggestionStatus,
)
from bot.core.privacy import mask_personal
from bot.core.progress import streak
from bot.core.revisions import GIT_AUTHOR, content_hash, snapshot
from tests.support.factories import BODY, KNOWLEDGE, START, member

MOD = member("M1", moderator=True)
OTHER_MOD = member("M2", moderator=True)
DRAFT = f"Coffee chat follow-ups | {BODY} | networking | how to follow up after a coffee chat"


# -- history and revert --------------------------------------------------------------------


async def test_history_lists_edits_newest_first_and_revert_restores(bot, clock):
    original = await bot.handle(member(), "show whether-not-how")
    await bot.handle(MOD, f"edit whether-not-how First title | {BODY} | ops-vs-pm")
    clock.advance(minutes=5)
    await bot.handle(MOD, f"edit whether-not-how Second title | {BODY} More. | ops-vs-pm")

    view = await bot.history.history("whether-not-how")
    assert view is not None
    assert [(v.label, v.action) for v in view.revisions] == [
        ("r3", RevisionAction.EDIT),
        ("r2", RevisionAction.EDIT),
        ("r1", RevisionAction.YAML),
    ]
    assert view.revisions[0].changed == ("title", "body")
    assert view.revisions[0].changes[0].before == "First title"
    assert view.revisions[2].author == GIT_AUTHOR

    shown = await bot.handle(MOD, "history whether-not-how")
    assert shown.body.index("r3") < shown.body.index("r2") < shown.body.index("r1")
    assert "[+More.]" in shown.body

    result = await bot.history.revert(MOD, "whether-not-how", "r1")
    assert (result.status, result.restored, result.revision) == (RevertStatus.DONE, "r1", 4)
    assert (await bot.handle(member(), "show whether-not-how")).title == original.title
    again = await bot.handle(MOD, "revert whether-not-how 1")
    assert "already reads like r1" in again.body


async def test_revert_of_something_unknown_says_so(bot):
    assert "no snippet `nope`" in (await bot.handle(MOD, "revert nope r1")).body
    assert "has no revision 'r9'" in (await bot.handle(MOD, "revert coffee-chats r9")).body
    assert "no snippet `nope`" in (await bot.handle(MOD, "history nope")).body
    usage = await bot.handle(MOD, "revert coffee-chats")
    assert usage.title == "Not quite"


@pytest.mark.parametrize("command", ["history coffee-chats", "revert coffee-chats r1"])
async def test_members_see_nothing_of_history(bot, repos, command):
    reply = await bot.handle(member(), command)
    assert reply.title == "That's for moderators"
    assert await repos.revisions.history("coffee-chats") == []


async def test_a_chat_made_snippet_starts_at_r1_and_can_be_retired_and_restored(bot):
    await bot.handle(MOD, f"add {DRAFT}")
    await bot.handle(MOD, "retire coffee-chat-follow-ups")
    view = await bot.history.history("coffee-chat-follow-ups")
    assert [v.label for v in view.revisions] == ["r2", "r1"]
    assert view.revisions[0].changed == ("retired",)
    reply = await bot.handle(MOD, "revert coffee-chat-follow-ups r1")
    assert reply.title == "Reverted"
    assert (await bot.handle(member(), "show coffee-chat-follow-ups")).title


# -- git round trip: conflicts and carried changes -------------------------------------------


def test_a_chat_change_over_an_older_yaml_is_a_conflict():
    shipped = KNOWLEDGE.snippets[0]
    base = snapshot(shipped, 1, START)
    chat = dataclasses.replace(
        base, revision=2, title="Chat title", action=RevisionAction.EDIT, author=MOD.user
    )
    assert merge(KNOWLEDGE.snippets, [chat]).conflicts == ()
    git_edited = dataclasses.replace(shipped, title="Git title")
    merged = merge((git_edited, *KNOWLEDGE.snippets[1:]), [chat])
    assert [c.snippet_id for c in merged.conflicts] == [shipped.id]
    assert next(s for s in merged.snippets if s.id == shipped.id).title == "Chat title"
    assert content_hash(git_edited) != content_hash(shipped)


async def test_conflicts_show_in_stats_and_review_and_git_settles_them(repos, clock, messenger):
    shipped = KNOWLEDGE.snippets[0]
    older = dataclasses.replace(shipped, title="What git said before")
    chat = dataclasses.replace(
        snapshot(shipped, 1, START),
        title="Chat title",
        action=RevisionAction.EDIT,
        author=MOD.user,
        base_hash=content_hash(older),
    )
    await repos.revisions.add(chat, AuditEntry(MOD.user, "edit", shipped.id, START))
    bot = PmAdvice(KNOWLEDGE, repos, clock, YamlExporter(), {"console": messenger})

    stats = await bot.handle(MOD, "stats")
    assert any("Changed in git and in chat (1)" in f.name for f in stats.fields)
    review = await bot.handle(MOD, "review")
    assert any(shipped.id in f.value for f in review.fields)
    assert (await bot.history.history(shipped.id)).conflict

    settled = await bot.handle(MOD, f"revert {shipped.id} git")
    assert settled.title == "Reverted"
    assert (await bot.handle(member(), f"show {shipped.id}")).title == shipped.title
    assert not any("git and in chat" in f.name for f in (await bot.handle(MOD, "stats")).fields)


async def test_once_the_yaml_carries_a_chat_change_the_override_steps_aside(
    repos, clock, messenger
):
    await PmAdvice(KNOWLEDGE, repos, clock, YamlExporter(), {}).handle(
        MOD, f"edit whether-not-how Carried title | {BODY} | ops-vs-pm"
    )
    # The moderators commit the export and deploy: the YAML now says the same.
    shipped = dataclasses.replace(KNOWLEDGE.snippets[0], title="Carried title")
    deployed = dataclasses.replace(KNOWLEDGE, snippets=(shipped, *KNOWLEDGE.snippets[1:]))
    bot = PmAdvice(deployed, repos, clock, YamlExporter(), {"console": messenger})
    state = await bot.library.state()
    assert state.revisions == {}
    latest = await repos.revisions.latest()
    assert [(r.action, r.note) for r in latest] == [(RevisionAction.YAML, "git carries r2")]

    # A later git edit is then simply the snippet, not a conflict.
    later = dataclasses.replace(shipped, title="Edited again in git")
    bot = PmAdvice(
        dataclasses.replace(KNOWLEDGE, snippets=(later, *KNOWLEDGE.snippets[1:])),
        repos,
        clock,
        YamlExporter(),
        {},
    )
    assert (await bot.handle(member(), "show whether-not-how")).title == "Edited again in git"
    assert (await bot.library.state()).conflicts == ()


# -- suggestions keep everything --------------------------------------------------------------


async def test_approval_keeps_the_members_questions(bot, repos, messenger):
    await bot.handle(member("S1"), f"suggest {DRAFT}")
    review = await bot.handle(MOD, "review")
    assert "how to follow up after a coffee chat" in review.fields[0].value
    await bot.handle(MOD, "approve 1")
    [revision] = await repos.revisions.latest()
    assert revision.questions == ("how to follow up after a coffee chat",)
    assert (revision.title, revision.body, revision.topics) == (
        "Coffee chat follow-ups",
        BODY,
        ("networking",),
    )
    assert revision.action == RevisionAction.APPROVE
    assert "published" in messenger.sent[0][1].title


async def test_a_moderator_may_polish_a_suggestion_before_approving(bot, repos, messenger):
    await bot.handle(member("S1"), f"suggest {DRAFT}")
    form = await bot.handle(MOD, "approve 1 edit")
    assert form.form is not None
    values = {f.name: f.initial for f in form.form.fields}
    assert values["questions"] == "how to follow up after a coffee chat"
    values["title"] = "Follow up within a day"
    reply = await bot.submit_form(MOD, form.form.command, values)
    assert reply.title == "Approved"
    [revision] = await repos.revisions.latest()
    assert revision.snippet_id == "follow-up-within-a-day"
    assert revision.questions == ("how to follow up after a coffee chat",)
    assert "Follow up within a day" in messenger.sent[0][1].body
    assert (await repos.suggestions.get(1)).status == SuggestionStatus.APPROVED


async def test_an_id_taken_by_a_racing_approval_moves_to_the_next_free_one(bot, repos):
    await bot.handle(member("S1"), f"suggest {DRAFT}")
    await bot.handle(member("S2"), f"suggest {DRAFT}")
    await bot.library.state()  # cached: it will not see the racing approval's id
    racing = dataclasses.replace(
        snapshot(KNOWLEDGE.snippets[0], 1, START), snippet_id="coffee-chat-follow-ups"
    )
    await repos.revisions.add(racing, AuditEntry(OTHER_MOD.user, "approve", "x", START))

    reply = await bot.handle(MOD, "approve 1")
    assert reply.title == "Approved"
    assert "coffee-chat-follow-ups-2" in reply.body
    assert (await repos.suggestions.get(1)).snippet_id == "coffee-chat-follow-ups-2"


# -- flood control ------------------------------------------------------------------------------


def test_limits_parse_and_windows_align():
    assert parse_limit("3/10m") == Limit(3, timedelta(minutes=10))
    assert parse_limit(" 50 / 1h ") == Limit(50, timedelta(hours=1))
    for bad in ("3", "0/1m", "3/10d", "many/1m"):
        with pytest.raises(ValueError, match="count per window"):
            parse_limit(bad)
    start = window_start(START + timedelta(minutes=7, seconds=3), timedelta(minutes=10))
    assert start == START


async def test_suggestions_over_the_limit_get_a_kind_message_with_a_time(bot, repos, clock):
    replies = []
    for _ in range(4):
        replies.append(await bot.handle(member("F1"), f"suggest {DRAFT}"))
        clock.advance(seconds=5)
    assert [r.title for r in replies[:3]] == ["Thanks, suggestion received"] * 3
    assert "try again in 10 minutes" in replies[3].body
    assert replies[3].errors  # a form keeps what was typed and shows the message
    assert await repos.suggestions.count_pending() == 3
    # Someone else is not affected; and after the window, the member is welcome again.
    assert (await bot.handle(member("F2"), f"suggest {DRAFT}")).title.startswith("Thanks")
    clock.advance(minutes=10)
    assert (await bot.handle(member("F1"), f"suggest {DRAFT}")).title.startswith("Thanks")


async def test_shares_and_votes_are_limited_too(repos, clock, messenger):
    limits = FloodLimits(vote=Limit(2, timedelta(minutes=1)), share=Limit(1, timedelta(minutes=5)))
    bot = PmAdvice(KNOWLEDGE, repos, clock, YamlExporter(), {}, limits=limits)
    assert (await bot.handle(member(), "share coffee-chats")).visibility == "channel"
    limited = await bot.handle(member(), "share coffee-chats")
    assert limited.visibility == "private"
    assert "shares to the channel" in limited.body
    assert "5 minutes" in limited.body
    await bot.handle(member(), "vote coffee-chats up")
    await bot.handle(member(), "vote coffee-chats down")
    assert (await bot.handle(member(), "vote coffee-chats up")).title == "Easy there"
    assert (await repos.feedback.tallies())["coffee-chats"].down == 1


# -- privacy -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("my token is xoxb-1234567890-abcdefghij why", "xoxb-1234567890"),
        ("mail me at ada.l@example.co.uk please", "ada.l@example.co.uk"),
        ("call +49 30 1234 5678 tomorrow", "1234 5678"),
        ("password: hunter2 for the wiki", "hunter2"),
        ("key sk-abcdefghijklmnopqrstuvwx0 leaked", "sk-abcdefghij"),
        ("id 3f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a", "3f9a8b7c6d5e4f3a"),
    ],
)
def test_masking_hides_secrets_emails_and_phone_numbers(text, hidden):
    masked = mask_personal(text)
    assert hidden not in masked
    assert "[" in masked


def test_masking_leaves_ordinary_questions_alone():
    for text in ("how do I move from ops to PM in 2026", "what is a 30-60-90 day plan"):
        assert mask_personal(text) == text


async def test_unanswered_questions_are_masked_and_expire(repos, clock, messenger):
    bot = PmAdvice(KNOWLEDGE, repos, clock, YamlExporter(), {}, gap_retention=timedelta(days=30))
    await bot.handle(member(), "zzqx frobnicate email me at someone@example.com zzqx")
    gaps = await bot.handle(MOD, "gaps")
    assert "someone@example.com" not in gaps.body
    assert "[email]" in gaps.body
    clock.advance(days=31)
    await bot.handle(member(), "another unanswerable zzqx frobnicate question")
    assert await repos.unanswered.count_since(START - timedelta(days=1)) == 1


async def test_mydata_then_forget(bot, repos):
    ada = member("ada")
    await bot.handle(ada, "subscribe mon 09:00 Europe/Berlin")
    await bot.handle(ada, "done https://example.org/x")
    await bot.handle(ada, f"suggest {DRAFT}")
    reply = await bot.handle(ada, "mydata")
    assert reply.attachment is not None
    data = json.loads(reply.attachment.content)
    assert data["subscription"]["timezone"] == "Europe/Berlin"
    assert data["progress"][0]["link"] == "https://example.org/x"
    assert data["suggestions"][0]["title"] == "Coffee chat follow-ups"

    ask = await bot.handle(ada, "forget")
    assert [b.command for b in ask.buttons] == ["forget confirm"]
    assert await repos.subscriptions.get(ada.user) is not None  # nothing erased yet
    done = await bot.handle(ada, ask.buttons[0].command)
    assert "forgotten" in done.title
    assert await repos.subscriptions.get(ada.user) is None
    [suggestion] = await repos.suggestions.pending(10)
    assert suggestion.author.platform == "erased"
    assert suggestion.title == "Coffee chat follow-ups"


def test_forget_needs_the_exact_confirmation():
    assert c.parse("forget") == c.Forget()
    assert c.parse("forget confirm") == c.Forget(confirmed=True)
    assert isinstance(c.parse("forget my password again"), c.Ask)
    assert c.parse("remind off") == c.Remind(on=False)
    assert isinstance(c.parse("remind me how to write a resume"), c.Ask)


# -- habits ------------------------------------------------------------------------------------


def _done(days: float) -> ProgressEntry:
    return ProgressEntry(
        member().user, f"x{days}", ProgressStatus.DONE, START + timedelta(days=days)
    )


def test_a_paused_week_counts_neither_way():
    entries = [_done(0), _done(7), _done(28)]
    now = START + timedelta(days=29)
    assert streak(entries, "UTC", now) == 1
    pause = PauseSpan(START + timedelta(days=9), START + timedelta(days=23))
    assert streak(entries, "UTC", now, [pause]) == 3
    # Done in a paused week still counts.
    assert streak([*entries, _done(15)], "UTC", now, [pause]) == 4


async def test_pausing_through_the_facade_keeps_the_streak(bot, clock):
    ada = member("ada")
    await bot.handle(ada, "subscribe mon 09:00 UTC")
    await bot.handle(ada, "done")
    clock.advance(days=7)
    await bot.handle(ada, "done")
    paused = await bot.handle(ada, "pause 2")
    assert "streak" in paused.body
    clock.advance(days=21)
    await bot.handle(ada, "done")
    progress = await bot.handle(ada, "progress")
    assert any(f.name == "Streak" and f.value == "3 weeks" for f in progress.fields)
