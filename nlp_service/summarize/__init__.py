"""The summariser section: ``Summarizer.load(folder).summarize(texts, max_words, method)`` gives one ``Summary``
per text, "extractive", "abstractive" (behind the faithfulness guard, ``GuardPolicy``) or "lead"; ``Verifier``
checks any summary against its article (``verify/``)."""

from nlp_service.summarize.config import DEFAULT_MAX_WORDS, METHODS, ExtractiveParams, SummarizerConfig
from nlp_service.summarize.extractive import ExtractiveSummarizer, lead, trim_to_words
from nlp_service.summarize.guard import GuardPolicy
from nlp_service.summarize.summarizer import Summarizer
from nlp_service.summarize.verify import Verifier, VerifyCalibration

__all__ = [
    "DEFAULT_MAX_WORDS", "METHODS", "ExtractiveParams", "ExtractiveSummarizer", "GuardPolicy", "Summarizer",
    "SummarizerConfig", "Verifier", "VerifyCalibration", "lead", "trim_to_words",
]
