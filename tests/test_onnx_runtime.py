"""The ONNX Runtime path that serves the encoders: export from the loaded weights, the cache keyed by their hash,
parity with the torch model, and the fallback to torch when ONNX Runtime cannot serve."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnxruntime")

from nlp_service.classify import TopicClassifier, onnx_heads  # noqa: E402
from nlp_service.runtime import onnx_cache  # noqa: E402
from nlp_service.runtime.onnx_model import RuntimeOptions  # noqa: E402
from nlp_service.runtime.weights import prune_folders  # noqa: E402

ONNX, TORCH = RuntimeOptions("onnx", threads=1), RuntimeOptions("torch", threads=1)
SENTENCES = [
    "Heavy rain flooded the River Alder valley on Tuesday, forcing 300 people from their homes.",
    "The club's striker scored twice in the second half.",
    "Short.",
    "Officials in Nairobi said the new budget would fund 1,200 more teachers across the country next year.",
]
EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "articles.jsonl"


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("NLP_SERVICE_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "onnx"


@pytest.fixture(scope="module")
def tiny_bert(tmp_path_factory) -> Path:
    """A 2-layer BERT with random weights and MiniLM's tokenizer: the real export path in a second."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    from nlp_service.runtime.weights import minilm_path

    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("tiny-bert")
    cfg = BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=128)
    BertModel(cfg).eval().save_pretrained(folder)
    AutoTokenizer.from_pretrained(minilm_path()).save_pretrained(folder)
    return folder


def _encoder(path: Path, quantize: bool, runtime: RuntimeOptions):
    from nlp_service.runtime.encoder import SentenceEncoder

    return SentenceEncoder(path, max_length=32, quantize=quantize, runtime=runtime)


def test_exported_encoder_matches_torch_and_is_cached(tiny_bert, cache):
    onnx = _encoder(tiny_bert, False, ONNX)
    assert onnx.runtime == "onnx"
    graphs = list(cache.glob("sentence-*/model.onnx"))
    assert len(graphs) == 1
    reference = _encoder(tiny_bert, False, TORCH)
    assert reference.runtime == "torch"
    np.testing.assert_allclose(onnx.encode(SENTENCES), reference.encode(SENTENCES), atol=1e-5)
    # batches of different sizes and lengths run on the one graph (batch and sequence axes are dynamic)
    np.testing.assert_allclose(onnx.encode(SENTENCES[:1]), reference.encode(SENTENCES[:1]), atol=1e-5)
    assert onnx.encode([]).shape == (0, 32)


def test_a_cached_graph_is_reused_and_new_weights_get_a_new_one(tiny_bert, cache, monkeypatch, tmp_path):
    import nlp_service.runtime.encoder as encoder_module

    _encoder(tiny_bert, True, ONNX)
    before = sorted(cache.iterdir())

    def no_export(*args, **kwargs):
        raise AssertionError("the cached graph should have been used")

    monkeypatch.setattr(encoder_module, "export_onnx", no_export)
    assert _encoder(tiny_bert, True, ONNX).runtime == "onnx"
    assert sorted(cache.iterdir()) == before
    monkeypatch.undo()
    monkeypatch.setenv("NLP_SERVICE_CACHE", str(cache.parent))

    changed = tmp_path / "changed"
    shutil.copytree(tiny_bert, changed)
    config = json.loads((changed / "config.json").read_text())
    config["layer_norm_eps"] = 1e-6  # any change to the files the weights come from
    (changed / "config.json").write_text(json.dumps(config))
    assert onnx_cache.weights_digest(changed.glob("*"), "x") != onnx_cache.weights_digest(tiny_bert.glob("*"), "x")


def test_int8_graph_stays_close_to_fp32(tiny_bert, cache):
    int8, fp32 = _encoder(tiny_bert, True, ONNX), _encoder(tiny_bert, False, ONNX)
    cosine = (int8.encode(SENTENCES) * fp32.encode(SENTENCES)).sum(1)
    assert np.all(cosine > 0.98), cosine
    names = {p.parent.name.rsplit("-", 1)[0] for p in cache.glob("*/model.onnx")}
    assert names == {"sentence-" + tiny_bert.name}
    assert len(list(cache.glob("*/model.onnx"))) == 2  # one graph per precision


def test_failed_export_falls_back_to_torch(tiny_bert, cache, monkeypatch, caplog):
    import nlp_service.runtime.encoder as encoder_module

    def broken(*args, **kwargs):
        raise RuntimeError("exporter unavailable")

    monkeypatch.setattr(encoder_module, "export_onnx", broken)
    enc = _encoder(tiny_bert, False, ONNX)
    assert enc.runtime == "torch"
    assert "serving the torch model" in caplog.text
    assert enc.encode(SENTENCES).shape == (4, 32)
    assert not list(cache.glob("*/model.onnx"))  # nothing half-written is left behind
    assert not [p for p in cache.glob(".*") if p.is_dir()]


def test_a_corrupt_cached_graph_falls_back_instead_of_failing_requests(tiny_bert, cache):
    _encoder(tiny_bert, False, ONNX)
    [graph] = cache.glob("*/model.onnx")
    graph.write_bytes(b"not an onnx graph")
    assert _encoder(tiny_bert, False, ONNX).runtime == "torch"


def test_runtime_setting_from_the_environment(monkeypatch):
    monkeypatch.setenv("NLP_SERVICE_RUNTIME", "torch")
    assert RuntimeOptions.from_env().backend == "torch"
    monkeypatch.delenv("NLP_SERVICE_RUNTIME")
    assert RuntimeOptions.from_env().backend == "onnx"
    monkeypatch.setenv("NLP_SERVICE_RUNTIME", "tensorrt")
    with pytest.raises(ValueError, match="NLP_SERVICE_RUNTIME"):
        RuntimeOptions.from_env()


def test_old_graphs_are_pruned(tmp_path):
    for i in range(6):
        (tmp_path / f"classifier-{i:016x}").mkdir()
    (tmp_path / "sentence-model-0000000000000000").mkdir()
    prune_folders(tmp_path, "classifier", keep=2)
    assert len(list(tmp_path.glob("classifier-*"))) == 2
    assert (tmp_path / "sentence-model-0000000000000000").is_dir()


# -- the shipped classifier ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def shipped(checkpoints, tmp_path_factory):
    """The shipped checkpoint through torch fp32 and ONNX Runtime (fp32, and int8 as configured), exported into a
    cache of this module's own so that the export itself runs."""
    import torch

    torch.set_num_threads(1)
    folder = checkpoints / "classifier"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NLP_SERVICE_CACHE", str(tmp_path_factory.mktemp("cache")))
        yield {
            "torch fp32": TopicClassifier.load(folder, quantize=False, runtime=TORCH),
            "onnx fp32": TopicClassifier.load(folder, quantize=False, runtime=ONNX),
            "onnx": TopicClassifier.load(folder, runtime=ONNX),
        }


def _examples() -> list[str]:
    rows = [json.loads(line) for line in EXAMPLES.read_text().splitlines() if line.strip()]
    return [r.get("text") or f"{r.get('title', '')}\n{r.get('body', '')}" for r in rows]


def test_shipped_classifier_is_served_by_onnx_runtime_with_torch_outputs(shipped):
    texts = _examples()
    assert shipped["onnx"].runtime == "onnx" and shipped["torch fp32"].runtime == "torch"
    reference = shipped["torch fp32"].text_outputs(texts)
    for got, want in zip(shipped["onnx fp32"].text_outputs(texts), reference, strict=True):
        np.testing.assert_allclose(got, want, atol=1e-3)
    # int8 moves logits a little (per-channel weights): less than most decision margins on these articles. A raw
    # head may flip its top label where fp32's two best are nearly tied (ex-09's region head: 0.48 vs 0.40), so
    # at most one article may differ, as for the final labels below.
    for got, want in zip(shipped["onnx"].text_outputs(texts)[:2], reference[:2], strict=True):
        assert np.abs(got - want).max() < 1.5
        assert (got.argmax(1) != want.argmax(1)).sum() <= 1


def test_shipped_classifier_labels_match_torch(shipped):
    texts = _examples()
    labels = {
        name: [sorted(t.name for t in r.themes) + sorted(r.code for r in r.countries) for r in clf.classify(texts)]
        for name, clf in shipped.items()
    }
    assert labels["onnx fp32"] == labels["torch fp32"]
    same = sum(a == b for a, b in zip(labels["onnx"], labels["torch fp32"], strict=True))
    assert same >= len(texts) - 1, (labels["onnx"], labels["torch fp32"])


def test_classifier_falls_back_to_torch_when_onnx_fails(checkpoints, monkeypatch, tmp_path):
    monkeypatch.setenv("NLP_SERVICE_CACHE", str(tmp_path))

    def broken(*args, **kwargs):
        raise RuntimeError("exporter unavailable")

    monkeypatch.setattr(onnx_heads, "export_onnx", broken)
    clf = TopicClassifier.load(checkpoints / "classifier", runtime=ONNX)
    assert clf.runtime == "torch"
    assert clf.classify(_examples()[:1])[0].themes
