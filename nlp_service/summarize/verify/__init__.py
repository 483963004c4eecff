"""Is a summary supported by its article? The rule (``rule.py``: every name and number found in the article, with
its ``repair``), the model (``model.py``: a cross-encoder, loaded only when a check needs it) and their
combination (``check.Verifier``, weighed by ``calibration.VerifyCalibration``)."""

from nlp_service.summarize.verify.article import Article
from nlp_service.summarize.verify.calibration import VerifyCalibration
from nlp_service.summarize.verify.check import Verifier, VerifierSettings
from nlp_service.summarize.verify.explain import QUALIFIERS
from nlp_service.summarize.verify.repair import MIN_REPAIRED_WORDS, repair
from nlp_service.summarize.verify.rule import FaithfulnessReport, SourceIndex, check

__all__ = [
    "MIN_REPAIRED_WORDS", "QUALIFIERS", "Article", "FaithfulnessReport", "SourceIndex", "Verifier",
    "VerifierSettings", "VerifyCalibration", "check", "repair",
]
