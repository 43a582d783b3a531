"""Every declared command runs as itself at the console (scripted, one command a line)."""

import io

from bot.cli import main
from tests.support.parity import NOT_RUN, commands, example_text, opens_form
from tests.support.runtime import shipped_knowledge


def test_every_declared_command_runs_at_the_console(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PMADVICE_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    knowledge = shipped_knowledge()
    lines = [example_text(spec, knowledge) for spec in commands()]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines) + "\n"))
    assert main(["console", "--mod"]) == 0
    out = capsys.readouterr().out
    assert not [title for title in NOT_RUN if title in out]
    assert out.count("(form: ") == sum(1 for spec in commands() if opens_form(spec))
