"""Post text to safe HTML: escape everything, then link URLs, #hashtags and @mentions.

Used by the Mastodon API (``content``) and available to templates; the result is additionally
passed through nh3 so that only the few tags we produce can ever appear.
"""

from __future__ import annotations

import re
from html import escape

import nh3

from tastemaker.core.text import HASHTAG_RE, MENTION_RE

URL_RE = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]", re.IGNORECASE)
_TOKEN_RE = re.compile(
    "|".join(f"(?P<{name}>{rx.pattern})" for name, rx in (("url", URL_RE), ("tag", HASHTAG_RE), ("mention", MENTION_RE))),
    re.IGNORECASE,
)
ALLOWED_TAGS = {"p", "br", "a", "span"}
ALLOWED_ATTRS = {"a": {"href", "class", "rel", "target"}, "span": {"class"}}


def _link_line(line: str, base: str, known_mentions: set[str] | None) -> str:
    out: list[str] = []
    pos = 0
    for match in _TOKEN_RE.finditer(line):
        out.append(escape(line[pos: match.start()]))
        text = match.group(0)
        if match.group("url"):
            out.append(f'<a href="{escape(text)}" rel="nofollow noopener noreferrer" target="_blank">{escape(text)}</a>')
        elif match.group("tag"):
            lead = text[: len(text) - len(text.lstrip())]
            tag = text.strip().lstrip("#")
            out.append(f'{escape(lead)}<a href="{base}/tags/{escape(tag.lower())}" class="mention hashtag" rel="tag">'
                       f"#<span>{escape(tag)}</span></a>")
        else:
            name = text.strip().lstrip("@")
            lead = text[: len(text) - len(text.lstrip())]
            if known_mentions is not None and name.lower() not in known_mentions:
                out.append(escape(text))
            else:
                out.append(f'{escape(lead)}<span class="h-card"><a href="{base}/@{escape(name)}" class="u-url mention">'
                           f"@<span>{escape(name)}</span></a></span>")
        pos = match.end()
    out.append(escape(line[pos:]))
    return "".join(out)


def render_html(text: str, base: str = "", known_mentions: set[str] | None = None) -> str:
    if not text:
        return ""
    paragraphs = re.split(r"\n{2,}", text.strip())
    html = "".join(
        "<p>" + "<br>".join(_link_line(line, base, known_mentions) for line in para.split("\n")) + "</p>"
        for para in paragraphs
    )
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRS, link_rel=None)
