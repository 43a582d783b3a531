"""The service lifecycle: `serve` runs it on the bot's loop, stop lets in-flight answers finish."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from bot.app import Runtime, serve
from bot.core.models import Actor
from bot.core.reply import Reply
from bot.slack_adapter.service import build_service
from tests.slack.fake_slack import FakeSlack
from tests.slack.support import HttpTransport, Member


async def test_serve_runs_the_service_until_told_to_stop(
    runtime: Runtime, slack_env: None, fake: FakeSlack
) -> None:
    service = await build_service(runtime, {"http": True, "port": 0, "host": "127.0.0.1"})
    started = asyncio.Event()
    real_start = service.start

    async def start() -> None:
        await real_start()
        started.set()

    service.start = start  # type: ignore[method-assign]
    stop = asyncio.Event()
    running = asyncio.create_task(serve(runtime, [service], [], stop))
    async with asyncio.timeout(5):
        await started.wait()
    async with aiohttp.ClientSession() as session:
        url = f"http://127.0.0.1:{service.bound_port}"
        async with session.get(url + "/healthz") as response:
            assert response.status == 200
        member = Member(HttpTransport(url + "/slack/events", session), fake)
        assert runtime.facade.messengers["slack"] is service.messenger
        answer = await member.ask("help")
        assert answer.ack.status == 200
        stop.set()
        await running
        with pytest.raises(aiohttp.ClientConnectionError):
            async with session.get(url + "/healthz"):
                pass


async def test_stop_lets_an_acked_command_finish(
    runtime: Runtime, slack_env: None, fake: FakeSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = await build_service(runtime, {"http": True, "port": 0, "host": "127.0.0.1"})
    await service.start()
    release = asyncio.Event()
    real = runtime.facade.handle

    async def slow(actor: Actor, text: str) -> Reply:
        await release.wait()
        return await real(actor, text)

    monkeypatch.setattr(runtime.facade, "handle", slow)
    async with aiohttp.ClientSession() as session:
        member = Member(
            HttpTransport(f"http://127.0.0.1:{service.bound_port}/slack/events", session), fake
        )
        ack, url = await member.send("help")
        assert ack.status == 200
    assert service.tracker.busy == 1
    stopping = asyncio.create_task(service.stop())
    await asyncio.sleep(0)
    assert not stopping.done()
    release.set()
    await stopping
    assert "How to use pmadvice" in (await fake.wait_hook(url))["text"]


async def test_fifty_concurrent_commands_are_all_acked_and_answered(
    member: Member, fake: FakeSlack
) -> None:
    results = await asyncio.gather(
        *(member.send(f"how do I write a resume line {i}") for i in range(50))
    )
    assert all(ack.status == 200 for ack, _ in results)
    for _, url in results:
        await fake.wait_hook(url)
    assert max(ack.elapsed for ack, _ in results) < 3.0
