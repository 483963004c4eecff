"""Shared fixtures: fake classifier / summariser components (fast, deterministic, no weights) and the real
checkpoints for the slow end-to-end tests.

The fakes follow the component protocols of ``nlp_service.analyzer`` and produce labels that exist in the
taxonomy, so their records look like the real ones. Put ``BOOM`` in a text to make a fake raise.
"""

from __future__ import annotations

import os
import re
import threading
import time
from pathlib import Path

import pytest

# The tests export graphs and write merged models for throwaway checkpoints; in the user's cache they would push
# the shipped checkpoint's entries out (each cache keeps a few per name). They get the repository's own cache,
# the one CI uses, unless the caller chose one.
os.environ.setdefault("NLP_SERVICE_CACHE", str(Path(__file__).resolve().parent.parent / ".cache" / "nlp_service"))

from nlp_service.analyzer import DEFAULT_CHECKPOINTS, Analyzer  # noqa: E402
from nlp_service.records import Classification, CountryTag, RegionTag, Summary, ThemeTag  # noqa: E402
from nlp_service.taxonomy import load_taxonomy  # noqa: E402

FAIL_MARKER = "BOOM"

_COUNTRY_WORDS = {
    "france": "FR",
    "kenya": "KE",
    "japan": "JP",
    "brazil": "BR",
    "india": "IN",
    "norway": "NO",
    "chile": "CL",
}
_THEME_WORDS = {
    "election": "politics",
    "parliament": "politics",
    "match": "sport",
    "vaccine": "health",
    "strike": "labour",
    "flood": "disaster, accident and emergency incident",
    "bank": "economy, business and finance",
}


class FakeClassifier:
    """Country = a name in a small word list, theme = a cue word (else 'society'), all with score 0.9."""

    version = "fake-classifier-1"

    def __init__(self, delay: float = 0.0):
        self.calls: list[list[str]] = []
        self.delay = delay
        self._lock = threading.Lock()

    def classify(
        self,
        texts: list[str],
        thresholds: dict[str, float] | None = None,
        top_k: int | None = None,
        explain: bool = False,
    ) -> list[Classification]:
        with self._lock:
            self.calls.append(list(texts))
        if self.delay:
            time.sleep(self.delay * len(texts))
        if any(FAIL_MARKER in t for t in texts):
            raise RuntimeError("fake classifier failure")
        tax = load_taxonomy()
        out = []
        for text in texts:
            words = set(re.findall(r"[a-z]+", text.lower()))
            codes = [code for word, code in _COUNTRY_WORDS.items() if word in words]
            countries = [CountryTag(c, tax.country(c).name, 0.9) for c in codes]
            regions = []
            for c in codes:
                r = tax.region_of(c)
                if r is not None and r.name not in {x.name for x in regions}:
                    regions.append(RegionTag(r.name, r.continent, r.m49, 0.9))
            names = [name for word, name in _THEME_WORDS.items() if word in words] or ["society"]
            themes = [ThemeTag(n, tax.theme(n).code, 0.9) for n in dict.fromkeys(names)]
            if top_k is not None:
                countries, regions, themes = countries[:top_k], regions[:top_k], themes[:top_k]
            out.append(Classification(countries=countries, regions=regions, themes=themes))
        return out


class FakeSummarizer:
    """The first sentence, cut to ``max_words`` words; 'extractive' unless a method is asked for."""

    version = "fake-summarizer-1"

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def summarize(self, texts: list[str], max_words: int = 45, method: str | None = None) -> list[Summary]:
        self.calls.append(list(texts))
        if any(FAIL_MARKER in t for t in texts):
            raise RuntimeError("fake summarizer failure")
        out = []
        for text in texts:
            first = re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0]
            out.append(Summary(" ".join(first.split()[:max_words]), method or "extractive", True))
        return out


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``fuzz`` run only in ``make fuzz`` (NLP_FUZZ=1), whatever -m the command line gives."""
    if os.environ.get("NLP_FUZZ") == "1":
        return
    skip = pytest.mark.skip(reason="the long fuzz run: make fuzz")
    for item in items:
        if "fuzz" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def fake_classifier() -> FakeClassifier:
    return FakeClassifier()


@pytest.fixture
def fake_summarizer() -> FakeSummarizer:
    return FakeSummarizer()


@pytest.fixture
def fake_analyzer(fake_classifier: FakeClassifier, fake_summarizer: FakeSummarizer) -> Analyzer:
    return Analyzer(classifier=fake_classifier, summarizer=fake_summarizer)


@pytest.fixture(scope="session")
def checkpoints() -> Path:
    """The shipped checkpoint folder; slow tests that need it skip (saying why) until it has been trained."""
    if not (DEFAULT_CHECKPOINTS / "classifier" / "config.json").is_file():
        pytest.skip(f"no trained classifier yet: {DEFAULT_CHECKPOINTS}/classifier/config.json does not exist")
    if not (DEFAULT_CHECKPOINTS / "summarizer" / "config.json").is_file():
        pytest.skip(
            f"no summariser checkpoint yet: {DEFAULT_CHECKPOINTS}/summarizer/config.json does not exist"
        )
    return DEFAULT_CHECKPOINTS


@pytest.fixture(scope="session")
def real_analyzer(checkpoints: Path) -> Analyzer:
    import torch

    torch.set_num_threads(1)  # the CI / dev machine shares its cores with training runs
    return Analyzer.load(checkpoints)


@pytest.fixture(scope="session")
def examples_path() -> Path:
    return Path(__file__).resolve().parent.parent / "examples" / "articles.jsonl"
