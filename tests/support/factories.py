"""Small, readable test data."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from bot.core.models import Actor, Exercise, Knowledge, Resource, Snippet, Topic, UserRef

TOPICS = (
    Topic("ops-vs-pm", "Ops thinking vs product thinking"),
    Topic(
        "portfolio",
        "Portfolio and artifacts",
        go_deeper=(Resource("A Book on Teardowns", "An Author"),),
    ),
    Topic("networking", "Networking with PMs"),
    Topic("product-ops", "Product operations as a role"),
)

BODY = (
    "Pick one process you improved and ask whether it should exist at all. Write down who "
    "used it, what they were trying to get done, and what changed for them. That is the "
    "story a product manager wants to hear."
)


def snippet(snippet_id: str, title: str, topics: tuple[str, ...], *questions: str) -> Snippet:
    return Snippet(id=snippet_id, title=title, body=BODY, topics=topics, questions=questions)


SNIPPETS = (
    snippet(
        "whether-not-how",
        "Ask whether, not just how",
        ("ops-vs-pm",),
        "what is the difference between ops and product thinking",
    ),
    snippet(
        "teardown-basics",
        "Write a product teardown",
        ("portfolio",),
        "product teardown example",
        "what goes in a portfolio",
    ),
    dataclasses.replace(
        snippet(
            "coffee-chats",
            "Coffee chats that PMs enjoy",
            ("networking",),
            "how to network with product managers",
        ),
        replaces=("lead-with-curiosity",),
    ),
    snippet(
        "what-product-ops-does",
        "What product ops does",
        ("product-ops",),
        "what is product ops",
    ),
)

EXERCISES = tuple(
    Exercise(
        id=f"exercise-{n}",
        order=n,
        title=f"Exercise {n}",
        prompt="Do the thing that this exercise asks of you, step by step, and write it down.",
        deliverable="A page",
        minutes=30,
        topics=("portfolio",),
        done_when="You have a page.",
        self_check=(f"First check {n}?", f"Second check {n}?", f"Third check {n}?"),
        revision=f"Revise exercise {n}: improve the page with what you learned since.",
        book_ahead="book two people for a chat" if n == 3 else "",
    )
    for n in range(1, 5)
)

KNOWLEDGE = Knowledge(topics=TOPICS, snippets=SNIPPETS, exercises=EXERCISES)

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


def member(user_id: str = "U1", moderator: bool = False, tz: str | None = None) -> Actor:
    return Actor(
        UserRef("console", "local", user_id),
        is_moderator=moderator,
        display_name=f"Member {user_id}",
        timezone=tz,
    )
