"""Long articles in chunks: the token windows the encoder reads and what it gives for each of them. How the
chunks' outputs are pooled per article is a decision setting (``nlp_service.classify.decision.chunk_pooling``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nlp_service.runtime.encoder import CHARS_PER_TOKEN
from nlp_service.runtime.tokenizer import EncoderTokenizer


@dataclass
class ChunkOutputs:
    theme: np.ndarray  # (chunks, themes) logits
    region: np.ndarray  # (chunks, regions) logits
    embedding: np.ndarray  # (chunks, hidden) the pooled vector the heads read
    owner: np.ndarray  # (chunks,) index of the text each chunk belongs to


def chunk_token_ids(
    tokenizer: EncoderTokenizer, texts: list[str], max_length: int, max_chunks: int
) -> tuple[list[list[int]], list[int]]:
    """Split each text into ≤ max_chunks windows of max_length tokens (with [CLS]/[SEP]); returns the chunks and
    the index of the text each belongs to. The first chunk starts with the title and lede, where news puts the
    point of the story."""
    body = max_length - 2
    # Cut the text before tokenising (see CHARS_PER_TOKEN).
    limit = body * max_chunks * CHARS_PER_TOKEN
    enc = tokenizer.ids([t[:limit] for t in texts], body * max_chunks)
    chunks, owner = [], []
    for i, ids in enumerate(enc):
        pieces = [ids[s : s + body] for s in range(0, max(len(ids), 1), body)][:max_chunks]
        # A short tail chunk carries little signal and costs a full forward pass: fold it away.
        if len(pieces) > 1 and len(pieces[-1]) < body // 4:
            pieces = pieces[:-1]
        for p in pieces:
            chunks.append(tokenizer.wrap(p))
            owner.append(i)
    return chunks, owner
