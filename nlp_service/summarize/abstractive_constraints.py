"""What the abstractive model may generate and when it stops: the end tokens, a stopping criterion that ends a
batch once every row's summary is complete, and ``SourceOnlyNames``, which lets the model copy names and figures
from the article but not make them up."""

from __future__ import annotations

import re
from typing import Any

from nlp_service.summarize.abstractive_prompt import summary_complete


class StopWhenComplete:
    """A transformers StoppingCriteria (duck-typed): marks each batch row done once its summary is complete, so a
    batch stops when every row is done instead of running to ``max_new_tokens`` for one rambling row."""

    def __init__(self, tokenizer: Any, prompt_length: int, max_words: int) -> None:
        self.tokenizer = tokenizer
        self.prompt_length = prompt_length
        self.max_words = max_words

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch  # lazy: torch is heavy; importing the summariser must not load it

        texts = self.tokenizer.batch_decode(input_ids[:, self.prompt_length :], skip_special_tokens=True)
        return torch.tensor([summary_complete(t, self.max_words) for t in texts], device=input_ids.device)


def end_token_ids(tokenizer: Any) -> list[int]:
    """The tokens that end a summary: the chat turn's end where the tokenizer has one, and end-of-text."""
    unk = tokenizer.unk_token_id
    ids = {tokenizer.eos_token_id, tokenizer.convert_tokens_to_ids("<|im_end|>")}
    return sorted(i for i in ids if i is not None and i >= 0 and i != unk)


def summary_end_id(tokenizer: Any) -> int:
    """The token a training target ends with: the chat turn's end, or end-of-text for a base model."""
    end = tokenizer.convert_tokens_to_ids("<|im_end|>")
    return end if end is not None and end >= 0 and end != tokenizer.unk_token_id else tokenizer.eos_token_id


_NUMBER = re.compile(r"\d(?:[\d,.]*\d)?")
_TRAILING_NUMBER = re.compile(r"\d[\d,.]*$")


class SourceOnlyNames:
    """A logits processor that lets the model copy names and figures from the article but not make them up.

    Names: a token that begins a capitalised word is allowed only where the row's input (prompt and what is
    generated so far) holds the same token; lower-case continuations stay free, so a name is constrained by its
    first piece. Figures: SmolLM2 writes numbers digit by digit, so a digit (or a separator inside a number) is
    allowed only where the number it extends is the start of a number in the row's prompt, and a number that is
    not yet one of the prompt's may not end. Number words ("three", "million") are not constrained."""

    def __init__(self, tokenizer: Any) -> None:
        import torch  # lazy: torch is heavy; importing the summariser must not load it

        self.tokenizer = tokenizer
        pieces = tokenizer.convert_ids_to_tokens(list(range(len(tokenizer))))
        text = [tokenizer.convert_tokens_to_string([p]) if p is not None else "" for p in pieces]
        self.capitalised = torch.tensor([bool(t.strip()) and t.strip()[0].isupper() for t in text])
        # tokens that can extend a number: digits and separators, with or without a leading space
        self.number_pieces = {i: t for i, t in enumerate(text)
                              if t.strip() and all(c.isdigit() or c in ",." for c in t.strip())
                              and any(c.isdigit() for c in t)}
        self.other_digits = torch.tensor([any(c.isdigit() for c in t) and i not in self.number_pieces
                                          for i, t in enumerate(text)])
        self.prompt_length = 0
        self._numbers: list[set[str]] = []

    def start(self, prompt_length: int) -> SourceOnlyNames:
        """Reset for a new batch whose prompts take ``prompt_length`` positions."""
        self.prompt_length, self._numbers = prompt_length, []
        return self

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        import torch  # lazy: torch is heavy; importing the summariser must not load it

        n = min(scores.shape[1], self.capitalised.shape[0])
        seen = torch.zeros(scores.shape, dtype=torch.bool, device=scores.device)
        seen.scatter_(1, input_ids.clamp(max=scores.shape[1] - 1), True)
        blocked = torch.zeros_like(seen)
        blocked[:, :n] = (self.capitalised[:n] | self.other_digits[:n]).to(scores.device) & ~seen[:, :n]
        if not self._numbers:
            prompts = self.tokenizer.batch_decode(input_ids[:, : self.prompt_length], skip_special_tokens=True)
            self._numbers = [set(_NUMBER.findall(p)) for p in prompts]
        generated = self.tokenizer.batch_decode(input_ids[:, self.prompt_length:], skip_special_tokens=True)
        for row, (text, numbers) in enumerate(zip(generated, self._numbers, strict=True)):
            partial = _TRAILING_NUMBER.search(text)
            head = partial.group() if partial else ""
            for i, piece in self.number_pieces.items():
                if i >= n:
                    continue
                joined = head + piece if head and not piece[0].isspace() else piece.strip()
                if not any(num.startswith(joined) for num in numbers):
                    blocked[row, i] = True
            if head and head.rstrip(",.") not in numbers:
                # an unfinished number must go on: only pieces that extend it towards a prompt number
                allowed = torch.zeros(n, dtype=torch.bool, device=scores.device)
                for i, piece in self.number_pieces.items():
                    if i < n and not piece[0].isspace() and any(num.startswith(head + piece) for num in numbers):
                        allowed[i] = True
                if allowed.any():
                    blocked[row, :n] |= ~allowed
        return scores.masked_fill(blocked, float("-inf"))
