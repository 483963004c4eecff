"""The topic classifier: a MiniLM encoder with LoRA adapters and two multi-label heads (IPTC themes, UN M49
sub-regions), chunking of long articles, and checkpoint I/O. Everything between the model's outputs and the
reported labels (scaling, thresholds, cue words, countries) is the decision pipeline
(``nlp_service.classify.decision``).

A checkpoint folder holds: config.json (ClassifierConfig), adapter/ (peft LoRA adapter), heads.safetensors,
calibration.json (the decision pipeline: each rule's settings and fitted values), lexical expert, metrics.json,
README.md.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn

from nlp_service.classify.decision import DecisionInputs, DecisionPipeline, DecisionState
from nlp_service.classify.descriptions import centred_similarity, prototype_text
from nlp_service.classify.explain import Explainer
from nlp_service.classify.lexical import LexicalModel
from nlp_service.classify.onnx_heads import OnnxTopicModel, onnx_topic_model
from nlp_service.places import CountryMention, load_gazetteer
from nlp_service.records import Classification, CountryTag, MentionEvidence, RegionTag, ThemeTag
from nlp_service.runtime.encoder import CHARS_PER_TOKEN, mean_pool
from nlp_service.runtime.onnx_model import RuntimeOptions, onnx_available
from nlp_service.runtime.tokenizer import EncoderTokenizer
from nlp_service.runtime.weights import quantize_int8, resolve_base_model
from nlp_service.taxonomy import load_taxonomy
from nlp_service.text.language import name as language_name
from nlp_service.text.language import text_language

CONFIG_NAME = "config.json"
HEADS_NAME = "heads.safetensors"
CALIBRATION_NAME = "calibration.json"
ADAPTER_DIR = "adapter"


# Attention and feed-forward projections LoRA adapts, by architecture (MPNet names its attention q/k/v/o).
LORA_TARGETS = {"bert": ["query", "key", "value", "dense"], "mpnet": ["q", "k", "v", "o", "dense"]}


def lora_targets(base_model: str) -> list[str]:
    """LoRA target modules for a base model name or folder, from its architecture."""
    from transformers import AutoConfig

    model_type = AutoConfig.from_pretrained(resolve_base_model(base_model)).model_type
    if model_type not in LORA_TARGETS:
        raise ValueError(f"no LoRA target modules known for {model_type!r} models; known: {sorted(LORA_TARGETS)}")
    return LORA_TARGETS[model_type]


class CheckpointError(ValueError):
    """A checkpoint folder that cannot be used; the message names the file and what is wrong."""


@dataclass
class ClassifierConfig:
    base_model: str = "all-MiniLM-L6-v2"
    themes: list[str] = field(default_factory=lambda: load_taxonomy().theme_names)
    regions: list[str] = field(default_factory=lambda: load_taxonomy().region_names)
    max_length: int = 256  # tokens per chunk (MiniLM was trained at ≤ 256)
    max_chunks: int = 4  # long articles: this many chunks are read and their logits averaged
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.1
    target_modules: list[str] = field(default_factory=lambda: list(LORA_TARGETS["bert"]))
    # Adapt only the top layers: gradients then stop there, which makes a CPU training step ~2x cheaper.
    lora_layers: list[int] | None = field(default_factory=lambda: [3, 4, 5])
    dropout: float = 0.1
    version: str = "untrained"
    # "int8": dynamic int8 quantisation of the Linear layers at load (CPU; ~1.4x faster, decisions recalibrated).
    quantize: str | None = None
    # Which themes had gold labels, weak (cue-word) labels, or none in training: reported to users per theme.
    theme_supervision: dict[str, str] = field(default_factory=dict)
    # How a long article's chunk logits are pooled: "first", "mean" (first chunk counted twice) or "max".
    chunk_aggregation: str = "mean"
    # Languages the theme heads were trained and measured in (ISO 639-1): a text confidently in another gets no
    # themes and a warning; countries and regions are still reported (docs/classifier.md, "Languages").
    theme_languages: list[str] = field(default_factory=lambda: ["en"])

    def save(self, folder: Path) -> None:
        (folder / CONFIG_NAME).write_text(json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls, folder: Path) -> ClassifierConfig:
        path = folder / CONFIG_NAME
        try:
            raw = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise CheckpointError(f"{path}: cannot read classifier config ({exc})") from exc
        known = set(cls.__dataclass_fields__)
        unknown = set(raw) - known - {"kind"}
        if unknown:
            raise CheckpointError(f"{path}: unknown config keys {sorted(unknown)}")
        raw.pop("kind", None)
        cfg = cls(**raw)
        if cfg.quantize not in (None, "int8"):
            raise CheckpointError(f"{path}: quantize must be null or \"int8\", not {cfg.quantize!r}")
        tax = load_taxonomy()
        bad = [t for t in cfg.themes if t not in tax.theme_names] + [
            r for r in cfg.regions if r not in tax.region_names
        ]
        if bad:
            raise CheckpointError(f"{path}: labels unknown to the taxonomy: {bad}")
        return cfg


class TopicModel(nn.Module):
    """Encoder + mean pooling + one linear head per label set. Returns logits (and a masked BCE loss)."""

    def __init__(self, encoder: nn.Module, hidden: int, n_themes: int, n_regions: int, dropout: float = 0.1):
        super().__init__()
        self.encoder = encoder
        self.dropout = nn.Dropout(dropout)
        self.theme_head = nn.Linear(hidden, n_themes)
        self.region_head = nn.Linear(hidden, n_regions)

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        theme_labels: torch.Tensor | None = None,
        theme_mask: torch.Tensor | None = None,
        region_labels: torch.Tensor | None = None,
        region_mask: torch.Tensor | None = None,
        theme_weights: torch.Tensor | None = None,
    ) -> dict[str, torch.Tensor]:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        pooled = mean_pool(hidden, attention_mask)
        dropped = self.dropout(pooled)
        out = {
            "theme_logits": self.theme_head(dropped),
            "region_logits": self.region_head(dropped),
            "pooled": pooled,  # what the heads read; the theme-description similarity reuses it
        }
        if theme_labels is not None:
            out["loss"] = masked_bce(
                out["theme_logits"], theme_labels, theme_mask, theme_weights
            ) + masked_bce(out["region_logits"], region_labels, region_mask)
        return out

    def heads_state(self) -> dict[str, torch.Tensor]:
        return {f"theme_head.{k}": v for k, v in self.theme_head.state_dict().items()} | {
            f"region_head.{k}": v for k, v in self.region_head.state_dict().items()
        }


def masked_bce(
    logits: torch.Tensor, labels: torch.Tensor, mask: torch.Tensor, weights: torch.Tensor | None = None
) -> torch.Tensor:
    """Binary cross-entropy over known labels only: an unknown label (mask 0) adds nothing to the loss."""
    loss = nn.functional.binary_cross_entropy_with_logits(logits, labels, reduction="none")
    w = mask if weights is None else mask * weights
    return (loss * w).sum() / w.sum().clamp(min=1.0)


def build_model(
    cfg: ClassifierConfig, adapter_dir: Path | None = None, trainable: bool = False
) -> TopicModel:
    """Base encoder from the installed package + LoRA (new, or loaded from ``adapter_dir``)."""
    from peft import LoraConfig, PeftModel, get_peft_model
    from transformers import AutoModel

    base = AutoModel.from_pretrained(resolve_base_model(cfg.base_model))
    if adapter_dir is not None:
        encoder = PeftModel.from_pretrained(base, adapter_dir, is_trainable=trainable)
    else:
        lora = LoraConfig(
            r=cfg.lora_r,
            lora_alpha=cfg.lora_alpha,
            lora_dropout=cfg.lora_dropout,
            target_modules=cfg.target_modules,
            layers_to_transform=cfg.lora_layers,
        )
        encoder = get_peft_model(base, lora)
    return TopicModel(encoder, base.config.hidden_size, len(cfg.themes), len(cfg.regions), cfg.dropout)


def serving_model(model: TopicModel, quantize: str | None) -> TopicModel:
    """The model as inference runs it: LoRA merged into the base weights (one plain BERT forward), then with
    ``quantize="int8"`` dynamic int8 Linear layers. Training calibrates exactly this."""
    model.encoder = model.encoder.merge_and_unload()
    return quantize_int8(model) if quantize == "int8" else model


def load_topic_model(folder: Path, cfg: ClassifierConfig) -> TopicModel:
    """The checkpoint's torch model (base encoder + LoRA adapter + heads), LoRA not yet merged."""
    model = build_model(cfg, folder / ADAPTER_DIR)
    missing = model.load_state_dict(load_file(folder / HEADS_NAME), strict=False)
    if any(k.startswith(("theme_head", "region_head")) for k in missing.missing_keys):
        raise CheckpointError(f"{folder / HEADS_NAME}: head weights missing or mis-shaped")
    return model.eval()


def serving_encoder(
    folder: Path, cfg: ClassifierConfig, precision: str | None, runtime: RuntimeOptions
) -> TopicModel | OnnxTopicModel:
    """The encoder inference runs at ``precision``: this checkpoint's ONNX Runtime graph where that runtime
    serves, else the torch model (LoRA merged, int8 if asked). Loading and recalibration both choose here."""
    if runtime.backend == "onnx" and onnx_available():
        graph = onnx_topic_model(
            folder, cfg.base_model, precision, lambda: load_topic_model(folder, cfg), runtime.threads
        )
        if graph is not None:
            return graph
    return serving_model(load_topic_model(folder, cfg), precision)


def load_decision(folder: Path, cfg: ClassifierConfig) -> DecisionPipeline:
    """The checkpoint's decision pipeline (``calibration.json``); a file written before the pipeline existed is
    read into the same rules, and its chunk pooling moves to the config."""
    path = folder / CALIBRATION_NAME
    if not path.is_file():
        raise CheckpointError(f"{path} is missing: the checkpoint has no calibration/thresholds")
    try:
        raw = json.loads(path.read_text())
        pipeline = DecisionPipeline.from_dict(raw)
        pipeline.check_shapes(len(cfg.themes), len(cfg.regions))
    except (ValueError, TypeError, AttributeError) as exc:
        raise CheckpointError(f"{path}: {exc}") from exc
    if "chunk_aggregation" in raw:  # pre-pipeline files kept the pooling beside the scalers
        cfg.chunk_aggregation = raw["chunk_aggregation"]
    return pipeline


@dataclass
class ChunkOutputs:
    theme: np.ndarray  # (chunks, themes) logits
    region: np.ndarray  # (chunks, regions) logits
    embedding: np.ndarray  # (chunks, hidden) the pooled vector the heads read
    owner: np.ndarray  # (chunks,) index of the text each chunk belongs to


def chunk_token_ids(
    tokenizer: EncoderTokenizer, texts: list[str], max_length: int, max_chunks: int
) -> tuple[list[list[int]], list[int]]:
    """Split each text into ≤ max_chunks windows of max_length tokens (with [CLS]/[SEP]); returns the chunks and
    the index of the text each belongs to. The first chunk starts with the title and lede, where news puts the
    point of the story."""
    body = max_length - 2
    # Cut the text before tokenising (see CHARS_PER_TOKEN).
    limit = body * max_chunks * CHARS_PER_TOKEN
    enc = tokenizer.ids([t[:limit] for t in texts], body * max_chunks)
    chunks, owner = [], []
    for i, ids in enumerate(enc):
        pieces = [ids[s : s + body] for s in range(0, max(len(ids), 1), body)][:max_chunks]
        # A short tail chunk carries little signal and costs a full forward pass: fold it away.
        if len(pieces) > 1 and len(pieces[-1]) < body // 4:
            pieces = pieces[:-1]
        for p in pieces:
            chunks.append(tokenizer.wrap(p))
            owner.append(i)
    return chunks, owner


class TopicClassifier:
    """Inference over a trained checkpoint folder. ``classify(texts)`` → list[Classification]."""

    def __init__(
        self,
        cfg: ClassifierConfig,
        model: TopicModel | OnnxTopicModel,
        tokenizer: EncoderTokenizer,
        decision: DecisionPipeline,
        lexical: LexicalModel | None = None,
    ):
        self.cfg = cfg
        self.lexical = lexical
        self.model = model.eval() if isinstance(model, nn.Module) else model
        self.tokenizer = tokenizer
        self.decision = decision
        self.taxonomy = load_taxonomy()
        self.gazetteer = load_gazetteer()
        self.version = cfg.version
        self._lock = threading.Lock()
        self._themes = [self.taxonomy.theme(t) for t in cfg.themes]
        self._regions = [self.taxonomy.region(r) for r in cfg.regions]
        self._region_index = {r: i for i, r in enumerate(cfg.regions)}
        self._prototypes: np.ndarray | None = None
        self._explainer: Explainer | None = None

    @classmethod
    def load(
        cls, folder: str | Path, quantize: bool = True, runtime: RuntimeOptions | None = None
    ) -> TopicClassifier:
        """``quantize=False`` keeps fp32 weights even where the config asks for int8 (recalibration).
        ``runtime`` (default: ``NLP_SERVICE_RUNTIME``, else ONNX Runtime) picks who runs the encoder; the torch
        model serves when ONNX Runtime cannot (docs/performance.md)."""
        folder = Path(folder)
        cfg = ClassifierConfig.load(folder)
        for needed in (HEADS_NAME, f"{ADAPTER_DIR}/adapter_config.json"):
            if not (folder / needed).is_file():
                raise CheckpointError(f"{folder / needed} is missing: not a complete classifier checkpoint")
        precision = cfg.quantize if quantize else None
        runtime = runtime or RuntimeOptions.from_env()
        decision = load_decision(folder, cfg)
        tokenizer = EncoderTokenizer.from_folder(resolve_base_model(cfg.base_model))
        model = serving_encoder(folder, cfg, precision, runtime)
        return cls(cfg, model, tokenizer, decision, LexicalModel.load(folder))

    # -- model outputs -------------------------------------------------------------------------------------------
    @property
    def runtime(self) -> str:
        """"onnx" or "torch": who runs the encoder."""
        return "onnx" if isinstance(self.model, OnnxTopicModel) else "torch"

    @property
    def hidden_size(self) -> int:
        return self.model.hidden_size if isinstance(self.model, OnnxTopicModel) else self.model.theme_head.in_features

    @property
    def batch_invariant(self) -> bool:
        """Whether a batched forward gives each row what it would get alone. Dynamic int8 (ONNX Runtime's and
        torch's) quantises activations with one scale per call, taken over every row and its padding: an
        article's scores moved by up to 0.05 with its batch mates (docs/classifier.md). Those encoders run one
        chunk per call instead, which also drops padding and costs about as much as it saves."""
        if isinstance(self.model, OnnxTopicModel):
            return not self.model.dynamic_int8
        return not any(isinstance(m, torch.ao.nn.quantized.dynamic.Linear) for m in self.model.modules())

    def _forward(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> dict:
        if isinstance(self.model, OnnxTopicModel):
            return self.model(input_ids, attention_mask)
        return self.model(torch.from_numpy(input_ids), torch.from_numpy(attention_mask))

    @torch.inference_mode()
    def chunk_outputs(self, texts: list[str], batch_size: int = 32) -> ChunkOutputs:
        """Theme and region logits and the pooled embedding of every chunk, and the text each belongs to. A chunk's
        outputs never depend on the other texts (``batch_invariant``)."""
        chunks, owner = chunk_token_ids(self.tokenizer, texts, self.cfg.max_length, self.cfg.max_chunks)
        if not self.batch_invariant:
            batch_size = 1
        order = np.argsort([len(c) for c in chunks])  # similar lengths together: less padding
        theme_chunk = np.zeros((len(chunks), len(self.cfg.themes)), dtype=np.float32)
        region_chunk = np.zeros((len(chunks), len(self.cfg.regions)), dtype=np.float32)
        pooled = np.zeros((len(chunks), self.hidden_size), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            input_ids, attention_mask = self.tokenizer.pad([chunks[i] for i in idx])
            with self._lock:
                out = self._forward(input_ids, attention_mask)
            theme_chunk[idx] = np.asarray(out["theme_logits"], dtype=np.float32)
            region_chunk[idx] = np.asarray(out["region_logits"], dtype=np.float32)
            pooled[idx] = np.asarray(out["pooled"], dtype=np.float32)
        return ChunkOutputs(theme_chunk, region_chunk, pooled, np.array(owner))

    def text_outputs(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per text: the transformer's theme and region logits and the pooled embedding, chunks pooled."""
        chunks = self.chunk_outputs(texts)
        how = self.cfg.chunk_aggregation
        theme = aggregate_chunks(chunks.theme, chunks.owner, len(texts), how)
        region = aggregate_chunks(chunks.region, chunks.owner, len(texts), how)
        embedding = aggregate_chunks(chunks.embedding, chunks.owner, len(texts), "mean")
        return theme, region, embedding

    def theme_prototypes(self) -> np.ndarray:
        """(themes × hidden) pooled embeddings of the themes' descriptions, computed once per model."""
        if self._prototypes is None:
            protos = self.chunk_outputs([prototype_text(t) for t in self._themes])
            self._prototypes = aggregate_chunks(protos.embedding, protos.owner, len(self._themes), "mean")
        return self._prototypes

    def description_similarity(self, embedding: np.ndarray) -> np.ndarray:
        """(texts × themes) centred cosine of each text's embedding to each theme's description."""
        return centred_similarity(embedding, self.theme_prototypes())

    def gazetteer_features(
        self, texts: list[str], languages: list[str | None] | None = None
    ) -> tuple[list[list[CountryMention]], np.ndarray]:
        mentions = self.gazetteer.find_many(texts, languages)  # one NER batch for all texts
        feats = np.zeros((len(texts), len(self.cfg.regions)), dtype=np.float32)
        for i, m in enumerate(mentions):
            for name, score in self.gazetteer.region_scores(m).items():
                if name in self._region_index:
                    feats[i, self._region_index[name]] = score
        return mentions, feats

    def explainer(self) -> Explainer:
        """Theme evidence from this classifier's lexical expert (built once; its term list is costly)."""
        if self._explainer is None or self._explainer.lexical is not self.lexical:
            self._explainer = Explainer(self.lexical, self.cfg.themes)
        return self._explainer

    def decision_inputs(self, texts: list[str]) -> DecisionInputs:
        """Everything the decision rules read: model logits, the lexical expert, gazetteer mentions, and the
        description similarity (computed only if a rule asks)."""
        theme, region, embedding = self.text_outputs(texts)
        languages = [text_language(t) for t in texts]
        mentions, gaz = self.gazetteer_features(texts, languages)
        lex_theme, lex_region = self.lexical.logits(texts) if self.lexical is not None else (None, None)
        return DecisionInputs(
            texts, list(self.cfg.themes), list(self.cfg.regions), theme, region, mentions, gaz, lex_theme,
            lex_region, similarity_fn=lambda: self.description_similarity(embedding), embedding=embedding,
            languages=languages,
        )

    def themes_skipped(self, language: str | None) -> str | None:
        """The warning for a text whose themes are not reported, or None: themes are reported only in the
        languages the heads were trained and measured in (``theme_languages``)."""
        if language is None or language in self.cfg.theme_languages:
            return None
        return f"themes skipped: {language_name(language)} ({language}) is not supported"

    def decisions(self, texts: list[str], thresholds: dict[str, float] | None = None) -> DecisionState:
        """Scores and reported labels of every text, through the checkpoint's decision pipeline."""
        return self.decision.apply(self.decision_inputs(texts), thresholds)

    # -- records -------------------------------------------------------------------------------------------------
    def classify(
        self,
        texts: list[str],
        thresholds: dict[str, float] | None = None,
        top_k: int | None = None,
        explain: bool = False,
    ) -> list[Classification]:
        """Records for ``texts``; ``explain`` adds each reported theme's evidence (sentence and terms)."""
        return self.classify_with_state(texts, thresholds, top_k, explain)[0] if texts else []

    def classify_with_state(
        self,
        texts: list[str],
        thresholds: dict[str, float] | None = None,
        top_k: int | None = None,
        explain: bool = False,
    ) -> tuple[list[Classification], DecisionState]:
        """``classify`` and the decision state the records came from (own-label heads read its embedding)."""
        state = self.decisions(texts, thresholds)
        theme_p, region_p = state.theme_p, state.region_p
        out = []
        for i in range(len(texts)):
            skipped = self.themes_skipped(state.inputs.languages[i])
            on = [] if skipped else [j for j in range(len(self._themes)) if state.theme_on[i, j]]
            evidence = self.explainer().evidence(texts[i], on) if explain else {}
            themes = sorted(
                (ThemeTag(self._themes[j].name, self._themes[j].code, round(float(theme_p[i, j]), 4),
                          evidence.get(j)) for j in on),
                key=lambda x: -x.score,
            )
            regions = sorted(
                (
                    RegionTag(r.name, r.continent, r.m49, round(float(region_p[i, j]), 4))
                    for j, r in enumerate(self._regions)
                    if state.region_on[i, j]
                ),
                key=lambda x: -x.score,
            )
            spans = {m.code: m.evidence for m in state.inputs.mentions[i]}
            tags = [
                CountryTag(code, self.taxonomy.country(code).name, round(score, 4),
                           [MentionEvidence(s.surface, s.kind, s.start, s.end) for s in spans.get(code, ())])
                for code, score in state.countries[i]
            ]
            if top_k:
                themes, regions, tags = themes[:top_k], regions[:top_k], tags[:top_k]
            out.append(Classification(countries=tags, regions=regions, themes=themes,
                                      warnings=[skipped] if skipped else []))
        return out, state


def save_checkpoint(
    folder: Path,
    cfg: ClassifierConfig,
    model: TopicModel,
    decision: DecisionPipeline,
    lexical: LexicalModel | None = None,
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    cfg.save(folder)
    model.encoder.save_pretrained(folder / ADAPTER_DIR)
    save_file({k: v.contiguous() for k, v in model.heads_state().items()}, folder / HEADS_NAME)
    decision.save(folder / CALIBRATION_NAME)
    if lexical is not None:
        lexical.save(folder)


def aggregate_chunks(
    chunk_values: np.ndarray, owner: np.ndarray, n: int, how: str, limit: int | None = None
) -> np.ndarray:
    """Per-text logits from its chunks' logits: "first" chunk only, "mean" (first chunk, with title and lede,
    counted twice) or "max"; ``limit`` uses only each text's first chunks."""
    out = np.zeros((n, chunk_values.shape[1]), dtype=np.float32)
    for i in range(n):
        rows = chunk_values[owner == i][:limit]
        if how == "first":
            out[i] = rows[0]
        elif how == "max":
            out[i] = rows.max(0)
        else:
            out[i] = (rows.sum(0) + rows[0]) / (len(rows) + 1)
    return out
