"""A fake Slack for tests: Web API, response_url hooks and a Socket Mode websocket on 127.0.0.1.

It answers the methods the bot calls with bodies shaped like Slack's, checks the bearer token,
rejects Block Kit that real Slack would reject (too many blocks, text too long, duplicate
action ids), records everything, and can be told to fail a method: an error code, a 429 with
Retry-After, a 5xx, a dropped connection, or no answer until released (`hold`). Tests wait on
records with `wait_for`, which wakes on every new record instead of sleeping.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

T = TypeVar("T")

TEAM_ID = "T0FAKE01"
BOT_USER_ID = "U0BOT0001"
BOT_ID = "B0BOT0001"
APP_ID = "A0APP0001"
WAIT_TIMEOUT = 5.0


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    token: str | None


@dataclass
class Hook:
    """A message posted to a response_url."""

    url: str
    body: dict[str, Any]
    at: float = field(default_factory=time.perf_counter)


@dataclass
class Failure:
    status: int = 200
    error: str | None = None
    retry_after: int | None = None
    drop: bool = False
    body: str | None = None


@dataclass
class Profile:
    name: str
    display_name: str = ""
    real_name: str = ""
    tz: str | None = "America/New_York"
    deleted: bool = False


@dataclass
class FakeSlack:
    bot_token: str
    app_token: str = ""
    calls: list[Call] = field(default_factory=list)
    hooks: list[Hook] = field(default_factory=list)
    socket_acks: list[dict[str, Any]] = field(default_factory=list)
    users: dict[str, Profile] = field(default_factory=dict)
    groups: dict[str, list[str]] = field(default_factory=dict)
    views: dict[str, dict[str, Any]] = field(default_factory=dict)
    published: dict[str, dict[str, Any]] = field(default_factory=dict)
    history: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """Messages posted, by channel, for conversations.history."""
    invalid: list[tuple[str, list[str]]] = field(default_factory=list)
    """Every payload the fake rejected as Slack would, with the reasons; tests expect none."""

    installs: dict[str, tuple[str, str]] = field(default_factory=dict)
    """OAuth codes Slack would hand out: code -> (team id, bot token)."""
    team_tokens: dict[str, str] = field(default_factory=dict)
    """Bot tokens issued by oauth.v2.access: token -> team id."""
    client_id: str = ""
    client_secret: str = ""

    limits: dict[str, tuple[int, float]] = field(default_factory=dict)
    """Per-method rate limits Slack enforces: method -> (calls, per seconds); chat.postMessage
    is limited per channel, every other method per workspace."""
    clock: Callable[[], float] = time.monotonic
    """The time the limits are measured in (a benchmark may run on simulated time)."""

    def __post_init__(self) -> None:
        self._windows: dict[tuple[str, str], deque[float]] = {}
        self.rate_limited_answers = 0
        self._failures: dict[str, deque[Failure]] = {}
        self._hook_failures: deque[Failure] = deque()
        self._changed = asyncio.Condition()
        self._ids = itertools.count(1)
        self._sockets: list[web.WebSocketResponse] = []
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.connections_opened = 0
        self._token: str | None = None
        self._held: dict[str, asyncio.Event] = {}

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/commands/{team}/{id}/{secret}", self._hook)
        app.router.add_post("/actions/{team}/{id}/{secret}", self._hook)
        app.router.add_get("/link/", self._socket)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        self.release()
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def new_response_url(self, kind: str = "commands") -> str:
        return f"{self.url}/{kind}/{TEAM_ID}/{next(self._ids)}{next(self._ids)}/{secrets.token_hex(12)}"

    # -- programming failures ------------------------------------------------------------------

    def fail(self, method: str, error: str, times: int = 1, status: int = 200) -> None:
        self._queue(method, Failure(status=status, error=error), times)

    def rate_limit(self, method: str, retry_after: int = 30, times: int = 1) -> None:
        self._queue(
            method, Failure(status=429, error="ratelimited", retry_after=retry_after), times
        )

    def server_error(self, method: str, status: int = 503, times: int = 1) -> None:
        self._queue(method, Failure(status=status, body="<html>Service Unavailable</html>"), times)

    def drop(self, method: str, times: int = 1) -> None:
        self._queue(method, Failure(drop=True), times)

    def hold(self, method: str) -> None:
        """Record calls to `method` but answer none of them until `release` (or `stop`): a
        request the bot has in flight for as long as the test wants."""
        self._held.setdefault(method, asyncio.Event())

    def release(self) -> None:
        for gate in self._held.values():
            gate.set()
        self._held.clear()

    def fail_hooks(self, status: int = 404, body: str = "expired_url", times: int = 1) -> None:
        for _ in range(times):
            self._hook_failures.append(Failure(status=status, body=body))

    def _queue(self, method: str, failure: Failure, times: int) -> None:
        self._failures.setdefault(method, deque()).extend([failure] * times)

    # -- reading records -----------------------------------------------------------------------

    def called(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    async def wait_for(self, check: Callable[[], T | None], within: float = WAIT_TIMEOUT) -> T:
        """Wait until `check()` returns something truthy, re-checking on every new record."""
        async with self._changed:
            result = check()
            if result:
                return result
            async with asyncio.timeout(within):
                while True:
                    await self._changed.wait()
                    result = check()
                    if result:
                        return result

    async def wait_call(
        self, method: str, where: Callable[[Call], bool] = lambda c: True, count: int = 1
    ) -> Call:
        def check() -> Call | None:
            matching = [c for c in self.calls if c.method == method and where(c)]
            return matching[count - 1] if len(matching) >= count else None

        return await self.wait_for(check)

    async def wait_hook(self, url: str) -> dict[str, Any]:
        def check() -> dict[str, Any] | None:
            return next((h.body for h in self.hooks if h.url == url), None)

        return await self.wait_for(check)

    async def _record(self, item: Call | Hook) -> None:
        async with self._changed:
            if isinstance(item, Call):
                self.calls.append(item)
            else:
                self.hooks.append(item)
            self._changed.notify_all()

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # -- the Web API ---------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        params: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            raw = await request.text()
            if request.content_type == "application/json":
                params.update(json.loads(raw or "{}"))
            else:
                params.update(dict(parse_qsl(raw, keep_blank_values=True)))
        for key in ("blocks", "view"):
            if isinstance(params.get(key), str):
                params[key] = json.loads(params[key])
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") if auth.startswith("Bearer ") else params.get("token")
        await self._record(Call(method, params, token))
        gate = self._held.get(method)
        if gate is not None:
            await gate.wait()

        limited = self._over_limit(method, params)
        if limited is not None:
            return web.json_response(
                {"ok": False, "error": "ratelimited"},
                status=429,
                headers={"Retry-After": str(limited)},
            )
        queued = self._failures.get(method)
        if queued:
            failure = queued.popleft()
            if failure.drop:
                assert request.transport is not None
                request.transport.close()
                return web.Response(status=500)
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after else {}
            if failure.body is not None:
                return web.Response(
                    status=failure.status, text=failure.body, content_type="text/html"
                )
            return web.json_response(
                {"ok": False, "error": failure.error}, status=failure.status, headers=headers
            )

        if method == "oauth.v2.access":
            return web.json_response(self._oauth_access(request, params))
        if method == "apps.connections.open":
            valid = token == self.app_token
        else:
            valid = token == self.bot_token or token in self.team_tokens
        if not valid:
            return web.json_response({"ok": False, "error": "invalid_auth"})
        handler = getattr(self, "_m_" + method.replace(".", "_"), None)
        if handler is None:
            return web.json_response({"ok": False, "error": "unknown_method"}, status=404)
        self._token = token
        body: dict[str, Any] = await handler(params)
        if not body.get("ok", True):
            return web.json_response(body)
        return web.json_response({"ok": True, **body})

    def _over_limit(self, method: str, params: dict[str, Any]) -> int | None:
        """Seconds to wait when this call is over its method's limit, else None (and counted)."""
        if method not in self.limits:
            return None
        calls, per = self.limits[method]
        scope = str(params.get("channel", "")) if method == "chat.postMessage" else ""
        window = self._windows.setdefault((method, scope), deque())
        now = self.clock()
        while window and now - window[0] >= per:
            window.popleft()
        if len(window) >= calls:
            self.rate_limited_answers += 1
            return max(1, int(per - (now - window[0]) + 0.999))
        window.append(now)
        return None

    def _ts(self) -> str:
        return f"1772442000.{next(self._ids):06d}"

    def _check_message(self, method: str, params: dict[str, Any]) -> dict[str, Any] | None:
        problems = message_problems(params)
        if problems:
            self.invalid.append((method, problems))
            return {"ok": False, "error": "invalid_blocks", "errors": problems}
        return None

    def grant(self, code: str, team_id: str, token: str) -> None:
        """Make `code` the one Slack's authorize page would hand back for `team_id`."""
        self.installs[code] = (team_id, token)

    def _oauth_access(self, request: web.Request, params: dict[str, Any]) -> dict[str, Any]:
        pair = f"{self.client_id}:{self.client_secret}".encode()
        expected = "Basic " + base64.b64encode(pair).decode()
        if request.headers.get("Authorization") != expected:
            return {"ok": False, "error": "invalid_client_id"}
        granted = self.installs.pop(str(params.get("code", "")), None)
        if granted is None:
            return {"ok": False, "error": "invalid_code"}
        team_id, token = granted
        self.team_tokens[token] = team_id
        return {
            "ok": True,
            "app_id": APP_ID,
            "authed_user": {"id": "U0INSTALL1"},
            "scope": "commands,chat:write,im:write,users:read,usergroups:read",
            "token_type": "bot",
            "access_token": token,
            "bot_user_id": BOT_USER_ID,
            "team": {"id": team_id, "name": f"Workspace {team_id}"},
            "enterprise": None,
            "is_enterprise_install": False,
        }

    async def _m_auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": "https://fake-workspace.slack.com/",
            "team": "Fake Workspace",
            "user": "pmadvice",
            "team_id": self.team_tokens.get(self._token or "", TEAM_ID),
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    async def _m_conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        user = str(params.get("users", ""))
        profile = self.users.get(user)
        if profile is not None and profile.deleted:
            return {"ok": False, "error": "user_disabled"}
        return {"no_op": True, "already_open": True, "channel": {"id": "D" + user[1:]}}

    async def _m_chat_postMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        invalid = self._check_message("chat.postMessage", params)
        if invalid:
            return invalid
        channel = str(params.get("channel", ""))
        if channel[:1] in {"U", "W"}:  # a user id: Slack posts into the app's DM with them
            profile = self.users.get(channel)
            if profile is not None and profile.deleted:
                return {"ok": False, "error": "user_disabled"}
            channel = "D" + channel[1:]
        ts = self._ts()
        posted: dict[str, Any] = {
            "type": "message",
            "subtype": "bot_message",
            "text": params.get("text", ""),
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "ts": ts,
            "blocks": params.get("blocks", []),
        }
        metadata = params.get("metadata")
        if isinstance(metadata, str):
            metadata = json.loads(metadata)
        if metadata:
            posted["metadata"] = metadata
        self.history.setdefault(channel, []).append(posted)
        return {"channel": channel, "ts": ts, "message": posted}

    async def _m_conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        """Newest first; metadata only with include_all_metadata, as Slack does."""
        posted = list(reversed(self.history.get(str(params.get("channel")), [])))
        limit = int(params.get("limit") or 100)
        with_metadata = str(params.get("include_all_metadata")).lower() in {"true", "1"}
        messages = [
            m if with_metadata else {k: v for k, v in m.items() if k != "metadata"}
            for m in posted[:limit]
        ]
        return {"messages": messages, "has_more": len(posted) > limit}

    async def _m_chat_postEphemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        invalid = self._check_message("chat.postEphemeral", params)
        return invalid or {"message_ts": self._ts()}

    async def _m_users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user_id = str(params.get("user", ""))
        profile = self.users.get(user_id) or Profile(name=user_id.lower())
        return {
            "user": {
                "id": user_id,
                "team_id": TEAM_ID,
                "name": profile.name,
                "deleted": profile.deleted,
                "real_name": profile.real_name,
                "tz": profile.tz,
                "tz_label": "Local time",
                "tz_offset": 0,
                "is_bot": False,
                "profile": {
                    "real_name": profile.real_name,
                    "display_name": profile.display_name,
                    "team": TEAM_ID,
                },
            }
        }

    async def _m_usergroups_users_list(self, params: dict[str, Any]) -> dict[str, Any]:
        group = str(params.get("usergroup", ""))
        if group not in self.groups:
            return {"ok": False, "error": "no_such_subteam"}
        return {"users": list(self.groups[group])}

    async def _view(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        view = params.get("view") or {}
        problems = view_problems(view)
        if problems:
            self.invalid.append((method, problems))
            return {
                "ok": False,
                "error": "invalid_arguments",
                "response_metadata": {"messages": problems},
            }
        view_id = params.get("view_id") or f"V{next(self._ids):08d}"
        stored = {
            "id": view_id,
            "team_id": TEAM_ID,
            "hash": secrets.token_hex(6),
            "state": {"values": {}},
            "app_id": APP_ID,
            "bot_id": BOT_ID,
            "private_metadata": "",
            "callback_id": "",
            **view,
        }
        self.views[view_id] = stored
        if method == "views.publish":
            self.published[str(params.get("user_id"))] = stored
        return {"view": stored}

    async def _m_views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("trigger_id"):
            return {"ok": False, "error": "invalid_trigger_id"}
        return await self._view("views.open", params)

    async def _m_views_push(self, params: dict[str, Any]) -> dict[str, Any]:
        return await self._view("views.push", params)

    async def _m_views_update(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("view_id") not in self.views:
            return {"ok": False, "error": "not_found"}
        return await self._view("views.update", params)

    async def _m_views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        return await self._view("views.publish", params)

    async def _m_apps_connections_open(self, params: dict[str, Any]) -> dict[str, Any]:
        self.connections_opened += 1
        return {
            "url": f"ws://127.0.0.1:{self.port}/link/?ticket={secrets.token_hex(8)}&app_id={APP_ID}"
        }

    # -- response_url --------------------------------------------------------------------------

    async def _hook(self, request: web.Request) -> web.StreamResponse:
        body = json.loads(await request.text())
        await self._record(Hook(str(request.url), body))
        if self._hook_failures:
            failure = self._hook_failures.popleft()
            return web.Response(status=failure.status, text=failure.body or "")
        problems = message_problems(body)
        if problems:
            self.invalid.append(("response_url", problems))
            return web.Response(status=400, text="invalid_blocks")
        return web.Response(text="ok")

    # -- Socket Mode ---------------------------------------------------------------------------

    async def _socket(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_json({
            "type": "hello",
            "num_connections": 1,
            "debug_info": {"host": "applink-fake", "build_number": 1,
                           "approximate_connection_time": 18060},
            "connection_info": {"app_id": APP_ID},
        })  # fmt: skip
        await self._notify()
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    async with self._changed:
                        self.socket_acks.append(json.loads(msg.data))
                        self._changed.notify_all()
        finally:
            self._sockets.remove(ws)
        return ws

    @property
    def socket_connected(self) -> bool:
        return bool(self._sockets)

    async def send_envelope(
        self, kind: str, payload: dict[str, Any], accepts_response_payload: bool = True
    ) -> dict[str, Any]:
        """Push one Socket Mode envelope and return the app's acknowledgement."""
        envelope_id = secrets.token_hex(8)
        await self.wait_for(lambda: self.socket_connected)
        await self._sockets[-1].send_json({
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
            "retry_attempt": 0,
            "retry_reason": "",
        })  # fmt: skip
        return await self.wait_for(
            lambda: next((a for a in self.socket_acks if a.get("envelope_id") == envelope_id), None)
        )


# -- Block Kit limits, as Slack enforces them ----------------------------------------------------


def message_problems(message: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    blocks = message.get("blocks") or []
    if not message.get("text") and not blocks:
        problems.append("no_text")
    if len(str(message.get("text") or "")) > 40_000:
        problems.append("msg_too_long")
    if len(blocks) > 50:
        problems.append(f"{len(blocks)} blocks > 50")
    problems.extend(blocks_problems(blocks))
    return problems


def view_problems(view: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    blocks = view.get("blocks") or []
    if len(blocks) > 100:
        problems.append(f"{len(blocks)} blocks > 100")
    for key in ("title", "submit", "close"):
        text = (view.get(key) or {}).get("text", "")
        if len(text) > 24:
            problems.append(f"{key} longer than 24")
    if view.get("type") == "modal" and not view.get("title"):
        problems.append("modal without title")
    if len(view.get("private_metadata") or "") > 3000:
        problems.append("private_metadata too long")
    if any(b.get("type") == "input" for b in blocks) and not view.get("submit"):
        problems.append("input blocks need a submit button")
    problems.extend(blocks_problems(blocks))
    return problems


def blocks_problems(blocks: list[dict[str, Any]]) -> list[str]:
    problems: list[str] = []
    action_ids: set[str] = set()
    block_ids: set[str] = set()

    def text_limit(obj: dict[str, Any] | None, limit: int, where: str) -> None:
        if obj is None:
            return
        text = obj.get("text", "")
        if not text:
            problems.append(f"{where}: empty text")
        if len(text) > limit:
            problems.append(f"{where}: {len(text)} chars > {limit}")

    def element(el: dict[str, Any], where: str) -> None:
        action_id = el.get("action_id")
        if action_id:
            if action_id in action_ids:
                problems.append(f"{where}: duplicate action_id {action_id}")
            action_ids.add(action_id)
        if el.get("type") == "button":
            text_limit(el.get("text"), 75, where + " button")
            if len(el.get("value", "")) > 2000:
                problems.append(f"{where}: button value too long")
        if el.get("type") in {"static_select", "multi_static_select"}:
            options = el.get("options") or []
            if not options or len(options) > 100:
                problems.append(f"{where}: {len(options)} options")
            for option in options:
                text_limit(option.get("text"), 75, where + " option")
                if len(option.get("value", "")) > 150:
                    problems.append(f"{where}: option value too long")
        if el.get("type") == "plain_text_input":
            if len(el.get("initial_value", "")) > el.get("max_length", 3000):
                problems.append(f"{where}: initial_value longer than max_length")
            if el.get("max_length", 3000) > 3000:
                problems.append(f"{where}: max_length > 3000")

    for index, block in enumerate(blocks):
        where = f"block {index} ({block.get('type')})"
        action_ids.clear()  # Slack wants action_ids unique within their block
        block_id = block.get("block_id")
        if block_id:
            if block_id in block_ids:
                problems.append(f"{where}: duplicate block_id")
            block_ids.add(block_id)
        kind = block.get("type")
        if kind == "header":
            text_limit(block.get("text"), 150, where)
        elif kind == "section":
            if "text" not in block and "fields" not in block:
                problems.append(f"{where}: needs text or fields")
            text_limit(block.get("text"), 3000, where)
            fields = block.get("fields") or []
            if len(fields) > 10:
                problems.append(f"{where}: {len(fields)} fields > 10")
            for field_obj in fields:
                text_limit(field_obj, 2000, where + " field")
        elif kind == "context":
            elements = block.get("elements") or []
            if not elements or len(elements) > 10:
                problems.append(f"{where}: {len(elements)} elements")
            for item in elements:
                text_limit(item, 3000, where)
        elif kind == "actions":
            elements = block.get("elements") or []
            if not elements or len(elements) > 25:
                problems.append(f"{where}: {len(elements)} elements")
            for item in elements:
                element(item, where)
        elif kind == "input":
            text_limit(block.get("label"), 2000, where + " label")
            element(block.get("element") or {}, where)
        elif kind != "divider":
            problems.append(f"{where}: unknown block type")
    return problems
