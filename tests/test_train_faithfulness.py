"""The checker's training script end to end on pairs written here (seconds): it saves a folder that loads from its
local path and checks summaries."""

from __future__ import annotations

from training.faith_pairs import Pair, write_pairs
from training.train_faithfulness import main

WINDOW = "The council of Brindle approved a budget of 40 million pounds on Tuesday."


def test_tiny_run_saves_a_loadable_checker(tmp_path):
    pairs = [Pair(WINDOW, "Brindle approved a budget.", 1, "clause", "own:1"),
             Pair(WINDOW, "Brindle rejected a budget.", 0, "substitution", "own:1"),
             Pair(WINDOW, "The council approved a budget of 40 million pounds.", 1, "clause", "own:1"),
             Pair(WINDOW, "The council approved a budget of 90 million pounds.", 0, "number", "own:1")] * 4
    write_pairs(pairs, tmp_path / "pairs" / "train.jsonl")
    write_pairs(pairs[:4], tmp_path / "pairs" / "validation.jsonl")
    out = tmp_path / "checker"
    config = main(["--tiny", "--data", "synthetic", "--pairs_dir", str(tmp_path / "pairs"), "--output_dir", str(out),
                   "--run_dir", str(tmp_path / "runs")])
    assert config["training"]["steps"] == 3 and (out / "cross_encoder.safetensors").is_file()
    assert (tmp_path / "runs" / "checkpoint-2" / "config.json").is_file()

    from nlp_service.summarize.verify import Verifier

    record = Verifier.load(out).verify(WINDOW, "Brindle rejected a budget.")
    assert 0.0 <= record.score <= 1.0 and record.checker == "faithfulness-minilm-3steps"
