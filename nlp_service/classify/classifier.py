"""The topic classifier at inference: which runtime serves the checkpoint's encoder, the features the decision
rules read (model logits, lexical expert, gazetteer, theme descriptions), and the records. The model is
``classify.model``, the checkpoint folder ``classify.checkpoint``; everything between the model's outputs and the
reported labels (chunk pooling, scaling, thresholds, cue words, countries, the ``top_k`` cut) is the decision layer
(``nlp_service.classify.decision``)."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import torch
from torch import nn

from nlp_service.classify.checkpoint import ClassifierConfig, check_complete, load_decision
from nlp_service.classify.chunking import ChunkOutputs, chunk_token_ids
from nlp_service.classify.decision import (
    DEFAULT_TOP_K,
    EMBEDDING_POOLING,
    DecisionInputs,
    DecisionPipeline,
    DecisionState,
    cut_top_k,
    pool_chunks,
)
from nlp_service.classify.descriptions import centred_similarity, prototype_text
from nlp_service.classify.explain import Explainer
from nlp_service.classify.lexical import LexicalModel
from nlp_service.classify.model import TopicModel, load_topic_model, serving_model
from nlp_service.classify.onnx_heads import OnnxTopicModel, onnx_topic_model
from nlp_service.classify.tags import country_tags, region_tags, theme_tags
from nlp_service.places import CountryMention, load_gazetteer
from nlp_service.records import Classification
from nlp_service.runtime.onnx_model import RuntimeOptions, onnx_available
from nlp_service.runtime.tokenizer import EncoderTokenizer
from nlp_service.runtime.weights import resolve_base_model
from nlp_service.taxonomy import load_taxonomy
from nlp_service.text.language import name as language_name
from nlp_service.text.language import text_language


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
        self._theme_labels = [(t.name, t.code) for t in self._themes]
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
        check_complete(folder)
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
        theme = pool_chunks(chunks.theme, chunks.owner, len(texts), how)
        region = pool_chunks(chunks.region, chunks.owner, len(texts), how)
        embedding = pool_chunks(chunks.embedding, chunks.owner, len(texts), EMBEDDING_POOLING)
        return theme, region, embedding

    def theme_prototypes(self) -> np.ndarray:
        """(themes × hidden) pooled embeddings of the themes' descriptions, computed once per model."""
        if self._prototypes is None:
            protos = self.chunk_outputs([prototype_text(t) for t in self._themes])
            self._prototypes = pool_chunks(protos.embedding, protos.owner, len(self._themes), EMBEDDING_POOLING)
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
        top_k: int | None = DEFAULT_TOP_K,
        explain: bool = False,
    ) -> list[Classification]:
        """Records for ``texts``; ``explain`` adds each reported theme's evidence (sentence and terms)."""
        return self.classify_with_state(texts, thresholds, top_k, explain)[0] if texts else []

    def classify_with_state(
        self,
        texts: list[str],
        thresholds: dict[str, float] | None = None,
        top_k: int | None = DEFAULT_TOP_K,
        explain: bool = False,
    ) -> tuple[list[Classification], DecisionState]:
        """``classify`` and the decision state the records came from (own-label heads read its embedding)."""
        state = self.decisions(texts, thresholds)
        out = []
        for i in range(len(texts)):
            skipped = self.themes_skipped(state.inputs.languages[i])
            on = [] if skipped else [j for j in range(len(self._themes)) if state.theme_on[i, j]]
            evidence = self.explainer().evidence(texts[i], on) if explain else {}
            themes = theme_tags(self._theme_labels, state.theme_p[i], on, evidence)
            regions = region_tags(self._regions, state.region_p[i], state.region_on[i])
            countries = country_tags(self.taxonomy, state.countries[i], state.inputs.mentions[i])
            out.append(Classification(countries=cut_top_k(countries, top_k), regions=cut_top_k(regions, top_k),
                                      themes=cut_top_k(themes, top_k), warnings=[skipped] if skipped else []))
        return out, state
