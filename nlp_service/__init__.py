"""News topic classification and summarisation: ``from nlp_service import Analyzer``."""

from nlp_service.analyzer import AnalyzeOptions, Analyzer
from nlp_service.records import Analysis, Classification, CountryTag, RegionTag, Summary, ThemeTag
from nlp_service.text import InputError

__version__ = "0.1.0"

__all__ = [
    "AnalyzeOptions",
    "Analysis",
    "Analyzer",
    "Classification",
    "CountryTag",
    "InputError",
    "RegionTag",
    "Summary",
    "ThemeTag",
    "__version__",
]
