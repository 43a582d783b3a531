"""Every kind of bad signature gets 401 (never 500), runs no handler and logs no body."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from urllib.parse import urlencode

import aiohttp
import pytest

from bot.slack_adapter.service import SlackService
from tests.slack.fake_slack import FakeSlack
from tests.slack.support import SIGNING_SECRET, HttpTransport, Member, sign


def command_body(member: Member, text: str = "help") -> bytes:
    payload = member.command_payload(text, member.fake.new_response_url())
    return urlencode(payload).encode()


async def raw_post(port: int, headers: list[bytes], body: bytes) -> tuple[int, bytes]:
    """A hand-written HTTP request, for header bytes an HTTP client would refuse to send."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    lines = [
        b"POST /slack/events HTTP/1.1",
        b"Host: 127.0.0.1",
        b"Content-Type: application/x-www-form-urlencoded",
        f"Content-Length: {len(body)}".encode(),
        b"Connection: close",
        *headers,
    ]
    writer.write(b"\r\n".join(lines) + b"\r\n\r\n" + body)
    await writer.drain()
    response = await reader.read()
    writer.close()
    await writer.wait_closed()
    status = int(response.split(b" ", 2)[1])
    return status, response.split(b"\r\n\r\n", 1)[1]


def good_headers(body: bytes, now: int) -> dict[str, str]:
    return sign(body, now)


CASES = {
    "stale by 301 s": lambda body, now: sign(body, now - 301),
    # Well past the limit: the request reaches the server a moment after it is signed.
    "future by 330 s": lambda body, now: sign(body, now + 330),
    "tampered body": lambda body, now: sign(body + b"&text=admin", now),
    "wrong secret": lambda body, now: sign(body, now, secret="0" * 32),
    "missing both headers": lambda body, now: {},
    "missing signature": lambda body, now: {"X-Slack-Request-Timestamp": str(now)},
    "missing timestamp": lambda body, now: {"X-Slack-Signature": sign(body, now)["X-Slack-Signature"]},
    "ts=abc": lambda body, now: {**sign(body, now), "X-Slack-Request-Timestamp": "abc"},
    "ts with a sign": lambda body, now: {**sign(body, now), "X-Slack-Request-Timestamp": f"+{now}"},
    "v1 signature": lambda body, now: {**sign(body, now), "X-Slack-Signature": "v1=" + "0" * 64},
    "truncated signature": lambda body, now: {"X-Slack-Request-Timestamp": str(now),
                                             "X-Slack-Signature": sign(body, now)["X-Slack-Signature"][:-2]},
    "empty signature": lambda body, now: {**sign(body, now), "X-Slack-Signature": ""},
}  # fmt: skip


async def test_a_correctly_signed_request_is_served(member: Member) -> None:
    answer = await member.ask("help")
    assert answer.ack.status == 200
    assert answer.message["blocks"][0]["text"]["text"] == "How to use pmadvice"


@pytest.mark.parametrize("case", list(CASES))
async def test_bad_signatures_are_401_and_run_nothing(
    case: str,
    member: Member,
    http: HttpTransport,
    fake: FakeSlack,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    startup_calls = len(fake.calls)
    body = command_body(member, "subscribe tue 08:30 Europe/Berlin")
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        **CASES[case](body, int(time.time())),
    }
    async with http.session.post(http.url, data=body, headers=headers) as response:
        assert response.status == 401
        assert await response.json() == {"error": "invalid request"}
    assert fake.calls[startup_calls:] == []
    assert fake.hooks == []
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "Europe" not in logged
    assert "response_url" not in logged
    assert "v0=" not in logged


@pytest.mark.parametrize(
    "signature",
    ["v0=é".encode(), b"v0=\xff\xfe" + b"0" * 62, "v0=ü".encode("latin-1"), "v0=٣".encode()],
    ids=["utf8-e-acute", "invalid-utf8", "latin1", "arabic-digit"],
)
async def test_non_ascii_signature_is_401(
    signature: bytes, member: Member, service: SlackService, fake: FakeSlack
) -> None:
    body = command_body(member)
    startup_calls = len(fake.calls)
    status, payload = await raw_post(
        service.bound_port or 0,
        [
            b"X-Slack-Request-Timestamp: " + str(int(time.time())).encode(),
            b"X-Slack-Signature: " + signature,
        ],
        body,
    )
    assert status == 401, payload
    assert fake.hooks == []
    assert fake.calls[startup_calls:] == []


async def test_non_ascii_digits_in_timestamp_are_401(member: Member, service: SlackService) -> None:
    body = command_body(member)
    arabic = str(int(time.time())).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    signature = sign(body, int(time.time()))["X-Slack-Signature"].encode()
    status, _ = await raw_post(
        service.bound_port or 0,
        [b"X-Slack-Request-Timestamp: " + arabic.encode(), b"X-Slack-Signature: " + signature],
        body,
    )
    assert status == 401


async def test_a_body_that_is_not_utf8_is_401(http: HttpTransport, fake: FakeSlack) -> None:
    body = b"payload=\xff\xfe"
    startup_calls = len(fake.calls)
    headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body, int(time.time()))}
    async with http.session.post(http.url, data=body, headers=headers) as response:
        assert response.status == 401
    assert fake.calls[startup_calls:] == []


async def test_url_verification_challenge_needs_a_signature(http: HttpTransport) -> None:
    body = json.dumps({"token": "t", "challenge": "c-123", "type": "url_verification"}).encode()
    signed = await http.post(body, "application/json")
    assert signed.status == 200
    assert signed.json() == {"challenge": "c-123"}
    headers = {"Content-Type": "application/json", **sign(body, int(time.time()) - 1000)}
    async with http.session.post(http.url, data=body, headers=headers) as response:
        assert response.status == 401


async def test_healthz_is_ok_once_ready(service: SlackService) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{service.bound_port}/healthz") as response,
    ):
        assert response.status == 200
        assert await response.json() == {"status": "ok"}


def test_the_signing_secret_is_the_sentinel() -> None:
    assert SIGNING_SECRET.startswith("SENTINEL")
