"""Chunk pooling: how the outputs of a long article's chunks (``max_chunks`` windows of ``max_length`` tokens)
become the article's one row of theme and region logits and its one pooled embedding.

The checkpoint names its logit pooling (``chunk_aggregation`` in config.json), because its decision rules are
fitted on the pooled logits: "first" reads the first chunk only, "mean" averages the chunks with the first (title
and lede, where news states what the story is about) counted twice, "max" takes each label's best chunk. With one
chunk (the shipped checkpoint reads one) every pooling gives that chunk's logits."""

from __future__ import annotations

import numpy as np

POOLINGS: tuple[str, ...] = ("first", "mean", "max")
# A config that names no pooling: every chunk read adds evidence, the opening weighs most.
DEFAULT_POOLING = "mean"
# The embedding does not follow the checkpoint's logit pooling: the themes' description prototypes and the
# own-label heads are made from mean-pooled embeddings, and an article compares with them only when pooled alike.
EMBEDDING_POOLING = "mean"


def pool_chunks(chunk_values: np.ndarray, owner: np.ndarray, n: int, how: str) -> np.ndarray:
    """(n, columns) one row per text from the rows of its chunks (``owner``: the text each chunk belongs to)."""
    out = np.zeros((n, chunk_values.shape[1]), dtype=np.float32)
    for i in range(n):
        rows = chunk_values[owner == i]
        if how == "first":
            out[i] = rows[0]
        elif how == "max":
            out[i] = rows.max(0)
        else:
            out[i] = (rows.sum(0) + rows[0]) / (len(rows) + 1)
    return out
