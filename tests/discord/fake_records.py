"""What the fake Discord recorded: requests, interaction callbacks, failures to inject, sessions."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

# -- records --------------------------------------------------------------------------------------


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    headers: dict[str, str]
    at: float
    status: int = 0


@dataclass
class Callback:
    interaction_id: str
    type: int
    data: dict[str, Any]
    at: float


@dataclass
class Interaction:
    payload: dict[str, Any]
    sent_at: float
    callbacks: list[Callback] = field(default_factory=list)
    original: dict[str, Any] | None = None
    followups: list[dict[str, Any]] = field(default_factory=list)
    edits: list[dict[str, Any]] = field(default_factory=list)

    @property
    def id(self) -> str:
        return str(self.payload["id"])

    @property
    def token(self) -> str:
        return str(self.payload["token"])


@dataclass
class Failure:
    method: str
    path: re.Pattern[str]
    status: int
    body: Any
    headers: dict[str, str]
    times: int


@dataclass
class Session:
    ws: web.WebSocketResponse
    identified: bool = False
    seq: int = 0
    session_id: str = ""
    heartbeats: int = 0
