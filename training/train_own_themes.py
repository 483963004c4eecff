"""Train theme heads for your own label set on the shipped classifier's encoder.

    nlp-service train --taxonomy own --train-files desk.jsonl [--validation-file val.jsonl] --output-dir runs/desk

A training file is JSONL (``text``, or ``title`` + ``body``, and a ``labels`` list) or CSV (the same columns,
``labels`` separated by ``;``). The label set is every label the training file uses. Each label gets a logistic
head on the pooled, L2-normalised embedding of the shipped classifier's encoder (``nlp_service.classify.own_themes``);
the encoder itself is not retrained, so a few dozen rows train in seconds to minutes on a laptop's CPU.
Thresholds are the F1-best on the validation file, or, without one, on out-of-fold predictions of the training
rows; a label with fewer than ``MIN_VALIDATION_POSITIVES`` validation examples keeps ``DEFAULT_THRESHOLD`` and the
run warns naming it. The output folder loads with ``--checkpoint DIR`` / ``Analyzer.load(DIR)``: countries,
regions, summaries and verify come from the shipped checkpoints.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from nlp_service.classify import OwnThemeHeads, OwnThemesConfig
from nlp_service.classify.own_themes import features, head_probabilities

# A threshold fitted on fewer positives than this follows one or two articles rather than the label.
MIN_VALIDATION_POSITIVES = 3
# What a label without enough validation examples uses: the heads are trained class-balanced, so 0.5 is where
# a positive and a negative are weighed alike.
DEFAULT_THRESHOLD = 0.5
THRESHOLD_GRID = np.round(np.arange(0.05, 0.951, 0.025), 3)
FOLDS = 5  # out-of-fold predictions stand in for a validation file
C = 4.0  # inverse regularisation of the heads: on 70 rows of 384 features, 1 underfits and 16 overfits
EXIT_USAGE = 2


class TrainingError(Exception):
    """A problem with the command or its files, reported as one line with exit code 2."""


@dataclass
class Rows:
    texts: list[str]
    labels: list[list[str]]


def _labels_of(value: object, where: str) -> list[str]:
    if isinstance(value, str):
        value = value.split(";")
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise TrainingError(f"{where}: 'labels' must be a list of strings (JSONL) or ';'-separated text (CSV)")
    return sorted({x.strip() for x in value if x.strip()})


def _text_of(row: dict, where: str) -> str:
    text = row.get("text") or "\n".join(x for x in (row.get("title"), row.get("body")) if x)
    if not isinstance(text, str) or not text.strip():
        raise TrainingError(f"{where}: no 'text' (or 'title' and 'body')")
    return text


def read_rows(path: Path) -> Rows:
    """The labelled rows of one JSONL or CSV file; a bad row stops with its file and line named."""
    if not path.is_file():
        raise TrainingError(f"{path} does not exist")
    if path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8", newline="") as fh:
            raw = [(f"{path}:{n}", row) for n, row in enumerate(csv.DictReader(fh), start=2)]
    else:
        raw = []
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip():
                try:
                    raw.append((f"{path}:{n}", json.loads(line)))
                except json.JSONDecodeError as exc:
                    raise TrainingError(f"{path}:{n}: not valid JSON ({exc.msg})") from None
    rows = Rows([], [])
    for where, row in raw:
        if not isinstance(row, dict):
            raise TrainingError(f"{where}: a row must be an object")
        if "labels" not in row:
            raise TrainingError(f"{where}: no 'labels' field (the own label set is read from it)")
        rows.texts.append(_text_of(row, where))
        rows.labels.append(_labels_of(row["labels"], where))
    if not rows.texts:
        raise TrainingError(f"{path} has no rows")
    return rows


def label_matrix(labels: list[list[str]], names: list[str]) -> np.ndarray:
    return np.array([[name in row for name in names] for row in labels], dtype=int)


def embed(texts: list[str]) -> tuple[np.ndarray, str]:
    """The shipped classifier's pooled embedding of each text, cleaned as serving cleans it, and its version."""
    from nlp_service.analyzer import DEFAULT_CHECKPOINTS
    from nlp_service.classify import TopicClassifier
    from nlp_service.text.clean import InputError, prepare

    clf = TopicClassifier.load(DEFAULT_CHECKPOINTS / "classifier")
    cleaned = []
    for i, text in enumerate(texts):
        try:
            cleaned.append(prepare(text)[0])
        except InputError as exc:
            raise TrainingError(f"row {i + 1}: {exc}") from None
    return clf.text_outputs(cleaned)[2], clf.version


def fit_heads(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One class-balanced logistic head per label column of ``y``: (labels × features) weights and biases."""
    from sklearn.linear_model import LogisticRegression

    weight = np.zeros((y.shape[1], x.shape[1]), dtype=np.float32)
    bias = np.zeros(y.shape[1], dtype=np.float32)
    for j in range(y.shape[1]):
        if y[:, j].min() == y[:, j].max():  # a fold without a positive: the head says "rarely"
            bias[j] = -4.0 if y[0, j] == 0 else 4.0
            continue
        model = LogisticRegression(C=C, class_weight="balanced", max_iter=2000).fit(x, y[:, j])
        weight[j], bias[j] = model.coef_[0], model.intercept_[0]
    return weight, bias


def out_of_fold(x: np.ndarray, y: np.ndarray, seed: int) -> np.ndarray:
    """Each training row's probabilities from heads fitted without it (``FOLDS`` folds)."""
    order = np.random.default_rng(seed).permutation(len(x))
    p = np.zeros(y.shape, dtype=np.float32)
    for fold in np.array_split(order, min(FOLDS, len(x))):
        keep = np.setdiff1d(order, fold)
        p[fold] = head_probabilities(x[fold], *fit_heads(x[keep], y[keep]))
    return p


def _f1(pred: np.ndarray, gold: np.ndarray) -> float:
    tp = int((pred & gold).sum())
    return 2 * tp / max(1, int(pred.sum()) + int(gold.sum()))


def fit_thresholds(p: np.ndarray, y: np.ndarray, names: list[str]) -> tuple[dict[str, float], dict[str, str]]:
    """Per label the F1-best threshold on ``p``, or ``DEFAULT_THRESHOLD`` where too few positives to fit."""
    thresholds, source = {}, {}
    for j, name in enumerate(names):
        positives = int(y[:, j].sum())
        if positives < MIN_VALIDATION_POSITIVES:
            thresholds[name] = DEFAULT_THRESHOLD
            source[name] = f"default {DEFAULT_THRESHOLD}: {positives} validation example(s)"
            continue
        scores = [_f1(p[:, j] >= t, y[:, j].astype(bool)) for t in THRESHOLD_GRID]
        thresholds[name] = float(THRESHOLD_GRID[int(np.argmax(scores))])
        source[name] = f"fitted on {positives} validation examples"
    return thresholds, source


def micro_f1(p: np.ndarray, y: np.ndarray, names: list[str], thresholds: dict[str, float]) -> float:
    cut = np.array([thresholds[n] for n in names])
    return round(_f1(p >= cut, y.astype(bool)), 4)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="nlp-service train --taxonomy own", description=__doc__.split("\n\n")[0])
    ap.add_argument("--taxonomy", choices=["own"], default="own")
    ap.add_argument("--train-files", "--train_files", required=True,
                    help="comma list of JSONL/CSV files with text and labels")
    ap.add_argument("--validation-file", "--validation_file", help="JSONL/CSV to fit thresholds on")
    ap.add_argument("--output-dir", "--output_dir", required=True, type=Path)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    return ap.parse_args(argv)


def train(args: argparse.Namespace) -> dict:
    started = time.time()
    train_rows = Rows([], [])
    for name in args.train_files.split(","):
        rows = read_rows(Path(name.strip()))
        train_rows.texts += rows.texts
        train_rows.labels += rows.labels
    names = sorted({label for row in train_rows.labels for label in row})
    if not names:
        raise TrainingError("the training files name no labels")
    y = label_matrix(train_rows.labels, names)
    constant = [n for j, n in enumerate(names) if y[:, j].all()]
    if constant:
        raise TrainingError(f"every training row has the label(s) {', '.join(constant)}: nothing to tell apart")
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    val_rows = read_rows(Path(args.validation_file)) if args.validation_file else None
    x, encoder = embed(train_rows.texts + (val_rows.texts if val_rows else []))
    x = features(x)
    x_train = x[: len(train_rows.texts)]
    weight, bias = fit_heads(x_train, y)
    if val_rows is not None:
        unknown = sorted({label for row in val_rows.labels for label in row} - set(names))
        if unknown:
            print(f"warning: validation labels not in the training file are ignored: {', '.join(unknown)}",
                  file=sys.stderr)
        y_val, p_val = label_matrix(val_rows.labels, names), head_probabilities(x[len(train_rows.texts):], weight, bias)
        fitted_on = f"{args.validation_file} ({len(val_rows.texts)} rows)"
    else:
        y_val, p_val = y, out_of_fold(x_train, y, args.seed)
        fitted_on = f"out-of-fold predictions of the {len(y)} training rows ({FOLDS} folds)"
    thresholds, source = fit_thresholds(p_val, y_val, names)
    few = [f"{n} ({int(y_val[:, j].sum())})" for j, n in enumerate(names) if source[n].startswith("default")]
    if few:
        print(f"warning: too few validation examples to fit a threshold (need {MIN_VALIDATION_POSITIVES}) for: "
              f"{', '.join(few)}; they use {DEFAULT_THRESHOLD} instead", file=sys.stderr)
    metrics = {"validation_micro_f1": micro_f1(p_val, y_val, names, thresholds), "thresholds_fitted_on": fitted_on,
               "train_rows": len(y), "positives": {n: int(y[:, j].sum()) for j, n in enumerate(names)},
               "seconds": round(time.time() - started, 1)}
    version = f"own-themes-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    cfg = OwnThemesConfig(names, thresholds, version, encoder=encoder, threshold_source=source, training=metrics)
    OwnThemeHeads(cfg, weight, bias).save(args.output_dir)
    (args.output_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return metrics


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        metrics = train(args)
    except TrainingError as exc:
        print(f"nlp-service train: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"saved {args.output_dir}: {len(metrics['positives'])} labels, validation micro-F1 "
          f"{metrics['validation_micro_f1']} ({metrics['thresholds_fitted_on']}), {metrics['seconds']} s",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
