"""Evidence for a reported theme: the sentence of the article that weighs most towards it and the terms that
weighed most, read from the lexical expert's per-theme weights (TF-IDF × weight, so a term counts by how often
and how tellingly the article uses it). Without a lexical expert, the theme's cue words stand in for its weights.

Cheap next to the encoder: one sparse product per article and one per sentence, for the reported themes only."""

from __future__ import annotations

from functools import cached_property

import numpy as np

from nlp_service.classify.cues import cue_hits
from nlp_service.classify.lexical import LexicalModel
from nlp_service.records import ThemeEvidence
from nlp_service.summarize.sentences import split_sentences

MAX_TERMS = 5
MAX_CHARS = 20_000  # evidence is looked for in the first this-many characters (the summariser's own cap is similar)


class Explainer:
    def __init__(self, lexical: LexicalModel | None, themes: list[str]):
        self.lexical = lexical
        self.themes = themes

    @cached_property
    def _terms(self) -> np.ndarray:
        return self.lexical.vectorizer.get_feature_names_out()

    def evidence(self, text: str, theme_columns: list[int]) -> dict[int, ThemeEvidence]:
        """Evidence for each theme column in ``theme_columns``."""
        text = text[:MAX_CHARS]
        sentences = split_sentences(text) or [text]
        if self.lexical is None:
            return {j: self._cue_evidence(sentences, self.themes[j]) for j in theme_columns}
        vec = self.lexical.vectorizer
        doc, sents = vec.transform([text]), vec.transform(sentences)
        out = {}
        for j in theme_columns:
            w = self.lexical.theme_w[j]
            contrib = doc.multiply(w).tocsr()
            idx, val = contrib.indices, contrib.data
            terms = [str(self._terms[idx[k]]) for k in np.argsort(-val)[:MAX_TERMS] if val[k] > 0]
            scores = np.asarray(sents @ w).ravel()
            best = int(scores.argmax()) if len(scores) else -1
            out[j] = ThemeEvidence(sentences[best] if best >= 0 and scores[best] > 0 else "", terms)
        return out

    @staticmethod
    def _cue_evidence(sentences: list[str], theme: str) -> ThemeEvidence:
        hits = [cue_hits(s).get(theme, 0) for s in sentences]
        best = int(np.argmax(hits)) if hits else -1
        return ThemeEvidence(sentences[best] if best >= 0 and hits[best] else "", [])
