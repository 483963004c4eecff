"""The checker on the team's test-split summaries (training.faith_team): what ``faithful: true`` means.

Every team-labelled summary of a test-split article — abstracts and paraphrases written by people (faithful),
hard negatives with one typed error, and summaries the team judged (model outputs among them) — is checked
whole, as ``verify`` checks a summary. Reported: recall on unfaithful summaries per error type, false alarms on
each kind of faithful summary, balanced accuracy, and how often the span ``verify`` marks overlaps the span the
team marked, among the errors it catches. The name-and-number rule alone is scored on the same summaries.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from nlp_service.summarize.verify import Verifier
from training.faith_team import LabelledSummary, labelled_summaries


def test_summaries() -> tuple[list[LabelledSummary], list[str]]:
    """The test split's labelled summaries and their articles (as the summariser reads them)."""
    from training.gold.sources import split_of_keys

    articles = split_of_keys()
    items = [s for s in labelled_summaries() if s.key in articles and articles[s.key][1] == "test"]
    return items, [articles[s.key][0].article for s in items]


def _overlaps(marked: list[tuple[int, int]], span: tuple[int, int]) -> bool:
    return any(a < span[1] and span[0] < b for a, b in marked)


def score(items: list[LabelledSummary], flagged: list[bool],
          marked: list[list[tuple[int, int]]] | None = None) -> dict[str, Any]:
    """Recall per error type, false alarms per faithful kind, balanced accuracy, span overlap."""
    caught: dict[str, list[bool]] = defaultdict(list)
    alarms: dict[str, list[bool]] = defaultdict(list)
    overlap: list[bool] = []
    for i, (item, flag) in enumerate(zip(items, flagged, strict=True)):
        if item.faithful:
            alarms[item.kind].append(flag)
            continue
        caught[item.error_type or "other"].append(flag)
        if flag and marked is not None and item.span:
            at = item.summary.find(item.span)
            overlap.append(_overlaps(marked[i], (at, at + len(item.span))))
    bad = [f for v in caught.values() for f in v]
    good = [f for v in alarms.values() for f in v]
    recall = sum(bad) / max(len(bad), 1)
    false_alarm = sum(good) / max(len(good), 1)
    out: dict[str, Any] = {
        "unfaithful": len(bad), "faithful": len(good),
        "balanced_accuracy": round((recall + 1 - false_alarm) / 2, 4),
        "recall": round(recall, 4), "false_alarm_rate": round(false_alarm, 4),
        "recall_by_type": {k: {"n": len(v), "recall": round(sum(v) / len(v), 4)} for k, v in sorted(caught.items())},
        "false_alarms_by_kind": {k: {"n": len(v), "rate": round(sum(v) / len(v), 4)}
                                 for k, v in sorted(alarms.items())},
    }
    if marked is not None:
        out["span_overlap"] = round(sum(overlap) / len(overlap), 4) if overlap else None
    return out


def evaluate_team_pairs(verifier: Verifier) -> dict[str, Any]:
    """The checker and the rule alone on the same test-split summaries."""
    items, articles = test_summaries()
    if not items:
        return {"note": "no team-labelled test summaries"}
    summaries = [s.summary for s in items]
    checked = verifier.verify_many(articles, summaries)
    rule = Verifier.rule_only().verify_many(articles, summaries)
    return {
        "summaries": len(items),
        "checker": score(items, [not v.faithful for v in checked],
                         [[(u.start, u.end) for u in v.unsupported] for v in checked]),
        "rule": score(items, [not v.faithful for v in rule], [[(u.start, u.end) for u in v.unsupported]
                                                               for v in rule]),
    }


def markdown(block: dict[str, Any]) -> list[str]:
    if "checker" not in block:
        return []
    lines = ["## Team test summaries (people's abstracts and paraphrases, typed hard negatives, judged outputs)", "",
             f"{block['summaries']} summaries of test-split articles.", "",
             "| | balanced accuracy | recall | false alarms | span overlap |", "|---|---:|---:|---:|---:|"]
    for name in ("checker", "rule"):
        r = block[name]
        lines.append(f"| {name} | {r['balanced_accuracy']:.3f} | {r['recall']:.3f} | {r['false_alarm_rate']:.3f} | "
                     f"{'–' if r.get('span_overlap') is None else format(r['span_overlap'], '.3f')} |")
    lines += ["", "| error type | n | checker recall | rule recall |", "|---|---:|---:|---:|"]
    for t, r in block["checker"]["recall_by_type"].items():
        lines.append(f"| {t} | {r['n']} | {r['recall']:.3f} | {block['rule']['recall_by_type'][t]['recall']:.3f} |")
    lines += ["", "| faithful kind | n | checker false alarms | rule false alarms |", "|---|---:|---:|---:|"]
    for k, r in block["checker"]["false_alarms_by_kind"].items():
        lines.append(f"| {k} | {r['n']} | {r['rate']:.3f} | {block['rule']['false_alarms_by_kind'][k]['rate']:.3f} |")
    return [*lines, ""]
