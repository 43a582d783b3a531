"""The moderators' dashboard: numbers from the database, actions through the core."""

from __future__ import annotations

import html
import re
from dataclasses import replace

from bot.core import commands as c
from bot.core.models import UserRef
from tests.web.conftest import MEMBER, Form

OFF_TOPIC = "what is the best pizza topping in naples"


def member(n: int):
    return replace(MEMBER, user=UserRef("console", "local", f"member-{n}"))


def table_cells(page: str, caption: str) -> list[list[str]]:
    """The rows of the table with that caption, as text."""
    start = page.index(f"<caption>{caption}</caption>")
    body = page[start : page.index("</table>", start)]
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.S)
    return [re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S) for row in rows[1:]]


async def test_the_overview_draws_its_charts_from_the_database(moderator, runtime, clock):
    facade = runtime.facade
    await facade.handle(member(1), "how do I reframe my ops experience")
    await facade.handle(member(2), "how do I reframe my ops experience")
    await facade.handle(member(3), OFF_TOPIC)
    await facade.handle(member(1), "vote whether-not-how up")
    await facade.handle(member(2), "vote whether-not-how down")
    await facade.handle(member(1), "subscribe tue 08:30 Europe/Berlin")
    await facade.handle(member(1), "done https://example.com/teardown")

    page = await (await moderator.get("/dashboard")).text()

    assert page.count("<svg") >= 6
    today = f"{clock.now():%d %b}"
    questions = {row[0]: row[1:] for row in table_cells(page, "Questions per day")}
    assert questions[today] == ["2", "1"]
    votes = {row[0]: row[1:] for row in table_cells(page, "Votes per day")}
    assert votes[today] == ["1", "1"]
    rate = {row[0]: row[1:] for row in table_cells(page, "Decline rate")}
    assert rate[today] == ["33%"]
    weekly = table_cells(page, "New subscribers per week")
    assert weekly[-1][1] == "1"
    done = table_cells(page, "Exercises done per week")
    assert done[-1][1] == "1"
    assert sum(1 for row in questions.values() if row != ["0", "0"]) == 1


async def test_nudges_are_counted_per_platform(moderator, runtime):
    await runtime.facade.handle(member(1), "subscribe")
    await runtime.facade.handle(member(1), "pause 2")

    page = await (await moderator.get("/dashboard")).text()

    rows = table_cells(page, "Weekly nudges by platform")
    assert rows == [["console", "0", "0", "1"]]


async def test_unanswered_questions_are_grouped_and_open_a_prefilled_form(moderator, runtime):
    for text in (
        "how do I negotiate salary for a PM offer",
        "how to negotiate a PM salary offer",
        "how do I negotiate salary for a PM offer",
        "what is the best pizza topping in naples",
    ):
        await runtime.repositories.unanswered.add(text, runtime.clock.now())

    page = await (await moderator.get("/dashboard/gaps")).text()

    groups = re.findall(r"<li>\s*<h2>(.*?) <span class=\"count\">(\d+)×</span>", page)
    assert groups[0] == ("how do I negotiate salary for a PM offer", "3")
    assert len(groups) == 2
    form = await moderator.get(
        "/dashboard/snippets/new",
        params=[("question", "how do I negotiate salary for a PM offer")],
    )
    text = await form.text()
    assert '<textarea id="field-questions"' in text
    assert ">how do I negotiate salary for a PM offer</textarea>" in text


async def test_writing_a_snippet_from_a_gap_publishes_it(moderator, runtime):
    page = await (await moderator.get("/dashboard/snippets/new")).text()
    token = Form.of(page).fields["csrf"]
    values = {
        "csrf": token,
        "title": "Negotiate the level before the salary",
        "body": (
            "Before you talk numbers for a first PM offer, agree on the level and the scope. "
            "Ask what an associate and a full PM own on this team, then anchor on the scope "
            "you will carry. Salary follows the level far more than any clever counter."
        ),
        "topics": "interviews",
        "questions": "how do I negotiate salary for a PM offer",
    }

    published = await moderator.post("/dashboard/snippets/new", data=values)

    assert published.status == 200
    assert "Snippet published" in await published.text()
    state = await runtime.facade.library.state()
    published = state.index.get("negotiate-the-level-before-the-salary")
    assert published is not None
    assert published.questions == ("how do I negotiate salary for a PM offer",)


async def test_an_invalid_snippet_comes_back_with_its_errors_and_values(moderator):
    token = Form.of(await (await moderator.get("/dashboard/snippets/new")).text()).fields["csrf"]

    response = await moderator.post(
        "/dashboard/snippets/new",
        data={"csrf": token, "title": "Hi", "body": "too short", "topics": "nope"},
    )

    page = await response.text()
    assert response.status == 422
    assert 'aria-invalid="true"' in page
    assert "Unknown topic" in page
    assert 'value="Hi"' in page


async def test_snippets_are_ranked_by_use_with_the_most_voted_down(moderator, runtime):
    for n in range(3):
        await runtime.facade.handle(member(n), "how do I reframe my ops experience")
    await runtime.facade.handle(member(1), "vote whether-not-how down")
    await runtime.facade.handle(member(2), "vote whether-not-how down")
    best = (await runtime.facade.advice.search("how do I reframe my ops experience")).hits[0]

    page = await (await moderator.get("/dashboard/snippets")).text()

    first_row = re.search(
        r'id="all".*?<tbody>\s*<tr><th scope="row"><a href="/snippets/([^"]+)"', page, re.S
    )
    assert first_row is not None
    assert first_row.group(1) == best.snippet.id
    down = re.search(
        r'id="down".*?<tbody>\s*<tr><th scope="row"><a href="/snippets/([^"]+)">.*?<td>(\d+)</td>',
        page,
        re.S,
    )
    assert down is not None
    assert down.groups() == ("whether-not-how", "2")


async def test_the_funnel_shows_where_members_stop(moderator, runtime):
    for n, steps in enumerate((1, 2, 2, 3)):
        for _ in range(steps):
            await runtime.facade.handle(member(n), "done")
    await runtime.facade.handle(member(9), "skip")

    page = await (await moderator.get("/dashboard/challenge")).text()

    rows = table_cells(
        page, "Each exercise: members who recorded it, done, skipped, and stopped there"
    )
    first, second, third = rows[0], rows[1], rows[2]
    assert first[2:] == ["5", "4", "1", "2"]
    assert second[2:] == ["3", "3", "0", "2"]
    assert third[2:] == ["1", "1", "0", "1"]
    assert "<svg" in page


async def test_the_review_queue_approves_and_rejects_with_a_reason(moderator, runtime):
    for title in ("Ask for the job description first", "Shadow a PM for a day"):
        await runtime.facade.dispatch(
            MEMBER,
            c.Suggest(
                c.Draft(
                    title,
                    "Before any PM interview, ask the recruiter for the job description and the "
                    "team's current goals. Map each line to a story from your ops work, and "
                    "note one question you would ask the hiring manager.",
                    ("interviews",),
                )
            ),
        )
    page = await (await moderator.get("/dashboard/review")).text()
    token = Form.of(page, "/dashboard/review/1/approve").fields["csrf"]

    empty = await moderator.post("/dashboard/review/2/reject", data={"csrf": token, "reason": ""})
    assert empty.status == 422
    assert "Please write a short reason" in await empty.text()

    approved = await moderator.post("/dashboard/review/1/approve", data={"csrf": token})
    rejected = await moderator.post(
        "/dashboard/review/2/reject", data={"csrf": token, "reason": "We cover this already"}
    )

    assert "is live as" in await approved.text()
    assert "declined" in await rejected.text()
    assert (await runtime.facade.dashboard.review_queue()).waiting == 0
    state = await runtime.facade.library.state()
    assert state.index.get("ask-for-the-job-description-first") is not None


async def test_edit_then_approve_publishes_the_moderators_version(moderator, runtime):
    await runtime.facade.dispatch(
        MEMBER,
        c.Suggest(
            c.Draft(
                "Shadow a PM",
                "Ask a product manager at your company if you can sit in on a planning meeting "
                "and a customer call. Write down every decision you see and who made it; that "
                "list shows you the job better than any course.",
                ("networking",),
            )
        ),
    )
    page = await (await moderator.get("/dashboard/review/1/edit")).text()
    assert 'value="Shadow a PM"' in page
    fields = {"csrf": Form.of(page).fields["csrf"], "title": "Shadow a PM for a day"}
    fields["body"] = re.search(r'name="body"[^>]*>(.*?)</textarea>', page, re.S).group(1)
    fields["topics"] = "networking"

    done = await moderator.post("/dashboard/review/1/edit", data=fields)

    assert done.status == 200
    state = await runtime.facade.library.state()
    assert state.index.get("shadow-a-pm").title == "Shadow a PM for a day"


async def test_a_snippet_can_be_edited_from_the_dashboard(moderator, runtime):
    page = await (await moderator.get("/dashboard/snippets/whether-not-how/edit")).text()
    form = Form.of(page)
    body = re.search(r'name="body"[^>]*>(.*?)</textarea>', page, re.S).group(1)
    values = {
        "csrf": form.fields["csrf"],
        "title": "Ask whether, then how",
        "body": html.unescape(body),
        "topics": "ops-vs-pm",
        "questions": "",
    }

    done = await moderator.post("/dashboard/snippets/whether-not-how/edit", data=values)

    assert "Snippet updated" in await done.text()
    assert (await moderator.get("/dashboard/snippets/no-such-id/edit")).status == 404
