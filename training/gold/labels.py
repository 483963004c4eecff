"""Gold label files (``training/data/gold/*.jsonl``): reading, validating, and joining them to article texts.

A label row (docs/annotation.md, section 4)::

    {"source": "bbc", "source_id": "business/001", "themes": ["economy, business and finance"],
     "countries": ["GB"], "primary_country": "GB", "annotator": "pass1-a", "adjudicated": false}

Files, per round folder: ``pass1.jsonl`` (every article new in those rounds, first reading), ``pass2.jsonl`` (the
blind second reading of a share), ``adjudicated.jsonl`` (the decision on every article where the two passes
differ). Rounds 1-4 are in ``GOLD_DIR``, round 5 in ``GOLD_DIR/round5`` with one more file, ``fullread.jsonl``:
the articles earlier rounds labelled from their first 900 words, read again to their end.

The final label of an article, by precedence (``GoldAnnotations.final``):

1. its round-5 full read, where there is one (it supersedes the earlier label: the reader started from that
   label, adjudicated or not, and changed it only where the rest of the text says so);
2. else its adjudicated row, where its two blind passes differed;
3. else its first-pass row.

``load_annotations`` reads all five rounds by default; ``rounds=4`` gives the gold set as it was before round 5,
the set the shipped classifier was trained and its model card measured on.

A bad file stops with :class:`GoldLabelError`, whose message names the file, the line and the field.

    python -m training.gold.labels check FILE [FILE ...]   # validate annotation files (ids checked too)
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from nlp_service.taxonomy import load_taxonomy
from training.gold.jsonl import json_rows
from training.gold.sources import SOURCES, gold_pools

GOLD_DIR = Path(__file__).resolve().parents[1] / "data" / "gold"
ROUND5_DIR = GOLD_DIR / "round5"
PASS_FILES: tuple[str, ...] = ("pass1.jsonl", "pass2.jsonl", "adjudicated.jsonl")
FULLREAD_FILE = "fullread.jsonl"
# Training and make eval read every round. The shipped classifier was trained before round 5, and its model card
# was measured on the four-round test split: ``rounds=SHIPPED_MODEL_ROUNDS`` gives that set back.
GOLD_ROUNDS = 5
SHIPPED_MODEL_ROUNDS = 4
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
    # round 5's reading to the end of the articles earlier rounds labelled from their first 900 words
    full_read: dict[str, GoldLabel] = field(default_factory=dict)
    # the articles round 5 added (its random draw, read in full)
    new_in_round5: frozenset[str] = frozenset()

    def final(self) -> dict[str, GoldLabel]:
        """Every annotated article's label: its full read, else its adjudicated row where the passes were
        disputed, else its first pass."""
        return self.first | self.adjudicated | self.full_read


def _read_round(folder: Path, known_keys: set[str] | None) -> GoldAnnotations:
    """One round folder's first pass, blind second pass and adjudication (second and adjudicated may be absent)."""
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


def _line_of(path: Path, key: str) -> int:
    """The line of ``path`` that holds ``key`` (for an error message; the file has read clean already)."""
    for line_no, row in json_rows(path, _fail, _json_problem):
        if f"{row['source']}:{row['source_id']}" == key:
            return line_no
    return 0


def load_annotations(
    folder: str | Path = GOLD_DIR, known_keys: set[str] | None = None, rounds: int = GOLD_ROUNDS
) -> GoldAnnotations:
    """The gold set's label files: rounds 1-4 in ``folder``, and with ``rounds=5`` (the default) round 5 in
    ``folder/round5``. ``known_keys`` (``source:source_id``) checks that every id is in its source."""
    if rounds not in (SHIPPED_MODEL_ROUNDS, GOLD_ROUNDS):
        raise ValueError(f"rounds must be {SHIPPED_MODEL_ROUNDS} or {GOLD_ROUNDS}, got {rounds}")
    folder = Path(folder)
    earlier = _read_round(folder, known_keys)
    if rounds == SHIPPED_MODEL_ROUNDS:
        return earlier
    round5 = folder / ROUND5_DIR.name
    new = _read_round(round5, known_keys)
    again = sorted(set(new.first) & set(earlier.first))
    if again:
        path = round5 / PASS_FILES[0]
        raise _fail(path, _line_of(path, again[0]), "source_id",
                    f"id {again[0]!r} is already in {folder / PASS_FILES[0]}: round 5's draw is of new articles")
    full_path = round5 / FULLREAD_FILE
    full = {g.key: g for g in read_labels(full_path, known_keys)} if full_path.is_file() else {}
    unread = sorted(set(full) - set(earlier.first))
    if unread:
        raise _fail(full_path, _line_of(full_path, unread[0]), "source_id",
                    f"id {unread[0]!r} has no earlier label in {folder / PASS_FILES[0]} for its full read to replace")
    return GoldAnnotations(
        earlier.first | new.first, earlier.second | new.second, earlier.adjudicated | new.adjudicated, full,
        frozenset(new.first),
    )


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
