"""Writes the summary evaluation: reports/summary_eval.json and reports/summary_eval.md (a table per set)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

COLUMNS = (
    ("R-1", "rouge1", "{:.2f}"),
    ("R-2", "rouge2", "{:.2f}"),
    ("R-Lsum", "rougeLsum", "{:.2f}"),
    ("words", "words", "{:.1f}"),
    ("verify accepts", "faithful", "{:.1%}"),
    ("judged", "judged_n", "{:d}"),
    ("judged faithful", "judged_faithful", "{:.1%}"),
    ("fluent", "judged_fluent", "{:.1%}"),
    ("covers", "judged_covers", "{:.1%}"),
    ("novel bigrams", "novel_bigrams", "{:.1%}"),
    ("s/article", "seconds_per_article", "{:.4f}"),
)


def _cell(value: Any, fmt: str) -> str:
    return "–" if value is None else fmt.format(value)


def markdown(report: dict[str, Any]) -> str:
    """``report["sets"][name]["methods"][method]`` = aggregate dict; ``report["notes"]`` = lines."""
    lines = ["# Summary evaluation", ""]
    for set_name, block in report["sets"].items():
        lines += [f"## {set_name} (n = {block['n']})", "", f"Reference: {block.get('reference', '')}", ""]
        lines.append("| method | " + " | ".join(c[0] for c in COLUMNS) + " |")
        lines.append("|---|" + "---:|" * len(COLUMNS))
        for method, agg in block["methods"].items():
            lines.append(f"| {method} | " + " | ".join(_cell(agg.get(k), f) for _, k, f in COLUMNS) + " |")
        lines.append("")
    notes = report.get("notes") or []
    if notes:
        lines += ["## Notes", "", *(f"- {n}" for n in notes), ""]
    return "\n".join(lines)


def write(report: dict[str, Any], out_dir: str | Path, stem: str = "summary_eval") -> tuple[Path, Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out / f"{stem}.json", out / f"{stem}.md"
    json_path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    md_path.write_text(markdown(report), encoding="utf-8")
    return json_path, md_path
