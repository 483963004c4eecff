"""The serving tokenizer (``nlp_service.runtime.tokenizer``) gives the ids, padding and masks transformers'
AutoTokenizer gives for the packaged MiniLM, so the ONNX graphs read exactly what they were calibrated on."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nlp_service.runtime.tokenizer import EncoderTokenizer
from nlp_service.runtime.weights import minilm_path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "articles.jsonl"

TEXTS = [
    "Kenya and Uganda signed a trade deal in Nairobi on Monday.",
    "",
    "   ",
    "Ünïcödé café in São Paulo — naïve façade, Zürich's “quotes” and emoji 🎉.",
    "SHOUTING HEADLINE: 2,000 FLEE FLOODS\nA second line with numbers 3.14 and dates 2026-12-01.",
    "word " * 400,
]


@pytest.fixture(scope="module")
def tokenizers():
    from transformers import AutoTokenizer

    return EncoderTokenizer.from_folder(minilm_path()), AutoTokenizer.from_pretrained(minilm_path())


def test_ids_match_autotokenizer(tokenizers):
    ours, hf = tokenizers
    texts = TEXTS + [json.loads(line).get("text", "") for line in EXAMPLES.read_text().splitlines() if line.strip()]
    for limit in (1, 94, 382):
        expected = hf(texts, add_special_tokens=False, truncation=True, max_length=limit)["input_ids"]
        assert ours.ids(texts, limit) == expected
    assert (ours.cls_token_id, ours.sep_token_id, ours.pad_token_id) == (
        hf.cls_token_id, hf.sep_token_id, hf.pad_token_id)


def test_batch_matches_padded_truncated_call(tokenizers):
    ours, hf = tokenizers
    input_ids, mask = ours.batch(TEXTS, 32)
    expected = hf(TEXTS, padding=True, truncation=True, max_length=32, return_tensors="np")
    np.testing.assert_array_equal(input_ids, expected["input_ids"])
    np.testing.assert_array_equal(mask, expected["attention_mask"])
    assert input_ids.dtype == np.int64


def test_pad_of_nothing_is_empty(tokenizers):
    ours, _ = tokenizers
    input_ids, mask = ours.pad([])
    assert input_ids.shape == (0, 0) and mask.shape == (0, 0)


def test_missing_tokenizer_file_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="tokenizer.json"):
        EncoderTokenizer.from_folder(tmp_path)
