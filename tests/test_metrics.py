import numpy as np

from training.evaluation.metrics import best_f1_threshold, multilabel_report, set_f1


def test_masked_cells_count_neither_way():
    pred = np.array([[1, 1], [0, 1]])
    gold = np.array([[1, 0], [0, 0]])
    mask = np.array([[1, 0], [1, 0]])  # second label unknown everywhere
    rep = multilabel_report(pred, gold, mask, ["a", "b"])
    assert rep["micro_f1"] == 1.0 and list(rep["per_label"]) == ["a"]


def test_best_threshold_separates_classes():
    prob = np.array([0.1, 0.2, 0.7, 0.9])
    t, f = best_f1_threshold(prob, np.array([0, 0, 1, 1]))
    assert 0.2 < t <= 0.7 and f == 1.0


def test_set_f1():
    assert set_f1([{"US", "GB"}], [{"US"}]) == {"precision": 0.5, "recall": 1.0, "f1": 0.6667}


def test_calibration_separates_honest_from_overconfident_scores():
    from training.evaluation.calibration import evaluate_calibration

    rng = np.random.default_rng(0)
    p = rng.uniform(size=(4000, 2))
    honest = (rng.uniform(size=p.shape) < p).astype(int)  # a label is on with exactly its score's probability
    known = np.ones_like(honest)
    good = evaluate_calibration(p, p >= 0.5, honest, known)
    assert good["ece"] < 0.03 and good["pairs"] == 8000
    assert abs(good["reported"]["precision"] - good["reported"]["mean_score"]) < 0.03
    sure = evaluate_calibration(np.where(p >= 0.5, 0.99, 0.01), p >= 0.5, honest, known)
    assert sure["ece"] > 0.2 and sure["brier"] > good["brier"]
    # unknown labels count neither way; no scores, nothing to report
    half = evaluate_calibration(p, None, honest, np.c_[known[:, :1], 0 * known[:, 1:]])
    assert half["pairs"] == 4000 and "reported" not in half
    assert evaluate_calibration(None, None, honest, known) is None
    assert sum(b["pairs"] for b in good["reliability"]) == 8000
