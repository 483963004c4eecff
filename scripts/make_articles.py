"""Synthetic test and benchmark articles built only from the project's own example texts in ``examples/``.

``synthetic_articles(n)`` is deterministic: article ``i`` is one of the ~100 example articles, from the second
hundred on followed by the body of another one, so lengths vary the way a real feed's do. Every tenth article
comes as ``title`` + ``body`` instead of ``text``. Run ``python scripts/make_articles.py N OUT.jsonl`` to write them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SOURCES = ("articles.jsonl", "probe_heldout.jsonl", "probe_themes.jsonl")


def example_texts() -> list[str]:
    """Every example article as one text (``title`` + newline + ``body`` where it has no ``text``)."""
    texts = []
    for name in SOURCES:
        for line in (EXAMPLES / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                texts.append(row.get("text") or f"{row['title']}\n{row['body']}")
    return texts


def synthetic_articles(n: int) -> list[dict[str, str]]:
    base = example_texts()
    rows = []
    for i in range(n):
        text = base[i % len(base)]
        if i >= len(base):  # a second article's body makes a longer one, different for each hundred
            other = base[(i * 7 + i // len(base)) % len(base)]
            text = text + "\n" + other.split("\n", 1)[-1]
        if i % 10 == 9:
            title, _, body = text.partition("\n")
            rows.append({"id": f"a{i:04d}", "title": title, "body": body})
        else:
            rows.append({"id": f"a{i:04d}", "text": text})
    return rows


def write_jsonl(rows: list[dict[str, str]], path: Path) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


if __name__ == "__main__":
    write_jsonl(synthetic_articles(int(sys.argv[1])), Path(sys.argv[2]))
