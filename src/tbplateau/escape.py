"""Names from logs made safe for each medium they are shown in.

Run and tag names come from other people's files: they may hold control characters,
terminal escape sequences, HTML, Markdown or a megabyte of text. Every view passes
them through one of these helpers at the edge (STYLE: "escape at the edge"):

- :func:`terminal`: C0/C1 control characters, DEL and the Unicode bidirectional
  controls become visible ``\\xNN`` / ``\\uNNNN`` text, so no name can move the cursor,
  clear the screen, set the window title or reorder what follows it;
- :func:`markdown`: :func:`terminal`, then Markdown and HTML syntax escaped, so a name
  stays one literal table cell or phrase (pipes, backticks, brackets, ``<``...);
- :func:`html`: :func:`terminal`, then HTML-escaped (quotes too, for attributes);
- :func:`chat`: :func:`terminal`, then safe inside a code span of a chat message
  (Slack ``mrkdwn`` and its kin): ``& < >`` as entities, so no ``<!channel>``
  mention or link can form, and backticks replaced, so the span cannot be closed;
- :func:`shorten`: at most ``width`` characters, cut in the middle with an ellipsis,
  for table cells (the finding text keeps the full name).

>>> terminal("loss\\x1b]0;pwned\\x07")
'loss\\\\x1b]0;pwned\\\\x07'
>>> markdown("a|b `c` <img src=x>")
'a\\\\|b \\\\`c\\\\` &lt;img src=x&gt;'
>>> html('<img src=x onerror="alert(1)">')
'&lt;img src=x onerror=&quot;alert(1)&quot;&gt;'
>>> chat("<!channel> `x`")
'&lt;!channel&gt; ˋxˋ'
>>> shorten("metrics/precision_at_recall_0.5", 16)
'metrics/…all_0.5'
"""

from __future__ import annotations

import html as _html
import re

__all__ = ["MAX_NAME", "chat", "html", "markdown", "shorten", "terminal"]

MAX_NAME = 1000
"""Longest name drawn in full by :func:`terminal`; longer ones are cut in the middle."""

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+!|~-])")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal(text: str, *, limit: int = MAX_NAME) -> str:
    """``text`` with control characters shown as escapes, cut to ``limit`` characters."""
    if len(text) > limit:  # cut first: the cost follows the limit, not a 16 MB name
        text = shorten(text, limit)
    return shorten(_CONTROL.sub(_visible, text), limit)


def markdown(text: str, *, limit: int = MAX_NAME) -> str:
    """``text`` as literal Markdown: controls shown, Markdown and HTML syntax escaped."""
    safe = terminal(text, limit=limit)
    safe = _MARKDOWN.sub(r"\\\1", safe)
    return safe.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def html(text: str, *, limit: int = MAX_NAME) -> str:
    """``text`` as HTML text or attribute value: controls shown, then escaped."""
    return _html.escape(terminal(text, limit=limit), quote=True)


def chat(text: str, *, limit: int = MAX_NAME) -> str:
    """``text`` for a code span of a chat message: controls shown, ``& < >`` as
    entities, backticks as ``ˋ`` (U+02CB)."""
    safe = terminal(text, limit=limit)
    safe = safe.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return safe.replace("`", "\u02cb")


def shorten(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters with ``…`` in the middle (unchanged if it fits).

    >>> shorten("abcdefghij", 5), shorten("abc", 5)
    ('ab…ij', 'abc')
    """
    if width < 1:
        raise ValueError(f"width must be positive, not {width!r}")
    if len(text) <= width:
        return text
    if width == 1:
        return "…"
    head = width // 2
    tail = width - 1 - head
    return text[:head] + "…" + (text[-tail:] if tail else "")
