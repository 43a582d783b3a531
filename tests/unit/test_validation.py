import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.text import clean_input
from bot.core.validation import is_link, looks_unsafe


@pytest.mark.parametrize(
    "text",
    [
        "<!channel> hi", "<!here>", "<!everyone>", "<!subteam^S123|team>", "@everyone look",
        "@here", "@HERE now", "@every\u200bone", "ping <@U12345>", "<@&987654321>", "<#C123|general>",
        "xoxb-123456789012-123456789012-abcdefABCDEF", "xapp-1-A111-222-abcdef0123456789",
        "ghp_abcdefghijklmnopqrstuvwxyz0123456789", "AKIAABCDEFGHIJKLMNOP",
        "MTA5ODc2NTQzMjEwOTg3NjU0.GaBcDe.abcdefghijklmnopqrstuvwxyz01234",
    ],
)  # fmt: skip
def test_mentions_and_secrets_are_caught(text):
    assert looks_unsafe(text)


@pytest.mark.parametrize(
    "text",
    ["email me at someone@example.com", "Talk to the PM here", "every one of them", "a <b> tag"],
)
def test_ordinary_text_passes(text):
    assert looks_unsafe(text) is None


@given(st.text(max_size=500), st.integers(1, 600))
def test_clean_input_is_capped_and_free_of_control_characters(text, limit):
    cleaned = clean_input(text, limit)
    assert len(cleaned) <= limit
    assert not any(ord(ch) < 32 and ch != "\n" for ch in cleaned)
    assert "\u200b" not in cleaned
    assert cleaned == cleaned.strip()


@given(st.text(max_size=300))
def test_looks_unsafe_never_raises(text):
    looks_unsafe(text)


def test_links():
    assert is_link("https://example.com/a?b=c")
    assert not is_link("http://x")
    assert not is_link("javascript:alert(1)")
    assert not is_link("https://" + "a" * 600 + ".com")
