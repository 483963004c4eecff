"""Abstractive one-sentence summaries: SmolLM2-135M-Instruct with a LoRA adapter fine-tuned on article → lede.

Extract-then-abstract: the model reads the title and the lead sentences of the article (a token budget fixed
at training time), never the whole text, so cost per article is bounded and what it reads is what it was
trained on. The prompt is built by the functions here for both training (training/train_summarizer.py) and
inference, so the two cannot drift apart."""

from __future__ import annotations

import json
import math
import re
import threading
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from nlp_service.summarize.sentences import iter_paragraphs

CONFIG_NAME = "config.json"
BASE_MODEL_NAME = "SmolLM2-135M-Instruct"
GEMMA3_NAME = "gemma-3-270m"  # the optional base-model alternative (a base model: no chat template)
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


class _StopWhenComplete:
    """A transformers StoppingCriteria (duck-typed): marks each batch row done once its summary is complete, so a
    batch stops when every row is done instead of running to ``max_new_tokens`` for one rambling row."""

    def __init__(self, tokenizer: Any, prompt_length: int, max_words: int) -> None:
        self.tokenizer = tokenizer
        self.prompt_length = prompt_length
        self.max_words = max_words

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        texts = self.tokenizer.batch_decode(input_ids[:, self.prompt_length :], skip_special_tokens=True)
        return torch.tensor([summary_complete(t, self.max_words) for t in texts], device=input_ids.device)


SERVING_DTYPES = {"auto", "float32", "float16", "bfloat16"}


@dataclass
class AbstractiveConfig:
    """The adapter folder's config.json (written by training/train_summarizer.py)."""

    base_model: str = BASE_MODEL_NAME
    prompt: PromptFormat = field(default_factory=PromptFormat)
    num_beams: int = 1
    no_repeat_ngram_size: int = 3
    # Names and numbers only from the source: a token that starts a capitalised word or holds a digit may be
    # generated only if it occurs in what the model reads (SourceOnlyNames). Measured in docs/abstractive.md.
    source_names_only: bool = False
    # Serving: dynamic int8 Linear layers (CPU) and prompts per generate() batch; measured in docs/abstractive.md.
    quantize: bool = False
    batch_size: int = 8
    # Weights and activations at serving: "auto" (float16 where the CPU computes it natively, float32 elsewhere,
    # where it is emulated and slower), "float32", "float16" or "bfloat16". float16 keeps float32's ROUGE at half
    # the memory; bfloat16 is 1.7x faster on AMX but loses 1-1.5 ROUGE-1 points. Measured in docs/abstractive.md.
    dtype: str = "auto"
    version: str = "abstractive-smollm2-135m-lora"
    extra: dict[str, Any] = field(default_factory=dict)  # training provenance and metrics, kept verbatim

    @classmethod
    def read(cls, folder: str | Path) -> AbstractiveConfig:
        d = json.loads((Path(folder) / CONFIG_NAME).read_text())
        known = {"base_model", "num_beams", "no_repeat_ngram_size", "source_names_only", "quantize", "batch_size",
                 "dtype", "version"}
        return cls(
            prompt=PromptFormat.from_dict(d.get("prompt", {})),
            extra={k: v for k, v in d.items() if k not in known | {"prompt"}},
            **{k: d[k] for k in known if k in d},
        )

    def to_dict(self) -> dict[str, Any]:
        d = {k: v for k, v in asdict(self).items() if k != "extra"}
        return {**d, **self.extra}

    def torch_dtype(self) -> Any:
        """The torch dtype ``dtype`` names on this machine."""
        import torch

        from nlp_service.runtime.weights import cpu_has_fp16

        if self.dtype not in SERVING_DTYPES:
            raise ValueError(f"dtype must be one of {sorted(SERVING_DTYPES)}, not {self.dtype!r}")
        name = ("float16" if cpu_has_fp16() else "float32") if self.dtype == "auto" else self.dtype
        return getattr(torch, name)


def resolve_base(name: str) -> Path:
    """A base-model name from a config → local folder (the packaged SmolLM2, converted once, or a path)."""
    from nlp_service.runtime.gguf_cache import gemma3_path, smollm2_path

    if name in (BASE_MODEL_NAME, f"HuggingFaceTB/{BASE_MODEL_NAME}", "smollm2"):
        return smollm2_path()
    if name in (GEMMA3_NAME, f"google/{GEMMA3_NAME}", "gemma3"):
        return gemma3_path()
    path = Path(name)
    if path.is_dir():
        return path
    from nlp_service.runtime.weights import WeightsNotFound

    raise WeightsNotFound(f"unknown base model {name!r}: not the packaged SmolLM2 nor a local folder")


def merge_adapter(model: Any, folder: Path) -> Any:
    """``model`` with the LoRA adapter in ``folder`` merged into its weights (unchanged for a zero-shot config)."""
    if not (folder / "adapter_config.json").is_file():
        return model
    from peft import PeftModel

    return PeftModel.from_pretrained(model, folder).merge_and_unload()


MERGED_CACHE = "decoder"
KEEP_MERGED = 3  # merged models kept per adapter and dtype (~270 MB each in half precision)


def merged_decoder(base: Path, folder: Path, dtype: Any) -> Path:
    """A folder holding the base model with ``folder``'s adapter merged in, stored at ``dtype``:
    ``cache_dir()/decoder/<name>-<hash of the base and adapter files, dtype and torch version>/``, written on first
    use. The merge runs once in float32 and is rounded once; later loads map the stored weights directly, so a
    process never holds a float32 copy beside the serving one (half precision: 270 MB instead of ~1.2 GB at load)
    and skips peft."""
    import torch

    from nlp_service.runtime.weights import cached_folder, files_digest

    dtype_name = str(dtype).removeprefix("torch.")
    files = [p for p in (*base.glob("*"), *folder.glob("adapter_*")) if p.is_file()]
    digest = files_digest(files, f"merged-decoder|{dtype_name}|{torch.__version__}")

    def write(tmp: Path) -> None:
        from transformers import AutoModelForCausalLM

        model = merge_adapter(AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32), folder)
        model.to(dtype).save_pretrained(tmp)

    needs = ("model.safetensors", "config.json")
    return cached_folder(MERGED_CACHE, f"{folder.name}-{dtype_name}", digest, write, needs, KEEP_MERGED)


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
        import torch

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
        import torch

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
        ``batch_size`` and ``dtype`` (``SERVING_DTYPES``) default to the config's values."""
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        folder = Path(folder)
        config = AbstractiveConfig.read(folder)
        quantize = config.quantize if quantize is None else quantize
        batch_size = config.batch_size if batch_size is None else batch_size
        if dtype is not None:
            config = replace(config, dtype=dtype)
        base = resolve_base(config.base_model)
        tokenizer = AutoTokenizer.from_pretrained(base)
        tokenizer.padding_side = "left"  # decoder-only batches: prompts end where generation starts
        if quantize:  # int8 starts from float32 weights, the adapter merged
            model = merge_adapter(AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32), folder)

            from nlp_service.runtime.weights import quantize_int8

            model = quantize_int8(model.eval())
        else:
            dtype_ = config.torch_dtype()
            model = AutoModelForCausalLM.from_pretrained(merged_decoder(base, folder, dtype_), dtype=dtype_).eval()
        return cls(model, tokenizer, config, batch_size=batch_size)

    def prompts(self, texts: list[str]) -> list[str]:
        fmt = self.config.prompt
        return [build_prompt(self.tokenizer, fmt, select_input(t, self.tokenizer, fmt.max_input_tokens))
                for t in texts]

    def generate(self, texts: list[str], max_words: int = 45) -> list[str]:
        """One abstract per text (≤ 2 sentences, ≤ ``max_words`` words); an empty text gives ""."""
        import torch
        from transformers import LogitsProcessorList, StoppingCriteriaList

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
            for start in range(0, len(order), self.batch_size):
                chunk = order[start : start + self.batch_size]
                inputs = self._encode([prompts[j] for j in chunk], new_tokens)
                prompt_length = inputs["input_ids"].shape[1]
                generated = self.model.generate(
                    **inputs,
                    max_new_tokens=new_tokens,
                    stopping_criteria=StoppingCriteriaList(
                        [_StopWhenComplete(self.tokenizer, prompt_length, max_words)]
                    ),
                    do_sample=False,
                    logits_processor=LogitsProcessorList([self._names.start(prompt_length)] if self._names else []),
                    num_beams=self.config.num_beams,
                    no_repeat_ngram_size=self.config.no_repeat_ngram_size,
                    eos_token_id=self._end_ids,
                    pad_token_id=self.tokenizer.pad_token_id,
                )
                for j, ids in zip(chunk, generated[:, prompt_length:], strict=True):
                    text = self.tokenizer.decode(ids, skip_special_tokens=True)
                    out[todo[j]] = postprocess(text, max_words)
        return out

    def _encode(self, prompts: list[str], new_tokens: int) -> dict[str, Any]:
        """``generate`` inputs for one batch: from the shared prefix's cache when every prompt starts with it,
        else plain left-padded prompts."""
        rows = self.tokenizer(prompts, add_special_tokens=False)["input_ids"]
        if self._prefix is not None and self._prefix.starts(rows):
            return self._prefix.batch(rows, self.tokenizer.pad_token_id, new_tokens)
        enc = self.tokenizer.pad({"input_ids": rows}, return_tensors="pt")  # left padding, as set at load
        # A preallocated cache: the default one concatenates every layer's keys and values at each step, about
        # half of decoding time on CPU (docs/abstractive.md); outputs are the same.
        return {**enc, "cache_implementation": "static"}


class SharedPrefix:
    """The chat scaffolding every prompt starts with (system turn and instruction: 29 tokens of the ~220 a
    600-word article's prompt holds), run through the model once. Each batch starts from a copy of its keys and
    values instead of recomputing them for every row. Rows are padded after the prefix, not before it, so the
    prefix sits at the same positions in every row; the attention mask skips the padding and position ids follow
    the mask, so each row is computed as if it were alone (docs/abstractive.md: same outputs, faster prefill)."""

    def __init__(self, model: Any, tokenizer: Any, fmt: PromptFormat) -> None:
        import torch

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

    def batch(self, rows: list[list[int]], pad_id: int, new_tokens: int) -> dict[str, Any]:
        import torch
        from transformers import StaticCache

        n = len(self.ids)
        rests = [row[n:] for row in rows]
        width = max(len(r) for r in rests)
        input_ids = torch.tensor([self.ids + [pad_id] * (width - len(r)) + r for r in rests])
        attention_mask = torch.tensor([[1] * n + [0] * (width - len(r)) + [1] * len(r) for r in rests])
        cache = StaticCache(config=self.config, max_cache_len=n + width + new_tokens)
        for layer, (keys, values) in enumerate(self.layers):
            cache.update(keys.expand(len(rows), -1, -1, -1).contiguous(),
                         values.expand(len(rows), -1, -1, -1).contiguous(), layer)
        return {"input_ids": input_ids, "attention_mask": attention_mask, "past_key_values": cache}
