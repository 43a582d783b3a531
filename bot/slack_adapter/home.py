"""The App Home tab: this week's exercise, progress, nudge settings, and the moderators' queue."""

from __future__ import annotations

from datetime import time
from typing import Any

from bot.core.commands import WEEKDAY_NAMES
from bot.core.facade import PmAdvice
from bot.core.models import Actor, GapCount, Subscription, SubscriptionStatus
from bot.core.presenter import local_time, minutes_text, progress_bar, round_heading
from bot.core.progress import TrackState
from bot.core.reply import ButtonStyle
from bot.core.reports import Overview
from bot.slack_adapter.render import (
    RUN_ACTION,
    VIEW_BLOCKS_MAX,
    Block,
    button,
    cap,
    context,
    escape,
    mrkdwn,
    plain,
    section,
)

TIME_CHOICES = tuple(time(hour, 0) for hour in range(6, 23))
WEEKDAY_WORDS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TOP_GAPS = 5


async def home_view(facade: PmAdvice, actor: Actor) -> dict[str, Any]:
    return render_home(await facade.overview(actor, gaps=TOP_GAPS))


def render_home(overview: Overview) -> dict[str, Any]:
    """The App Home view for one member's overview (moderator parts when it carries them)."""
    blocks: list[Block] = [
        {"type": "header", "text": plain("Your pmadvice", 150)},
        section(
            "Ask anything about moving from operations into product: "
            "`/pmadvice how do I talk about my supply chain work`"
        ),
        {"type": "divider"},
        *_exercise(overview.track),
        {"type": "divider"},
        *_nudges(overview.subscription),
    ]
    if overview.waiting_suggestions is not None:
        blocks.extend(_moderation(overview.waiting_suggestions, overview.top_gaps))
    blocks.append(context("`/pmadvice help` lists everything I can do."))
    return {"type": "home", "blocks": blocks[:VIEW_BLOCKS_MAX]}


def _run(label: str, key: str, command: str, style: ButtonStyle = ButtonStyle.DEFAULT) -> Block:
    return button(label, f"{RUN_ACTION}:home-{key}", command, style)


def _exercise(state: TrackState) -> list[Block]:
    streak = f"{state.streak} week{'s' if state.streak != 1 else ''}"
    progress = section(
        f"*Progress*  `{progress_bar(state.done, state.total)}`  {state.done}/{state.total} done"
        f" · streak {streak}" + (f" · round {state.round}" if state.round > 1 else "")
    )
    exercise = state.current
    if exercise is None:
        return [
            section(
                "*You've finished the whole track* 🎉 A review round sharpens your best pieces."
            ),
            progress,
            {"type": "actions", "elements": [_run("Start a review round", "restart", "restart")]},
        ]
    heads_up = state.upcoming.book_ahead if state.upcoming else ""
    return [
        section(f"*{round_heading(state.round)}*\n*{escape(exercise.title)}*"),
        section(cap(mrkdwn(exercise.prompt_for(state.round).strip()), 3000)),
        *(
            [section(cap(f"*Heads-up for next week:* {mrkdwn(heads_up)}", 3000))]
            if heads_up
            else []
        ),
        {
            "type": "section",
            "fields": [
                {
                    "type": "mrkdwn",
                    "text": cap(f"*Deliverable*\n{mrkdwn(exercise.deliverable)}", 2000),
                },
                {"type": "mrkdwn", "text": f"*Time*\n{minutes_text(exercise.minutes)}"},
            ],
        },
        progress,
        {
            "type": "actions",
            "elements": [
                _run("Mark done", "done", "done", ButtonStyle.PRIMARY),
                _run("Skip", "skip", "skip"),
                _run("Details", "challenge", "challenge"),
                _run("My progress", "progress", "progress"),
            ],
        },
    ]


def _nudges(subscription: Subscription | None) -> list[Block]:
    if subscription is None or subscription.status == SubscriptionStatus.CANCELLED:
        return [
            section("*Weekly nudges:* off\nGet one exercise by DM every week, at your local time."),
            {
                "type": "actions",
                "elements": [_run("Subscribe", "subscribe", "subscribe", ButtonStyle.PRIMARY)],
            },
        ]
    zone = subscription.timezone
    when = f"{WEEKDAY_NAMES[subscription.weekday]}s at {subscription.local_time:%H:%M} ({zone})"
    if subscription.status == SubscriptionStatus.PAUSED:
        status = f"*Weekly nudges:* paused until {local_time(subscription.paused_until, zone)}"
        toggle = _run("Resume", "resume", "resume", ButtonStyle.PRIMARY)
    else:
        status = f"*Weekly nudges:* {when}\nNext: {local_time(subscription.next_due_at, zone)}"
        toggle = _run("Pause a week", "pause", "pause 1")
    return [
        section(escape(status)),
        {
            "type": "actions",
            "elements": [
                _select("day", "Day", _day_options(), f"subscribe {WEEKDAY_WORDS[subscription.weekday]}"),
                _select("time", "Time", _time_options(subscription.local_time),
                        f"subscribe {subscription.local_time:%H:%M}"),
                toggle,
                _run("Unsubscribe", "unsubscribe", "unsubscribe", ButtonStyle.DANGER),
            ],
        },
    ]  # fmt: skip


def _day_options() -> list[Block]:
    return [
        {"text": plain(name, 75), "value": f"subscribe {word}"}
        for name, word in zip(WEEKDAY_NAMES, WEEKDAY_WORDS, strict=True)
    ]


def _time_options(current: time) -> list[Block]:
    choices = sorted({*TIME_CHOICES, current})
    return [{"text": plain(f"{t:%H:%M}", 75), "value": f"subscribe {t:%H:%M}"} for t in choices]


def _select(key: str, placeholder: str, options: list[Block], selected: str) -> Block:
    element: Block = {
        "type": "static_select",
        "action_id": f"{RUN_ACTION}:home-{key}",
        "placeholder": plain(placeholder, 75),
        "options": options,
    }
    initial = next((o for o in options if o["value"] == selected), None)
    if initial is not None:
        element["initial_option"] = initial
    return element


def _moderation(waiting: int, gaps: tuple[GapCount, ...]) -> list[Block]:
    lines = [f"• {g.count}× {cap(escape(g.text), 200)}" for g in gaps] or ["Nothing unanswered."]
    return [
        {"type": "divider"},
        {"type": "header", "text": plain("Moderation", 150)},
        section(f"*Review queue:* {waiting} waiting"),
        section("*Top unanswered questions (30 days)*\n" + "\n".join(lines)),
        {
            "type": "actions",
            "elements": [
                _run("Open review queue", "review", "review", ButtonStyle.PRIMARY),
                _run("All gaps", "gaps", "gaps"),
                _run("Stats", "stats", "stats"),
            ],
        },
    ]
