"""Places: which countries a text mentions (``load_gazetteer().find``), with evidence and scores, and country
names to ISO codes (``resolve_country``). Lower than classify/ and summarize/, which read it."""

from nlp_service.places.country_names import COUNTRY_ALIASES, resolve_country
from nlp_service.places.data_files import read_data_csv
from nlp_service.places.gazetteer import Gazetteer, load_gazetteer
from nlp_service.places.mentions import KINDS, CountryMention, MentionSpan
from nlp_service.places.ner import ENTITY_TYPES, NerSettings, entity_spans, ner_available
from nlp_service.places.scoring import SCORING, MentionScoring

__all__ = [
    "COUNTRY_ALIASES", "ENTITY_TYPES", "KINDS", "SCORING", "CountryMention", "Gazetteer", "MentionScoring",
    "MentionSpan", "NerSettings", "entity_spans", "load_gazetteer", "ner_available", "read_data_csv",
    "resolve_country",
]
