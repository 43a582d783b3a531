"""The one HTTP listener: health, readiness, metrics (with and without a token), mounts."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from bot.core.telemetry import NudgeOutcome
from bot.http_listener import HttpListener, ListenError
from bot.observability.metrics import PrometheusTelemetry


@pytest.fixture
async def telemetry() -> PrometheusTelemetry:
    return PrometheusTelemetry()


async def started(listener: HttpListener) -> str:
    await listener.start()
    return f"http://127.0.0.1:{listener.bound_port}"


@pytest.fixture
async def client() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def test_health_readiness_and_metrics(telemetry, client) -> None:
    listener = HttpListener("127.0.0.1", 0, registry=telemetry.registry)
    database = {"up": True}
    listener.add_readiness_check("database", lambda: database["up"])
    listener.add_readiness_check("knowledge", lambda: True)
    base = await started(listener)
    try:
        async with client.get(f"{base}/healthz") as response:
            assert response.status == 200
        async with client.get(f"{base}/readyz") as response:
            assert response.status == 200
            assert (await response.json())["checks"] == {"database": True, "knowledge": True}
        database["up"] = False
        async with client.get(f"{base}/readyz") as response:
            assert response.status == 503
            assert (await response.json())["checks"]["database"] is False
        async with client.get(f"{base}/healthz") as response:
            assert response.status == 200  # alive, just not ready

        telemetry.question(True, 0.02)
        telemetry.question(False, 0.01)
        telemetry.nudge("slack", NudgeOutcome.SENT)
        telemetry.index_built(134, 0.12)
        async with client.get(f"{base}/metrics") as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("text/plain")
            text = await response.text()
    finally:
        await listener.stop()
    assert 'pmadvice_questions_total{outcome="answered"} 1.0' in text
    assert 'pmadvice_questions_total{outcome="declined"} 1.0' in text
    assert 'pmadvice_nudges_total{outcome="sent",platform="slack"} 1.0' in text
    assert "pmadvice_answer_seconds_bucket" in text
    assert "pmadvice_index_snippets 134.0" in text
    assert "pmadvice_build_info{" in text


async def test_a_failing_check_is_not_ready_rather_than_an_error(client) -> None:
    listener = HttpListener("127.0.0.1", 0)

    def broken() -> bool:
        raise RuntimeError("boom")

    listener.add_readiness_check("platform", broken)
    base = await started(listener)
    try:
        async with client.get(f"{base}/readyz") as response:
            assert response.status == 503
    finally:
        await listener.stop()


async def test_metrics_ask_for_the_token_when_one_is_set(telemetry, client) -> None:
    listener = HttpListener("127.0.0.1", 0, registry=telemetry.registry, metrics_token="s3cret-x")
    base = await started(listener)
    try:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret-x"}):
            async with client.get(f"{base}/metrics", headers=headers) as response:
                assert response.status == 401
                assert "pmadvice_" not in await response.text()
        good = {"Authorization": "Bearer s3cret-x"}
        async with client.get(f"{base}/metrics", headers=good) as response:
            assert response.status == 200
            assert "pmadvice_build_info" in await response.text()
        async with client.get(f"{base}/healthz") as response:
            assert response.status == 200  # probes need no token
    finally:
        await listener.stop()


async def test_mounted_routes_are_served_beside_the_probes(client) -> None:
    listener = HttpListener("127.0.0.1", 0)

    async def hello(request: web.Request) -> web.Response:
        return web.Response(text="hello")

    listener.mount(lambda app: app.router.add_get("/hello", hello))
    base = await started(listener)
    try:
        async with client.get(f"{base}/hello") as response:
            assert await response.text() == "hello"
        with pytest.raises(RuntimeError):
            listener.mount(lambda app: None)
    finally:
        await listener.stop()


async def test_a_taken_port_is_one_clear_error() -> None:
    first = HttpListener("127.0.0.1", 0)
    await first.start()
    try:
        second = HttpListener("127.0.0.1", first.bound_port or 0)
        with pytest.raises(ListenError, match="PMADVICE_HTTP_PORT"):
            await second.start()
    finally:
        await first.stop()
