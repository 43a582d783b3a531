"""The core's light markdown (`*bold*`, `_italic_`, `` `code` ``, "- " bullets) as safe HTML.

Text is escaped first; only the few tags made here are ever emitted, and links only for
http(s) URLs, marked `nofollow noopener`.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

_INLINE = re.compile(r"(\*[^*\n]+\*|_[^_\n]+_|`[^`\n]+`|https?://[^\s<>\"'`]+)")


def inline(text: str) -> Markup:
    out: list[str] = []
    for part in _INLINE.split(text):
        if not part:
            continue
        if len(part) > 2 and part[0] == part[-1] == "*":
            out.append(f"<strong>{escape(part[1:-1])}</strong>")
        elif len(part) > 2 and part[0] == part[-1] == "_":
            out.append(f"<em>{escape(part[1:-1])}</em>")
        elif len(part) > 2 and part[0] == part[-1] == "`":
            out.append(f"<code>{escape(part[1:-1])}</code>")
        elif part.startswith(("http://", "https://")):
            url = part.rstrip(".,;:)")
            tail = part[len(url) :]
            out.append(f'<a href="{escape(url)}" rel="nofollow noopener">{escape(url)}</a>')
            out.append(str(escape(tail)))
        else:
            out.append(str(escape(part)))
    return Markup("".join(out))


def blocks(text: str) -> Markup:
    """Paragraphs (blank-line separated, single newlines kept) and "- " bullet lists."""
    html: list[str] = []
    for chunk in re.split(r"\n\s*\n", text.strip()):
        lines = [line for line in chunk.splitlines() if line.strip()]
        if not lines:
            continue
        if all(line.lstrip().startswith(("- ", "• ")) for line in lines):
            items = "".join(f"<li>{inline(line.lstrip()[2:])}</li>" for line in lines)
            html.append(f"<ul>{items}</ul>")
            continue
        html.append("<p>" + "<br>".join(str(inline(line)) for line in lines) + "</p>")
    return Markup("".join(html))
