"""Checks on what the bot sent: no live Slack markup anywhere a member's text could land."""

from __future__ import annotations

from typing import Any


def mrkdwn_texts(payload: Any) -> list[str]:
    """Every string Slack would parse as mrkdwn: mrkdwn objects and a message's `text`."""
    found: list[str] = []

    def walk(node: Any, top: bool) -> None:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str):
                found.append(node["text"])
            if top and isinstance(node.get("text"), str):
                found.append(node["text"])
            for key, value in node.items():
                if key != "text" or not isinstance(value, str):
                    walk(value, False)
        elif isinstance(node, list):
            for item in node:
                walk(item, False)

    walk(payload, True)
    return found


def assert_no_live_markup(payload: Any) -> None:
    """`<` and `>` only ever appear escaped, so nothing can ping or link."""
    for text in mrkdwn_texts(payload):
        assert "<" not in text, text
        assert ">" not in text, text
