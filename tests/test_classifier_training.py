"""The tiny-data training path: a user's labelled file → a checkpoint folder → served predictions."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from nlp_service.analyzer import Analyzer
from nlp_service.classifier import CheckpointError, TopicClassifier, masked_bce
from nlp_service.taxonomy import load_taxonomy
from training import train_classifier
from training.calibrate import PRIOR_SHIFT, prior_shift

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
    # the sample file labels themes explicitly: those are gold, the others were weak-labelled
    assert "gold" in cfg["theme_supervision"].values()
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


def test_prior_shift_goes_to_majority_themes_only():
    themes = ["politics", "sport", "weather"]
    labels = np.array([[1, 0, 0], [1, 1, 0], [1, 0, 0], [0, 0, 0]])
    known = np.array([[1, 1, 0], [1, 1, 0], [1, 1, 0], [1, 1, 0]])  # weather is never known
    assert prior_shift(labels, known, themes) == {"politics": PRIOR_SHIFT}
    assert prior_shift(labels[1:2], known[1:2], themes) == {"politics": PRIOR_SHIFT, "sport": PRIOR_SHIFT}
    assert prior_shift(np.zeros((4, 3)), known, themes) == {}


def test_prior_shift_moves_only_its_themes(tiny_checkpoint, tmp_path):
    cal = json.loads((tiny_checkpoint / "calibration.json").read_text())
    assert isinstance(cal["theme_prior_shift"], dict)  # written by every calibration, empty when no majority
    cal["theme_prior_shift"] = {"politics": -0.5, "society": -0.5}
    text = "The prime minister met opposition leaders in parliament to discuss the budget and welfare reform."
    cal["cue_min_hits"] = 0  # cue scores off: compare the shifted scores themselves
    folder = tmp_path / "classifier"
    shutil.copytree(tiny_checkpoint, folder)
    (folder / "calibration.json").write_text(json.dumps(cal))
    shifted, _, _ = TopicClassifier.load(folder).probabilities([text])
    # A checkpoint written before the field existed loads with no shift.
    del cal["theme_prior_shift"]
    (folder / "calibration.json").write_text(json.dumps(cal))
    clf = TopicClassifier.load(folder)
    plain, _, _ = clf.probabilities([text])
    themes = clf.cfg.themes
    for j, theme in enumerate(themes):
        if theme in ("politics", "society"):
            assert shifted[0, j] < plain[0, j]
        else:
            assert shifted[0, j] == pytest.approx(plain[0, j])


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
    with pytest.raises(FileNotFoundError, match="config.json"):
        Analyzer.load(tmp_path)


def test_unknown_labels_do_not_count_in_the_loss():
    logits = torch.tensor([[5.0, -5.0]])
    labels = torch.tensor([[1.0, 1.0]])
    only_first = masked_bce(logits, labels, torch.tensor([[1.0, 0.0]]))
    both = masked_bce(logits, labels, torch.tensor([[1.0, 1.0]]))
    assert only_first.item() < 0.01 < both.item()
    assert np.isclose(masked_bce(logits, labels, torch.zeros(1, 2)).item(), 0.0)


def test_checkpoints_without_the_description_rule_load_with_it_off(tiny_checkpoint, tmp_path):
    folder = tmp_path / "classifier"
    shutil.copytree(tiny_checkpoint, folder)
    cal = json.loads((folder / "calibration.json").read_text())
    for key in [k for k in cal if k.startswith("description_")]:
        del cal[key]
    (folder / "calibration.json").write_text(json.dumps(cal))
    clf = TopicClassifier.load(folder)
    assert clf.calibration.description_score == 0.0 and clf.calibration.description_themes == []
    assert len(clf.classify(["The bishop spoke to the village on Sunday."])) == 1


def test_description_rule_needs_closeness_and_a_cue_word(tiny_checkpoint):
    """A theme without gold labels takes the description score only where the article is close to the theme's
    description *and* holds one of its cue words; checkpoints written before the rule load with it off."""
    clf = TopicClassifier.load(tiny_checkpoint)
    cal = clf.calibration
    assert {"description_themes", "description_threshold", "description_score"} <= set(
        json.loads((tiny_checkpoint / "calibration.json").read_text())
    )
    cal.cue_themes, cal.cue_scores, cal.cue_min_hits = ["religion", "weather"], [0.0, 0.1, 0.2, 0.3], 3
    cal.description_themes = ["religion", "weather"]
    texts = ["The bishop spoke to the village on Sunday.", "The village held a meeting on Sunday."]
    _, _, embedding = clf.text_outputs(texts)
    religion, weather = clf.cfg.themes.index("religion"), clf.cfg.themes.index("weather")

    cal.description_score = 0.0  # off
    assert not clf.cue_probabilities(texts, embedding)[:, [religion, weather]].any()
    cal.description_score, cal.description_threshold, cal.description_min_cues = 0.85, -1.0, 1  # always close
    scores = clf.cue_probabilities(texts, embedding)
    assert scores[0, religion] == pytest.approx(0.85)  # "bishop" is a religion cue
    assert scores[1, religion] == 0.0 and not scores[:, weather].any()  # no cue word: no score
    cal.description_threshold = 2.0  # never close enough (centred cosine < 2)
    assert not clf.cue_probabilities(texts, embedding)[:, religion].any()
    assert not clf.cue_probabilities(texts)[:, religion].any()  # no embedding given: cue words alone
    cal.description_threshold, cal.description_themes = -1.0, ["weather"]  # religion keeps its cue words only
    assert not clf.cue_probabilities(texts, embedding)[:, religion].any()


def test_description_rule_is_fitted_at_the_cue_rules_precision():
    from training.calibrate import fit_description_rule
    from training.datasets import LabelledSet

    n = 40
    labels = np.zeros((n, 2))
    labels[:20, 0] = 1  # theme 0 on the first half
    similarity = np.c_[np.linspace(0.3, -0.1, n), np.zeros(n)]  # closer on the first half
    data = LabelledSet([], labels, np.ones((n, 2)), np.ones((n, 2)), np.zeros((n, 1)), np.zeros((n, 1)))
    hits = np.ones((n, 2))
    tau, precision = fit_description_rule(similarity, hits, data, [0], 1, 0.95)
    assert precision >= 0.95
    assert labels[similarity[:, 0] >= tau, 0].mean() == pytest.approx(precision, abs=1e-4)
    assert labels[similarity[:, 0] >= tau - 0.01, 0].mean() < 0.95  # the lowest threshold that reaches it
    assert fit_description_rule(similarity, np.zeros((n, 2)), data, [0], 1, 0.95) == (0.0, 0.0)  # no cue words
