"""Logs: JSON lines on request, every known secret redacted, request and delivery ids."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from bot.app import configure_logging, known_secrets
from bot.core.context import current_delivery, current_request, new_request_id
from bot.settings import load_settings

BOT_TOKEN = "xoxb-1111-2222-SENTINELtoken"
DB_PASSWORD = "SENTINEL-db-password"


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def lines(text: str) -> list[dict[str, str]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_json_lines_carry_ids_and_no_secrets(monkeypatch, capsys, restore_logging) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv(
        "PMADVICE_DATABASE_URL", f"postgresql+asyncpg://bot:{DB_PASSWORD}@db:5432/pmadvice"
    )
    monkeypatch.setenv("PMADVICE_METRICS_TOKEN", "SENTINEL-metrics-token")
    secrets = known_secrets(load_settings())
    configure_logging("INFO", "json", secrets)
    log = logging.getLogger("bot.test")

    request = new_request_id()
    log.info("calling Slack with %s", BOT_TOKEN)
    current_delivery.set("42")
    try:
        raise RuntimeError(f"connect to postgresql://bot:{DB_PASSWORD}@db failed")
    except RuntimeError:
        log.exception("tick failed (metrics token SENTINEL-metrics-token)")
    current_request.set("")
    current_delivery.set("")

    out = capsys.readouterr().err
    assert "SENTINEL" not in out
    first, second = lines(out)
    assert first["level"] == "INFO"
    assert first["logger"] == "bot.test"
    assert first["message"] == "calling Slack with [redacted]"
    assert first["request_id"] == request
    assert second["delivery_id"] == "42"
    assert "[redacted]" in second["exc_info"]


def test_text_lines_name_the_ids(capsys, restore_logging) -> None:
    configure_logging("INFO", "text", [])
    current_delivery.set("7")
    logging.getLogger("bot.test").warning("could not send")
    current_delivery.set("")
    assert "could not send [delivery=7]" in capsys.readouterr().err
