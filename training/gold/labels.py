"""Gold label files (``training/data/gold/*.jsonl``): reading, validating, and joining them to article texts.

A label row (docs/annotation.md, section 4)::

    {"source": "bbc", "source_id": "business/001", "themes": ["economy, business and finance"],
     "countries": ["GB"], "primary_country": "GB", "annotator": "pass1-a", "adjudicated": false}

Files: ``pass1.jsonl`` (every article, first reading), ``pass2.jsonl`` (the blind second reading of a share),
``adjudicated.jsonl`` (the decision on every article where the two passes differ). The final label of an article
is its adjudicated row where there is one, else its first-pass row.

A bad file stops with :class:`GoldLabelError`, whose message names the file, the line and the field.

    python -m training.gold.labels check FILE [FILE ...]   # validate annotation files (ids checked too)
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

from nlp_service.taxonomy import load_taxonomy
from training.gold.jsonl import json_rows
from training.gold.sources import SOURCES, gold_pools

GOLD_DIR = Path(__file__).resolve().parents[1] / "data" / "gold"
PASS_FILES: tuple[str, ...] = ("pass1.jsonl", "pass2.jsonl", "adjudicated.jsonl")
_FIELDS = {"source", "source_id", "themes", "countries", "primary_country", "annotator", "adjudicated"}


class GoldLabelError(ValueError):
    """A gold annotation file that cannot be used; the message names file, line and field."""


@dataclass(frozen=True)
class GoldLabel:
    source: str
    source_id: str
    themes: frozenset[str]  # IPTC theme names; every other theme is a "no"
    countries: tuple[str, ...]  # ISO alpha-2, in the annotator's order
    primary_country: str | None
    annotator: str
    adjudicated: bool

    @property
    def key(self) -> str:
        return f"{self.source}:{self.source_id}"


def _fail(path: Path, line: int, field: str, message: str) -> GoldLabelError:
    return GoldLabelError(f"{path}:{line}: field {field!r}: {message}")


def parse_row(row: object, path: Path, line: int) -> GoldLabel:
    tax = load_taxonomy()
    if not isinstance(row, dict):
        raise _fail(path, line, "(row)", f"expected a JSON object, got {type(row).__name__}")
    missing = sorted(_FIELDS - row.keys())
    if missing:
        raise _fail(path, line, missing[0], "missing")
    unknown = sorted(row.keys() - _FIELDS)
    if unknown:
        raise _fail(path, line, unknown[0], f"unknown field (expected {', '.join(sorted(_FIELDS))})")
    if row["source"] not in SOURCES:
        raise _fail(path, line, "source", f"unknown source {row['source']!r}; expected one of {', '.join(SOURCES)}")
    if not isinstance(row["source_id"], str) or not row["source_id"]:
        raise _fail(path, line, "source_id", "expected a non-empty string")
    if not isinstance(row["themes"], list):
        raise _fail(path, line, "themes", "expected a list of theme names")
    themes = set()
    for name in row["themes"]:
        try:
            themes.add(tax.theme(str(name)).name)
        except KeyError:
            raise _fail(path, line, "themes", f"unknown theme {name!r}") from None
    if not isinstance(row["countries"], list):
        raise _fail(path, line, "countries", "expected a list of ISO 3166-1 alpha-2 codes")
    countries: list[str] = []
    for code in row["countries"]:
        if not isinstance(code, str) or len(code) != 2 or not tax.has_country(code):
            raise _fail(path, line, "countries", f"unknown country code {code!r} (ISO 3166-1 alpha-2 expected)")
        if code.upper() not in countries:
            countries.append(code.upper())
    primary = row["primary_country"]
    if primary is not None:
        if not isinstance(primary, str) or primary.upper() not in countries:
            raise _fail(path, line, "primary_country", f"{primary!r} is not one of the row's countries")
        primary = primary.upper()
    if not isinstance(row["annotator"], str) or not row["annotator"]:
        raise _fail(path, line, "annotator", "expected the annotation pass's name")
    if not isinstance(row["adjudicated"], bool):
        raise _fail(path, line, "adjudicated", "expected true or false")
    return GoldLabel(row["source"], row["source_id"], frozenset(themes), tuple(countries), primary,
                     row["annotator"], row["adjudicated"])


def read_labels(path: str | Path, known_keys: set[str] | None = None) -> list[GoldLabel]:
    """One file's rows, validated; ``known_keys`` (``source:source_id``) checks that every id is in its source."""
    path = Path(path)
    out: list[GoldLabel] = []
    seen: dict[str, int] = {}
    for line_no, row in json_rows(path, _fail, _json_problem):
        label = parse_row(row, path, line_no)
        if label.key in seen:
            raise _fail(path, line_no, "source_id", f"duplicate id {label.key!r} (first on line {seen[label.key]})")
        if known_keys is not None and label.key not in known_keys:
            raise _fail(path, line_no, "source_id", f"id {label.source_id!r} is not in the {label.source} source")
        seen[label.key] = line_no
        out.append(label)
    return out


def _json_problem(exc: ValueError) -> str:
    return f"not valid JSON: {exc.msg if isinstance(exc, json.JSONDecodeError) else exc}"


@dataclass
class GoldAnnotations:
    first: dict[str, GoldLabel]
    second: dict[str, GoldLabel]
    adjudicated: dict[str, GoldLabel]

    def final(self) -> dict[str, GoldLabel]:
        """Every annotated article's label: adjudicated where the passes were disputed, else the first pass."""
        return self.first | self.adjudicated


def load_annotations(folder: str | Path = GOLD_DIR, known_keys: set[str] | None = None) -> GoldAnnotations:
    folder = Path(folder)
    if not (folder / PASS_FILES[0]).is_file():
        raise FileNotFoundError(f"no gold labels: {folder / PASS_FILES[0]} is missing")
    parts = []
    for name in PASS_FILES:
        path = folder / name
        parts.append({g.key: g for g in read_labels(path, known_keys)} if path.is_file() else {})
    first, second, adjudicated = parts
    for name, part in (("pass2.jsonl", second), ("adjudicated.jsonl", adjudicated)):
        stray = sorted(set(part) - set(first))
        if stray:
            raise GoldLabelError(f"{folder / name}: id {stray[0]!r} has no first-pass row in pass1.jsonl")
    return GoldAnnotations(first, second, adjudicated)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) < 2 or args[0] != "check":
        print("usage: python -m training.gold.labels check FILE [FILE ...]", file=sys.stderr)
        return 2
    keys = set(gold_pools().by_key())
    for path in args[1:]:
        try:
            rows = read_labels(path, keys)
        except (GoldLabelError, OSError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        print(f"{path}: {len(rows)} rows ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
