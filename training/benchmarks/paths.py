"""The paths `make bench` compares, each built by name (the fresh-process first-result run builds one alone).

A path is a function from a list of article texts to results. The plain Hugging Face baselines read the same
MiniLM encoder the project serves: ``pipeline("feature-extraction")`` as documented, and ``AutoModel`` in fp32
(batch 32, ``inference_mode``, padding to the longest in each batch), each truncated at the same token budget."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from nlp_service.summarize import DEFAULT_MAX_WORDS

Run = Callable[[list[str]], Any]


@dataclass(frozen=True)
class BenchSettings:
    checkpoint: Path = Path("checkpoints")
    threads: int = 2
    max_words: int = DEFAULT_MAX_WORDS  # summary length cap


@dataclass
class BuiltPath:
    run: Run
    kind: str  # "encoder" (no labels), "classify", "summary"
    component: Any = None  # the classifier or summary function the quality step reuses
    runtime: str = ""


# -- plain Hugging Face baselines -------------------------------------------------------------------------------
def plain_pipeline(max_length: int) -> BuiltPath:
    from transformers import pipeline

    from nlp_service.runtime.weights import minilm_path

    pipe = pipeline(
        "feature-extraction", model=str(minilm_path()), device="cpu",
        tokenize_kwargs={"truncation": True, "max_length": max_length},
    )
    return BuiltPath(lambda texts: pipe(texts), "encoder", runtime="torch fp32")


def plain_automodel(max_length: int, batch_size: int = 32) -> BuiltPath:
    import torch
    from transformers import AutoModel, AutoTokenizer

    from nlp_service.runtime.encoder import mean_pool
    from nlp_service.runtime.weights import minilm_path

    tokenizer = AutoTokenizer.from_pretrained(minilm_path())
    model = AutoModel.from_pretrained(minilm_path()).eval()

    @torch.inference_mode()
    def run(texts: list[str]) -> list:
        out = []
        for start in range(0, len(texts), batch_size):
            batch = tokenizer(texts[start : start + batch_size], padding=True, truncation=True,
                              max_length=max_length, return_tensors="pt")
            hidden = model(**batch).last_hidden_state
            out.append(mean_pool(hidden, batch["attention_mask"]))
        return out

    return BuiltPath(run, "encoder", runtime="torch fp32")


# -- the project's classifier -------------------------------------------------------------------------------------
def classifier(s: BenchSettings, runtime: str, quantize: bool, max_length: int | None = None,
               max_chunks: int | None = None) -> BuiltPath:
    from nlp_service.classify import TopicClassifier
    from nlp_service.runtime.onnx_model import RuntimeOptions

    clf = TopicClassifier.load(s.checkpoint / "classifier", quantize=quantize, runtime=RuntimeOptions(runtime))
    if max_length or max_chunks:
        clf = copy.copy(clf)  # the same loaded model, reading more of each article
        clf.cfg = replace(clf.cfg, max_length=max_length or clf.cfg.max_length,
                          max_chunks=max_chunks or clf.cfg.max_chunks)
    precision = clf.cfg.quantize if quantize else None
    return BuiltPath(clf.classify, "classify", clf, f"{clf.runtime} {precision or 'fp32'}")


def classifier_encoder(s: BenchSettings) -> BuiltPath:
    """The shipped classifier's encoder alone (tokenising, the int8 graph, chunk pooling), without the gazetteer,
    NER, lexical expert and decision rules: the ceiling the whole classify path stays under."""
    from nlp_service.classify import TopicClassifier
    from nlp_service.runtime.onnx_model import RuntimeOptions

    clf = TopicClassifier.load(s.checkpoint / "classifier", runtime=RuntimeOptions("onnx"))
    return BuiltPath(clf.text_outputs, "encoder", clf, f"{clf.runtime} {clf.cfg.quantize or 'fp32'}")


# -- summaries ----------------------------------------------------------------------------------------------------
def lead_1(s: BenchSettings) -> BuiltPath:
    from nlp_service.summarize.extractive import lead

    def run(texts: list[str]) -> list[str]:
        return [lead(t, k=1, max_words=s.max_words) for t in texts]

    return BuiltPath(run, "summary", run, "python")


def extractive(s: BenchSettings, runtime: str, quantize: bool) -> BuiltPath:
    from nlp_service.runtime.encoder import SentenceEncoder
    from nlp_service.runtime.onnx_model import RuntimeOptions
    from nlp_service.summarize.config import SummarizerConfig
    from nlp_service.summarize.extractive import ExtractiveSummarizer

    params = SummarizerConfig.read(s.checkpoint / "summarizer").extractive
    encoder = SentenceEncoder(quantize=quantize, runtime=RuntimeOptions(runtime))
    summarizer = ExtractiveSummarizer(encoder, replace(params, quantize=quantize))

    def run(texts: list[str]) -> list[str]:
        return summarizer.summarize(texts, s.max_words)

    return BuiltPath(run, "summary", run, f"{encoder.runtime} {'int8' if quantize else 'fp32'}")


def abstractive(s: BenchSettings, dtype: str | None = None) -> BuiltPath:
    from nlp_service.summarize import Summarizer

    summarizer = Summarizer.load(s.checkpoint / "summarizer", abstractive_dtype=dtype)
    if summarizer.abstractive() is None:
        raise RuntimeError(f"no abstractive model: {summarizer.abstractive_error}")

    def run(texts: list[str]) -> list[str]:
        return [r.summary for r in summarizer.summarize(texts, s.max_words, "abstractive")]

    model = summarizer.abstractive().model
    return BuiltPath(run, "summary", run, f"torch {str(model.dtype).removeprefix('torch.')} (guarded)")


def all_models(s: BenchSettings) -> BuiltPath:
    """Everything the service can load: the classifier, the extractive and the abstractive summariser."""
    from nlp_service import Analyzer

    analyzer = Analyzer.load(s.checkpoint)

    def load_the_rest(texts: list[str]) -> Any:
        """The abstractive model on top (loaded only now, so that the first result is the service's default
        analyze): what the process holds with every model loaded."""
        return abstractive(s).run(texts[:1])

    return BuiltPath(analyzer.analyze, "all", load_the_rest, "service defaults")


# name → (what it is, builder). The order is the report's.
PATHS: dict[str, tuple[str, Callable[[BenchSettings], BuiltPath]]] = {
    "hf-pipeline-96": ("plain transformers.pipeline('feature-extraction'), 96 tokens", lambda s: plain_pipeline(96)),
    "hf-pipeline-256": ("plain transformers.pipeline('feature-extraction'), 256 tokens", lambda s: plain_pipeline(256)),
    "hf-automodel-96": ("plain AutoModel fp32, batch 32, 96 tokens", lambda s: plain_automodel(96)),
    "hf-automodel-256": ("plain AutoModel fp32, batch 32, 256 tokens", lambda s: plain_automodel(256)),
    "classify": ("classify, shipped (96 tokens, default runtime, int8)", lambda s: classifier(s, "onnx", True)),
    "classify-encoder": ("classify's encoder alone (96 tokens, int8; no gazetteer, NER, lexical expert or rules)",
                         classifier_encoder),
    "classify-onnx-fp32": ("classify, 96 tokens, ONNX Runtime fp32 (full precision)",
                           lambda s: classifier(s, "onnx", False)),
    "classify-torch-int8": ("classify, 96 tokens, torch eager int8 (the previous serving path)",
                            lambda s: classifier(s, "torch", True)),
    "classify-256": ("classify, 256 tokens, ONNX Runtime int8", lambda s: classifier(s, "onnx", True, 256)),
    "classify-4x96": ("classify, 4 chunks of 96 tokens, ONNX Runtime int8",
                      lambda s: classifier(s, "onnx", True, None, 4)),
    "lead-1": ("summary, Lead-1", lead_1),
    "extractive": ("summary, extractive, shipped (ONNX Runtime int8 encoder)", lambda s: extractive(s, "onnx", True)),
    "extractive-onnx-fp32": ("summary, extractive, ONNX Runtime fp32 encoder (full precision)",
                             lambda s: extractive(s, "onnx", False)),
    "extractive-torch-int8": ("summary, extractive, torch eager int8 encoder (the previous serving path)",
                              lambda s: extractive(s, "torch", True)),
    "abstractive": ("summary, abstractive (SmolLM2 LoRA, guarded), ~600-word articles", abstractive),
    "abstractive-fp32": ("summary, abstractive, float32 (full precision), ~600-word articles",
                         lambda s: abstractive(s, "float32")),
    "all-models": ("service: first analyze (classify + extractive), then the abstractive model loaded too",
                   all_models),
}


def build(name: str, settings: BenchSettings) -> BuiltPath:
    return PATHS[name][1](settings)
