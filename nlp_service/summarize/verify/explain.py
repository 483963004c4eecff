"""Why the consistency checker failed a summary sentence: the problems named in a ``Verification`` record
(kinds ``name``, ``number``, ``negation``, ``qualifier``, ``claim``), found by comparing the sentence with the
closest article sentence."""

from __future__ import annotations

import re
from typing import Any

from nlp_service.records import UnsupportedSpan
from nlp_service.summarize.verify.article import STOP, WORD, Article, Claim, words
from nlp_service.summarize.verify.forms import fold
from nlp_service.summarize.verify.numbers import extract_numbers

NEGATIONS = frozenset({"not", "no", "never", "n't", "none", "nobody", "nothing", "neither", "nor", "without"})
# Hedges and quantifiers whose loss changes what a sentence claims ("at least", "half of", "may"). The checker
# names one as missing when the closest article sentence has it and the summary sentence does not, trying them
# in this order; the synthetic training pairs (training/faith_pairs.py) delete the same words.
QUALIFIERS = (
    "at least", "at most", "more than", "less than", "fewer than", "up to", "nearly", "almost", "about",
    "around", "approximately", "roughly", "half of", "a third of", "a quarter of", "some of", "most of",
    "many of", "part of", "only", "partly", "partially", "reportedly", "allegedly", "possibly", "probably",
    "likely", "alleged", "suspected", "proposed", "planned", "potential", "may", "might", "could",
)


def has_negation(tokens: list[str]) -> set[str]:
    """The negations among ``tokens`` (any "…n't" counts as "n't")."""
    found = {t for t in tokens if t in NEGATIONS}
    found |= {"n't" for t in tokens if t.endswith("n't")}
    return found


def explain_failure(doc: Article, summary: str, c: Claim, model: Any) -> list[UnsupportedSpan]:
    """What is wrong with a failing summary sentence, as spans of ``summary``: the rule's unsupported names and
    numbers, else a negation or a dropped qualifier against the closest article sentence, else the words the
    article lacks (or the word ``model`` finds least supported)."""
    closest = doc.sentences[c.closest[0]] if c.closest else ""
    out: list[UnsupportedSpan] = []

    def add(surface: str, kind: str) -> None:
        at = summary.find(surface, c.start, c.end) if surface else -1
        start, end = (at, at + len(surface)) if at >= 0 else (c.start, c.end)
        out.append(UnsupportedSpan(summary[start:end], kind, start, end, closest))

    numbers = {m.surface for m in extract_numbers(c.text)}
    for item in c.rule_bad:
        add(item, "number" if item in numbers else "name")
    if out:
        return out  # names and numbers the article lacks are the clearest explanation
    claim_words = words(c.text)
    window = " ".join(doc.sentences[k] for k in c.closest)
    window_words = words(closest)
    neg_claim, neg_window = has_negation(claim_words), has_negation(window_words)
    shared = {w for w in claim_words if w not in STOP} & set(window_words)
    # a negation counts only against a sentence the claim mostly repeats ("not" elsewhere is no evidence)
    if neg_claim != neg_window and len(shared) >= 0.6 * max(len({w for w in claim_words if w not in STOP}), 1):
        word = next(iter(neg_claim - neg_window), None)
        surface = next((w for w in WORD.findall(c.text) if fold(w) == word or fold(w).endswith("n't")), "")
        add(surface if word else "", "negation")
        return out
    low_claim, low_window = f" {' '.join(claim_words)} ", f" {' '.join(words(window))} "
    for q in QUALIFIERS:
        if f" {q} " in low_window and f" {q} " not in low_claim:
            after = low_window.split(f" {q} ", 1)[1].split()[:2]
            phrase = " ".join(after)
            hit = re.search(r"\b" + r"\W+".join(map(re.escape, after)) + r"\b", c.text, re.I) if after else None
            if hit and f" {phrase} " in low_claim:
                add(hit.group(), "qualifier")
                return out
    article_words = set(doc.tokens)
    novel = [w for w in WORD.findall(c.text) if fold(w) not in STOP and fold(w) not in article_words]
    if novel:
        for w in novel[:3]:
            add(w, "claim")
    elif hasattr(model, "worst_span"):  # the word the cross-encoder finds least supported
        a, b = model.worst_span(window, c.text)
        add(c.text[a:b] if b > a else "", "claim")
    else:
        add("", "claim")  # every word is in the article, but not what the sentence says with them
    return out
