"""Every /pmadvice subcommand and the buttons under its answers, through the real client."""

from __future__ import annotations

from bot.core.commands import Audience, listed
from bot.core.models import UserRef
from tests.discord.conftest import Chat, buttons_of, embed_text
from tests.discord.fake_discord import (
    GUILD_ID,
    FakeDiscord,
    component_data,
    interaction_payload,
    modal_inputs,
    shown_values,
)

MEMBER_SUBCOMMANDS = {spec.name for spec in listed(Audience.MEMBER)}
QUESTION = "how do I talk about my supply chain work"


def me(chat: Chat) -> UserRef:
    return UserRef("discord", "discord", str(chat.where.user_id))


async def test_commands_are_synced_to_the_configured_guild(fake: FakeDiscord, service):
    synced = {c["name"]: c for c in fake.commands[str(GUILD_ID)]}
    assert set(synced) == {"pmadvice", "pmadvice-mod", "Suggest as advice"}
    member = {o["name"] for o in synced["pmadvice"]["options"]}
    assert member == MEMBER_SUBCOMMANDS
    assert "global" not in fake.commands
    ask = next(o for o in synced["pmadvice"]["options"] if o["name"] == "ask")
    [question] = ask["options"]
    assert question["required"]
    assert question["autocomplete"]
    assert question["description"]


async def test_ask_answers_privately_with_related_feedback_and_share_buttons(chat: Chat):
    answer = await chat.slash("ask", question=QUESTION)
    assert answer.type == 4
    assert answer.ephemeral
    assert answer.title
    labels = list(answer.buttons())
    assert {"Another answer", "👍 Helpful", "👎 Not helpful", "Share to channel"} <= set(labels)
    assert len(labels) == 6  # two related snippets too
    assert "id: " in answer.embeds[0]["footer"]["text"]


async def test_ask_declines_honestly_and_lists_topics(chat: Chat):
    answer = await chat.slash("ask", question="zebra quantum lasagne")
    assert answer.title == "I have nothing good on that yet"
    assert answer.embeds[0]["fields"]
    assert "All topics" in answer.buttons()


async def test_decline_buttons_open_the_suggestion_form_and_the_topics(chat: Chat):
    answer = await chat.slash("ask", question="zebra quantum lasagne")
    form = await chat.press(answer.message, "Suggest a snippet")
    assert form.modal["custom_id"] == "pmform:suggest"
    topics = await chat.press(answer.message, "All topics")
    assert topics.title == "Topics"


async def test_ask_autocompletes_snippet_titles_and_a_picked_title_shows_that_snippet(chat: Chat):
    choices = await chat.complete("ask", "question", "supply chain")
    assert 1 <= len(choices) <= 25
    assert all(len(c["name"]) <= 100 and len(c["value"]) <= 100 for c in choices)
    picked = choices[0]["value"]
    answer = await chat.slash("ask", question=picked)
    assert answer.title == picked


async def test_ask_autocomplete_with_nothing_typed_offers_titles(chat: Chat):
    choices = await chat.complete("ask", "question", "")
    assert len(choices) == 25


async def test_another_answer_button_shows_a_different_snippet(chat: Chat):
    first = await chat.slash("ask", question=QUESTION)
    title = first.title
    second = await chat.press(first.message, "Another answer")
    assert second.in_place  # the answer is swapped, not a second message
    assert second.title
    assert second.title != title


async def test_related_snippet_button_shows_it(chat: Chat):
    first = await chat.slash("ask", question=QUESTION)
    related = next(label for label, cid in first.buttons().items() if ":show " in cid)
    shown = await chat.press(first.message, related)
    assert shown.title.startswith(related.rstrip("…")[:20])


async def test_votes_are_recorded_and_thanked(chat: Chat, runtime):
    first = await chat.slash("ask", question=QUESTION)
    title = first.title
    again = await chat.slash("ask", question=QUESTION)
    up = await chat.press(first.message, "👍 Helpful")
    assert up.in_place
    assert up.title == title  # the snippet stays on screen, the vote buttons go
    assert "Glad it helped" in up.text()
    assert "👍 Helpful" not in up.buttons()
    down = await chat.as_(user_id=2).press(again.message, "👎 Not helpful")
    assert "Suggest a snippet" in down.buttons()
    tallies = await runtime.repositories.feedback.tallies()
    assert sum(t.up for t in tallies.values()) == 1
    assert sum(t.down for t in tallies.values()) == 1


async def test_share_posts_the_snippet_visibly_with_attribution(chat: Chat):
    first = await chat.slash("ask", question=QUESTION)
    shared = await chat.press(first.message, "Share to channel")
    assert not shared.ephemeral
    assert shared.embeds[0]["author"]["name"] == "Shared by Alex"
    assert shared.title == first.title


async def test_topics_lists_every_topic(chat: Chat, runtime):
    answer = await chat.slash("topics")
    for topic in runtime.knowledge.topics:
        assert topic.title in answer.text()


async def test_topic_autocompletes_and_shows_a_topic(chat: Chat, runtime):
    topic = runtime.knowledge.topics[0]
    choices = await chat.complete("topic", "name", topic.slug[:4])
    assert {"name": topic.title, "value": topic.slug} in choices
    answer = await chat.slash("topic", name=topic.slug)
    assert answer.title == topic.title
    by_title = await chat.slash("topic", name=topic.title)
    assert by_title.title == topic.title


async def test_unknown_topic_is_explained(chat: Chat):
    answer = await chat.slash("topic", name="basket-weaving")
    assert answer.title == "No such topic"


async def test_challenge_shows_the_exercise_with_done_skip_pause(chat: Chat):
    answer = await chat.slash("challenge")
    assert answer.title.startswith("This week's exercise")
    assert {"Mark done", "Skip", "Pause a week"} <= set(answer.buttons())


async def test_subscribe_with_typed_options(chat: Chat, runtime):
    answer = await chat.slash("subscribe", day="tue", time="8:30", timezone="Europe/Berlin")
    assert all(part in answer.text() for part in ("Tuesday", "08:30", "Europe/Berlin"))
    subscription = await runtime.repositories.subscriptions.get(me(chat))
    assert subscription is not None
    assert subscription.timezone == "Europe/Berlin"


async def test_subscribe_without_a_zone_says_it_used_utc(chat: Chat):
    answer = await chat.slash("subscribe")
    assert "used UTC" in answer.text()


async def test_time_zones_autocomplete(chat: Chat):
    choices = await chat.complete("subscribe", "timezone", "berl")
    assert choices[0]["value"] == "Europe/Berlin"
    assert len(await chat.complete("subscribe", "timezone", "")) <= 25
    new_york = await chat.complete("subscribe", "timezone", "new york")
    assert "America/New_York" in [c["value"] for c in new_york]


async def test_subscribe_explains_a_bad_zone_or_time(chat: Chat):
    zone = await chat.slash("subscribe", timezone="Mars/Olympus")
    assert zone.title == "Not quite"
    assert "Mars/Olympus" in zone.text()
    time = await chat.slash("subscribe", time="teatime")
    assert time.title == "Not quite"
    assert "HH:MM" in time.text()


async def test_pause_resume_and_unsubscribe(chat: Chat, runtime):
    await chat.slash("subscribe", timezone="Europe/London")
    paused = await chat.slash("pause", weeks=2)
    assert paused.title == "Paused"
    assert "2 weeks" in paused.text()
    resumed = await chat.press(paused.message, "Resume now")
    assert resumed.title == "Welcome back"
    again = await chat.slash("pause")
    assert "a week" in again.text()
    assert (await chat.slash("resume")).title == "Welcome back"
    gone = await chat.slash("unsubscribe")
    assert gone.title == "Unsubscribed"
    subscription = await runtime.repositories.subscriptions.get(me(chat))
    assert subscription is not None
    assert subscription.status == "cancelled"


async def test_done_with_a_link_skip_and_progress(chat: Chat, runtime):
    done = await chat.slash("done", link_or_note="https://example.com/teardown")
    assert "is done with your link" in done.text()
    skipped = await chat.slash("skip")
    assert "Skipped" in skipped.text()
    progress = await chat.slash("progress")
    assert progress.title == "Your progress"
    assert "Done: 1/" in progress.text()
    entries = await runtime.repositories.progress.list_for(me(chat))
    assert [e.status for e in entries] == ["done", "skipped"]
    assert entries[0].link == "https://example.com/teardown"


async def test_done_without_anything_and_with_a_note(chat: Chat):
    plain = await chat.slash("done")
    assert "add a link or a one-line reflection" in plain.text()
    noted = await chat.slash("done", link_or_note="learned a lot about pricing")
    assert "with your note" in noted.text()


async def test_challenge_buttons_mark_done(chat: Chat, runtime):
    challenge = await chat.slash("challenge")
    done = await chat.press(challenge.message, "Mark done")
    assert "is done" in done.text()
    assert len(await runtime.repositories.progress.list_for(me(chat))) == 1


async def test_help_and_menu_buttons(chat: Chat):
    answer = await chat.slash("help")
    assert answer.title == "How to use pmadvice"
    assert answer.ephemeral
    assert "Moderators" not in answer.text()


async def test_suggest_opens_a_modal_and_a_good_submission_is_queued(chat: Chat, runtime):
    opened = await chat.slash("suggest")
    form = opened.modal
    assert form["custom_id"] == "pmform:suggest"
    assert len(form["title"]) <= 45
    inputs = modal_inputs(form)
    assert list(inputs) == ["title", "body", "topics", "questions"]
    topics = inputs["topics"]
    assert topics["type"] == 3  # a select menu of the topics, not typed slugs
    assert {o["value"] for o in topics["options"]} == {t.slug for t in runtime.knowledge.topics}
    assert topics["max_values"] == 4
    slug = runtime.knowledge.topics[0].slug
    body = (
        "Write one page on a process you fixed: the problem, who felt it, what you tried, what "
        "changed for them and the number that moved. It shows product judgment in your own "
        "words, e.g. cutting late deliveries by rerouting."
    )
    sent = await chat.submit(
        form, {"title": "Write the one-page story", "body": body, "topics": slug, "questions": ""}
    )
    assert sent.title == "Thanks, suggestion received"
    assert sent.ephemeral
    assert await runtime.repositories.suggestions.count_pending() == 1


async def test_a_bad_submission_explains_and_reopens_with_what_was_typed(chat: Chat):
    opened = await chat.slash("suggest")
    typed = {"title": "Hi", "body": "too short", "topics": "", "questions": ""}
    sent = await chat.submit(opened.modal, typed)
    assert sent.title == "Almost there"
    assert "Edit and send again" in sent.buttons()
    reopened = await chat.press(sent.message, "Edit and send again")
    values = shown_values(reopened.modal)
    assert values["title"] == "Hi"
    assert values["body"] == "too short"


async def test_a_button_from_another_app_is_ignored(chat: Chat, fake: FakeDiscord):
    first = await chat.slash("help")
    stray = await fake.send_interaction(
        interaction_payload(3, component_data("other-bot:thing"), chat.where, first.message)
    )
    # A later interaction is answered, the stray one never is.
    await chat.slash("help")
    assert stray.callbacks == []


async def test_a_member_is_one_member_in_every_server_and_in_dms(chat: Chat, runtime):
    dm = chat.as_(guild_id=None, channel_id=77)
    answer = await dm.slash("subscribe", timezone="Asia/Kolkata")
    assert "Asia/Kolkata" in answer.text()
    subscription = await runtime.repositories.subscriptions.get(me(chat))
    assert subscription is not None
    assert subscription.timezone == "Asia/Kolkata"

    challenge = await chat.slash("challenge")
    elsewhere = chat.as_(guild_id=GUILD_ID + 1, channel_id=78)  # a second server
    done = await elsewhere.press(challenge.message, "Mark done")
    assert "is done" in done.text()
    assert len(await runtime.repositories.progress.list_for(me(chat))) == 1
    progress = await dm.slash("progress")
    assert "Done: 1/" in progress.text()

    moved = await chat.slash("subscribe", timezone="Europe/Lisbon")
    assert "Europe/Lisbon" in moved.text()
    subscription = await runtime.repositories.subscriptions.get(me(chat))
    assert subscription is not None
    assert subscription.timezone == "Europe/Lisbon"  # the same subscription, changed
    counts = await runtime.repositories.subscriptions.counts()
    assert sum(counts.values()) == 1


async def test_every_answer_is_kind_and_never_a_traceback(chat: Chat, fake: FakeDiscord):
    await chat.slash("ask", question=QUESTION)
    await chat.slash("progress")
    for _, payload in fake.all_outgoing():
        for embed in payload.get("embeds") or []:
            assert "Traceback" not in embed_text(embed)


async def test_buttons_survive_in_rendered_messages(chat: Chat):
    answer = await chat.slash("challenge")
    for custom_id in buttons_of(answer.message).values():
        assert custom_id.startswith("pmadvice:")
        assert len(custom_id) <= 100
