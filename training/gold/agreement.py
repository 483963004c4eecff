"""Agreement between the two blind annotation passes of the gold set: per theme F1 between passes and Cohen's
kappa, and for countries micro-F1 over (article, country) pairs and primary-country agreement.

    python -m training.gold.agreement [--folder training/data/gold] [--rounds 5] [--json reports/agreement.json]

Every round's blind second readings are pooled (``--rounds 4``: the four rounds before round 5).

``make eval`` prints these figures beside the models' scores: a model cannot be judged more precisely than two
careful readers agree."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from nlp_service.taxonomy import load_taxonomy
from training.gold.labels import GOLD_DIR, GOLD_ROUNDS, GoldLabel, load_annotations


def _f1(a: np.ndarray, b: np.ndarray) -> float | None:
    both, total = int((a & b).sum()), int(a.sum() + b.sum())
    return round(2 * both / total, 4) if total else None


def cohen_kappa(a: np.ndarray, b: np.ndarray) -> float | None:
    """Cohen's kappa of two boolean readings; None where chance agreement is total (both constant and equal)."""
    po = float((a == b).mean())
    pe = float(a.mean() * b.mean() + (1 - a.mean()) * (1 - b.mean()))
    return None if pe >= 1.0 else round((po - pe) / (1 - pe), 4)


def agreement(first: dict[str, GoldLabel], second: dict[str, GoldLabel]) -> dict:
    """Figures over the articles both passes labelled."""
    keys = sorted(set(first) & set(second))
    themes = load_taxonomy().theme_names
    a = np.array([[t in first[k].themes for t in themes] for k in keys], dtype=bool).reshape(len(keys), -1)
    b = np.array([[t in second[k].themes for t in themes] for k in keys], dtype=bool).reshape(len(keys), -1)
    per_theme = {}
    for j, t in enumerate(themes):
        per_theme[t] = {
            "f1": _f1(a[:, j], b[:, j]),
            "kappa": cohen_kappa(a[:, j], b[:, j]) if len(keys) else None,
            "first": int(a[:, j].sum()),
            "second": int(b[:, j].sum()),
        }
    f1s = [v["f1"] for v in per_theme.values() if v["f1"] is not None]
    pairs_a = {(k, c) for k in keys for c in first[k].countries}
    pairs_b = {(k, c) for k in keys for c in second[k].countries}
    country_f1 = 2 * len(pairs_a & pairs_b) / (len(pairs_a) + len(pairs_b)) if pairs_a or pairs_b else None
    return {
        "articles": len(keys),
        "theme_micro_f1": _f1(a, b),
        "theme_macro_f1": round(float(np.mean(f1s)), 4) if f1s else None,
        "exact_theme_sets": round(float(np.mean([first[k].themes == second[k].themes for k in keys])), 4)
        if keys
        else None,
        "per_theme": per_theme,
        "country_micro_f1": None if country_f1 is None else round(country_f1, 4),
        "primary_country_agreement": round(
            float(np.mean([first[k].primary_country == second[k].primary_country for k in keys])), 4
        )
        if keys
        else None,
    }


def gold_agreement(folder: str | Path = GOLD_DIR, rounds: int = GOLD_ROUNDS) -> dict:
    ann = load_annotations(folder, rounds=rounds)
    out = agreement(ann.first, ann.second)
    out["adjudicated_articles"] = len(ann.adjudicated)
    out["annotated_articles"] = len(ann.first)
    return out


def format_table(rep: dict) -> str:
    lines = [
        f"Two blind passes over {rep['articles']} articles: theme micro-F1 {rep['theme_micro_f1']}, macro-F1 "
        f"{rep['theme_macro_f1']}, identical theme sets {rep['exact_theme_sets']}; countries micro-F1 "
        f"{rep['country_micro_f1']}, primary country {rep['primary_country_agreement']}.",
        "",
        "| theme | F1 | kappa | pass 1 | pass 2 |",
        "|---|---|---|---|---|",
    ]
    for t, v in rep["per_theme"].items():
        lines.append(f"| {t} | {v['f1']} | {v['kappa']} | {v['first']} | {v['second']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--folder", type=Path, default=GOLD_DIR)
    p.add_argument("--rounds", type=int, choices=(4, 5), default=GOLD_ROUNDS,
                   help="4: the gold set before round 5 (the shipped model card's)")
    p.add_argument("--json", type=Path, default=None)
    a = p.parse_args(argv)
    rep = gold_agreement(a.folder, a.rounds)
    print(format_table(rep))
    if a.json:
        a.json.parent.mkdir(parents=True, exist_ok=True)
        a.json.write_text(json.dumps(rep, indent=2) + "\n")


if __name__ == "__main__":
    main()
