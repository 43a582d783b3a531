"""`.env.example` lists every setting the bot reads, so an admin can see them all in one place."""

from __future__ import annotations

import re

from tests.operations.support import ROOT

ALIAS = re.compile(r'alias="([A-Z][A-Z0-9_]+)"')


def test_every_setting_is_in_the_example_environment() -> None:
    declared = {
        name for path in (ROOT / "bot").rglob("*.py") for name in ALIAS.findall(path.read_text())
    }
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert declared, "no settings found"
    missing = sorted(declared - listed)
    assert not missing, f"add these to .env.example: {missing}"
