"""What flows through the decision rules: the model's outputs for a batch of texts (inputs), the scores and
decisions the rules build from them (state), and, when fitting, the validation labels (gold)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace

import numpy as np

from nlp_service.classify.cues import cue_matrix
from nlp_service.places import CountryMention


@dataclass
class DecisionInputs:
    texts: list[str]
    themes: list[str]  # label names, in the order of the columns below
    regions: list[str]
    theme_logits: np.ndarray  # (n, themes) transformer head, chunks pooled
    region_logits: np.ndarray  # (n, regions)
    mentions: list[list[CountryMention]]  # gazetteer country mentions per text
    gazetteer: np.ndarray  # (n, regions) sub-region evidence from the mentions (noisy-or of country scores)
    lexical_theme: np.ndarray | None = None  # (n, themes) TF-IDF expert, where the checkpoint has one
    lexical_region: np.ndarray | None = None
    # (n, themes) centred cosine of each text's pooled embedding to each theme's description; computed on demand
    similarity_fn: Callable[[], np.ndarray] | None = None
    _cue_hits: np.ndarray | None = field(default=None, repr=False)
    _similarity: np.ndarray | None = field(default=None, repr=False)
    # (n, hidden) the pooled embedding the heads read: own-label theme heads read it too
    # (nlp_service.classify.own_themes)
    embedding: np.ndarray | None = field(default=None, repr=False)
    # each text's language (ISO 639-1) where confidently not English, else None (nlp_service.text.language)
    languages: list[str | None] | None = None

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def cue_hits(self) -> np.ndarray:
        """(n, themes) distinct cue words of each theme in each text's opening, computed once."""
        if self._cue_hits is None:
            self._cue_hits = cue_matrix(self.texts, self.themes).astype(int)
        return self._cue_hits

    @property
    def similarity(self) -> np.ndarray | None:
        if self._similarity is None and self.similarity_fn is not None:
            self._similarity = self.similarity_fn()
        return self._similarity


@dataclass
class DecisionState:
    """Scores and decisions as the rules leave them. Logits (``*_z``) until Platt scaling, probabilities after."""

    inputs: DecisionInputs
    theme_z: np.ndarray
    region_z: np.ndarray
    theme_p: np.ndarray | None = None
    region_p: np.ndarray | None = None
    theme_on: np.ndarray | None = None
    region_on: np.ndarray | None = None
    countries: list[list[tuple[str, float]]] | None = None
    # Per-label thresholds given by the caller ({"themes": 0.3, "politics": 0.7, "countries": 0.5}): taken
    # literally, so rules that add labels below the thresholds (the primary-region floor) stand aside.
    overrides: dict[str, float] = field(default_factory=dict)

    @classmethod
    def start(cls, inputs: DecisionInputs, overrides: dict[str, float] | None = None) -> DecisionState:
        return cls(inputs, inputs.theme_logits.astype(np.float32).copy(),
                   inputs.region_logits.astype(np.float32).copy(), overrides=dict(overrides or {}))


@dataclass
class DecisionGold:
    """Validation labels for fitting: masks mark the labels that are known (a source's unknown labels are 0)."""

    theme_labels: np.ndarray  # (n, themes) 0/1
    theme_mask: np.ndarray  # (n, themes) 1 where a human label is known
    region_labels: np.ndarray
    region_mask: np.ndarray
    primary_region: np.ndarray  # (n,) index of the primary country's sub-region, -1 where unknown
    countries: list[set[str] | None]  # gold country codes per text, None where unknown
    # Themes whose training labels were not (fully) human: the cue-word and description rules may serve them.
    cue_themes: list[str] = field(default_factory=list)
    description_themes: list[str] = field(default_factory=list)

    def labelled_columns(self, themes: list[str], excluding: list[str]) -> list[int]:
        """Columns of the themes with at least one human label here, leaving out ``excluding``: the themes whose
        precision the cue-word and description rules are measured on."""
        return [j for j, t in enumerate(themes) if self.theme_mask[:, j].any() and t not in excluding]


def _join(a: object, b: object) -> object:
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        return np.concatenate([a, b])
    if isinstance(a, list) and isinstance(b, list):
        return a + b
    return None  # a field one side lacks (or a cache) is left for the joined object to compute


def join_states(a: DecisionState, b: DecisionState) -> DecisionState:
    """One state over the articles of both (for rules that fit on more than the validation articles). Label
    names must agree; computed-on-demand inputs (description similarity) are dropped."""
    if a.inputs.themes != b.inputs.themes or a.inputs.regions != b.inputs.regions:
        raise ValueError("cannot join decision states over different labels")
    inputs = replace(a.inputs, **{f.name: _join(getattr(a.inputs, f.name), getattr(b.inputs, f.name))
                                  for f in fields(DecisionInputs) if f.name not in ("themes", "regions")})
    return replace(a, inputs=inputs, **{f.name: _join(getattr(a, f.name), getattr(b, f.name))
                                        for f in fields(DecisionState) if f.name not in ("inputs", "overrides")})


def join_gold(a: DecisionGold, b: DecisionGold) -> DecisionGold:
    return replace(a, **{f.name: _join(getattr(a, f.name), getattr(b, f.name))
                         for f in fields(DecisionGold) if f.name not in ("cue_themes", "description_themes")})


def _take(value: object, rows: np.ndarray) -> object:
    if isinstance(value, np.ndarray):
        return value[rows]
    if isinstance(value, list):
        return [value[k] for k in rows]
    return value  # a field this side lacks (None)


def take_inputs(inputs: DecisionInputs, rows: np.ndarray) -> DecisionInputs:
    """The inputs of the articles ``rows`` only (fitting on some articles and measuring on the others). The
    description similarity is taken from the whole set's, and computed only if a rule asks for it."""
    similarity_fn = (lambda: inputs.similarity[rows]) if inputs.similarity_fn is not None else None
    return replace(inputs, similarity_fn=similarity_fn,
                   **{f.name: _take(getattr(inputs, f.name), rows) for f in fields(DecisionInputs)
                      if f.name not in ("themes", "regions", "similarity_fn")})


def take_gold(gold: DecisionGold, rows: np.ndarray) -> DecisionGold:
    return replace(gold, **{f.name: _take(getattr(gold, f.name), rows)
                            for f in fields(DecisionGold) if f.name not in ("cue_themes", "description_themes")})
