"""What you train is what you load: the folder a training command writes loads as it is through
``Analyzer.load``, ``nlp-service batch --checkpoint`` and ``serve --checkpoint``, with every part it does not hold
taken from the shipped checkpoints; an incomplete folder gets an error whose fix applies to it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from nlp_service import cli
from nlp_service.analyzer import Analyzer
from nlp_service.classify.decision import DecisionPipeline
from nlp_service.runtime.checkpoints import (
    FIX_NOT_A_CHECKPOINT,
    FIX_RESTORE,
    CheckpointProblem,
    check_checkpoint,
)

SAMPLE = Path(__file__).resolve().parents[1] / "examples" / "train_sample.jsonl"


@pytest.fixture(scope="module")
def trained(tmp_path_factory, checkpoints) -> Path:
    """A classifier trained by ``nlp-service train`` on six rows, as a user would (a few steps only)."""
    out = tmp_path_factory.mktemp("runs") / "mine"
    code = cli.main([
        "train", "--sources", "none", "--train-files", str(SAMPLE), "--epochs", "1", "--batch-size", "4",
        "--max-length", "48", "--threads", "1", "--output-dir", str(out),
    ])
    assert code == 0 and (out / "config.json").is_file()
    return out


def test_a_trained_classifier_folder_loads_as_it_is_with_the_shipped_summariser(trained, checkpoints):
    layout = check_checkpoint(trained, DecisionPipeline.from_dict)
    assert layout.classifier == trained
    assert layout.summarizer == checkpoints / "summarizer" and layout.faithfulness == checkpoints / "faithfulness"
    assert layout.borrowed == ("summarizer", "faithfulness")
    analyzer = Analyzer.load(trained)
    record = analyzer.analyze("Kenya held a general election on Tuesday. Parliament will meet next week.",
                              tasks=("classify",))
    assert record.error is None and record.model["classifier"] == json.loads((trained / "config.json").read_text())[
        "version"]


def test_nlp_service_batch_takes_the_trained_folder(trained, tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "a", "text": "The central bank raised interest rates again."}) + "\n")
    out = tmp_path / "out.jsonl"
    code = cli.main(["batch", "-i", str(src), "-o", str(out), "--checkpoint", str(trained), "--tasks", "classify",
                     "--no-progress"])
    assert code == 0, capsys.readouterr().err
    record = json.loads(out.read_text())
    assert record["id"] == "a" and "themes" in record and "error" not in record


def test_a_root_with_only_a_trained_checker_uses_it_beside_the_shipped_models(checkpoints, tmp_path, monkeypatch):
    from nlp_service.summarize.verify import Verifier

    shutil.copytree(checkpoints / "faithfulness", tmp_path / "faithfulness")
    layout = check_checkpoint(tmp_path, DecisionPipeline.from_dict)
    assert layout.faithfulness == tmp_path / "faithfulness" and layout.classifier == checkpoints / "classifier"
    loaded, real = [], Verifier.load
    monkeypatch.setattr(Verifier, "load", classmethod(lambda cls, folder: loaded.append(Path(folder)) or real(folder)))
    summarizer = Analyzer.load(tmp_path)._summarizer.get()
    assert loaded[-1] == tmp_path / "faithfulness" and summarizer.verifier.version != "rule"


def test_an_unfinished_training_folder_names_the_rerun_not_the_shipped_checkpoints(trained, tmp_path):
    broken = tmp_path / "mine"
    shutil.copytree(trained, broken)
    (broken / "heads.safetensors").unlink()
    with pytest.raises(FileNotFoundError) as err:
        Analyzer.load(broken)
    message = str(err.value)
    assert message.startswith(f"{broken / 'heads.safetensors'} is missing")
    assert f"rerun the training command that wrote {broken}" in message and FIX_RESTORE not in message


def test_a_folder_that_is_no_checkpoint_says_which_folder_to_pass(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("not a model")
    with pytest.raises(FileNotFoundError) as err:
        Analyzer.load(tmp_path)
    assert "is not a checkpoint" in str(err.value) and FIX_NOT_A_CHECKPOINT in str(err.value)
    assert cli.main(["serve", "--checkpoint", str(tmp_path)]) == 2
    err_text = capsys.readouterr().err
    assert err_text.count("\n") == 1 and "is not a checkpoint" in err_text


def test_an_abstractive_adapter_alone_gets_the_steps_that_make_it_loadable(checkpoints, tmp_path):
    shutil.copytree(checkpoints / "summarizer" / "abstractive", tmp_path / "adapter")
    with pytest.raises(CheckpointProblem, match="holds an abstractive adapter only"):
        Analyzer.load(tmp_path / "adapter")
