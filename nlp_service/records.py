"""Result types. Every public answer of the service is one of these; ``to_dict()`` is the JSON record whose
schema is ``nlp_service/data/record.schema.json``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class MentionEvidence:
    surface: str  # the text as written, text[start:end] of the analysed (cleaned) text
    kind: str  # name, code, demonym, capital, city, subdivision or institution
    start: int
    end: int


@dataclass(frozen=True)
class CountryTag:
    code: str  # ISO 3166-1 alpha-2
    name: str
    score: float
    evidence: list[MentionEvidence] = field(default_factory=list)  # the mentions that name the country


@dataclass(frozen=True)
class RegionTag:
    name: str  # UN M49 sub-region
    continent: str
    m49: str
    score: float


@dataclass(frozen=True)
class ThemeEvidence:
    sentence: str  # the article sentence that weighs most towards the theme ("" when none does)
    terms: list[str]  # the article's terms that weighed most, heaviest first


@dataclass(frozen=True)
class Entity:
    text: str  # the article's own spelling: text[start:end]
    type: str  # person, organisation or place
    start: int
    end: int


@dataclass(frozen=True)
class ThemeTag:
    name: str  # IPTC Media Topic top-level name, lower case
    code: str  # medtop:NNNNNNNN
    score: float
    evidence: ThemeEvidence | None = None  # only when explanations were asked for


class _DictLike(Mapping):
    """Records read like dicts (``rec["themes"]``) as well as objects (``rec.themes``)."""

    def to_dict(self) -> dict[str, Any]:
        return _without_absent_evidence(asdict(self))  # type: ignore[call-overload]

    def __getitem__(self, key: str) -> Any:
        return self.to_dict()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.to_dict())

    def __len__(self) -> int:
        return len(self.to_dict())


@dataclass(frozen=True)
class Classification(_DictLike):
    countries: list[CountryTag] = field(default_factory=list)
    regions: list[RegionTag] = field(default_factory=list)
    themes: list[ThemeTag] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None  # set (and nothing else) for an unusable article of a list

    def to_dict(self) -> dict[str, Any]:
        return _without_absent_error(super().to_dict())


@dataclass(frozen=True)
class Summary(_DictLike):
    summary: str
    summary_method: str  # "extractive" | "abstractive" | "none"
    faithful: bool
    warnings: list[str] = field(default_factory=list)
    error: str | None = None  # set for an unusable article of a list (summary "", method "none")

    def to_dict(self) -> dict[str, Any]:
        return _without_absent_error(super().to_dict())


@dataclass(frozen=True)
class UnsupportedSpan:
    span: str  # summary[start:end]
    kind: str  # name, number, negation, qualifier or claim (words or a statement the article does not support)
    start: int
    end: int
    closest: str  # the article sentence closest to the summary sentence ("" for an empty article)


@dataclass(frozen=True)
class Verification(_DictLike):
    """Whether a summary is supported by its article (data/verify.schema.json)."""

    faithful: bool
    score: float  # calibrated probability that the summary is supported (its weakest sentence's)
    unsupported: list[UnsupportedSpan] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    id: str | None = None
    checker: str | None = None  # the checker's version
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None or k == "id"}


@dataclass(frozen=True)
class Analysis(_DictLike):
    """The full record of one article: classification and/or summary, plus provenance."""

    id: str | None = None
    countries: list[CountryTag] | None = None
    regions: list[RegionTag] | None = None
    themes: list[ThemeTag] | None = None
    summary: str | None = None
    summary_method: str | None = None
    faithful: bool | None = None
    entities: list[Entity] | None = None
    warnings: list[str] = field(default_factory=list)
    model: dict[str, str] = field(default_factory=dict)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        # Fields of tasks that were not run are left out rather than written as null.
        return _without_absent_evidence({k: v for k, v in asdict(self).items() if v is not None or k == "id"})


def _without_absent_error(record: dict[str, Any]) -> dict[str, Any]:
    """``error`` appears only in the record of an article that could not be used."""
    if record.get("error") is None:
        record.pop("error", None)
    return record


def _without_absent_evidence(record: dict[str, Any]) -> dict[str, Any]:
    """Theme evidence appears in a record only when it was asked for."""
    for theme in record.get("themes") or []:
        if theme.get("evidence") is None:
            theme.pop("evidence", None)
    return record
