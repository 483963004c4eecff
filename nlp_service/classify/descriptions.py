"""Theme descriptions in the classifier's own embedding space.

Each theme's name, description and first cue words form one short text (its *prototype*). An article is close to a
theme when its pooled embedding (the vector the heads read, so this costs no extra encoder pass) is more similar to
that prototype than to the average prototype, and closest to it of all. The classifier combines this with the cue
words (the ``description`` decision rule) for the themes the training labels do not cover."""

from __future__ import annotations

import numpy as np

from nlp_service.taxonomy import Theme

PROTOTYPE_CUES = 12  # cue words appended to a theme's description; more adds noise to a 100-token text


def prototype_text(theme: Theme) -> str:
    return f"{theme.name}. {theme.description} {', '.join(theme.keywords[:PROTOTYPE_CUES])}"


def closest(similarity: np.ndarray) -> np.ndarray:
    """(articles × themes) True where the theme is the article's closest description."""
    out = np.zeros(similarity.shape, dtype=bool)
    if similarity.size:
        out[np.arange(len(similarity)), similarity.argmax(axis=1)] = True
    return out


def centred_similarity(articles: np.ndarray, prototypes: np.ndarray) -> np.ndarray:
    """(articles × themes) cosine similarity minus each article's mean over all themes: removes how similar an
    article is to news descriptions in general, leaving which themes it is closer to than the rest."""
    a = articles / np.maximum(np.linalg.norm(articles, axis=1, keepdims=True), 1e-9)
    p = prototypes / np.maximum(np.linalg.norm(prototypes, axis=1, keepdims=True), 1e-9)
    sim = a @ p.T
    return sim - sim.mean(axis=1, keepdims=True)
