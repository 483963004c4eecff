"""Fakes for the web page tests: conftest's fake classifier, plus what the page marks in the text (each country's
mentions with their offsets, and a theme's evidence sentence when explanations are asked for)."""

from __future__ import annotations

import re
import threading
from dataclasses import replace

from conftest import FakeClassifier, FakeSummarizer

from nlp_service.analyzer import Analyzer
from nlp_service.records import Classification, MentionEvidence, ThemeEvidence

# Capitals the fake knows, so that a mention of another kind than "name" shows up too.
CAPITALS = {"KE": "Nairobi", "FR": "Paris", "JP": "Tokyo"}
_CUES = {
    "politics": ("election", "parliament"),
    "sport": ("match",),
    "health": ("vaccine",),
    "labour": ("strike",),
    "disaster, accident and emergency incident": ("flood",),
    "economy, business and finance": ("bank",),
}


class EvidenceClassifier(FakeClassifier):
    version = "fake-classifier-evidence-1"

    def classify(
        self,
        texts: list[str],
        thresholds: dict[str, float] | None = None,
        top_k: int | None = None,
        explain: bool = False,
    ) -> list[Classification]:
        records = super().classify(texts, thresholds, top_k, explain)
        return [self._with_evidence(text, record, explain) for text, record in zip(texts, records, strict=True)]

    @staticmethod
    def _with_evidence(text: str, record: Classification, explain: bool) -> Classification:
        countries = []
        for country in record.countries:
            mentions = [
                MentionEvidence(m.group(0), "name", m.start(), m.end())
                for m in re.finditer(rf"\b{re.escape(country.name)}\b", text)
            ]
            capital = CAPITALS.get(country.code)
            if capital:
                mentions += [
                    MentionEvidence(m.group(0), "capital", m.start(), m.end())
                    for m in re.finditer(rf"\b{capital}\b", text)
                ]
            countries.append(replace(country, evidence=sorted(mentions, key=lambda m: m.start)))
        themes = record.themes
        if explain:
            sentences = re.split(r"(?<=[.!?])\s+", text)
            themes = []
            for theme in record.themes:
                cues = _CUES.get(theme.name, ())
                sentence = next((s for s in sentences if any(c in s.lower() for c in cues)), sentences[0])
                themes.append(replace(theme, evidence=ThemeEvidence(sentence, [c for c in cues if c in text.lower()])))
        return replace(record, countries=countries, themes=themes)


def evidence_analyzer(delay: float = 0.0) -> Analyzer:
    return Analyzer(classifier=EvidenceClassifier(delay=delay), summarizer=FakeSummarizer())


def loading_analyzer(gate: threading.Event) -> Analyzer:
    """An analyzer whose classifier is still loading until ``gate`` is set."""

    def load() -> EvidenceClassifier:
        gate.wait()
        return EvidenceClassifier()

    return Analyzer(classifier=load, summarizer=FakeSummarizer())
