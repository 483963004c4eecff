"""Gold-set round 5 (whole articles): bring the annotators' work files into ``training/data/gold/round5/``.

    python -m training.gold.sample --out DIR --round5      # export (outside the repository)
    python -m training.gold.round5 import --work DIR [--adjudication DIR]   # work files → the label files below
    python -m training.gold.round5 agreement               # the blind double reading of round 5

Files (the gold label format of ``training.gold.labels``; labels and keys only):

- ``fullread.jsonl``: the 600 articles earlier rounds exported cut at 900 words, labelled again by an annotator
  who read them to their end, starting from their label then; ``fullread_notes.jsonl`` says for each whether the
  rest of the text changed the label, and what changed;
- ``pass1.jsonl`` and ``pass2.jsonl``: the random draw of articles new to the gold set, each read in full, and the
  blind second reading of 15 % of them; ``adjudicated.jsonl``: a third reading's decision on every article where
  the two readings differ.

These files are part of the gold set that training and ``make eval`` read (``training.gold.labels.load_annotations``
says which label of an article wins); docs/annotation.md, "Round 5".
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from training.gold.agreement import agreement
from training.gold.labels import ROUND5_DIR, read_labels


def _label(r: dict, annotator: str) -> dict:
    return {"source": r["source"], "source_id": r["source_id"], "themes": r["themes"], "countries": r["countries"],
            "primary_country": r["primary_country"], "annotator": annotator, "adjudicated": False}


def import_adjudication(folder: Path, out: Path = ROUND5_DIR) -> int:
    """The third reading of every article whose two blind readings differ → ``adjudicated.jsonl``."""
    rows = {}
    for path in sorted((folder / "out").glob("*.jsonl")):
        for line in path.open(encoding="utf-8"):
            r = json.loads(line)
            rows[f"{r['source']}:{r['source_id']}"] = {**_label(r, f"adjudicator-{r['annotator']}"),
                                                       "adjudicated": True}
    with (out / "adjudicated.jsonl").open("w", encoding="utf-8") as fh:
        for k in sorted(rows):
            fh.write(json.dumps(rows[k], ensure_ascii=False) + "\n")
    read_labels(out / "adjudicated.jsonl")
    return len(rows)


def import_work(work: Path, out: Path = ROUND5_DIR) -> dict[str, int]:
    full, notes, first, second = {}, {}, {}, {}
    for path in sorted((work / "out").glob("*.jsonl")):
        for line in path.open(encoding="utf-8"):
            r = json.loads(line)
            key = f"{r['source']}:{r['source_id']}"
            if r["task"] == "reread":
                full[key] = _label(r, f"fullread-{r['annotator']}")
                notes[key] = {"source": r["source"], "source_id": r["source_id"], "changed": r["changed"],
                              "note": r["note"]}
            elif path.stem.startswith(("db", "dx", "dy")):  # second, blind readings
                second[key] = _label(r, f"pass2-r5-{r['annotator']}")
            else:
                first[key] = _label(r, f"pass1-r5-{r['annotator']}")
    second = {k: v for k, v in second.items() if k in first and first[k]["annotator"][9:] != v["annotator"][9:]}
    out.mkdir(parents=True, exist_ok=True)
    for name, rows in (("fullread", full), ("fullread_notes", notes), ("pass1", first), ("pass2", second)):
        with (out / f"{name}.jsonl").open("w", encoding="utf-8") as fh:
            for k in sorted(rows):
                fh.write(json.dumps(rows[k], ensure_ascii=False) + "\n")
    for name in ("fullread", "pass1", "pass2"):
        read_labels(out / f"{name}.jsonl")  # what was written must read back clean
    return {"fullread": len(full), "changed": sum(n["changed"] for n in notes.values()), "pass1": len(first),
            "pass2": len(second)}


def round5_agreement(folder: Path = ROUND5_DIR) -> dict:
    first = {g.key: g for g in read_labels(folder / "pass1.jsonl")}
    second = {g.key: g for g in read_labels(folder / "pass2.jsonl")}
    return agreement(first, second)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("import", "agreement"))
    parser.add_argument("--work", type=Path, help="the annotators' work folder (import)")
    parser.add_argument("--adjudication", type=Path, help="the adjudicators' work folder (import)")
    args = parser.parse_args(argv)
    if args.command == "import":
        if args.work is None:
            parser.error("import needs --work")
        counts = import_work(args.work)
        if args.adjudication is not None:
            counts["adjudicated"] = import_adjudication(args.adjudication)
        print(counts)
    else:
        print(json.dumps(round5_agreement(), indent=2))


if __name__ == "__main__":
    main()
