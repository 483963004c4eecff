"""HTML → plain text for articles that arrive as a web page or a fragment of one.

Parsing is selectolax's (the Lexbor HTML5 parser, the same rules as a browser): regular expressions cannot
tell a ``<p>`` in a script string from a real one. The page's title and body text are kept, block elements end
a line, and what is never article text is dropped with its content: scripts, styles, navigation, headers'
menus, footers, asides, forms.
"""

from __future__ import annotations

import re

# Only decides whether to parse at all: plain text with a stray "<" must stay as it is.
_LOOKS_LIKE_HTML = re.compile(
    r"<(?:!doctype\s+html|html|head|body|title|p|div|span|br|a\s|script|style|article|section|h[1-6]|ul|ol|li"
    r"|table|tr|td|meta|link|img|b|i|em|strong|nav|footer|header|main|aside|blockquote|figure|iframe)\b[^>]*>",
    re.IGNORECASE,
)
_DROP = ["script", "style", "noscript", "template", "nav", "footer", "aside", "form", "iframe", "svg", "button",
         "select", "object", "embed", "canvas", "head"]
_BLOCKS = "p,h1,h2,h3,h4,h5,h6,li,br,div,tr,blockquote,article,section,header,main,figure,figcaption,pre,dd,dt"


def looks_like_html(text: str) -> bool:
    """At least two HTML tags (one tag alone, e.g. "<b>", is too weak a sign in plain text)."""
    found = 0
    for _ in _LOOKS_LIKE_HTML.finditer(text, 0, 200_000):
        found += 1
        if found >= 2:
            return True
    return False


def html_to_text(html: str) -> str:
    """Title, then the body's text with one line per block element; markup, scripts and boilerplate dropped."""
    from selectolax.lexbor import LexborHTMLParser  # imported here: only HTML input pays for the parser

    tree = LexborHTMLParser(html)
    title_node = tree.css_first("title")
    title = title_node.text(strip=True) if title_node is not None else ""
    tree.strip_tags(_DROP)  # removes these elements with everything inside them
    body = tree.body
    if body is None:
        return title
    for node in body.css(_BLOCKS):
        node.insert_after("\n")
    text = body.text(deep=True, separator="", strip=False)
    if title and not text.lstrip().startswith(title):
        text = f"{title}\n{text}"
    return text
