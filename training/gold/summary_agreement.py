"""Agreement in the team's summary data: between writers, between judges, and between judges and writers.

    python -m training.gold.summary_agreement          # prints the figures docs/summary-set.md reports

- Writers: ROUGE-1/2/Lsum (F1 × 100) of the second, blind writer's abstract against the first writer's, on the
  articles written twice: the human ceiling of the summary evaluation.
- Judges: Cohen's kappa of the faithful verdict where two judges read the same summary, overall and by the kind
  of summary (a writer's hard negative by its error type, a paraphrase, other texts).
- Judges against writers: how often a judge's verdict matches what the writer made (a paraphrase faithful, a hard
  negative unfaithful), by error type, with kappa over all written pairs a judge read.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from training.gold.abstracts import load_abstracts
from training.gold.agreement import cohen_kappa
from training.gold.faith_data import read_judged, read_written, text_sha1


def kappa(a: list[bool], b: list[bool]) -> float | None:
    return cohen_kappa(np.array(a, dtype=bool), np.array(b, dtype=bool)) if a else None


def writer_rouge() -> dict[str, Any]:
    from training.evaluation.summary_metrics import rouge
    from training.gold.sources import split_of_keys

    splits = split_of_keys()
    per: dict[str, list[dict[str, float]]] = defaultdict(list)
    for key, (first, second) in load_abstracts().doubles().items():
        per[splits[key][1] if key in splits else "unknown"].append(rouge(second.abstract, first.abstract))
    out = {}
    for split, scores in sorted(per.items()):
        out[split] = {"n": len(scores), **{k: round(sum(s[k] for s in scores) / len(scores), 2) for k in scores[0]}}
    return out


def judge_agreement() -> dict[str, Any]:
    judged = read_judged()
    written = {(r["key"], text_sha1(r["summary"])): r for r in read_written()}
    by_item: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in judged:
        by_item[(r["key"], r["summary_sha1"])].append(r)
    pairs: dict[str, tuple[list[bool], list[bool]]] = defaultdict(lambda: ([], []))
    vs_writer: dict[str, list[bool]] = defaultdict(list)
    writer_labels, judge_labels = [], []
    for item, rows in by_item.items():
        w = written.get(item)
        kind = (w["type"] if not w["faithful"] else "paraphrase") if w else "other texts"
        if len(rows) >= 2:
            a, b = pairs[kind]
            a.append(rows[0]["faithful"])
            b.append(rows[1]["faithful"])
            a2, b2 = pairs["all"]
            a2.append(rows[0]["faithful"])
            b2.append(rows[1]["faithful"])
        if w:
            for r in rows:
                vs_writer[kind].append(r["faithful"] == w["faithful"])
                writer_labels.append(w["faithful"])
                judge_labels.append(r["faithful"])
    def agreement(a: list[bool], b: list[bool]) -> float:
        return round(sum(x == y for x, y in zip(a, b, strict=True)) / len(a), 4)

    return {
        "judged_summaries": len(by_item),
        "judgements": len(judged),
        "double_judged": {k: {"n": len(a), "agreement": agreement(a, b), "kappa": kappa(a, b)}
                          for k, (a, b) in sorted(pairs.items()) if a},
        "judge_vs_writer": {k: {"n": len(v), "agreement": round(sum(v) / len(v), 4)}
                            for k, v in sorted(vs_writer.items())},
        "judge_vs_writer_kappa": kappa(writer_labels, judge_labels),
    }


def main() -> None:
    import json

    print(json.dumps({"writers": writer_rouge(), "judges": judge_agreement()}, indent=2))


if __name__ == "__main__":
    main()
