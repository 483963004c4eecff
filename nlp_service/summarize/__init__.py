"""The summariser component: ``Summarizer.load(folder).summarize(texts, max_words, method)``.

Methods: "extractive" (salient sentences, faithful by construction), "abstractive" (LoRA SmolLM2, every output
passed through the faithfulness guard: kept, repaired, or replaced by the extractive summary) and "lead" (the
first sentences). ``method=None`` is the checkpoint's measured default. Every summary's ``faithful`` is the
consistency checker's verdict (``verify.Verifier``: ``checkpoints/faithfulness/`` beside the summariser folder,
else the name-and-number rule alone); the guard uses the same checker.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from nlp_service.records import Summary
from nlp_service.summarize.config import CONFIG_NAME, METHODS, SummarizerConfig
from nlp_service.summarize.extractive import Encoder, ExtractiveSummarizer, lead, trim_to_words
from nlp_service.summarize.verify.check import Verifier, split_text
from nlp_service.summarize.verify.rule import MIN_REPAIRED_WORDS, repair

FAITHFULNESS_DIR = "faithfulness"  # the checker's checkpoint, beside the summariser folder

__all__ = ["METHODS", "Summarizer", "SummarizerConfig", "ExtractiveSummarizer", "lead", "trim_to_words"]


def _quote(items: list[str]) -> str:
    return ", ".join(f"'{x}'" for x in items[:5]) + (" …" if len(items) > 5 else "")


class Summarizer:
    def __init__(
        self,
        config: SummarizerConfig | None = None,
        folder: str | Path | None = None,
        encoder: Encoder | None = None,
        abstractive: Any = None,
        verifier: Verifier | None = None,
        abstractive_dtype: str | None = None,
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

    @classmethod
    def load(cls, path: str | Path, eager: bool = True, abstractive_dtype: str | None = None) -> Summarizer:
        """``path`` is the summariser folder (with config.json) or a checkpoint root with ``summarizer/``.
        ``eager`` loads the models the default method needs now (so ``Analyzer.warm_up`` really warms up).
        ``abstractive_dtype`` overrides the abstractive model's serving dtype ("auto", "float32", "float16" or
        "bfloat16": ``abstractive.SERVING_DTYPES``)."""
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
            note = [] if v.faithful else [f"summary failed the consistency check: {_quote(spans)}"]
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
            from nlp_service.summarize.abstractive import AbstractiveSummarizer

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
        summary (computed in one batch for all replaced texts). The checker is the one behind ``faithful``."""
        checker = self.verifier or Verifier.rule_only()
        verdicts = checker.verify_many(texts, abstracts)
        out: list[Summary | None] = [None] * len(texts)
        replace: dict[int, list[str]] = {}
        for i, (text, abstract, verdict) in enumerate(zip(texts, abstracts, verdicts, strict=True)):
            spans = list(dict.fromkeys(u.span for u in verdict.unsupported))
            if abstract.strip() and verdict.faithful:
                out[i] = Summary(trim_to_words(abstract, max_words), "abstractive", True)
                continue
            fixed = self._repair(checker, text, abstract, verdict) if abstract.strip() else None
            if fixed is not None:
                note = f"abstractive summary repaired: dropped unsupported {_quote(spans)}"
                out[i] = Summary(trim_to_words(fixed, max_words), "abstractive", True, [note])
            else:
                replace[i] = spans if abstract.strip() else []
        if replace:
            idx = sorted(replace)
            fallbacks = self.extractive.summarize([texts[i] for i in idx], max_words)
            checked = self._checked([texts[i] for i in idx], fallbacks)
            for i, summary in zip(idx, checked, strict=True):
                why = f"unsupported {_quote(replace[i])}" if replace[i] else "empty output"
                note = f"abstractive summary replaced by extractive: {why}"
                out[i] = Summary(summary.summary, "extractive", summary.faithful, [note, *summary.warnings])
        return [s for s in out if s is not None]

    @staticmethod
    def _repair(checker: Verifier, text: str, abstract: str, verdict: Any) -> str | None:
        """The abstract without its failing sentences, or without the rule's unsupported side clauses, when what
        is left has ≥ MIN_REPAIRED_WORDS words and passes the same checker."""
        bad = [(u.start, u.end) for u in verdict.unsupported]
        kept = [abstract[a:b] for a, b in split_text(abstract) if not any(a <= s < b for s, _ in bad)]
        candidates = [" ".join(kept)] if kept else []
        rule_fix = repair(abstract, text)
        if rule_fix:
            candidates.append(rule_fix)
        candidates = [c for c in dict.fromkeys(candidates) if len(c.split()) >= MIN_REPAIRED_WORDS and c != abstract]
        if not candidates:
            return None
        for c, v in zip(candidates, checker.verify_many([text] * len(candidates), candidates), strict=True):
            if v.faithful:
                return c
        return None
