"""A bag-of-words expert beside the transformer: TF-IDF 1–2-grams and one linear model per label.

Why: the encoder reads a few hundred tokens per article and is costly per token; a linear model over the whole
article's n-grams is nearly free, sees every paragraph, and its errors differ from the encoder's. Calibration
weighs the two on the validation split (weight 0 switches this expert off).

Stored without pickle: vocabulary as JSON, idf and weights in safetensors (fp16 weights)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from sklearn.feature_extraction.text import TfidfVectorizer

VOCAB_NAME = "lexical_vocab.json"
WEIGHTS_NAME = "lexical.safetensors"


def make_vectorizer(
    vocabulary: dict[str, int] | None = None, max_features: int | None = 50_000, min_df: int = 2
) -> TfidfVectorizer:
    return TfidfVectorizer(
        ngram_range=(1, 2),
        sublinear_tf=True,
        min_df=min_df,
        max_features=max_features,
        vocabulary=vocabulary,
        dtype=np.float32,
    )


class LexicalModel:
    def __init__(
        self,
        vectorizer: TfidfVectorizer,
        theme_w: np.ndarray,
        theme_b: np.ndarray,
        region_w: np.ndarray,
        region_b: np.ndarray,
    ):
        self.vectorizer = vectorizer
        self.theme_w, self.theme_b = theme_w.astype(np.float32), theme_b.astype(np.float32)
        self.region_w, self.region_b = region_w.astype(np.float32), region_b.astype(np.float32)

    def logits(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        x = self.vectorizer.transform(texts)
        return np.asarray(x @ self.theme_w.T) + self.theme_b, np.asarray(x @ self.region_w.T) + self.region_b

    def save(self, folder: Path) -> None:
        vocab = {term: int(i) for term, i in self.vectorizer.vocabulary_.items()}
        (folder / VOCAB_NAME).write_text(json.dumps(vocab, ensure_ascii=False))
        tensors = {
            "idf": torch.from_numpy(self.vectorizer.idf_.astype(np.float32)),
            "theme_w": torch.from_numpy(self.theme_w).half(),
            "theme_b": torch.from_numpy(self.theme_b),
            "region_w": torch.from_numpy(self.region_w).half(),
            "region_b": torch.from_numpy(self.region_b),
        }
        save_file(tensors, folder / WEIGHTS_NAME)

    @classmethod
    def load(cls, folder: Path) -> LexicalModel | None:
        """The stored expert, or None when the checkpoint has none."""
        if not (folder / WEIGHTS_NAME).is_file():
            return None
        vocab = json.loads((folder / VOCAB_NAME).read_text())
        t = load_file(folder / WEIGHTS_NAME)
        vec = make_vectorizer(vocabulary=vocab, max_features=None)
        vec.idf_ = t["idf"].numpy()
        return cls(
            vec,
            t["theme_w"].float().numpy(),
            t["theme_b"].numpy(),
            t["region_w"].float().numpy(),
            t["region_b"].numpy(),
        )
