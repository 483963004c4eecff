"""The team's judgements of summaries (training/data/faithfulness/judged.jsonl), looked up by article and text.

Judgements are attached to the exact text a judge read (by its hash: copied text is not stored), never to a
method's name, so a method's judged share
counts only the outputs that were judged; a method that now writes other text is unjudged until judged again.
Where two judges read the same summary, each verdict counts half."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from training.gold.faith_data import FAITH_DIR, read_judged, text_sha1


class JudgedSummaries:
    def __init__(self, rows: list[dict]) -> None:
        self._by_item: dict[tuple[str, str], list[dict]] = defaultdict(list)
        for r in rows:
            self._by_item[(r["key"], r.get("summary_sha1") or text_sha1(r["summary"]))].append(r)

    @classmethod
    def load(cls, path: str | Path = FAITH_DIR / "judged.jsonl") -> JudgedSummaries | None:
        path = Path(path)
        return cls(read_judged(path)) if path.is_file() else None

    def keys(self) -> set[str]:
        """The articles with at least one judged summary."""
        return {key for key, _ in self._by_item}

    def verdicts(self, key: str, summary: str) -> list[dict]:
        return self._by_item.get((key, text_sha1(summary)), [])

    def shares(self, keys: list[str], summaries: list[str]) -> dict[str, float | int | None]:
        """``judged_n`` (how many of the outputs were judged) and, over those, the mean judged share of
        ``faithful``, ``fluent`` and ``covers``."""
        sums = {"faithful": 0.0, "fluent": 0.0, "covers": 0.0}
        n = 0
        for key, summary in zip(keys, summaries, strict=True):
            rows = self.verdicts(key, summary)
            if not rows:
                continue
            n += 1
            for name in sums:
                sums[name] += sum(float(r[name]) for r in rows) / len(rows)
        out: dict[str, float | int | None] = {"judged_n": n}
        out.update({f"judged_{k}": (v / n if n else None) for k, v in sums.items()})
        return out
