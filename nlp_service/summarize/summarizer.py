"""The summariser component: ``Summarizer.load(folder).summarize(texts, max_words, method)``.

Methods: "extractive" (salient sentences, faithful by construction), "abstractive" (LoRA SmolLM2, every output
passed through the faithfulness guard: kept, repaired, or replaced by the extractive summary) and "lead" (the
first sentences). ``method=None`` is the checkpoint's measured default. Every summary's ``faithful`` is the
consistency checker's verdict (``verify.Verifier``: ``checkpoints/faithfulness/`` beside the summariser folder,
else the name-and-number rule alone); the guard (``guard.GuardPolicy``) uses the same checker.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from nlp_service.records import Summary
from nlp_service.summarize.abstractive import AbstractiveSummarizer
from nlp_service.summarize.config import CONFIG_NAME, METHODS, SummarizerConfig
from nlp_service.summarize.extractive import Encoder, ExtractiveSummarizer, lead
from nlp_service.summarize.guard import GuardPolicy, quote
from nlp_service.summarize.verify import Verifier

FAITHFULNESS_DIR = "faithfulness"  # the checker's checkpoint, beside the summariser folder


class Summarizer:
    """The summariser of one checkpoint: its config, the extractive summariser, the abstractive model (loaded on
    first use), the consistency checker and the guard policy."""

    def __init__(
        self,
        config: SummarizerConfig | None = None,
        folder: str | Path | None = None,
        encoder: Encoder | None = None,
        abstractive: Any = None,
        verifier: Verifier | None = None,
        abstractive_dtype: str | None = None,
        guard: GuardPolicy | None = None,
    ):
        self.config = config or SummarizerConfig()
        self.abstractive_dtype = abstractive_dtype  # None: the abstractive config's own ("auto")
        self.folder = Path(folder) if folder is not None else None
        self.extractive = ExtractiveSummarizer(encoder, self.config.extractive)
        self._abstractive = abstractive  # an object with .generate(texts, max_words) -> list[str]
        self._abstractive_error: str | None = None
        self._lock = threading.Lock()
        # None: summaries are not checked (copied text is marked faithful); the guard then uses the rule alone
        self.verifier: Verifier | None = verifier if verifier is not None else Verifier.rule_only()
        self.guard = guard or GuardPolicy()

    @classmethod
    def load(cls, path: str | Path, eager: bool = True, abstractive_dtype: str | None = None) -> Summarizer:
        """``path`` is the summariser folder (with config.json) or a checkpoint root with ``summarizer/``.
        ``eager`` loads the models the default method needs now (so ``Analyzer.warm_up`` really warms up).
        ``abstractive_dtype`` overrides the abstractive model's serving dtype ("auto", "float32", "float16" or
        "bfloat16": ``abstractive_model.SERVING_DTYPES``)."""
        folder = Path(path)
        if not (folder / CONFIG_NAME).is_file() and (folder / "summarizer" / CONFIG_NAME).is_file():
            folder = folder / "summarizer"
        checker = folder.parent / FAITHFULNESS_DIR
        verifier = Verifier.load(checker) if (checker / CONFIG_NAME).is_file() else None
        summarizer = cls(SummarizerConfig.read(folder), folder, verifier=verifier,
                         abstractive_dtype=abstractive_dtype)
        if eager:
            summarizer.extractive.encoder  # noqa: B018 - property access loads the shared encoder
            if summarizer.config.default_method == "abstractive":
                summarizer.abstractive()
        return summarizer

    @property
    def version(self) -> str:
        return self.config.version

    # -- methods ---------------------------------------------------------------------------------------------
    def summarize(
        self, texts: list[str], max_words: int | None = None, method: str | None = None
    ) -> list[Summary]:
        """One Summary per text, in order."""
        method = method or self.config.default_method
        if method not in METHODS:
            raise ValueError(f"unknown summary method {method!r}; use one of {list(METHODS)}")
        max_words = max(1, int(max_words or self.config.max_words))
        out: list[Summary | None] = [None] * len(texts)
        todo = []
        for i, text in enumerate(texts):
            if not text or not text.strip():
                out[i] = Summary("", "none", True, ["empty text: nothing to summarise"])
            else:
                todo.append(i)
        batch = [texts[i] for i in todo]
        if method in ("lead", "extractive"):
            texts_out = ([lead(t, k=2, max_words=max_words) for t in batch] if method == "lead"
                         else self.extractive.summarize(batch, max_words))
            done = self._checked(batch, texts_out)
        else:
            done = self._abstractive_summaries(batch, max_words)
        for i, summary in zip(todo, done, strict=True):
            out[i] = summary
        return [s for s in out if s is not None]

    def _checked(self, texts: list[str], summaries: list[str]) -> list[Summary]:
        """Extractive / lead summaries with the checker's verdict (copied text passes without the model)."""
        if self.verifier is None:
            return [Summary(s, "extractive", True) for s in summaries]
        out = []
        for s, v in zip(summaries, self.verifier.verify_many(texts, summaries), strict=True):
            spans = [u.span for u in v.unsupported]
            failed = f"summary failed the consistency check: {quote(spans, self.guard.quoted_spans)}"
            note = [] if v.faithful else [failed]
            out.append(Summary(s, "extractive", v.faithful, note))
        return out

    def abstractive(self) -> Any | None:
        """The abstractive model, loaded on first use; None (the reason kept) when it cannot be loaded."""
        if self._abstractive is None and self._abstractive_error is None:
            with self._lock:
                if self._abstractive is None and self._abstractive_error is None:
                    self._abstractive, self._abstractive_error = self._load_abstractive()
        return self._abstractive

    @property
    def abstractive_error(self) -> str | None:
        """Why the abstractive model is unavailable (after a failed ``abstractive()``), else None."""
        return self._abstractive_error

    def _load_abstractive(self) -> tuple[Any, str | None]:
        if self.folder is None:
            return None, "no checkpoint folder"
        adapter = self.folder / self.config.abstractive_dir
        if not (adapter / CONFIG_NAME).is_file():
            return None, f"no abstractive model in {adapter}"
        try:
            return AbstractiveSummarizer.load(adapter, dtype=self.abstractive_dtype), None
        except Exception as exc:  # noqa: BLE001 - any load failure degrades to extractive, with a warning
            return None, f"abstractive model could not be loaded ({type(exc).__name__}: {exc})"

    def _abstractive_summaries(self, texts: list[str], max_words: int) -> list[Summary]:
        model = self.abstractive()
        if model is None:
            note = f"abstractive summariser unavailable: {self._abstractive_error}; extractive summary given"
            summaries = self.extractive.summarize(texts, max_words)
            return [Summary(s, "extractive", True, [note]) for s in summaries]
        return self.guarded(texts, model.generate(texts, max_words), max_words)

    def guarded(self, texts: list[str], abstracts: list[str], max_words: int) -> list[Summary]:
        """Run the faithfulness guard over abstractive outputs: keep, repair, or replace by the extractive
        summary (``GuardPolicy``). The checker is the one behind ``faithful``."""
        return self.guard.apply(self.verifier or Verifier.rule_only(), texts, abstracts, max_words,
                                lambda batch: self._checked(batch, self.extractive.summarize(batch, max_words)))
