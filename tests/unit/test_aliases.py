"""A retired id keeps answering: it resolves to the snippet that absorbed it."""

from bot.core.models import SnippetRevision
from tests.support.factories import START, member

OLD = "lead-with-curiosity"
NEW = "coffee-chats"


async def test_show_and_share_by_a_retired_id_land_on_the_absorbing_snippet(bot):
    shown = await bot.handle(member(), f"show {OLD}")
    assert shown.title == "Coffee chats that PMs enjoy"
    assert f"id: {NEW}" in shown.context
    shared = await bot.handle(member(), f"share {OLD}")
    assert shared.title == "Coffee chats that PMs enjoy"


async def test_votes_on_a_retired_id_count_for_the_absorbing_snippet(bot, repos):
    await bot.handle(member("A"), f"vote {OLD} up")
    tallies = await repos.feedback.tallies()
    assert tallies[NEW].up == 1
    assert OLD not in tallies


async def test_edit_and_retire_by_a_retired_id_act_on_the_absorbing_snippet(bot, repos):
    mod = member("M", moderator=True)
    form = await bot.handle(mod, f"edit {OLD}")
    assert form.form is not None
    assert NEW in form.title
    reply = await bot.handle(mod, f"retire {OLD}")
    assert NEW in reply.body
    assert [r.snippet_id for r in await repos.revisions.latest()] == [NEW]
    assert (await bot.handle(member(), f"show {NEW}")).title == "That snippet was retired"


async def test_an_old_chat_revision_of_a_merged_id_does_not_come_back(bot, repos):
    revision = SnippetRevision(
        snippet_id=OLD,
        revision=1,
        title="An old community edit",
        body="x " * 40,
        topics=("networking",),
        questions=("old question",),
        retired=False,
        author=member("M").user,
        at=START,
    )
    await repos.revisions.add(revision, _audit(revision))
    reply = await bot.handle(member(), f"show {OLD}")
    assert reply.title == "Coffee chats that PMs enjoy"


async def test_an_unknown_id_is_still_unknown(bot):
    assert (await bot.handle(member(), "show no-such-snippet")).title == "No such snippet"


def _audit(revision: SnippetRevision):
    from bot.core.models import AuditEntry

    return AuditEntry(revision.author, "edit", revision.snippet_id, revision.at)
