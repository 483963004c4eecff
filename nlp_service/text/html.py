"""HTML → plain text for articles that arrive as a web page or a fragment of one.

Parsing is selectolax's (the Lexbor HTML5 parser, the same rules as a browser): regular expressions cannot
tell a ``<p>`` in a script string from a real one. The page's title and body text are kept, block elements end
a line, and what is never article text is dropped with its content: scripts, styles, navigation, headers'
menus, footers, asides, forms.
"""

from __future__ import annotations

import re

# Only decides whether to parse at all: plain text that mentions a tag ("<b> and <i>", "<2% ... <b>") must stay
# as it is, so the sight of a tag name is not enough; structure is. HTML is a document marker (doctype, html,
# head, body), an element opened and later closed (<p>…</p>), or a tag with a quoted attribute (<a href="…">).
_ELEMENTS = (
    r"html|head|body|title|p|div|span|br|a|script|style|article|section|h[1-6]|ul|ol|li|table|tr|td|meta|link|img"
    r"|b|i|em|strong|nav|footer|header|main|aside|blockquote|figure|iframe|noscript|form|pre|font|center|u|s|sup"
    r"|sub|small|big|tbody|thead|th|dl|dt|dd|figcaption|time|label|button|svg|picture|source|video|audio|hr"
)
_DOCUMENT = re.compile(r"<(?:!doctype\s+html|html|head|body)\b[^>]*>", re.IGNORECASE)
_OPEN = re.compile(rf"<({_ELEMENTS})\b[^<>]*>", re.IGNORECASE)
_CLOSE = re.compile(rf"</({_ELEMENTS})\s*>", re.IGNORECASE)
_ATTRIBUTE = re.compile(rf"<(?:{_ELEMENTS})\s[^<>]*?[\w-]+\s*=\s*[\"'][^<>]*>", re.IGNORECASE)
_SCAN_CHARS = 200_000  # the first characters decide; a page shows its structure early
_DROP = ["script", "style", "noscript", "template", "nav", "footer", "aside", "form", "iframe", "svg", "button",
         "select", "object", "embed", "canvas", "head"]
_BLOCKS = "p,h1,h2,h3,h4,h5,h6,li,br,div,tr,blockquote,article,section,header,main,figure,figcaption,pre,dd,dt"


def looks_like_html(text: str) -> bool:
    """HTML by its structure: a document marker, an element opened and closed, or a tag with an attribute."""
    head = text[:_SCAN_CHARS]
    if _DOCUMENT.search(head) or _ATTRIBUTE.search(head):
        return True
    first_open: dict[str, int] = {}
    for match in _OPEN.finditer(head):
        first_open.setdefault(match.group(1).lower(), match.start())
    last_close = {m.group(1).lower(): m.start() for m in _CLOSE.finditer(head)}
    return any(last_close.get(name, -1) > at for name, at in first_open.items())


def html_to_text(html: str) -> str:
    """Title, then the body's text with one line per block element; markup, scripts and boilerplate dropped."""
    from selectolax.lexbor import LexborHTMLParser  # lazy: only HTML input pays for the parser

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
