"""`pmadvice web` and the console's pages, as an admin starts them."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.storage.migrate import upgrade
from bot.web_adapter import WebOptions, web_application
from tests.web.conftest import LINK, sign_in


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    upgrade(url)
    environment = {**os.environ, "PMADVICE_DATABASE_URL": url, "PMADVICE_LOG_LEVEL": "WARNING"}
    for name in ("SLACK_BOT_TOKEN", "DISCORD_TOKEN", "PMADVICE_PUBLIC_URL", "PMADVICE_HTTP_PORT"):
        environment.pop(name, None)
    return environment


def wait_for(url: str, process: subprocess.Popen[str], seconds: float = 90) -> bytes:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"exited early: {process.communicate()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return response.read()
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} never answered")


def test_pmadvice_web_serves_the_library_and_stops_cleanly(env):
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "web", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        home = wait_for(f"http://127.0.0.1:{port}/", process)
        assert b"The pmadvice library" in home
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert f"Serving the web pages on http://127.0.0.1:{port}" in out


def test_a_taken_port_is_one_clear_line_and_exit_2(env):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "bot", "web", "--port", str(port)],
            env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert f"could not listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_console_serves_the_pages_and_prints_the_address(env):
    port = free_port()
    env = {**env, "PMADVICE_HTTP_PORT": str(port)}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "console"],
        env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        home = wait_for(f"http://127.0.0.1:{port}/", process)
        assert b"The pmadvice library" in home
    finally:
        out, err = process.communicate("topics\nquit\n", timeout=60)
    assert process.returncode == 0, err
    assert f"Web pages: http://127.0.0.1:{port}" in out


async def test_the_dashboard_link_from_the_console_signs_in_once(runtime, clock):
    """`dashboard` as a console moderator prints a link; it signs in once, then is refused."""
    clock.current = datetime.now(UTC)  # the console process runs on the real clock
    server = TestServer(web_application(runtime.facade, WebOptions()), host="127.0.0.1")
    async with TestClient(server) as client:
        address = str(server.make_url("")).rstrip("/")
        environment = {
            **os.environ,
            "PMADVICE_DATABASE_URL": runtime.settings.database_url,
            "PMADVICE_PUBLIC_URL": address,
            "PMADVICE_LOG_LEVEL": "WARNING",
        }
        environment.pop("PMADVICE_HTTP_PORT", None)
        console = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "console", "--mod",
            env=environment, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, _ = await asyncio.wait_for(console.communicate(b"dashboard\nquit\n"), 120)
        link = LINK.search(out.decode())
        assert link, out.decode()
        assert link.group(0).startswith(f"{address}/signin/")

        landed = await sign_in(client, link.group(0))
        again = await client.get("/" + link.group(0).split("/", 3)[3])

        assert landed.endswith("/dashboard")
        assert (await client.get("/dashboard")).status == 200
        assert again.status == 403
