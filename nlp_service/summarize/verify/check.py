"""Is a summary supported by its article? The combination: the learned cross-encoder (``model.py``) and the
name-and-number rule (``rule.py``), weighed by the fitted calibration (``calibration.py``).

For each summary sentence:

1. **Copied text** (the sentence, or the opening of one, word for word in the article) is supported: score 1,
   no model call. Extractive and lead summaries take only this path.
2. **Retrieval**: the ``premise_sentences`` article sentences sharing the most (idf-weighted) words with it,
   in article order, form its premise: the model reads that window, never the whole article (≤ 128 tokens a
   pair keeps a check in milliseconds).
3. **Evidence**: the cross-encoder's logit for (window, sentence), and the rule (``rule.check``:
   every name and number of the sentence found in the whole article).
4. **Combination** (``VerifyCalibration``): P(supported) = σ(a · logit + b · [rule fails] + c), fitted by
   logistic regression on held-out summaries checked against their full articles
   (``training.calibrate_faithfulness``). Each kind of evidence moves the probability: a missing name lowers it
   whatever the model says, and the model catches what the rule cannot see (negations, dropped qualifiers,
   changed verbs, swapped roles).

The summary's score is its weakest sentence's; ``faithful`` = score ≥ the fitted threshold. Each failing
sentence lists its problems: unsupported names and numbers (rule), and, from a comparison with the closest
article sentence, a negation or a dropped qualifier, else the sentence's words the article lacks
("claim"): ``explain.py``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nlp_service.records import Verification
from nlp_service.summarize.config import CONFIG_NAME
from nlp_service.summarize.sentences import sentence_spans
from nlp_service.summarize.verify.article import Article, Claim
from nlp_service.summarize.verify.calibration import VerifyCalibration
from nlp_service.summarize.verify.explain import explain_failure
from nlp_service.summarize.verify.rule import check

KINDS = ("name", "number", "negation", "qualifier", "claim")


@dataclass(frozen=True)
class VerifierSettings:
    premise_sentences: int = 2  # article sentences read with each summary sentence
    max_article_chars: int = 60_000  # retrieval looks this far; copies are found anywhere
    batch_size: int = 32
    trust_copies: bool = True  # copied text passes without the model (False: evaluation of the model alone)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VerifierSettings:
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


class Verifier:
    """``verify(article, summary)`` / ``verify_many(articles, summaries)`` → ``Verification`` records.

    ``model`` is a ``ConsistencyModel`` or a zero-argument callable that loads one (it is then loaded on the
    first sentence that is not copied text); None checks with the name-and-number rule alone."""

    def __init__(self, model: Any = None, settings: VerifierSettings | None = None,
                 calibration: VerifyCalibration | None = None, version: str = "rule"):
        self._model = model
        self.settings = settings or VerifierSettings()
        self.calibration = calibration or VerifyCalibration()
        self.version = version
        self._lock = threading.Lock()

    @classmethod
    def load(cls, folder: str | Path) -> Verifier:
        """The checker of ``checkpoints/faithfulness/`` (config.json: settings, calibration, version); the
        cross-encoder itself is loaded on first use."""
        folder = Path(folder)
        path = folder / CONFIG_NAME
        config = json.loads(path.read_text())
        return cls(lambda: load_model(folder), VerifierSettings.from_dict(config.get("verifier", {})),
                   VerifyCalibration.from_config(config, path), config.get("version", "faithfulness"))

    @classmethod
    def rule_only(cls) -> Verifier:
        return cls(None, calibration=VerifyCalibration.rule_only(), version="rule")

    @property
    def model(self) -> Any:
        if callable(self._model) and not hasattr(self._model, "logits"):
            with self._lock:
                if callable(self._model) and not hasattr(self._model, "logits"):
                    self._model = self._model()
        return self._model

    # -- scoring ---------------------------------------------------------------------------------------------
    def verify(self, article: str, summary: str) -> Verification:
        return self.verify_many([article], [summary])[0]

    def verify_many(self, articles: Sequence[str], summaries: Sequence[str]) -> list[Verification]:
        """One record per (article, summary); every model pair of the batch goes through one model call."""
        if len(articles) != len(summaries):
            raise ValueError(f"{len(articles)} articles for {len(summaries)} summaries")
        docs = [Article.build(a, self.settings.max_article_chars) for a in articles]
        claims = self.claims(docs, summaries)
        out = []
        for i, (doc, summary) in enumerate(zip(docs, summaries, strict=True)):
            out.append(self._record(doc, summary, [c for c in claims if c.summary_index == i]))
        return out

    def claims(self, docs: Sequence[Article], summaries: Sequence[str]) -> list[Claim]:
        """The evidence on every sentence of every summary: copied or not, rule items, model logit."""
        claims: list[Claim] = []
        for i, (doc, summary) in enumerate(zip(docs, summaries, strict=True)):
            for a, b in sentence_spans(summary or ""):
                text = summary[a:b]
                if self.settings.trust_copies and doc.copied(text):
                    claims.append(Claim(i, a, b, text, [], True, []))
                    continue
                report = check(text, doc.index)
                claims.append(Claim(i, a, b, text, doc.closest(text, self.settings.premise_sentences), False,
                                    report.unsupported))
        todo = [c for c in claims if not c.copied]
        if todo and self.model is not None:
            premises = [" ".join(docs[c.summary_index].sentences[k] for k in sorted(c.closest)) for c in todo]
            for c, z in zip(todo, self.model.logits(premises, [c.text for c in todo], self.settings.batch_size),
                            strict=True):
                c.logit = z
        return claims

    def _record(self, doc: Article, summary: str, claims: list[Claim]) -> Verification:
        if not claims:
            return Verification(faithful=True, score=1.0, unsupported=[], checker=self.version,
                                warnings=["empty summary: nothing to check"] if not summary.strip() else [])
        scores, problems = [], []
        for c in claims:
            p = 1.0 if c.copied else self.calibration.apply(c.logit, bool(c.rule_bad))
            scores.append(p)
            if p < self.calibration.threshold:
                problems += explain_failure(doc, summary, c, self.model)
        score = min(scores)
        return Verification(faithful=score >= self.calibration.threshold, score=round(score, 4),
                            unsupported=problems, checker=self.version)


def load_model(folder: Path) -> Any:
    """The cross-encoder of a checker folder."""
    # lazy: model.py imports torch, which is heavy; copied text and rule-only checks never need it
    from nlp_service.summarize.verify.model import ConsistencyModel

    return ConsistencyModel.load(folder)
