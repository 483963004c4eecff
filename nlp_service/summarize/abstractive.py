"""Abstractive one-sentence summaries: SmolLM2-135M-Instruct with a LoRA adapter fine-tuned on article → lede.

Extract-then-abstract: the model reads the title and the lead sentences of the article (a token budget fixed
at training time), never the whole text, so cost per article is bounded and what it reads is what it was
trained on (``abstractive_prompt``). The model and its loading: ``abstractive_model``; what it may generate and
when it stops: ``abstractive_constraints``."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

from nlp_service.summarize.abstractive_constraints import SourceOnlyNames, StopWhenComplete, end_token_ids
from nlp_service.summarize.abstractive_model import AbstractiveConfig, load_decoder
from nlp_service.summarize.abstractive_prompt import (
    PromptFormat,
    build_prompt,
    max_new_tokens,
    postprocess,
    select_input,
)
from nlp_service.summarize.config import DEFAULT_MAX_WORDS
from nlp_service.summarize.verify.rule import check


class AbstractiveSummarizer:
    """Generates one-sentence abstracts. ``load`` reads the base weights with the LoRA adapter merged in
    (``merged_decoder``: no adapter overhead at inference); ``generate`` is thread-safe (one batch at a time;
    torch uses all cores)."""

    def __init__(
        self, model: Any, tokenizer: Any, config: AbstractiveConfig, batch_size: int = 8, share_prefix: bool = True
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.config = config
        self.batch_size = batch_size
        self.share_prefix = share_prefix
        self._prefix: SharedPrefix | None = None  # built on first use
        self._lock = threading.Lock()
        self._names = SourceOnlyNames(tokenizer) if config.source_names_only else None
        self._end_ids = end_token_ids(tokenizer)

    @property
    def version(self) -> str:
        return self.config.version

    @classmethod
    def load(
        cls, folder: str | Path, quantize: bool | None = None, batch_size: int | None = None,
        dtype: str | None = None,
    ) -> AbstractiveSummarizer:
        """``folder`` holds config.json and, unless it is a zero-shot config, adapter_config.json +
        adapter_model.safetensors. ``quantize`` (dynamic int8 quantisation of the Linear layers, CPU) and
        ``batch_size`` and ``dtype`` (``abstractive_model.SERVING_DTYPES``) default to the config's values."""
        folder = Path(folder)
        config = AbstractiveConfig.read(folder)
        quantize = config.quantize if quantize is None else quantize
        batch_size = config.batch_size if batch_size is None else batch_size
        if dtype is not None:
            config = replace(config, dtype=dtype)
        model, tokenizer = load_decoder(folder, config, quantize)
        return cls(model, tokenizer, config, batch_size=batch_size)

    def prompts(self, texts: list[str]) -> list[str]:
        fmt = self.config.prompt
        return [build_prompt(self.tokenizer, fmt, select_input(t, self.tokenizer, fmt.max_input_tokens))
                for t in texts]

    def generate(self, texts: list[str], max_words: int = DEFAULT_MAX_WORDS) -> list[str]:
        """One abstract per text (≤ 2 sentences, ≤ ``max_words`` words); an empty text gives ""."""
        # lazy: torch and transformers are heavy; importing the summariser must not load them
        import torch
        from transformers import LogitsProcessorList, StoppingCriteriaList  # lazy: transformers is heavy

        out = [""] * len(texts)
        todo = [i for i, t in enumerate(texts) if t and t.strip()]
        if not todo:
            return out
        # The lock covers tokenising too: a fast tokenizer shared between threads raises "Already borrowed"
        # when one thread pads a batch while another encodes.
        with self._lock, torch.inference_mode():
            prompts = self.prompts([texts[i] for i in todo])
            # Similar lengths per batch: less left padding to compute over.
            order = sorted(range(len(todo)), key=lambda j: len(prompts[j]))
            if self.share_prefix and self._prefix is None:
                self._prefix = SharedPrefix(self.model, self.tokenizer, self.config.prompt)
            new_tokens = max_new_tokens(max_words)
            beams, keep = self.config.beams, self.config.candidates
            for start in range(0, len(order), self.batch_size):
                chunk = order[start : start + self.batch_size]
                inputs = self._encode([prompts[j] for j in chunk], new_tokens, beams)
                prompt_length = inputs["input_ids"].shape[1]
                generated = self.model.generate(
                    **inputs,
                    max_new_tokens=new_tokens,
                    stopping_criteria=StoppingCriteriaList(
                        [StopWhenComplete(self.tokenizer, prompt_length, max_words)]
                    ),
                    do_sample=False,
                    logits_processor=LogitsProcessorList([self._names.start(prompt_length)] if self._names else []),
                    num_beams=beams,
                    num_return_sequences=keep,
                    no_repeat_ngram_size=self.config.no_repeat_ngram_size,
                    eos_token_id=self._end_ids,
                    pad_token_id=self.tokenizer.pad_token_id,
                )
                texts_out = self.tokenizer.batch_decode(generated[:, prompt_length:], skip_special_tokens=True)
                for row, j in enumerate(chunk):
                    options = [postprocess(t, max_words) for t in texts_out[row * keep : (row + 1) * keep]]
                    out[todo[j]] = first_supported(options, texts[todo[j]])
        return out

    def _encode(self, prompts: list[str], new_tokens: int, beams: int = 1) -> dict[str, Any]:
        """``generate`` inputs for one batch: from the shared prefix's cache when every prompt starts with it,
        else plain left-padded prompts."""
        rows = self.tokenizer(prompts, add_special_tokens=False)["input_ids"]
        if self._prefix is not None and self._prefix.starts(rows):
            return self._prefix.batch(rows, self.tokenizer.pad_token_id, new_tokens, beams)
        enc = self.tokenizer.pad({"input_ids": rows}, return_tensors="pt")  # left padding, as set at load
        # A preallocated cache: the default one concatenates every layer's keys and values at each step, about
        # half of decoding time on CPU (docs/abstractive.md); outputs are the same.
        return {**enc, "cache_implementation": "static"}


def first_supported(options: list[str], article: str) -> str:
    """The first non-empty option whose names and numbers all occur in ``article`` (the rule), else the first
    non-empty one: options come in beam-score order, so support decides first and the model's score second."""
    written = [o for o in options if o.strip()]
    if len(written) <= 1:
        return written[0] if written else ""
    return next((o for o in written if check(o, article).passed), written[0])


class SharedPrefix:
    """The chat scaffolding every prompt starts with (system turn and instruction: 29 tokens of the ~220 a
    600-word article's prompt holds), run through the model once. Each batch starts from a copy of its keys and
    values instead of recomputing them for every row. Rows are padded after the prefix, not before it, so the
    prefix sits at the same positions in every row; the attention mask skips the padding and position ids follow
    the mask, so each row is computed as if it were alone (docs/abstractive.md: same outputs, faster prefill)."""

    def __init__(self, model: Any, tokenizer: Any, fmt: PromptFormat) -> None:
        import torch  # lazy: torch is heavy; importing the summariser must not load it

        def ids(article: str) -> list[int]:
            return tokenizer(build_prompt(tokenizer, fmt, article), add_special_tokens=False)["input_ids"]

        a, b = ids("The man"), ids("1 A")
        diverge = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
        # One token short of where two prompts part: the token before an article can merge with its first
        # characters, so it is left to each row.
        self.ids: list[int] = a[: max(diverge - 1, 0)]
        self.config = model.config
        self.layers: list[tuple[Any, Any]] = []
        if self.ids:
            with torch.inference_mode():
                cache = model(input_ids=torch.tensor([self.ids]), use_cache=True).past_key_values
            self.layers = [(layer.keys, layer.values) for layer in cache.layers]

    def starts(self, rows: list[list[int]]) -> bool:
        n = len(self.ids)
        return bool(self.layers) and all(row[:n] == self.ids for row in rows)

    def batch(self, rows: list[list[int]], pad_id: int, new_tokens: int, beams: int = 1) -> dict[str, Any]:
        """Inputs for ``generate``: the rows padded after the prefix, and a cache holding the prefix for each of
        the ``beams`` copies of every row that beam search makes (generate expands the inputs, not the cache)."""
        # lazy: torch and transformers are heavy; importing the summariser must not load them
        import torch
        from transformers import StaticCache  # lazy: transformers is heavy

        n = len(self.ids)
        rests = [row[n:] for row in rows]
        width = max(len(r) for r in rests)
        input_ids = torch.tensor([self.ids + [pad_id] * (width - len(r)) + r for r in rests])
        attention_mask = torch.tensor([[1] * n + [0] * (width - len(r)) + [1] * len(r) for r in rests])
        cache = StaticCache(config=self.config, max_cache_len=n + width + new_tokens)
        copies = len(rows) * beams
        for layer, (keys, values) in enumerate(self.layers):
            cache.update(keys.expand(copies, -1, -1, -1).contiguous(),
                         values.expand(copies, -1, -1, -1).contiguous(), layer)
        return {"input_ids": input_ids, "attention_mask": attention_mask, "past_key_values": cache}
