"""The tiny-data training path: a user's labelled file → a checkpoint folder → served predictions."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from nlp_service.analyzer import Analyzer
from nlp_service.classify import CheckpointError, TopicClassifier
from nlp_service.classify.decision import RULE_TYPES, DecisionState
from nlp_service.classify.decision.description import DescriptionFitted, DescriptionRule
from nlp_service.classify.model import masked_bce
from nlp_service.taxonomy import load_taxonomy
from tests.decision_data import synthetic_inputs
from training import train_classifier

SAMPLE = Path(__file__).resolve().parents[1] / "examples" / "train_sample.jsonl"


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ckpt") / "classifier"
    train_classifier.main(
        [
            "--sources",
            "none",
            "--train_files",
            str(SAMPLE),
            "--epochs",
            "1",
            "--batch_size",
            "4",
            "--max_length",
            "48",
            "--threads",
            "1",
            "--output_dir",
            str(out),
        ]
    )
    return out


def test_training_writes_a_self_describing_checkpoint(tiny_checkpoint):
    names = {p.name for p in tiny_checkpoint.iterdir()}
    assert {
        "config.json",
        "heads.safetensors",
        "calibration.json",
        "metrics.json",
        "README.md",
        "adapter",
    } <= names
    assert (tiny_checkpoint / "adapter" / "adapter_model.safetensors").is_file()
    cfg = json.loads((tiny_checkpoint / "config.json").read_text())
    assert cfg["themes"] == load_taxonomy().theme_names
    # the sample file labels themes explicitly: those are gold (with so few articles, "gold, sparse"), the others
    # were weak-labelled
    assert {"gold"} <= {v.split(",")[0] for v in cfg["theme_supervision"].values()}
    size = sum(p.stat().st_size for p in tiny_checkpoint.rglob("*") if p.is_file())
    assert size < 20_000_000


def test_trained_checkpoint_serves_records_sorted_and_above_threshold(tiny_checkpoint):
    clf = TopicClassifier.load(tiny_checkpoint)
    text = "Kenyan farmers in Kitui plant sorghum after drought; Nairobi officials promise help."
    rec = clf.classify([text], thresholds={"themes": 0.0, "regions": 0.0, "countries": 0.0})[0]
    assert [t.score for t in rec.themes] == sorted((t.score for t in rec.themes), reverse=True)
    assert len(rec.themes) == 17 and len(rec.regions) == 22  # threshold 0 keeps every label
    assert rec.countries and rec.countries[0].code == "KE"
    assert all(0.0 <= t.score <= 1.0 for t in rec.themes)
    strict = clf.classify([text], thresholds={"themes": 1.01, "regions": 1.01, "countries": 1.01})[0]
    assert strict.themes == [] and strict.regions == [] and strict.countries == []
    assert len(clf.classify([text], top_k=2, thresholds={"themes": 0.0})[0].themes) == 2


def test_checkpoint_stores_the_fitted_decision_pipeline_with_each_rules_gain(tiny_checkpoint):
    raw = json.loads((tiny_checkpoint / "calibration.json").read_text())
    assert raw["format"] == "decision-pipeline"
    assert [r["name"] for r in raw["rules"]] == [r.name for r in RULE_TYPES]
    assert all(isinstance(r["gain"], float) for r in raw["rules"])  # measured on validation when fitted
    metrics = json.loads((tiny_checkpoint / "metrics.json").read_text())
    assert {r["rule"] for r in metrics["validation"]["rules"]} == {r["name"] for r in raw["rules"]}
    assert "| rule | state |" in (tiny_checkpoint / "README.md").read_text()


def test_a_calibration_file_that_is_not_a_decision_pipeline_is_refused(tiny_checkpoint, tmp_path):
    folder = tmp_path / "classifier"
    shutil.copytree(tiny_checkpoint, folder)
    (folder / "calibration.json").write_text(json.dumps({"theme_a": [1.0], "theme_thresholds": [0.5]}))
    with pytest.raises(CheckpointError, match="calibration.json.*not a decision pipeline"):
        TopicClassifier.load(folder)


def test_long_articles_are_read_in_chunks(tiny_checkpoint):
    clf = TopicClassifier.load(tiny_checkpoint)
    clf.cfg.max_chunks = 3
    owner = list(clf.chunk_outputs(["short text", "word " * 5000]).owner)
    assert owner.count(1) == 3 and owner.count(0) == 1


def test_broken_checkpoints_are_refused_with_the_reason(tiny_checkpoint, tmp_path):
    broken = tmp_path / "classifier"
    shutil.copytree(tiny_checkpoint, broken)
    (broken / "heads.safetensors").unlink()
    with pytest.raises(CheckpointError, match="heads.safetensors"):
        TopicClassifier.load(broken)
    cfg = json.loads((tiny_checkpoint / "config.json").read_text())
    cfg["themes"][0] = "sports"
    (broken / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(CheckpointError, match="sports"):
        TopicClassifier.load(broken)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        Analyzer.load(tmp_path / "nowhere")
    # A folder holding a classifier/ without its heads: the summariser comes from the shipped checkpoints, and the
    # missing file is what is named.
    with pytest.raises(FileNotFoundError, match="classifier/heads.safetensors is missing"):
        Analyzer.load(tmp_path)


def test_unknown_labels_do_not_count_in_the_loss():
    logits = torch.tensor([[5.0, -5.0]])
    labels = torch.tensor([[1.0, 1.0]])
    only_first = masked_bce(logits, labels, torch.tensor([[1.0, 0.0]]))
    both = masked_bce(logits, labels, torch.tensor([[1.0, 1.0]]))
    assert only_first.item() < 0.01 < both.item()
    assert np.isclose(masked_bce(logits, labels, torch.zeros(1, 2)).item(), 0.0)


def test_description_rule_needs_closeness_and_a_cue_word(tiny_checkpoint):
    """A theme without gold labels takes the description score only where the article is close to the theme's
    description *and* holds one of its cue words."""
    clf = TopicClassifier.load(tiny_checkpoint)
    texts = ["The bishop spoke to the village on Sunday.", "The village held a meeting on Sunday."]
    inputs = clf.decision_inputs(texts)
    religion, weather = clf.cfg.themes.index("religion"), clf.cfg.themes.index("weather")

    def scores(rule: DescriptionRule) -> np.ndarray:
        state = DecisionState.start(inputs)
        state.theme_p = np.zeros((2, len(clf.cfg.themes)))
        rule.apply(state)
        return state.theme_p

    rule = DescriptionRule(fitted=DescriptionFitted(["religion", "weather"], -1.0, 0.0))  # score 0: off
    assert not scores(rule)[:, [religion, weather]].any()
    rule.fitted.score = 0.85  # always close (centred cosine >= -1)
    got = scores(rule)
    assert got[0, religion] == pytest.approx(0.85)  # "bishop" is a religion cue
    assert got[1, religion] == 0.0 and not got[:, weather].any()  # no cue word: no score
    rule.fitted.threshold = 2.0  # never close enough (centred cosine < 2)
    assert not scores(rule)[:, religion].any()


def test_description_rule_is_fitted_at_the_target_precision():
    n = 40
    inputs, gold, state = synthetic_inputs(n, ["politics", "weather"], ["Eastern Africa"], np.random.default_rng(0))
    gold.theme_labels[:] = 0
    gold.theme_labels[:20, 0] = 1  # theme 0 on the first half
    gold.theme_mask[:, 1] = 0
    gold.description_themes = ["weather"]
    similarity = np.c_[np.linspace(0.3, -0.1, n), np.zeros(n)]  # closer to theme 0 on the first half
    inputs._similarity, inputs._cue_hits = similarity, np.ones((n, 2), dtype=int)
    rule = DescriptionRule(DescriptionRule.Settings(target_precision=0.95))
    rule.fit(state, gold)
    tau, precision = rule.fitted.threshold, rule.fitted.score
    assert precision >= 0.95
    labels = gold.theme_labels
    assert labels[similarity[:, 0] >= tau, 0].mean() == pytest.approx(precision, abs=1e-4)
    assert labels[similarity[:, 0] >= tau - 0.01, 0].mean() < 0.95  # the lowest threshold that reaches it
    inputs._cue_hits = np.zeros((n, 2), dtype=int)  # no cue words: the rule never fires
    rule.fit(state, gold)
    assert rule.fitted.score == 0.0


def test_explanations_cite_the_article_and_appear_only_when_asked(tiny_checkpoint):
    clf = TopicClassifier.load(tiny_checkpoint)
    text = ("Kenyan farmers plant sorghum after drought.\nOfficials in Nairobi promised help. "
            "The minister said the budget would pay for seeds and water.")
    plain = clf.classify([text], thresholds={"themes": 0.0})[0]
    assert all("evidence" not in t for t in plain.to_dict()["themes"])
    explained = clf.classify([text], thresholds={"themes": 0.0}, explain=True)[0]
    assert [t.name for t in explained.themes] == [t.name for t in plain.themes]
    for tag in explained.themes:
        ev = tag.evidence
        assert ev is not None and (ev.sentence == "" or ev.sentence in " ".join(text.split()))
        assert all(w in text.lower() for term in ev.terms for w in term.split())
    assert any(t.evidence.terms for t in explained.themes)


def test_reported_countries_carry_mentions_that_slice_the_text(tiny_checkpoint):
    clf = TopicClassifier.load(tiny_checkpoint)
    text = "Pilgrims fill Addis Ababa\nThousands gathered in Gondar and Addis Ababa for the Ethiopian festival."
    rec = clf.classify([text], thresholds={"countries": 0.0})[0]
    et = next(c for c in rec.countries if c.code == "ET")
    assert {e.kind for e in et.evidence} >= {"capital", "demonym"}
    for c in rec.countries:
        assert c.evidence and all(text[e.start:e.end] == e.surface for e in c.evidence)
    assert clf.classify(["The committee met on Tuesday to discuss the plan."])[0].countries == []
