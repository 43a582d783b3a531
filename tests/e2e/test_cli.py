"""The `pmadvice` command as a user runs it: console, search, db, knowledge."""

import difflib
import io
import json
import os
import shutil
from pathlib import Path

import pytest

from bot.catalog import load_knowledge
from bot.cli import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("PMADVICE_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    return tmp_path


def run(monkeypatch, capsys, argv, stdin=""):
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_search_json_contract(env, monkeypatch, capsys):
    code, out, _ = run(
        monkeypatch, capsys, ["search", "--json", "--limit", "2", "--stdin"],
        "what is product ops\nwhats the best pizza topping\n",
    )  # fmt: skip
    assert code == 0
    first, second = (json.loads(line) for line in out.splitlines())
    assert first["query"] == "what is product ops"
    assert 1 <= len(first["results"]) <= 2
    assert set(first["results"][0]) == {"id", "title", "topics", "score"}
    assert "product-ops" in first["results"][0]["topics"]
    assert second == {"query": "whats the best pizza topping", "results": []}


def test_search_single_query_text(env, monkeypatch, capsys):
    code, out, _ = run(monkeypatch, capsys, ["search", "product", "teardown"])
    assert code == 0
    assert out.startswith("product teardown\n")


def test_console_scripted_session(env, monkeypatch, capsys):
    script = "\n".join(
        [
            "/pmadvice how do I talk about my supply chain work",
            "subscribe tue 08:30 Europe/Berlin",
            "challenge",
            "done https://example.com/reframe",
            "progress",
            "subscribe 25:99",
            "subscribe Mars/Olympus",
            "add",
            "frobnicate the widgets",
            "",
        ]
    )
    code, out, err = run(monkeypatch, capsys, ["console", "--user", "ada"], script)
    assert code == 0, err
    assert "every Tuesday at 08:30 (Europe/Berlin)" in out
    assert "Nice work" in out
    assert "1/" in out
    assert "streak 1" in out
    assert "isn't a time I understand" in out
    assert "don't know the time zone 'Mars/Olympus'" in out
    assert "That's for moderators" in out
    assert "Traceback" not in out + err


def test_console_moderator_can_add_inline(env, monkeypatch, capsys):
    body = " ".join(["Write down who used the process and what changed for them."] * 4)
    script = f"add Follow up after coffee chats | {body} | networking\nstats\n"
    code, out, _ = run(monkeypatch, capsys, ["console", "--mod"], script)
    assert code == 0
    assert "Snippet published" in out
    assert "follow-up-after-coffee-chats" in out


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_run_without_tokens_on_a_terminal_is_the_console(env, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", Terminal("help\n"))
    code = main([])
    out = capsys.readouterr().out
    assert code == 0
    assert "How to use pmadvice" in out


def test_run_without_tokens_and_without_a_terminal_refuses(env, monkeypatch, capsys):
    """A server with no platform configured must not quietly run the console and exit 0."""
    code, out, err = run(monkeypatch, capsys, [], "help\n")
    assert code == 2
    assert "How to use pmadvice" not in out
    assert len(err.strip().splitlines()) == 1
    assert "SLACK_BOT_TOKEN" in err
    assert "DISCORD_TOKEN" in err


def test_state_survives_between_runs(env, monkeypatch, capsys):
    run(monkeypatch, capsys, ["console", "--user", "kim"], "done\n")
    _, out, _ = run(monkeypatch, capsys, ["console", "--user", "kim"], "progress\n")
    assert "1/" in out


def test_db_and_knowledge_commands(env, monkeypatch, capsys):
    code, out, _ = run(monkeypatch, capsys, ["db", "upgrade"])
    assert code == 0
    assert "migration" in out
    code, out, _ = run(monkeypatch, capsys, ["db", "current"])
    assert code == 0
    assert "up to date" in out
    code, out, _ = run(monkeypatch, capsys, ["knowledge", "check"])
    assert code == 0
    assert out.startswith("OK:")


def test_bad_settings_name_the_variable(env, monkeypatch, capsys):
    monkeypatch.setenv("PMADVICE_DATABASE_URL", "mysql://nope")
    code, _, err = run(monkeypatch, capsys, ["search", "x"])
    assert code == 2
    assert "PMADVICE_DATABASE_URL" in err


def test_bad_knowledge_dir_names_the_variable(env, monkeypatch, capsys):
    monkeypatch.setenv("PMADVICE_KNOWLEDGE_DIR", str(env / "nowhere"))
    code, _, err = run(monkeypatch, capsys, ["knowledge", "check"])
    assert code == 2
    assert "PMADVICE_KNOWLEDGE_DIR" in err


SEARCH_THEN_REPORT = """
import sys
from bot.cli import main
main(["search", "--json", "how do I write a PRD"])
heavy = (
    "yaml", "bot.catalog", "sqlalchemy.dialects.postgresql", "alembic", "apscheduler",
    "slack_bolt", "discord", "prometheus_client", "rich", "bot.core.facade", "bot.core.commands",
)
print(sorted(m for m in heavy if m in sys.modules))
"""


def test_a_warm_cache_answers_the_same_without_parsing_yaml(tmp_path):
    import subprocess
    import sys

    env = {
        **os.environ,
        "PMADVICE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}",
        "PMADVICE_CACHE_DIR": str(tmp_path / "cache"),
    }

    def search() -> list[str]:
        done = subprocess.run(
            [sys.executable, "-c", SEARCH_THEN_REPORT],
            env=env, capture_output=True, text=True, check=True, timeout=120,
        )  # fmt: skip
        return done.stdout.splitlines()

    # The first run also writes the model's word-vector cache, which is kept in half precision:
    # compare an index built over that cache with the same index read back.
    search()
    shutil.rmtree(tmp_path / "cache" / "built")
    cold_answer, cold_modules = search()
    warm_answer, warm_modules = search()
    assert json.loads(warm_answer) == json.loads(cold_answer)
    assert json.loads(warm_answer)["results"]
    assert "yaml" in cold_modules
    # A warm one-shot search parses nothing and loads neither the services nor a platform.
    assert warm_modules == "[]"
    assert sorted(p.name.split("-")[0] for p in (tmp_path / "cache" / "built").iterdir()) == [
        "index",
        "knowledge",
    ]


def test_server_export_writes_minimal_yaml_that_passes_the_check(env, monkeypatch, capsys):
    body = " ".join(["Write down who used the process and what changed for them."] * 4)
    shipped = load_knowledge(ROOT / "knowledge")
    target = next(s for s in shipped.snippets if "networking" in s.topics)
    script = f"edit {target.id} A new title for this one | {body} | networking\nretire {shipped.snippets[0].id}\n"
    code, out, _ = run(monkeypatch, capsys, ["console", "--mod"], script)
    assert code == 0
    assert "Snippet updated" in out

    copy = env / "kb"
    code, out, err = run(monkeypatch, capsys, ["knowledge", "export", "--out", str(copy)])
    assert code == 0, err
    assert out.count("wrote ") == 2
    monkeypatch.setenv("PMADVICE_KNOWLEDGE_DIR", str(copy))
    code, out, err = run(monkeypatch, capsys, ["knowledge", "check"])
    assert code == 0, err
    after = {s.id: s for s in load_knowledge(copy).snippets}
    assert after[target.id].title == "A new title for this one"
    assert shipped.snippets[0].id not in after
    # Every changed line lies inside the retired entry or the edited one.
    touched = set()
    for path in (ROOT / "knowledge" / "snippets").glob("*.yaml"):
        before = path.read_text(encoding="utf-8").splitlines()
        written = (copy / "snippets" / path.name).read_text(encoding="utf-8").splitlines()
        for hunk in difflib.SequenceMatcher(a=before, b=written, autojunk=False).get_opcodes():
            tag, i1, i2, _, _ = hunk
            if tag == "insert":
                touched.add(_entry_at(before, i1 - 1))
            elif tag != "equal":
                touched.update({_entry_at(before, i1), _entry_at(before, i2 - 1)})
    assert touched == {target.id, shipped.snippets[0].id}


def _entry_at(lines, index):
    """The id of the snippet entry that line `index` belongs to."""
    for line in reversed(lines[: index + 1]):
        if line.startswith("  - id: "):
            return line.removeprefix("  - id: ").strip()
    return None


def test_an_empty_setting_counts_as_unset(env, monkeypatch):
    """`NAME=` lines of an env file reach the process as empty strings: they configure nothing."""
    from bot.cli import _configured_platforms
    from bot.discord_adapter.settings import load_discord_settings
    from bot.settings import load_settings

    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "DISCORD_TOKEN", "PMADVICE_DATABASE_URL"):
        monkeypatch.setenv(name, "")
    settings = load_settings()
    assert _configured_platforms(settings) == []
    assert settings.database_url.startswith("sqlite")

    monkeypatch.setenv("DISCORD_TOKEN", "x" * 24 + "." + "y" * 6 + "." + "z" * 27)
    assert _configured_platforms(load_settings()) == ["discord"]
    assert load_discord_settings().token is not None
