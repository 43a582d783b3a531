"""Rendering pieces without a server: light markdown as safe HTML, charts, gap grouping."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from bot.core.dashboard import group_gaps
from bot.core.models import GapCount
from bot.core.ranking import Analyzer
from bot.web_adapter.charts import Chart, Series, render, render_svg
from bot.web_adapter.markup import blocks, inline

ALLOWED = re.compile(r"</?(p|br|ul|li|strong|em|code|a)( [^<>]*)?>")


@given(st.text())
def test_any_text_renders_with_only_our_own_tags(text):
    html = str(blocks(text))

    assert ALLOWED.sub("", html).count("<") == 0


def test_light_markdown_becomes_html():
    html = str(blocks("Do *this* _now_ with `code`\n\n- one\n- two <b>"))

    assert html == (
        "<p>Do <strong>this</strong> <em>now</em> with <code>code</code></p>"
        "<ul><li>one</li><li>two &lt;b&gt;</li></ul>"
    )


def test_only_http_links_become_links():
    assert str(inline("see https://example.com/a.")) == (
        'see <a href="https://example.com/a" rel="nofollow noopener">https://example.com/a</a>.'
    )
    assert "<a" not in str(inline("javascript:alert(1)"))
    assert "&#34;" in str(inline('https://example.com/"onmouseover=x'))


def test_a_chart_draws_a_bar_per_value_and_escapes_its_labels():
    chart = Chart(
        "c", "Votes <per> day", ("a", "b", "<c>"),
        (Series("up", (1, 0, 3), "s1"), Series("down", (2, 0, 0), "s2")),
        summary="3 <days>",
    )  # fmt: skip

    svg = str(render_svg(chart))
    figure = str(render(chart))

    assert svg.count('<rect class="s1" x=') == 2 + 1  # two bars and the legend swatch
    assert svg.count('<rect class="s2" x=') == 1 + 1
    assert "<c>" not in figure
    assert "&lt;c&gt;" in figure
    assert '<th scope="row">&lt;c&gt;</th><td>3</td><td>0</td>' in figure


def test_an_empty_line_chart_draws_no_points():
    chart = Chart("r", "Rate", ("a", "b"), (Series("x", (None, None), "s1"),), kind="line")

    assert "<polyline" not in str(render_svg(chart))


def gap(text: str, count: int) -> GapCount:
    return GapCount(text, count, datetime(2026, 3, 2, tzinfo=UTC))


def test_similar_questions_are_grouped_under_the_most_asked():
    groups = group_gaps(
        [
            gap("how to negotiate a PM salary offer", 1),
            gap("how do I negotiate salary for a PM offer", 3),
            gap("what is the best pizza in naples", 2),
            gap("negotiating salary for my first PM offer", 1),
        ],
        Analyzer(),
    )

    assert [(g.label, g.total) for g in groups] == [
        ("how do I negotiate salary for a PM offer", 5),
        ("what is the best pizza in naples", 2),
    ]
