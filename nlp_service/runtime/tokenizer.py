"""The MiniLM encoders' tokenizer at serving: the packaged model's ``tokenizer.json`` read with the ``tokenizers``
library itself, which is what ``transformers.AutoTokenizer`` wraps. Importing transformers costs ~0.6 s at start-up
and the serving path needs only ids, the special tokens and padding. Tested token for token against AutoTokenizer
(``tests/test_tokenizer.py``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

SPECIAL_TOKENS_NAME = "special_tokens_map.json"
TOKENIZER_NAME = "tokenizer.json"


def _special_tokens(folder: Path) -> dict[str, str]:
    """``special_tokens_map.json`` as token-name → token (entries may be plain strings or {"content": ...})."""
    path = folder / SPECIAL_TOKENS_NAME
    raw = json.loads(path.read_text()) if path.is_file() else {}
    return {k: v["content"] if isinstance(v, dict) else v for k, v in raw.items()}


class EncoderTokenizer:
    """Word pieces of a BERT-style encoder: ``ids`` (no special tokens), ``wrap`` ([CLS] … [SEP]), ``pad``."""

    def __init__(self, tokenizer: Tokenizer, cls_token: str = "[CLS]", sep_token: str = "[SEP]",
                 pad_token: str = "[PAD]"):
        tokenizer.no_truncation()  # the file's own settings (truncate and pad to 128) are the caller's choice here
        tokenizer.no_padding()
        self._tokenizer = tokenizer
        ids = [tokenizer.token_to_id(t) for t in (cls_token, sep_token, pad_token)]
        if any(i is None for i in ids):
            raise ValueError(f"the tokenizer lacks one of {cls_token}, {sep_token}, {pad_token}")
        self.cls_token_id, self.sep_token_id, self.pad_token_id = ids

    @classmethod
    def from_folder(cls, folder: str | Path) -> EncoderTokenizer:
        folder = Path(folder)
        path = folder / TOKENIZER_NAME
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing: the encoder folder has no fast tokenizer")
        special = _special_tokens(folder)
        return cls(Tokenizer.from_file(str(path)), special.get("cls_token", "[CLS]"),
                   special.get("sep_token", "[SEP]"), special.get("pad_token", "[PAD]"))

    def ids(self, texts: list[str], max_tokens: int) -> list[list[int]]:
        """Each text's first ``max_tokens`` word-piece ids, without special tokens."""
        return [enc.ids[:max_tokens] for enc in self._tokenizer.encode_batch(texts, add_special_tokens=False)]

    def wrap(self, ids: list[int]) -> list[int]:
        return [self.cls_token_id, *ids, self.sep_token_id]

    def pad(self, sequences: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
        """(input_ids, attention_mask), int64, right-padded to the longest sequence."""
        width = max((len(s) for s in sequences), default=0)
        input_ids = np.full((len(sequences), width), self.pad_token_id, dtype=np.int64)
        mask = np.zeros((len(sequences), width), dtype=np.int64)
        for i, s in enumerate(sequences):
            input_ids[i, : len(s)] = s
            mask[i, : len(s)] = 1
        return input_ids, mask

    def batch(self, texts: list[str], max_length: int) -> tuple[np.ndarray, np.ndarray]:
        """Each text as [CLS] + its first ``max_length`` − 2 pieces + [SEP], padded: what the tokenizer called
        with ``padding=True, truncation=True, max_length=max_length`` returns."""
        return self.pad([self.wrap(ids) for ids in self.ids(texts, max_length - 2)])
