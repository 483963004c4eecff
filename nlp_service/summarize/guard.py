"""The faithfulness guard: what becomes of an abstractive summary, by the consistency checker's verdict.

1. **keep** it when the checker passes it (trimmed to ``max_words``);
2. else **repair** it: the abstract without the sentences the checker fails, or the rule's repair (its
   unsupported side clauses dropped, ``verify.repair``), the first candidate that keeps enough words and passes
   the same checker;
3. else **replace** it by the extractive summary (also when the model wrote nothing).

A repaired or replaced summary carries a warning naming the unsupported spans.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from nlp_service.records import Summary, Verification
from nlp_service.summarize.extractive import trim_to_words
from nlp_service.summarize.sentences import sentence_spans
from nlp_service.summarize.verify import MIN_REPAIRED_WORDS, Verifier, repair


def quote(items: Sequence[str], limit: int) -> str:
    """``'a', 'b' …``: the first ``limit`` items of a warning's list."""
    return ", ".join(f"'{x}'" for x in items[:limit]) + (" …" if len(items) > limit else "")


@dataclass(frozen=True)
class GuardPolicy:
    """The guard's settings (module docstring for the steps)."""

    # A repair shorter than this is a fragment, not a summary: the extract is better (the rule's repair uses the
    # same floor, ``verify.MIN_REPAIRED_WORDS``).
    min_repaired_words: int = MIN_REPAIRED_WORDS
    # First repair: drop the sentences the checker fails. Its verdict names where the problem is, so what is
    # left is the abstract's own supported text.
    drop_failing_sentences: bool = True
    # Second repair: the rule's (unsupported sentences or side clauses dropped, "In 2019, …" openers included);
    # it reaches inside a sentence, where the checker fails whole sentences only.
    rule_repair: bool = True
    # Unsupported spans named in a warning: enough to see what was wrong, short enough to read.
    quoted_spans: int = 5

    def apply(self, checker: Verifier, texts: list[str], abstracts: list[str], max_words: int,
              extract: Callable[[list[str]], list[Summary]]) -> list[Summary]:
        """One Summary per (text, abstract): kept, repaired, or replaced by ``extract`` (the checked extractive
        summaries of the texts it is given, computed in one batch for every replaced abstract)."""
        verdicts = checker.verify_many(texts, abstracts)
        out: list[Summary | None] = [None] * len(texts)
        replace: dict[int, list[str]] = {}
        for i, (text, abstract, verdict) in enumerate(zip(texts, abstracts, verdicts, strict=True)):
            spans = list(dict.fromkeys(u.span for u in verdict.unsupported))
            if abstract.strip() and verdict.faithful:
                out[i] = Summary(trim_to_words(abstract, max_words), "abstractive", True)
                continue
            fixed = self.repair(checker, text, abstract, verdict) if abstract.strip() else None
            if fixed is not None:
                note = f"abstractive summary repaired: dropped unsupported {quote(spans, self.quoted_spans)}"
                out[i] = Summary(trim_to_words(fixed, max_words), "abstractive", True, [note])
            else:
                replace[i] = spans if abstract.strip() else []
        if replace:
            idx = sorted(replace)
            for i, summary in zip(idx, extract([texts[i] for i in idx]), strict=True):
                why = f"unsupported {quote(replace[i], self.quoted_spans)}" if replace[i] else "empty output"
                note = f"abstractive summary replaced by extractive: {why}"
                out[i] = Summary(summary.summary, "extractive", summary.faithful, [note, *summary.warnings])
        return [s for s in out if s is not None]

    def repair(self, checker: Verifier, text: str, abstract: str, verdict: Verification) -> str | None:
        """The first repair candidate of at least ``min_repaired_words`` words that passes ``checker``, else None."""
        candidates = []
        if self.drop_failing_sentences:
            bad = [(u.start, u.end) for u in verdict.unsupported]
            kept = [abstract[a:b] for a, b in sentence_spans(abstract) if not any(a <= s < b for s, _ in bad)]
            candidates += [" ".join(kept)] if kept else []
        if self.rule_repair:
            rule_fix = repair(abstract, text, self.min_repaired_words)
            candidates += [rule_fix] if rule_fix else []
        candidates = [c for c in dict.fromkeys(candidates)
                      if len(c.split()) >= self.min_repaired_words and c != abstract]
        if not candidates:
            return None
        for c, v in zip(candidates, checker.verify_many([text] * len(candidates), candidates), strict=True):
            if v.faithful:
                return c
        return None
