"""Bring the writers' and judges' work files into the committed data (our own words and keys only, no text).

    python -m training.gold.summary_import --work /path/outside/the/repo

Reads ``<work>/out/*.jsonl`` (one file per batch of ``training.gold.summary_sample``; a batch named ``d…`` is a
second, blind writing of articles first written elsewhere) and ``<work>/judge*/out/*.jsonl`` (judgements, one
folder per judging round), and
writes, sorted by key so that a later import only adds lines:

- ``training/data/summaries/pass1.jsonl`` and ``pass2.jsonl``: the abstracts (training.gold.abstracts);
- ``training/data/faithfulness/written.jsonl``: each writer's faithful paraphrase and one-error hard negative
  (docs/faithfulness-guideline.md, "Writing pairs");
- ``training/data/faithfulness/judged.jsonl``: judgements of summaries, keyed by article and summary text (the
  judge never learns which system or person wrote a summary, and neither does the file).

Rows already in the committed files are kept; a work file's row replaces nothing that is already there.
"""

from __future__ import annotations

import argparse
import functools
import json
from pathlib import Path

from training.gold.abstracts import SUMMARY_DIR, load_abstracts
from training.gold.faith_data import FAITH_DIR, read_judged, read_written, text_sha1

SECOND_PREFIX = "d"


def has_copy(key: str, summary: str) -> bool:
    """Whether a sentence of ``summary`` is copied word for word from the article (``Article.copied``); such text
    is the publishers' and is not stored. An article the installed sources lack counts as copied (nothing stored)."""
    from nlp_service.summarize.sentences import sentence_spans
    from training.gold.sources import split_of_keys

    articles = split_of_keys()
    if key not in articles:
        return True
    doc = _article(key)
    return any(doc.copied(summary[a:b]) for a, b in sentence_spans(summary))


@functools.cache
def _article(key: str):
    from nlp_service.summarize.verify import Article
    from training.gold.sources import split_of_keys

    return Article.build(split_of_keys()[key][0].article)


def _rows(folder: Path) -> list[tuple[str, dict]]:
    out = []
    for path in sorted(folder.glob("*.jsonl")):
        for line in path.open(encoding="utf-8"):
            if line.strip():
                out.append((path.stem, json.loads(line)))
    return out


def _write(path: Path, rows: list[dict], sort_key) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = sorted(rows, key=sort_key)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def import_work(work: Path, summary_dir: Path = SUMMARY_DIR, faith_dir: Path = FAITH_DIR) -> dict[str, int]:
    current = load_abstracts(summary_dir) if (summary_dir / "pass1.jsonl").is_file() else None
    first = {k: a.__dict__ for k, a in (current.first if current else {}).items()}
    second = {k: a.__dict__ for k, a in (current.second if current else {}).items()}
    written_path, judged_path = faith_dir / "written.jsonl", faith_dir / "judged.jsonl"
    written = {(r["key"], r["kind"]): r for r in (read_written(written_path) if written_path.is_file() else [])}
    judged = {(r["key"], r["summary_sha1"], r["judge"]): r
              for r in (read_judged(judged_path) if judged_path.is_file() else [])}
    pending_second = []
    for batch, r in _rows(work / "out"):
        row = {"key": r["key"], "abstract": r["abstract"], "writer": r["writer"], "note": r.get("note", "")}
        if batch.startswith(SECOND_PREFIX):
            pending_second.append(row)
        else:
            first.setdefault(r["key"], row)
        if r["abstract"] == "SKIP":
            continue
        kinds = [("paraphrase", r["paraphrase"], True, None, None)]
        kinds.append(("negative", r["negative"], False, r["negative_type"], r["negative_span"]))
        for kind, text, faithful, etype, span in kinds:
            if batch.startswith(SECOND_PREFIX):
                kind = f"{kind}_second"
            written.setdefault((r["key"], kind), {
                "key": r["key"], "summary": text, "faithful": faithful, "type": etype, "span": span,
                "writer": r["writer"], "kind": kind})
    for row in pending_second:
        # A second writing counts only where the article has a first writer who is someone else.
        if row["key"] in first and first[row["key"]]["writer"] != row["writer"]:
            second.setdefault(row["key"], row)
    judged_rows = [row for folder in sorted(work.glob("judge*/out")) for row in _rows(folder)]
    for _batch, r in judged_rows:
        row = {k: r.get(k) for k in ("key", "summary", "faithful", "type", "span", "fluent", "covers", "judge", "note")}
        row["summary_sha1"] = text_sha1(r["summary"])
        if has_copy(r["key"], r["summary"]):
            row["summary"] = None  # the publishers' words are not stored; the hash still finds the verdict
        judged.setdefault((row["key"], row["summary_sha1"], row["judge"]), row)
    written = {k: r for k, r in written.items() if not has_copy(r["key"], r["summary"])}
    _write(summary_dir / "pass1.jsonl", list(first.values()), lambda r: r["key"])
    _write(summary_dir / "pass2.jsonl", list(second.values()), lambda r: r["key"])
    _write(written_path, list(written.values()), lambda r: (r["key"], r["kind"]))
    _write(judged_path, list(judged.values()), lambda r: (r["key"], r["summary_sha1"], r["judge"]))
    load_abstracts(summary_dir)  # the files just written must read back clean
    read_written(written_path)
    read_judged(judged_path)
    return {"pass1": len(first), "pass2": len(second), "written": len(written), "judged": len(judged)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", required=True, type=Path, help="the writers' work folder (outside the repo)")
    args = parser.parse_args(argv)
    print(import_work(args.work))


if __name__ == "__main__":
    main()
