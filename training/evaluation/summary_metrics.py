"""Per-summary metrics of the summary evaluation: ROUGE F1, length, novel bigrams, faithfulness."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from rouge_score import rouge_scorer

from nlp_service.summarize.sentences import split_sentences
from nlp_service.summarize.verify import SourceIndex, check

ROUGE_TYPES = ("rouge1", "rouge2", "rougeLsum")
_WORD = re.compile(r"[a-z0-9]+")


@cache
def _scorer() -> rouge_scorer.RougeScorer:
    return rouge_scorer.RougeScorer(list(ROUGE_TYPES), use_stemmer=True)


def _lsum_form(text: str) -> str:
    """rougeLsum reads one sentence per line."""
    return "\n".join(split_sentences(text))


def rouge(prediction: str, reference: str) -> dict[str, float]:
    """ROUGE-1/2/Lsum F1 × 100 (rouge-score, Porter stemming)."""
    scores = _scorer().score(_lsum_form(reference), _lsum_form(prediction))
    return {k: 100.0 * scores[k].fmeasure for k in ROUGE_TYPES}


def _bigrams(text: str) -> set[tuple[str, str]]:
    words = _WORD.findall(text.lower())
    return set(zip(words, words[1:], strict=False))


def novel_bigram_share(summary: str, source: str) -> float | None:
    """Share of the summary's distinct bigrams absent from the source (None for a summary under 2 words)."""
    grams = _bigrams(summary)
    if not grams:
        return None
    return len(grams - _bigrams(source)) / len(grams)


@dataclass(frozen=True)
class SummaryScore:
    rouge1: float
    rouge2: float
    rougeLsum: float  # noqa: N815 - the metric's own name
    words: int
    novel_bigrams: float | None
    faithful: bool


def score_summary(
    prediction: str, reference: str, source: str, index: SourceIndex | None = None
) -> SummaryScore:
    """All metrics of one summary; pass ``index`` (SourceIndex.build(source)) when scoring several summaries
    of one source."""
    r = rouge(prediction, reference)
    faithful = check(prediction, index or SourceIndex.build(source)).passed
    novel = novel_bigram_share(prediction, source)
    return SummaryScore(r["rouge1"], r["rouge2"], r["rougeLsum"], len(prediction.split()), novel, faithful)


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def aggregate(scores: list[SummaryScore], seconds: float) -> dict[str, float | int | None]:
    """Means over a set: ROUGE, words, faithful share, novel-bigram share, seconds per article."""
    n = len(scores)
    return {
        "n": n,
        "rouge1": _mean([s.rouge1 for s in scores]),
        "rouge2": _mean([s.rouge2 for s in scores]),
        "rougeLsum": _mean([s.rougeLsum for s in scores]),
        "words": _mean([float(s.words) for s in scores]),
        "faithful": _mean([float(s.faithful) for s in scores]),
        "novel_bigrams": _mean([s.novel_bigrams for s in scores if s.novel_bigrams is not None]),
        "seconds_per_article": seconds / n if n else None,
    }
