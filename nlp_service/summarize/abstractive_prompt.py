"""What the abstractive model reads and what is kept of what it writes: the extract step (title and lead
sentences within a token budget), the prompt, and the post-processing of generated text. Training
(training/train_summarizer.py) and serving build prompts with these same functions, so the two cannot drift
apart."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from nlp_service.summarize.sentences import iter_paragraphs

# SmolLM2's tokenizer on English news ledes: ~1.3–1.5 tokens a word; headroom for names and numbers.
TOKENS_PER_WORD = 1.6


@dataclass
class PromptFormat:
    """Everything that shapes what the model reads; stored in the adapter's config.json."""

    system: str = "You write short, factual summaries of news articles."
    instruction: str = "Summarise this news article in one sentence:"
    max_input_tokens: int = 192  # article tokens (title + lead sentences), excluding the chat scaffolding

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PromptFormat:
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


def select_input(text: str, tokenizer: Any, max_tokens: int) -> str:
    """The extract step: the lead sentences that fit ``max_tokens`` (the title is the first line, when there
    is one), paragraph breaks kept. A first sentence longer than the budget is cut at the budget, so the input
    is never empty for a non-empty text."""
    kept: list[list[str]] = []
    used = 0
    # Sentences are split lazily and only over the head of the text (~6 characters per token in news prose).
    for paragraph in iter_paragraphs(text, max_chars=max(2000, max_tokens * 8)):
        lengths = [len(ids) for ids in tokenizer(paragraph, add_special_tokens=False)["input_ids"]]
        fitting = []
        for sentence, n in zip(paragraph, lengths, strict=True):
            if used + n > max_tokens:
                break
            fitting.append(sentence)
            used += n + 1
        if fitting:
            kept.append(fitting)
        if len(fitting) < len(paragraph):
            if not kept:  # the very first sentence is over budget: cut it
                ids = tokenizer(paragraph[0], add_special_tokens=False)["input_ids"][:max_tokens]
                return tokenizer.decode(ids).strip()
            break
    return "\n".join(" ".join(p) for p in kept)


def build_prompt(tokenizer: Any, fmt: PromptFormat, article_input: str) -> str:
    """The chat-formatted prompt, ending with the assistant turn's opening (the summary follows it). A base
    model without a chat template gets the same parts as plain text, ending with "Summary:"."""
    if not getattr(tokenizer, "chat_template", None):
        return f"{fmt.system}\n\n{fmt.instruction}\n\n{article_input}\n\nSummary:"
    messages = [
        {"role": "system", "content": fmt.system},
        {"role": "user", "content": f"{fmt.instruction}\n\n{article_input}"},
    ]
    return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)


_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)]*\s+")
_SENTENCE_ENDS = re.compile(r"[.!?][\"'”’)]*(?=\s|$)")  # where a sentence ends (closing quotes included)
_PREFIX = re.compile(r"^\s*(?:summary|in summary|here is a summary[^:]*|one-sentence summary)\s*:\s*", re.I)


def postprocess(text: str, max_words: int, max_sentences: int = 2) -> str:
    """Clean generated text: drop chat artefacts and 'Summary:' prefixes, keep ≤ ``max_sentences`` sentences
    and ≤ ``max_words`` words, cutting at a sentence end when one falls inside the cap."""
    text = text.replace("<|im_end|>", " ").replace("<|im_start|>", " ")
    text = _PREFIX.sub("", " ".join(text.split())).strip().strip('"').strip()
    if not text:
        return ""
    sentences = [s for s in _SENTENCE_END.split(text) if s]
    text = " ".join(sentences[:max_sentences])
    words = text.split()
    if len(words) <= max_words:
        return text
    head = " ".join(words[:max_words])
    ends = [m.end() for m in _SENTENCE_ENDS.finditer(head)]
    if ends and ends[-1] >= len(head) // 3:
        return head[: ends[-1]].strip()
    return head.rstrip(",;:-–— ") + "…"


def max_new_tokens(max_words: int) -> int:
    return math.ceil(TOKENS_PER_WORD * max_words) + 8


def summary_complete(text: str, max_words: int, max_sentences: int = 2) -> bool:
    """Whether generated text already holds all that ``postprocess`` would keep: ``max_sentences`` sentence ends,
    or more than ``max_words`` words. Decoding further would only produce text that is cut away."""
    text = text.replace("<|im_end|>", " ")
    return len(_SENTENCE_ENDS.findall(text)) >= max_sentences or len(text.split()) > max_words
