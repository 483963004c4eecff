"""Quiet and clear: no progress bars or library warnings unless --verbose, one JSON log format for serve, and
training errors as one line with an exit code."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from test_cli import project_commands
from test_server import wait_process_ready

from nlp_service import cli

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "OMP_NUM_THREADS": "1"}


def test_a_training_error_is_one_line_with_exit_code_2(tmp_path, capsys):
    missing = tmp_path / "nowhere.jsonl"
    args = ["train", "--sources", "none", "--train-files", str(missing), "--output-dir", str(tmp_path)]
    code = cli.main(args, plugins=project_commands())  # the training package's own command
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and err.startswith("nlp-service: error:"), err
    assert "nowhere.jsonl" in err and "Traceback" not in err


@pytest.mark.slow
def test_batch_on_a_fresh_cache_prints_only_its_summary_line(tmp_path, checkpoints, examples_path):
    """A first run exports the ONNX graph (the quantiser's advice, torch's and transformers' warnings and weight
    bars used to show then): stderr holds the summary line and nothing else."""
    out = tmp_path / "out.jsonl"
    result = subprocess.run(
        [sys.executable, "-m", "nlp_service.cli", "batch", "-i", str(examples_path), "-o", str(out),
         "--tasks", "classify", "--no-progress"],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
        env={**ENV, "NLP_SERVICE_CACHE": str(tmp_path / "cache")},
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [line for line in result.stderr.splitlines() if line.startswith("rows in:")]
    assert len(result.stderr.splitlines()) == 1, result.stderr


@pytest.mark.slow
def test_serve_logs_one_json_object_per_line(tmp_path, checkpoints):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log_path = tmp_path / "server.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen([sys.executable, "-m", "nlp_service.cli", "serve", "--port", str(port)],
                                cwd=ROOT, env=ENV, stdout=log, stderr=subprocess.STDOUT)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=300) as client:
            wait_process_ready(client, proc, log_path)
            assert client.post("/v1/classify", json={"text": "Kenya held an election."}).status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    lines = [line for line in log_path.read_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line, uvicorn's included, is one JSON object
    assert any("listening on" in r.get("message", "") for r in records)
    assert any(r.get("path") == "/v1/classify" and r.get("status") == 200 for r in records)
    assert any(r.get("logger", "").startswith("uvicorn") for r in records)
