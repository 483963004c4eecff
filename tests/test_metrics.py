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
