"""The /pmadvice-mod group: hidden by default, checked again at run time on every action."""

from __future__ import annotations

import discord

from tests.discord.conftest import MOD_ROLE, Chat, started
from tests.discord.fake_discord import GUILD_ID, FakeDiscord, shown_values

GOOD_BODY = (
    "Before an interview, write down three decisions you made in operations where you chose "
    "what not to do, who it affected and what happened next. Product interviews probe "
    "judgment, and these stories prove it, e.g. dropping a weekly report nobody read."
)


async def _suggest(chat: Chat, title: str, runtime) -> None:
    opened = await chat.slash("suggest")
    slug = runtime.knowledge.topics[0].slug
    sent = await chat.submit(opened.modal, {"title": title, "body": GOOD_BODY, "topics": slug})
    assert sent.title == "Thanks, suggestion received"


async def test_moderator_group_is_hidden_by_default_and_guild_only(fake: FakeDiscord, service):
    mod = fake.command("pmadvice-mod")
    expected = discord.Permissions(manage_messages=True).value
    assert str(mod["default_member_permissions"]) == str(expected)
    assert mod.get("contexts") == [0] or mod.get("dm_permission") is False
    names = {o["name"] for o in mod["options"]}
    assert names == {
        "add",
        "edit",
        "retire",
        "review",
        "approve",
        "reject",
        "history",
        "revert",
        "gaps",
        "stats",
        "export",
        "dashboard",
    }


async def test_members_are_refused_at_run_time_even_if_discord_showed_them_the_command(chat: Chat):
    answer = await chat.slash("review", group="pmadvice-mod")
    assert answer.title == "That's for moderators"


async def test_moderator_by_role_by_permission_or_by_listed_id(chat: Chat, runtime):
    by_role = await chat.as_(roles=(MOD_ROLE,)).slash("review", group="pmadvice-mod")
    assert by_role.title == "Review queue"
    perms = discord.Permissions(manage_messages=True).value
    by_permission = await chat.as_(permissions=perms).slash("stats", group="pmadvice-mod")
    assert by_permission.title == "pmadvice stats"
    admin = discord.Permissions(administrator=True).value
    by_admin = await chat.as_(permissions=admin).slash("gaps", group="pmadvice-mod")
    assert by_admin.title.startswith("Unanswered questions")
    other_role = await chat.as_(roles=(99,)).slash("stats", group="pmadvice-mod")
    assert other_role.title == "That's for moderators"


async def test_moderators_see_the_moderator_help(moderator: Chat):
    answer = await moderator.slash("help")
    assert "Moderators" in answer.text()


async def test_add_opens_a_modal_and_publishes(moderator: Chat, runtime):
    opened = await moderator.slash("add", group="pmadvice-mod")
    assert opened.modal["custom_id"] == "pmform:add"
    slug = runtime.knowledge.topics[0].slug
    published = await moderator.submit(
        opened.modal,
        {
            "title": "Keep a decision log",
            "body": GOOD_BODY,
            "topics": slug,
            "questions": "how do I show judgment",
        },
    )
    assert published.title == "Snippet published"
    view = await moderator.press(published.message, "View it")
    assert view.title == "Keep a decision log"


async def test_edit_autocompletes_ids_and_opens_a_prefilled_modal(moderator: Chat, runtime):
    snippet = runtime.knowledge.snippets[0]
    choices = await moderator.complete("edit", "snippet", snippet.id[:6], group="pmadvice-mod")
    assert snippet.id in [c["value"] for c in choices]
    opened = await moderator.slash("edit", group="pmadvice-mod", snippet=snippet.id)
    values = shown_values(opened.modal)
    assert values["title"] == snippet.title
    assert values["topics"].split(",")[0] in snippet.topics
    assert opened.modal["custom_id"] == f"pmform:edit {snippet.id}"
    values["title"] = "A sharper title for this snippet"
    saved = await moderator.submit(opened.modal, values)
    assert saved.title == "Snippet updated"


async def test_members_cannot_submit_a_moderator_form(chat: Chat, moderator: Chat, runtime):
    opened = await moderator.slash("add", group="pmadvice-mod")
    slug = runtime.knowledge.topics[0].slug
    forged = await chat.submit(opened.modal, {"title": "Sneaky", "body": GOOD_BODY, "topics": slug})
    assert forged.title == "That's for moderators"


async def test_retire(moderator: Chat, runtime):
    snippet = runtime.knowledge.snippets[1]
    retired = await moderator.slash("retire", group="pmadvice-mod", snippet=snippet.id)
    assert retired.title == "Snippet retired"
    again = await moderator.slash("ask", question=snippet.title)
    assert again.title != snippet.title


async def test_review_approve_button_publishes_and_tells_the_author_by_dm(
    chat: Chat, moderator: Chat, runtime, fake: FakeDiscord
):
    await _suggest(chat, "Practise the decision story", runtime)
    queue = await moderator.slash("review", group="pmadvice-mod")
    assert queue.title == "Review queue (1 waiting)"
    approved = await moderator.press(queue.message, "Approve #1")
    assert approved.title == "Approved"
    author = str(chat.where.user_id)
    dm = await fake.wait_for(lambda: fake.messages.get(fake.dm_channels.get(author, "")))
    assert "was published" in dm[0]["embeds"][0]["title"]


async def test_a_member_pressing_a_moderators_button_is_refused(
    chat: Chat, moderator: Chat, runtime
):
    await _suggest(chat, "Practise the decision story", runtime)
    queue = await moderator.slash("review", group="pmadvice-mod")
    refused = await chat.press(queue.message, "Approve #1")
    assert refused.title == "That's for moderators"
    assert await runtime.repositories.suggestions.count_pending() == 1


async def test_review_reject_button_asks_for_a_reason_then_tells_the_author(
    chat: Chat, moderator: Chat, runtime, fake: FakeDiscord
):
    await _suggest(chat, "Practise the decision story", runtime)
    queue = await moderator.slash("review", group="pmadvice-mod")
    assert queue.buttons()["Reject #1"] == "pmadvice:reject 1"
    opened = await moderator.press(queue.message, "Reject #1")
    form = opened.modal
    assert form["custom_id"] == "pmform:reject 1"
    [field] = [row["components"][0] for row in form["components"]]
    assert (field["custom_id"], field["style"]) == ("reason", 2)

    empty = await moderator.submit(form, {"reason": "   "})
    assert empty.title == "Almost there"
    assert "reason" in empty.text()
    assert await runtime.repositories.suggestions.count_pending() == 1
    reopened = await moderator.press(empty.message, "Edit and send again")
    assert reopened.modal["custom_id"] == "pmform:reject 1"

    reason = "We cover this in product-teardown-structure."
    rejected = await moderator.submit(reopened.modal, {"reason": reason})
    assert rejected.title == "Rejected"
    assert await runtime.repositories.suggestions.count_pending() == 0
    author = str(chat.where.user_id)
    dm = await fake.wait_for(lambda: fake.messages.get(fake.dm_channels.get(author, "")))
    assert reason in dm[0]["embeds"][0]["description"]


async def test_a_member_cannot_use_or_forge_the_reject_form(chat: Chat, moderator: Chat, runtime):
    await _suggest(chat, "Practise the decision story", runtime)
    queue = await moderator.slash("review", group="pmadvice-mod")
    refused = await chat.press(queue.message, "Reject #1")
    assert refused.title == "That's for moderators"
    opened = await moderator.press(queue.message, "Reject #1")
    forged = await chat.submit(opened.modal, {"reason": "not yours to decide"})
    assert forged.title == "That's for moderators"
    assert await runtime.repositories.suggestions.count_pending() == 1


async def test_moderator_status_is_decided_where_the_member_acts(chat: Chat, moderator: Chat):
    # One member everywhere, but a moderator only where this interaction's roles say so.
    await chat.slash("ask", question="zebra quantum lasagne")
    gaps = await moderator.slash("gaps", group="pmadvice-mod")
    assert "Add a snippet" in gaps.buttons()
    without_role = moderator.as_(guild_id=GUILD_ID + 1, channel_id=88, roles=())
    refused = await without_role.press(gaps.message, "Add a snippet")
    assert refused.title == "That's for moderators"
    in_dm = moderator.as_(guild_id=None, channel_id=89, roles=())
    assert (await in_dm.press(gaps.message, "Add a snippet")).title == "That's for moderators"
    opened = await moderator.press(gaps.message, "Add a snippet")
    assert opened.modal["custom_id"] == "pmform:add"


async def test_approve_and_reject_by_command(
    chat: Chat, moderator: Chat, runtime, fake: FakeDiscord
):
    await _suggest(chat, "First idea for the queue", runtime)
    await _suggest(chat, "Second idea for the queue", runtime)
    approved = await moderator.slash("approve", group="pmadvice-mod", number=1)
    assert approved.title == "Approved"
    rejected = await moderator.slash(
        "reject", group="pmadvice-mod", number=2, reason="we cover this already"
    )
    assert rejected.title == "Rejected"
    author = str(chat.where.user_id)
    messages = await fake.wait_for(
        lambda: (m := fake.messages.get(fake.dm_channels.get(author, ""), [])) and len(m) == 2 and m
    )
    assert "we cover this already" in messages[1]["embeds"][0]["description"]
    again = await moderator.slash("approve", group="pmadvice-mod", number=2)
    assert "already rejected" in again.text()


async def test_gaps_lists_unanswered_questions(chat: Chat, moderator: Chat):
    await chat.slash("ask", question="zebra quantum lasagne")
    gaps = await moderator.slash("gaps", group="pmadvice-mod")
    assert "zebra quantum lasagne" in gaps.text()


async def test_stats(moderator: Chat):
    stats = await moderator.slash("stats", group="pmadvice-mod")
    names = [f["name"] for f in stats.embeds[0]["fields"]]
    assert "Snippets live" in names


async def test_export_uploads_the_yaml_file(moderator: Chat, runtime, fake: FakeDiscord):
    empty = await moderator.slash("export", group="pmadvice-mod")
    assert empty.title == "Nothing to export"
    await moderator.slash("retire", group="pmadvice-mod", snippet=runtime.knowledge.snippets[2].id)
    exported = await moderator.slash("export", group="pmadvice-mod")
    assert exported.title == "Chat changes as a patch"
    [attachment] = exported.message["attachments"]
    assert attachment["filename"] == "chat-changes.patch"
    patch = fake.files[attachment["id"]].decode()
    assert patch.startswith("diff --git a/knowledge/snippets/")
    assert f"-  - id: {runtime.knowledge.snippets[2].id}" in patch


async def test_moderation_in_a_dm_is_refused_unless_listed(chat: Chat):
    dm = chat.as_(guild_id=None, channel_id=55)
    # The group is guild-only; a stale client could still send it, and the core refuses.
    answer = await dm.slash("stats", group="pmadvice-mod")
    assert answer.title == "That's for moderators"


async def test_a_listed_moderator_id_works_even_in_a_dm(fake: FakeDiscord, discord_env, runtime):
    listed = 1_400_000_000_000_000_077
    runtime.settings.moderator_ids.append(str(listed))
    service = await started(runtime)
    try:
        dm = Chat(fake).as_(user_id=listed, guild_id=None, channel_id=56)
        answer = await dm.slash("stats", group="pmadvice-mod")
        assert answer.title == "pmadvice stats"
    finally:
        await service.stop()
