"""Every declared command runs as itself through the Slack slash command."""

from __future__ import annotations

from tests.slack.support import Member, section_text
from tests.support.parity import NOT_RUN, commands, example_text, opens_form


async def test_every_declared_command_runs_as_itself(moderator: Member, runtime):
    for spec in commands():
        text = example_text(spec, runtime.knowledge)
        if opens_form(spec):
            view = await moderator.open_form(text)
            assert view["type"] == "modal", spec.name
            continue
        answer = await moderator.ask(text)
        shown = section_text(answer.blocks)
        assert not any(title in shown for title in NOT_RUN), (spec.name, shown)


async def test_restart_runs_on_slack(member: Member):
    answer = await member.ask("restart")
    assert not any(title in section_text(answer.blocks) for title in NOT_RUN)
