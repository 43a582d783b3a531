"""Chat and the Slack home screen say the same things the same way."""

from __future__ import annotations

import dataclasses
import json

from bot.core.presenter import exercise_reply, minutes_text
from bot.core.progress import TrackState
from bot.core.reports import Overview
from bot.slack_adapter.home import render_home
from tests.support.factories import KNOWLEDGE


def test_exercise_time_reads_the_same_in_chat_and_on_the_home_screen():
    exercise = dataclasses.replace(KNOWLEDGE.exercises[0], minutes=90)
    chat = exercise_reply(exercise, "0/1")
    home = json.dumps(render_home(Overview(None, TrackState(1, 0, 0, exercise, 0, 1))))
    assert minutes_text(90) == "about 1 h 30 min"
    assert any(f.value == "about 1 h 30 min" for f in chat.fields)
    assert "about 1 h 30 min" in home
    assert "90 min" not in home
