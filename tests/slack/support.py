"""Talk to the bot the way Slack does: signed HTTP requests, or Socket Mode envelopes.

A `Member` sends `/pmadvice` commands, presses buttons in what the bot posted, fills in and
submits modals, and opens App Home. Each step returns what the bot did, read from the fake.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp

from tests.slack.fake_slack import APP_ID, TEAM_ID, FakeSlack

SIGNING_SECRET = "SENTINELsigning0secret0000000001"
BOT_TOKEN = "xoxb-111-222-SENTINELbottoken"
APP_TOKEN = "xapp-1-A0APP0001-333-SENTINELapptoken"
CHANNEL = "C0GENERAL1"


def sign(body: bytes, timestamp: int | str, secret: str = SIGNING_SECRET) -> dict[str, str]:
    """Headers exactly as Slack computes them: HMAC-SHA256 of `v0:{ts}:{body}`."""
    base = f"v0:{timestamp}:".encode() + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": f"v0={digest}"}


@dataclass
class Sent:
    status: int
    body: str
    elapsed: float

    def json(self) -> dict[str, Any]:
        return json.loads(self.body) if self.body else {}


class Transport:
    """Delivers payloads to the bot; HTTP and Socket Mode share the member-level helpers."""

    async def command(self, payload: dict[str, str]) -> Sent:
        raise NotImplementedError

    async def interactive(self, payload: dict[str, Any]) -> Sent:
        raise NotImplementedError

    async def event(self, payload: dict[str, Any]) -> Sent:
        raise NotImplementedError


class HttpTransport(Transport):
    def __init__(self, url: str, session: aiohttp.ClientSession) -> None:
        self.url = url
        self.session = session

    async def post(
        self,
        body: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
        timestamp: int | None = None,
    ) -> Sent:
        signed = sign(body, timestamp if timestamp is not None else int(time.time()))
        all_headers = {"Content-Type": content_type, **signed, **(headers or {})}
        started = time.perf_counter()
        async with self.session.post(self.url, data=body, headers=all_headers) as response:
            text = await response.text()
        return Sent(response.status, text, time.perf_counter() - started)

    async def command(self, payload: dict[str, str]) -> Sent:
        return await self.post(urlencode(payload).encode(), "application/x-www-form-urlencoded")

    async def interactive(self, payload: dict[str, Any]) -> Sent:
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return await self.post(body, "application/x-www-form-urlencoded")

    async def event(self, payload: dict[str, Any]) -> Sent:
        return await self.post(json.dumps(payload).encode(), "application/json")


class SocketTransport(Transport):
    def __init__(self, fake: FakeSlack) -> None:
        self.fake = fake

    async def _send(self, kind: str, payload: dict[str, Any]) -> Sent:
        started = time.perf_counter()
        ack = await self.fake.send_envelope(kind, payload)
        body = json.dumps(ack["payload"]) if ack.get("payload") else ""
        return Sent(200, body, time.perf_counter() - started)

    async def command(self, payload: dict[str, str]) -> Sent:
        return await self._send("slash_commands", payload)

    async def interactive(self, payload: dict[str, Any]) -> Sent:
        return await self._send("interactive", payload)

    async def event(self, payload: dict[str, Any]) -> Sent:
        return await self._send("events_api", payload)


@dataclass
class Answer:
    """What the member saw after a command or a button: the ack and the follow-up message."""

    ack: Sent
    message: dict[str, Any]
    response_url: str

    @property
    def text(self) -> str:
        return json.dumps(self.message)

    @property
    def blocks(self) -> list[dict[str, Any]]:
        return list(self.message.get("blocks") or [])

    def buttons(self) -> dict[str, dict[str, Any]]:
        return buttons_in(self.blocks)


def buttons_in(blocks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for block in blocks:
        for element in block.get("elements") or []:
            if element.get("type") == "button":
                found[element["text"]["text"]] = {**element, "block_id": block.get("block_id", "b")}
    return found


def section_text(blocks: list[dict[str, Any]]) -> str:
    parts: list[str] = []
    for block in blocks:
        if block.get("type") in {"section", "header"}:
            if block.get("text"):
                parts.append(block["text"]["text"])
            parts.extend(f["text"] for f in block.get("fields") or [])
        if block.get("type") == "context":
            parts.extend(e.get("text", "") for e in block["elements"])
    return "\n".join(parts)


@dataclass
class Member:
    transport: Transport
    fake: FakeSlack
    user_id: str = "U0MEMBER01"
    name: str = "ada"
    channel: str = CHANNEL
    team: str = TEAM_ID
    trigger_ids: list[str] = field(default_factory=list)
    last_response_url: str = ""

    def _trigger(self) -> str:
        trigger = f"{secrets.randbelow(10**9)}.{secrets.randbelow(10**9)}.{secrets.token_hex(8)}"
        self.trigger_ids.append(trigger)
        return trigger

    def command_payload(self, text: str, response_url: str) -> dict[str, str]:
        return {
            "token": "deprecated-verification-token",
            "team_id": self.team,
            "team_domain": "fake-workspace",
            "channel_id": self.channel,
            "channel_name": "general",
            "user_id": self.user_id,
            "user_name": self.name,
            "command": "/pmadvice",
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": self._trigger(),
        }

    async def send(self, text: str) -> tuple[Sent, str]:
        """Type `/pmadvice text`; returns the ack and the response_url to watch."""
        url = self.fake.new_response_url("commands")
        return await self.transport.command(self.command_payload(text, url)), url

    async def ask(self, text: str) -> Answer:
        """Type `/pmadvice text` and wait for the answer posted to the response_url."""
        ack, url = await self.send(text)
        assert ack.status == 200, ack
        return Answer(ack, await self.fake.wait_hook(url), url)

    async def open_form(self, text: str) -> dict[str, Any]:
        """A command that answers with a modal: the view the bot opened."""
        before = len(self.fake.called("views.open"))
        ack, _ = await self.send(text)
        assert ack.status == 200
        call = await self.fake.wait_call("views.open", count=before + 1)
        assert call.params["trigger_id"] == self.trigger_ids[-1]
        return dict(call.params["view"])

    def _user(self) -> dict[str, str]:
        return {"id": self.user_id, "username": self.name, "name": self.name, "team_id": self.team}

    async def press(self, where: Answer | dict[str, Any], label: str, **select: str) -> Sent:
        """Press a button (by its label) in a message answer, a modal or the App Home view."""
        if isinstance(where, Answer):
            blocks, view = where.blocks, None
        else:
            blocks, view = where.get("blocks", []), where
        element = buttons_in(blocks).get(label)
        if element is None and select:
            element = _select_in(blocks, label, select["option"])
        assert element is not None, f"no {label!r} in {sorted(buttons_in(blocks))}"
        action = {
            "type": element["type"],
            "action_id": element["action_id"],
            "block_id": element.get("block_id", "b"),
            "action_ts": f"{time.time():.6f}",
        }
        if element["type"] == "button":
            action.update(value=element.get("value", ""), text=element["text"])
        else:
            action["selected_option"] = element["selected_option"]
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": self._user(),
            "api_app_id": APP_ID,
            "token": "deprecated-verification-token",
            "trigger_id": self._trigger(),
            "team": {"id": self.team, "domain": "fake-workspace"},
            "enterprise": None,
            "is_enterprise_install": False,
            "actions": [action],
        }
        if view is None:
            self.last_response_url = self.fake.new_response_url("actions")
            payload.update(
                container={"type": "message", "message_ts": "1.2", "channel_id": self.channel,
                           "is_ephemeral": True},
                channel={"id": self.channel, "name": "general"},
                response_url=self.last_response_url,
            )  # fmt: skip
        else:
            payload.update(
                container={"type": "view", "view_id": view["id"]},
                view=view,
            )
        return await self.transport.interactive(payload)

    async def click(self, answer: Answer, label: str) -> Answer:
        """Press a button in a message and wait for the bot's message in reply."""
        ack = await self.press(answer, label)
        assert ack.status == 200
        return Answer(
            ack, await self.fake.wait_hook(self.last_response_url), self.last_response_url
        )

    async def submit(self, view: dict[str, Any], values: dict[str, str | list[str]]) -> Sent:
        """Fill in a modal's inputs (by block id) and press its submit button."""
        state: dict[str, Any] = {}
        for block in view.get("blocks", []):
            if block.get("type") != "input":
                continue
            element = block["element"]
            value = values.get(block["block_id"])
            if element["type"] == "multi_static_select":
                chosen = value if isinstance(value, list) else []
                by_value = {o["value"]: o for o in element["options"]}
                options = [by_value[v] for v in chosen if v in by_value]
                state[block["block_id"]] = {
                    element["action_id"]: {"type": element["type"], "selected_options": options}
                }
            else:
                text = value if isinstance(value, str) else element.get("initial_value")
                state[block["block_id"]] = {
                    element["action_id"]: {"type": element["type"], "value": text or None}
                }
        submitted = {
            "id": view.get("id", "V0SUBMIT"),
            "team_id": self.team,
            "type": "modal",
            "callback_id": view.get("callback_id"),
            "private_metadata": view.get("private_metadata", ""),
            "blocks": view.get("blocks", []),
            "state": {"values": state},
            "hash": "156772938.1827394",
            "title": view.get("title"),
            "app_id": APP_ID,
            "bot_id": "B0BOT0001",
        }
        payload = {
            "type": "view_submission",
            "team": {"id": self.team, "domain": "fake-workspace"},
            "user": self._user(),
            "api_app_id": APP_ID,
            "token": "deprecated-verification-token",
            "trigger_id": self._trigger(),
            "view": submitted,
            "response_urls": [],
            "is_enterprise_install": False,
        }
        return await self.transport.interactive(payload)

    async def open_home(self) -> dict[str, Any]:
        """Open the App Home tab; returns the view the bot published for this member."""
        before = len([c for c in self.fake.called("views.publish")
                      if c.params.get("user_id") == self.user_id])  # fmt: skip
        sent = await self.transport.event(self.home_event())
        assert sent.status == 200
        call = await self.fake.wait_call(
            "views.publish", lambda c: c.params.get("user_id") == self.user_id, count=before + 1
        )
        return self.fake.published[self.user_id] if call else {}

    def home_event(self) -> dict[str, Any]:
        return {
            "token": "deprecated-verification-token",
            "team_id": self.team,
            "api_app_id": APP_ID,
            "event": {
                "type": "app_home_opened",
                "user": self.user_id,
                "channel": "D" + self.user_id[1:],
                "tab": "home",
                "event_ts": f"{time.time():.6f}",
            },
            "type": "event_callback",
            "event_id": "Ev" + secrets.token_hex(5).upper(),
            "event_time": int(time.time()),
            "authorizations": [{"enterprise_id": None, "team_id": self.team,
                                "user_id": "U0BOT0001", "is_bot": True}],
        }  # fmt: skip


def _select_in(
    blocks: list[dict[str, Any]], placeholder: str, option_value: str
) -> dict[str, Any] | None:
    for block in blocks:
        for element in block.get("elements") or []:
            if (
                element.get("type") == "static_select"
                and element["placeholder"]["text"] == placeholder
            ):
                option = next(o for o in element["options"] if o["value"] == option_value)
                return {
                    **element,
                    "block_id": block.get("block_id", "b"),
                    "selected_option": option,
                }
    return None


def message_event(member: Member, text: str, kind: str, channel: str) -> dict[str, Any]:
    """An Events API envelope for a message: `app_mention` in a channel or `message` in a DM."""
    ts = f"{time.time():.6f}"
    event: dict[str, Any] = {
        "type": kind,
        "user": member.user_id,
        "text": text,
        "ts": ts,
        "channel": channel,
        "event_ts": ts,
        "team": member.team,
    }
    if kind == "message":
        event["channel_type"] = "im"
    return {
        "token": "deprecated-verification-token",
        "team_id": member.team,
        "api_app_id": APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": "Ev" + secrets.token_hex(5).upper(),
        "event_time": int(time.time()),
        "authorizations": [{"enterprise_id": None, "team_id": member.team,
                            "user_id": "U0BOT0001", "is_bot": True}],
    }  # fmt: skip
