"""The console's light markdown: styles for *bold*, _italic_ and `code`, links kept whole."""

from bot.console_adapter import styled


def test_light_markdown_becomes_styles_without_its_marks():
    text = styled("a *bold* and _quiet_ `code` line")
    assert text.plain == "a bold and quiet code line"
    assert {str(span.style) for span in text.spans} == {"bold", "italic", "cyan"}


def test_a_link_with_underscores_is_printed_whole():
    link = "http://127.0.0.1:8765/signin/ab_cd-ef_gh"
    text = styled(f"Open the moderators' dashboard: {link}\n_works once_")
    assert link in text.plain
    assert text.plain.endswith("works once")
