"""Slack's protocol at the HTTP edge: ssl_check, replays, retried events, malformed bodies."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode

import aiohttp
import pytest

from bot.slack_adapter.service import SlackService
from tests.slack.fake_slack import FakeSlack
from tests.slack.support import HttpTransport, Member, sign


async def test_an_unsigned_ssl_check_is_answered_200_and_runs_nothing(
    http: HttpTransport, fake: FakeSlack
) -> None:
    before = len(fake.calls)
    body = urlencode({"ssl_check": "1", "token": "deprecated-verification-token"}).encode()
    async with http.session.post(
        http.url, data=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    ) as response:
        assert response.status == 200
        assert await response.text() == ""
    assert len(fake.calls) == before


async def test_an_unsigned_command_is_401(member: Member, http: HttpTransport) -> None:
    body = urlencode(member.command_payload("help", member.fake.new_response_url())).encode()
    async with http.session.post(
        http.url, data=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    ) as response:
        assert response.status == 401


async def test_an_unsigned_command_claiming_ssl_check_is_still_not_run(
    member: Member, http: HttpTransport, fake: FakeSlack
) -> None:
    url = fake.new_response_url()
    payload = {**member.command_payload("help", url), "ssl_check": "1"}
    async with http.session.post(
        http.url,
        data=urlencode(payload).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    ) as response:
        assert response.status == 200
    answered = [h for h in fake.hooks if h.url == url]
    assert answered == []


async def test_a_replayed_signed_request_runs_once(
    member: Member, http: HttpTransport, fake: FakeSlack
) -> None:
    url = fake.new_response_url()
    body = urlencode(member.command_payload("help", url)).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body, int(time.time()))}
    statuses = []
    for _ in range(3):
        async with http.session.post(http.url, data=body, headers=headers) as response:
            statuses.append(response.status)
    await fake.wait_hook(url)
    assert statuses == [200, 401, 401]
    assert len([h for h in fake.hooks if h.url == url]) == 1


MALFORMED = {
    "json that does not parse": (b'{"type": "event_callback", ', "application/json"),
    "a json array": (b"[1, 2, 3]", "application/json"),
    "a json string": (b'"hello"', "application/json"),
    "payload that is not json": (b"payload=%7Bnot-json", "application/x-www-form-urlencoded"),
    "payload that is a list": (b"payload=%5B1%5D", "application/x-www-form-urlencoded"),
    "not a form at all": (b"\x01\x02==&&=", "application/x-www-form-urlencoded"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
async def test_a_signed_but_malformed_body_is_400_never_500(
    case: str, http: HttpTransport, caplog: pytest.LogCaptureFixture
) -> None:
    body, content_type = MALFORMED[case]
    sent = await http.post(body, content_type)
    assert sent.status == 400, sent
    assert "Traceback" not in caplog.text


async def test_an_event_retried_by_slack_is_processed_once(
    member: Member, http: HttpTransport, fake: FakeSlack
) -> None:
    event = member.home_event()
    first = await http.event(event)
    assert first.status == 200
    await fake.wait_call("views.publish")
    retry = await http.post(
        json.dumps(event).encode(),
        "application/json",
        headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
        timestamp=int(time.time()) + 1,  # Slack signs each attempt afresh
    )
    assert retry.status == 200
    other = await http.event(member.home_event())  # a new event id runs as usual
    assert other.status == 200
    await fake.wait_call("views.publish", count=2)
    assert len(fake.called("views.publish")) == 2


async def test_healthz_still_answers(service: SlackService) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{service.bound_port}/healthz") as response,
    ):
        assert response.status == 200
