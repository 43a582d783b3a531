"""The search index is rebuilt only when the snippets or votes changed, off the event loop."""

from __future__ import annotations

import threading
from datetime import timedelta

from bot.core.library import SnippetLibrary
from bot.core.ranking import SearchIndex
from tests.support.factories import KNOWLEDGE, START, member
from tests.support.fakes import FakeClock, fake_repositories


async def test_an_unchanged_library_is_not_rebuilt_and_a_changed_one_is() -> None:
    repositories = fake_repositories()
    clock = FakeClock(START)
    builds: list[str] = []

    def counting(*args: object, **kwargs: object) -> SearchIndex:
        builds.append(threading.current_thread().name)
        return SearchIndex(*args, **kwargs)  # type: ignore[arg-type]

    library = SnippetLibrary(KNOWLEDGE, repositories, clock, index_factory=counting)
    first = await library.state()
    clock.current += timedelta(minutes=5)  # past the TTL: looked at again, nothing changed
    again = await library.state()
    assert again.index is first.index
    assert len(builds) == 1

    snippet_id = KNOWLEDGE.snippets[0].id
    await repositories.feedback.vote(member().user, snippet_id, 1, clock.now())
    library.invalidate()
    changed = await library.state()
    assert changed.index is not first.index
    assert len(builds) == 2
    assert threading.main_thread().name not in builds  # built in a worker thread
