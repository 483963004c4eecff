"""The Summarizer component as the Analyzer sees it: methods, defaults, the guard, fallbacks."""

from __future__ import annotations

import json
import re
import zlib
from pathlib import Path

import numpy as np
import pytest

from nlp_service.records import Summary
from nlp_service.summarize import Summarizer, SummarizerConfig
from nlp_service.summarize.sentences import split_sentences

ARTICLE = """Ferry strike ends after pay deal
Ferry workers on the Kestrel Line ended a six-day strike on Monday after accepting a pay rise of 4 per cent.
Services between Portwick and the island of Hale will resume on Wednesday, the company said.
Passengers had faced long detours during the strike, and some businesses on Hale ran short of supplies.
The union said the deal was the best offer in a decade."""

REPO_CHECKPOINTS = Path(__file__).resolve().parent.parent / "checkpoints"


class BagOfWordsEncoder:
    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        out = np.zeros((len(texts), 128), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"[a-z]+", text.lower()):
                out[i, zlib.crc32(word.encode()) % 128] += 1.0
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


class FakeAbstractive:
    """Returns canned abstracts, one per text, in order."""

    def __init__(self, outputs: list[str]):
        self.outputs = outputs
        self.calls: list[tuple[list[str], int]] = []

    def generate(self, texts: list[str], max_words: int) -> list[str]:
        self.calls.append((list(texts), max_words))
        return self.outputs[: len(texts)]


def _summarizer(tmp_path: Path, abstractive=None, **config) -> Summarizer:
    return Summarizer(SummarizerConfig(**config), tmp_path, BagOfWordsEncoder(), abstractive)


def test_extractive_default_returns_summary_records(tmp_path):
    [s] = _summarizer(tmp_path).summarize([ARTICLE])
    assert isinstance(s, Summary)
    assert s.summary_method == "extractive" and s.faithful and s.warnings == []
    assert 0 < len(s.summary.split()) <= 45
    assert all(sentence in ARTICLE for sentence in split_sentences(s.summary))


def test_lead_method_and_word_cap(tmp_path):
    [s] = _summarizer(tmp_path).summarize([ARTICLE], max_words=12, method="lead")
    assert s.summary_method == "extractive"
    assert len(s.summary.split()) <= 12 and s.summary.startswith("Ferry workers")


def test_unknown_method_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown summary method"):
        _summarizer(tmp_path).summarize([ARTICLE], method="magic")


def test_empty_text_is_handled(tmp_path):
    [s] = _summarizer(tmp_path).summarize([""])
    assert (s.summary, s.summary_method, s.faithful) == ("", "none", True)
    assert s.warnings


def test_abstractive_without_adapter_falls_back_with_a_warning(tmp_path):
    [s] = _summarizer(tmp_path).summarize([ARTICLE], method="abstractive")
    assert s.summary_method == "extractive" and s.faithful
    assert any("abstractive summariser unavailable" in w for w in s.warnings)


def test_default_method_comes_from_the_config(tmp_path):
    fake = FakeAbstractive(["Kestrel Line ferry workers ended their strike after a 4 per cent pay rise."])
    [s] = _summarizer(tmp_path, fake, default_method="abstractive").summarize([ARTICLE], max_words=30)
    assert s.summary_method == "abstractive" and s.faithful and s.warnings == []
    assert fake.calls == [([ARTICLE], 30)]


def test_guard_repairs_or_replaces_abstractive_output(tmp_path):
    fake = FakeAbstractive([
        "Kestrel Line workers ended a six-day strike after a pay deal. Talks were led by Anna Grey.",
        "Ferry workers in Norway ended a 12-day strike.",
    ])
    repaired, replaced = _summarizer(tmp_path, fake).summarize([ARTICLE, ARTICLE], method="abstractive")
    assert repaired.summary == "Kestrel Line workers ended a six-day strike after a pay deal."
    assert repaired.summary_method == "abstractive" and repaired.faithful
    assert "repaired" in repaired.warnings[0] and "Anna Grey" in repaired.warnings[0]
    assert replaced.summary_method == "extractive" and replaced.faithful
    assert "replaced" in replaced.warnings[0] and "'Norway'" in replaced.warnings[0]
    assert replaced.summary == _summarizer(tmp_path).summarize([ARTICLE])[0].summary


def test_load_reads_config_from_folder_or_root(tmp_path):
    SummarizerConfig(max_words=30, version="test-7").write(tmp_path / "summarizer")
    for path in (tmp_path, tmp_path / "summarizer"):
        s = Summarizer.load(path, eager=False)
        assert s.version == "test-7" and s.config.max_words == 30


def test_config_round_trip_keeps_unknown_fields(tmp_path):
    path = SummarizerConfig(extra={"extractive_tuning": {"articles": 3}}).write(tmp_path)
    data = json.loads(path.read_text())
    assert data["extractive_tuning"] == {"articles": 3}
    assert SummarizerConfig.read(tmp_path).to_dict() == data


def test_shipped_config_is_valid():
    config = SummarizerConfig.read(REPO_CHECKPOINTS / "summarizer")
    assert config.default_method in ("extractive", "abstractive")
    assert config.max_words == 45
