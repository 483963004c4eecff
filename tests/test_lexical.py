"""The lexical expert's serving transform (``TfidfFeatures``) gives the matrix scikit-learn's fitted vectorizer
gives, and a saved expert loads back to the same logits without scikit-learn."""

from __future__ import annotations

import sys

import numpy as np

from nlp_service.classify.lexical import LexicalModel, TfidfFeatures, make_vectorizer

TRAIN = [
    "Heavy rain flooded the valley on Tuesday and the river burst its banks.",
    "The central bank cut its main interest rate by half a point on Monday.",
    "The striker scored twice as the club won the cup final.",
    "Flood warnings stay in place as more rain is forecast for the valley.",
    "Shares fell after the bank said profits would be lower this year.",
    "The club's coach praised the striker after the final whistle.",
]
TEXTS = [
    "Rain and more rain: the river valley braces for floods, floods, floods.",
    "",
    "   ",
    "Ünïcödé BANK café — the Bank's rate cut; 2026 profits fell",
    "a b c",
    "The final the final THE FINAL",
]


def _fitted() -> tuple:
    vec = make_vectorizer(min_df=1)
    x = vec.fit_transform(TRAIN)
    return vec, x


def test_serving_transform_matches_scikit_learn():
    vec, _ = _fitted()
    ours = TfidfFeatures({t: int(i) for t, i in vec.vocabulary_.items()}, vec.idf_)
    expected, got = vec.transform(TEXTS + TRAIN), ours.transform(TEXTS + TRAIN)
    assert got.shape == expected.shape and got.dtype == np.float32
    np.testing.assert_allclose(got.toarray(), expected.toarray(), atol=1e-6)
    assert list(ours.get_feature_names_out()) == list(vec.get_feature_names_out())


def test_saved_expert_loads_to_the_same_logits(tmp_path):
    vec, x = _fitted()
    rng = np.random.default_rng(0)
    fitted = LexicalModel(vec, rng.normal(size=(3, x.shape[1])), rng.normal(size=3),
                          rng.normal(size=(2, x.shape[1])), rng.normal(size=2))
    fitted.save(tmp_path)
    loaded = LexicalModel.load(tmp_path)
    assert isinstance(loaded.vectorizer, TfidfFeatures)
    for a, b in zip(fitted.logits(TEXTS), loaded.logits(TEXTS), strict=True):
        np.testing.assert_allclose(a, b, atol=2e-2)  # the stored weights are fp16


def test_loading_does_not_import_scikit_learn(tmp_path):
    import subprocess

    vec, x = _fitted()
    LexicalModel(vec, np.zeros((1, x.shape[1])), np.zeros(1), np.zeros((1, x.shape[1])), np.zeros(1)).save(tmp_path)
    code = ("import sys; from pathlib import Path; from nlp_service.classify.lexical import LexicalModel; "
            f"LexicalModel.load(Path({str(tmp_path)!r})).logits(['a text']); print('sklearn' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
