import pytest

from bot.core.reply import Visibility
from tests.support.factories import START, member


async def test_best_snippet_first_with_related_and_actions(bot):
    reply = await bot.handle(member(), "what is product ops")
    assert reply.title == "What product ops does"
    commands = [b.command for b in reply.buttons]
    assert "vote what-product-ops-does up" in commands
    assert "share what-product-ops-does" in commands
    assert any(cmd.startswith("more 1 ") for cmd in commands)
    assert "Product operations as a role" in reply.context


async def test_typos_and_abbreviations_still_match(bot):
    reply = await bot.handle(member(), "prodct teardwn exampel")
    assert reply.title == "Write a product teardown"
    assert reply.context.startswith('Did you mean "product teardown')
    reply = await bot.handle(member(), "how to network with PMs")
    assert reply.title == "Coffee chats that PMs enjoy"


async def test_honest_decline_lists_topics_and_records_the_gap(bot, repos, clock):
    reply = await bot.handle(member(), "whats the best pizza topping")
    assert reply.title.startswith("I have nothing good on that")
    assert any("topic portfolio" in f.value for f in reply.fields)
    gaps = await repos.unanswered.top(10, since=clock.now().replace(year=2000))
    assert [g.text for g in gaps] == ["whats the best pizza topping"]


@pytest.mark.parametrize("text", ["🙂🙂🙂", "???", "\x00\x01"])
async def test_wordless_queries_get_a_nudge_not_a_crash(bot, repos, text):
    reply = await bot.handle(member(), text)
    assert "words" in reply.title.lower() or reply.title == "Hi! I'm pmadvice"
    assert await repos.unanswered.count_since(START) == 0


async def test_huge_query_is_answered_or_declined_quickly(bot):
    reply = await bot.handle(member(), "product ops " * 1000)
    assert reply.title


async def test_another_answer_pages_through_matches(bot):
    first = await bot.handle(member(), "portfolio teardown")
    more = next(b.command for b in first.buttons if b.command.startswith("more"))
    second = await bot.handle(member(), more)
    assert second.title != first.title


async def test_votes_are_one_per_member_and_changeable(bot, repos):
    await bot.handle(member("A"), "vote whether-not-how up")
    await bot.handle(member("A"), "vote whether-not-how down")
    await bot.handle(member("B"), "vote whether-not-how up")
    tally = (await repos.feedback.tallies())["whether-not-how"]
    assert (tally.up, tally.down) == (1, 1)


async def test_vote_on_unknown_snippet(bot, repos):
    reply = await bot.handle(member(), "vote no-such-thing up")
    assert reply.title == "No such snippet"
    assert await repos.feedback.tallies() == {}


async def test_share_posts_to_channel_attributed(bot):
    reply = await bot.handle(member("U9"), "share coffee-chats")
    assert reply.visibility == Visibility.CHANNEL
    assert reply.shared_by == "Member U9"
    assert "Shared by Member U9" in reply.context


async def test_topics_and_topic(bot):
    listing = await bot.handle(member(), "topics")
    assert "topic portfolio" in listing.body
    topic = await bot.handle(member(), "topic portfolio")
    assert "Write a product teardown" in topic.body
    missing = await bot.handle(member(), "topic portfoli")
    assert "Did you mean `portfolio`" in missing.body


async def test_menu_and_help(bot):
    menu = await bot.handle(member(), "")
    assert menu.buttons
    help_reply = await bot.handle(member(), "help")
    assert "subscribe" in help_reply.body
    assert "retire" not in help_reply.body
    mod_help = await bot.handle(member(moderator=True), "help")
    assert "retire" in mod_help.body


async def test_usage_errors_are_friendly(bot):
    reply = await bot.handle(member(), "subscribe 25:99")
    assert reply.title == "Not quite"
    assert "HH:MM" in reply.body


async def test_overview_for_members_and_moderators(bot):
    await bot.handle(member(), "subscribe")
    await bot.handle(member(), "done")
    await bot.handle(member(), "recommend a good laptop")
    mine = await bot.overview(member())
    assert mine.track.done == 1
    assert mine.subscription is not None
    assert mine.waiting_suggestions is None
    assert mine.top_gaps == ()
    moderator = await bot.overview(member("M", moderator=True))
    assert moderator.waiting_suggestions == 0
    assert [g.text for g in moderator.top_gaps] == ["recommend a good laptop"]


async def test_about_names_the_version_the_knowledge_and_what_is_kept(bot):
    reply = await bot.handle(member(), "about")
    assert reply.title.startswith("pmadvice ")
    assert "snippets" in reply.body
    assert "exercises" in reply.body
    assert any(f.name == "What I keep about you" for f in reply.fields)
    question = await bot.handle(member(), "about moving from ops to product")
    assert question.title != reply.title


async def test_a_topic_names_resources_to_go_deeper(bot):
    topic = await bot.handle(member(), "topic portfolio")
    fields = {f.name: f.value for f in topic.fields}
    assert fields["Go deeper"] == "A Book on Teardowns by An Author (book)"
    plain = await bot.handle(member(), "topic networking")
    assert all(f.name != "Go deeper" for f in plain.fields)
