"""No token, signing secret or response_url in any log line, even at DEBUG, even on errors."""

from __future__ import annotations

import logging
import time
from urllib.parse import urlencode

import pytest

from bot.slack_adapter.logs import redact
from tests.slack.fake_slack import FakeSlack
from tests.slack.support import APP_TOKEN, BOT_TOKEN, SIGNING_SECRET, HttpTransport, Member


def logged(caplog: pytest.LogCaptureFixture) -> str:
    lines = []
    for record in caplog.records:
        lines.append(record.getMessage())
        if record.exc_text:
            lines.append(record.exc_text)
    return "\n".join(lines)


def assert_clean(text: str, response_urls: list[str]) -> None:
    for secret in (BOT_TOKEN, SIGNING_SECRET, APP_TOKEN, "SENTINEL"):
        assert secret not in text
    for url in response_urls:
        assert url not in text
        assert url.rsplit("/", 1)[1] not in text  # the secret part, in any encoding


async def test_http_flows_at_debug_leak_nothing(
    member: Member, http: HttpTransport, fake: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    urls = []
    answer = await member.ask("how do I talk about my supply chain work")
    urls.append(answer.response_url)
    urls.append((await member.click(answer, "👍 Helpful")).response_url)
    fake.fail_hooks(status=404, body="expired_url")
    fake.fail("chat.postEphemeral", "not_in_channel")
    _ack, url = await member.send("help")
    urls.append(url)
    await fake.wait_call("chat.postMessage")
    fake.rate_limit("chat.postMessage", retry_after=3)
    await member.send("topics")
    body = urlencode(member.command_payload("help", fake.new_response_url())).encode()
    bad = await http.post(
        body, "application/x-www-form-urlencoded", timestamp=int(time.time()) - 999
    )
    assert bad.status == 401
    view = await member.open_form("suggest")
    await member.submit(view, {"title": "x", "body": "y", "topics": []})
    await member.open_home()
    assert len(caplog.records) > 20  # DEBUG really was on
    assert_clean(logged(caplog), urls)


async def test_socket_mode_at_debug_leaks_nothing(
    socket_member: Member, fake: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    answer = await socket_member.ask("help")
    await socket_member.open_home()
    assert any("Received message" in r.getMessage() for r in caplog.records)
    assert_clean(logged(caplog), [answer.response_url])


async def test_a_crash_with_a_secret_in_the_message_is_redacted(
    member: Member,
    runtime: object,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bot.app import Runtime

    assert isinstance(runtime, Runtime)

    hook = member.fake.new_response_url()
    token = BOT_TOKEN

    async def broken(*args: object) -> object:
        raise RuntimeError(f"posting to {hook} with {token}")

    caplog.set_level(logging.DEBUG)
    monkeypatch.setattr(runtime.facade, "handle", broken)
    await member.ask("help")
    assert "RuntimeError: posting to [redacted] with [redacted]" in logged(caplog)
    assert_clean(logged(caplog), [hook])


@pytest.mark.parametrize(
    "text",
    [
        "token xoxb-1-2-abc and xapp-1-A1-3-def",
        "url https://hooks.slack.com/commands/T1/2/abcDEF",
        '{"response_url":"https:\\/\\/hooks.slack.com\\/actions\\/T1\\/2\\/abcDEF"}',
        "response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1%2F2%2FabcDEF&x=1",
        "wss://wss-primary.slack.com/link/?ticket=abc-123&app_id=A1",
    ],
)
def test_redact_patterns(text: str) -> None:
    cleaned = redact(text)
    assert "abc" not in cleaned.lower().replace("abc-", "")
    assert "[redacted]" in cleaned
