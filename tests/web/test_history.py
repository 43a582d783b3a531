"""Each snippet's history on the dashboard, and reverting from it."""

from __future__ import annotations

import html

from bot.core.revisions import FieldChange
from bot.web_adapter.history import word_diff
from tests.web.conftest import MODERATOR, Form

SNIPPET = "whether-not-how"


async def _edit_twice(runtime) -> str:
    """Two chat edits of the snippet's title; returns the shipped title."""
    facade = runtime.facade
    shipped = (await facade.library.state()).index.get(SNIPPET).title
    body = (
        "Before you plan how to build something, ask whether the problem is worth solving at "
        "all: who has it, how often, and what it costs them today. Only then sketch how."
    )
    await facade.handle(MODERATOR, f"edit {SNIPPET} First new title | {body} | ops-vs-pm")
    await facade.handle(MODERATOR, f"edit {SNIPPET} Second new title | {body} Now. | ops-vs-pm")
    return shipped


async def test_the_history_lists_revisions_newest_first_with_diffs(moderator, runtime):
    shipped = await _edit_twice(runtime)

    page = html.unescape(
        await (await moderator.get(f"/dashboard/snippets/{SNIPPET}/history")).text()
    )

    assert page.index('id="r3"') < page.index('id="r2"') < page.index('id="r1"')
    assert "<del>First new title</del>" in page
    assert "<ins>Second new title</ins>" in page
    assert f"<del>{shipped}</del>" in page
    assert "<ins>Now.</ins>" in page
    # Every revision but the one in force has its own restore button.
    assert page.count('name="revision"') == 2
    assert 'value="r1"' in page
    assert 'value="r3"' not in page


async def test_revert_restores_a_revision_as_the_moderator(moderator, runtime):
    shipped = await _edit_twice(runtime)
    page = await (await moderator.get(f"/dashboard/snippets/{SNIPPET}/history")).text()
    form = Form.of(page, f"/dashboard/snippets/{SNIPPET}/revert")
    fields = {**form.fields, "revision": "r1"}
    # The form carries one button per revision; pick r1's.
    assert "Restore r1" in page

    done = await moderator.post(f"/dashboard/snippets/{SNIPPET}/revert", data=fields)

    text = html.unescape(await done.text())
    assert done.status == 200
    assert "Reverted" in text
    assert "as r4" in text
    assert (await runtime.facade.library.state()).index.get(SNIPPET).title == shipped
    [latest] = await runtime.repositories.audit.recent(1)
    assert (latest.action, latest.actor, latest.target) == ("revert", MODERATOR.user, SNIPPET)


async def test_a_revert_without_the_form_token_changes_nothing(moderator, runtime):
    await _edit_twice(runtime)

    refused = await moderator.post(f"/dashboard/snippets/{SNIPPET}/revert", data={"revision": "r1"})

    assert refused.status == 403
    assert (await runtime.facade.library.state()).index.get(SNIPPET).title == "Second new title"


async def test_a_retired_snippet_is_listed_and_restored(moderator, runtime):
    await runtime.facade.handle(MODERATOR, f"retire {SNIPPET}")
    assert (await runtime.facade.library.state()).index.get(SNIPPET) is None
    listing = await (await moderator.get("/dashboard/snippets")).text()
    assert f'href="/dashboard/snippets/{SNIPPET}/history"' in listing

    page = await (await moderator.get(f"/dashboard/snippets/{SNIPPET}/history")).text()
    assert "Retired" in page
    fields = Form.of(page, f"/dashboard/snippets/{SNIPPET}/revert").fields
    await moderator.post(f"/dashboard/snippets/{SNIPPET}/revert", data=fields)

    assert (await runtime.facade.library.state()).index.get(SNIPPET) is not None


async def test_the_search_box_opens_a_history_by_id(moderator):
    found = await moderator.get("/dashboard/history", params={"id": f" {SNIPPET} "})
    assert found.status == 200
    assert str(found.url).endswith(f"/dashboard/snippets/{SNIPPET}/history")

    missing = await moderator.get("/dashboard/history", params={"id": "no-such-snippet"})
    assert missing.status == 404
    assert "There's no snippet" in html.unescape(await missing.text())


async def test_members_see_no_history(member):
    response = await member.get(f"/dashboard/snippets/{SNIPPET}/history")
    assert response.status == 401
    assert "r1" not in await response.text()


def test_a_long_unchanged_run_is_elided_around_the_change():
    before = " ".join(f"w{n}" for n in range(40))
    after = before.replace("w20", "changed")

    parts = word_diff(FieldChange("body", before, after))

    assert ("del", "w20") in parts
    assert ("ins", "changed") in parts
    assert ("gap", "…") in parts
    assert sum(len(text.split()) for kind, text in parts if kind == "same") <= 12
