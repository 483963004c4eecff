"""Team-made summaries as the checker's (window, sentence) training and test pairs.

Three kinds of team data (docs/faithfulness-guideline.md) become labelled summaries of an article:

- the summary set's abstracts (training/data/summaries): faithful, written from the whole article;
- the writers' paraphrases (faithful) and one-error hard negatives, with the error's span (written.jsonl);
- judged summaries (judged.jsonl): model outputs and other texts with a judge's verdict and span. Where two
  judges read one summary, an unfaithful verdict wins (one judge found an unsupported detail).

Each summary sentence is turned into a pair exactly as ``Verifier`` reads it at inference: the article's
closest sentences (``Article.closest``) as the premise, the sentence as the claim. A sentence of an unfaithful
summary is labelled unsupported when it holds the error's span; its other sentences are supported. Sentences
copied from the article are left out, since the service passes them without the model. The article's split
(training.gold.sources) decides the pair's split, so test articles never reach training.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from nlp_service.summarize.sentences import sentence_spans
from nlp_service.summarize.verify import Article, VerifierSettings
from training.faith_pairs import Pair
from training.gold.abstracts import SUMMARY_DIR, load_abstracts
from training.gold.faith_data import FAITH_DIR, read_judged, read_written


@dataclass(frozen=True)
class LabelledSummary:
    key: str
    summary: str
    faithful: bool
    kind: str  # "abstract", "paraphrase", "negative", "judged"
    error_type: str | None = None
    span: str | None = None


def labelled_summaries() -> list[LabelledSummary]:
    """Every team-labelled summary, de-duplicated by (article, text); a judged verdict of unfaithful wins."""
    out: dict[tuple[str, str], LabelledSummary] = {}

    def add(item: LabelledSummary) -> None:
        k = (item.key, " ".join(item.summary.split()))
        if k not in out or (out[k].faithful and not item.faithful):
            out[k] = item

    if (SUMMARY_DIR / "pass1.jsonl").is_file():
        summary_set = load_abstracts()
        for a in summary_set.rows:
            if not a.skipped:
                add(LabelledSummary(a.key, a.abstract, True, "abstract"))
    if (FAITH_DIR / "written.jsonl").is_file():
        for r in read_written():
            add(LabelledSummary(r["key"], r["summary"], r["faithful"], r["kind"].removesuffix("_second"),
                                r["type"], r["span"]))
    if (FAITH_DIR / "judged.jsonl").is_file():
        votes: dict[tuple[str, str], list[dict]] = defaultdict(list)
        for r in read_judged():
            if r["summary"] is not None:  # copied text is stored by hash only, and is no checker pair anyway
                votes[(r["key"], " ".join(r["summary"].split()))].append(r)
        for (key, text), rows in votes.items():
            bad = [r for r in rows if not r["faithful"]]
            r = bad[0] if bad else rows[0]
            add(LabelledSummary(key, text, not bad, "judged", r["type"], r["span"]))
    return list(out.values())


def sentence_pairs(item: LabelledSummary, doc: Article, settings: VerifierSettings) -> list[Pair]:
    """The summary's (premise, sentence, label) pairs as the checker sees them; [] when the span is not found."""
    spans = sentence_spans(item.summary)
    bad_sentence = None
    if not item.faithful:
        at = item.summary.find(item.span or "")
        if not item.span or at < 0:
            return []
        bad_sentence = next((i for i, (a, b) in enumerate(spans) if a <= at < b), None)
        if bad_sentence is None:
            return []
    out = []
    for i, (a, b) in enumerate(spans):
        text = item.summary[a:b]
        if doc.copied(text):
            continue
        premise = " ".join(doc.sentences[k] for k in sorted(doc.closest(text, settings.premise_sentences)))
        label = 0 if i == bad_sentence else 1
        kind = (item.error_type or "other") if label == 0 else f"supported_{item.kind}"
        out.append(Pair(premise, text, label, kind, item.key))
    return out


def team_pairs(settings: VerifierSettings | None = None) -> dict[str, list[Pair]]:
    """Split name ("train", "validation", "test") → the checker's pairs from team-labelled summaries."""
    from training.gold.sources import split_of_keys

    settings = settings or VerifierSettings()
    articles = split_of_keys()
    docs: dict[str, Article] = {}
    out: dict[str, list[Pair]] = {"train": [], "validation": [], "test": []}
    for item in labelled_summaries():
        if item.key not in articles:
            continue
        example, split = articles[item.key]
        if split not in out:
            continue  # a near-duplicate of a test article: in no split
        if item.key not in docs:
            docs[item.key] = Article.build(example.article, settings.max_article_chars)
        out[split] += sentence_pairs(item, docs[item.key], settings)
    return out
