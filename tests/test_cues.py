"""Cue words: the one definition shared by weak labels (training) and the cue score (inference)."""

from __future__ import annotations

import numpy as np

from nlp_service.classify.cues import cue_hits, cue_matrix
from nlp_service.classify.decision.cues import CueScore
from nlp_service.taxonomy import load_taxonomy
from tests.decision_data import synthetic_inputs
from training.examples import Example
from training.weak_labels import weak_theme_labels

DISASTER = "disaster, accident and emergency incident"


def test_inflections_count_once_and_phrases_match():
    hits = cue_hits("Floods and flooding hit the valley; the FLOOD death toll rose as rescuers evacuated 300.")
    assert hits[DISASTER] == 3  # flood (three forms, one cue), death toll, evacuated
    assert hits["weather"] == 0
    assert cue_hits("Unions called strikes over wages.")["labour"] == 3
    assert set(cue_hits("")) == set(load_taxonomy().theme_names)


def test_verbs_ending_in_e_and_hyphenated_compounds_match_their_cue():
    text = "A great-grandmother celebrates her 105th birthday; her family celebrated too."
    # celebrate (two forms, one cue), grandmother (head of the compound), birthday
    assert cue_hits(text)["human interest"] == 3
    assert cue_hits("A well-known actor")["arts, culture, entertainment and media"] == 1


def test_cue_matrix_reads_only_the_opening():
    texts = ["earthquake tsunami landslide", "filler " * 300 + "earthquake tsunami landslide"]
    m = cue_matrix(texts, [DISASTER, "sport"])
    assert m.shape == (2, 2)
    assert np.array_equal(m[:, 0], [3, 0]) and not m[:, 1].any()


def test_weak_labels_use_the_same_cues():
    e = Example(
        id="x",
        source="user:test",
        title="Earthquake kills dozens",
        body="Rescue teams searched after a landslide.",
        themes={"politics": 0},
    )
    labels = weak_theme_labels(e)
    assert labels[DISASTER] == 1  # earthquake, rescue, landslide
    assert labels["sport"] == 0 and "politics" not in labels  # gold labels are never overwritten


def test_cue_scores_are_measured_on_gold_themes_and_monotone():
    rng = np.random.default_rng(0)
    n = 400
    inputs, gold, state = synthetic_inputs(n, ["politics", "weather"], ["Eastern Africa"], rng)
    inputs._cue_hits = rng.integers(0, 6, size=(n, 2))
    # gold theme 0 is present when its opening holds ≥ 2 cue words, except for some noise
    gold.theme_labels[:, 0] = (inputs.cue_hits[:, 0] >= 2) & (rng.random(n) > 0.1)
    gold.theme_mask[:, 1] = 0.0
    gold.cue_themes = ["weather"]
    rule = CueScore()
    rule.fit(state, gold)
    scores = rule.fitted.scores
    assert scores[0] == 0.0 and scores == sorted(scores) and len(scores) == 6
    assert scores[1] < 0.2 and scores[2] > 0.8 and rule.fitted.min_hits == 2 and rule.fitted.themes == ["weather"]


def test_mpnet_weights_missing_give_the_setup_command(tmp_path, monkeypatch):
    import pytest

    from nlp_service.runtime import weights

    def not_installed(name):
        raise weights.importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setenv("NLP_SERVICE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(weights.importlib.metadata, "distribution", not_installed)
    with pytest.raises(weights.WeightsNotFound, match="make setup-mpnet"):
        weights.resolve_base_model("all-mpnet-base-v2")
