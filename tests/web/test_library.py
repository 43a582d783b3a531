"""The public library as a visitor uses it: no sign-in, same answers as chat."""

from __future__ import annotations

from markupsafe import escape

from bot.core import commands as c
from bot.core.presenter import decline_reply
from tests.web.conftest import MODERATOR

REFRAME = "how do I reframe my ops experience"


async def test_home_lists_every_topic_with_its_count(client, runtime):
    response = await client.get("/")
    page = await response.text()

    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/html")
    for summary in await runtime.facade.browse.topics():
        assert f'href="/topics/{summary.topic.slug}"' in page
        assert escape(summary.topic.title) in page
    assert len(runtime.knowledge.topics) >= 10


async def test_search_shows_the_same_top_snippet_as_the_search_command(client, runtime):
    expected = await runtime.facade.advice.search(REFRAME, limit=3)

    page = await (await client.get("/search", params={"q": REFRAME})).text()

    best = expected.hits[0].snippet
    assert f'id="best"><a href="/snippets/{best.id}"' in page
    for hit in expected.hits[1:]:
        assert f'href="/snippets/{hit.snippet.id}"' in page


async def test_an_off_topic_search_gets_the_chat_decline_and_is_noted_as_a_gap(client, runtime):
    query = "what is the best pizza topping in naples"
    before = await runtime.repositories.unanswered.count_since(runtime.clock.now())

    page = await (await client.get("/search", params={"q": query})).text()

    decline = decline_reply(query, runtime.knowledge)
    assert escape(decline.title) in page
    assert 'id="best"' not in page
    after = await runtime.repositories.unanswered.count_since(runtime.clock.now())
    assert after == before + 1


async def test_a_search_without_words_declines_without_noting_anything(client, runtime):
    page = await (await client.get("/search", params={"q": "?!? ..."})).text()

    assert "I have nothing good on that yet" in page
    assert await runtime.repositories.unanswered.count_since(runtime.clock.now()) == 0


async def test_every_snippet_has_a_permalink_page(client, runtime):
    state = await runtime.facade.library.state()
    for snippet in state.snippets[:: max(1, len(state.snippets) // 15)]:
        response = await client.get(f"/snippets/{snippet.id}")
        assert response.status == 200, snippet.id
        assert escape(snippet.title) in await response.text()


async def test_unknown_and_retired_snippets_say_so(client, runtime):
    assert (await client.get("/snippets/no-such-snippet")).status == 404
    await runtime.facade.dispatch(MODERATOR, c.Retire("whether-not-how"))

    retired = await client.get("/snippets/whether-not-how")

    assert retired.status == 410
    assert "retired" in await retired.text()


async def test_a_retired_id_redirects_to_the_snippet_that_absorbed_it(client, runtime):
    absorbed = {old: s.id for s in runtime.knowledge.snippets for old in s.replaces}
    assert absorbed, "the shipped knowledge merges at least one pair of snippets"
    old, new = sorted(absorbed.items())[0]

    response = await client.get(f"/snippets/{old}", allow_redirects=False)

    assert response.status == 301
    assert response.headers["Location"] == f"/snippets/{new}"
    assert (await client.get(f"/snippets/{old}")).status == 200


async def test_a_topic_page_lists_its_snippets(client, runtime):
    slug = runtime.knowledge.topics[0].slug
    page = await (await client.get(f"/topics/{slug}")).text()

    found = await runtime.facade.browse.topic(slug)
    assert found is not None
    assert found.snippets
    for snippet in found.snippets:
        assert f'href="/snippets/{snippet.id}"' in page
    assert (await client.get("/topics/not-a-topic")).status == 404


async def test_the_exercise_track_lists_every_exercise_in_order(client, runtime):
    page = await (await client.get("/exercises")).text()

    positions = [page.index(f'id="{x.id}"') for x in runtime.knowledge.exercises]
    assert positions == sorted(positions)


async def test_text_from_chat_is_escaped_on_the_page(client, runtime):
    body = (
        "Write <script>alert(1)</script> down the decision you made, why it mattered to a "
        "customer, and what changed after. One line each is enough for a strong first draft "
        "of the story you tell."
    )
    values = {"title": "Keep a <b>decision</b> log", "body": body, "topics": "portfolio"}
    reply = await runtime.facade.submit_form(MODERATOR, "add", values)
    assert not reply.errors, reply.body

    page = await (await client.get("/snippets/keep-a-b-decision-b-log")).text()

    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Keep a &lt;b&gt;decision&lt;/b&gt; log" in page


async def test_pages_send_a_strict_content_security_policy(client):
    response = await client.get("/")

    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    assert "script-src" not in policy
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert (await client.get("/assets/style.css")).status == 200
