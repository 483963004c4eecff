"""The ``nlp-service`` command: batch (exit codes, stdin/stdout, summary line), show, and the commands other
packages add (train and eval)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
import tomllib
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from nlp_service import cli
from nlp_service.cli.plugins import GROUP, installed_commands

ROOT = Path(__file__).resolve().parent.parent


def project_commands() -> dict[str, EntryPoint]:
    """The commands pyproject.toml adds (the installed metadata has them only after ``pip install -e .``)."""
    table = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"][GROUP]
    return {name: EntryPoint(name, value, GROUP) for name, value in table.items()}


@pytest.fixture
def use_fakes(monkeypatch, fake_analyzer):
    """The commands as a user runs them, with the fake components in place of the checkpoints."""
    monkeypatch.setattr(cli, "load_analyzer", lambda checkpoint: fake_analyzer)
    return fake_analyzer


def jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_batch_writes_records_and_prints_the_summary_line(tmp_path, use_fakes, capsys):
    src = jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": "France and Kenya sign a deal."}])
    out = tmp_path / "sub" / "out.jsonl"
    code = cli.main(["batch", "--input", str(src), "--output", str(out), "--no-progress"])
    assert code == 0
    [record] = [json.loads(x) for x in out.read_text().splitlines()]
    assert record["id"] == "a" and [c["code"] for c in record["countries"]] == ["FR", "KE"]
    err = capsys.readouterr().err
    assert "rows in: 1, ok: 1, failed: 0, skipped (already done): 0, seconds:" in err


def test_batch_exit_code_is_1_when_a_row_failed(tmp_path, use_fakes, capsys):
    src = jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": "fine"}, {"id": "b", "text": ""}])
    out = tmp_path / "out.jsonl"
    assert cli.main(["batch", "-i", str(src), "-o", str(out), "--no-progress"]) == 1
    assert "ok: 1, failed: 1" in capsys.readouterr().err


def test_batch_options_reach_the_records(tmp_path, use_fakes):
    src = tmp_path / "in.csv"
    src.write_text("id,text\nc1,One two three four five six seven.\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    argv = ["batch", "-i", str(src), "-o", str(out), "--tasks", "summarize", "--max-words", "5"]
    assert cli.main([*argv, "--no-progress"]) == 0
    [record] = [json.loads(x) for x in out.read_text().splitlines()]
    assert record["summary"] == "One two three four five" and "themes" not in record


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--tasks", "translate"], "subset of classify,summarize"),
        (["--batch-size", "0"], "at least 1"),
        (["--max-words", "3"], "max_words must be at least 5"),
        (["--format", "xml"], "invalid choice"),
    ],
)
def test_batch_usage_errors_exit_2(tmp_path, use_fakes, capsys, extra, message):
    src = jsonl(tmp_path / "in.jsonl", [{"text": "x"}])
    assert cli.main(["batch", "-i", str(src), "-o", str(tmp_path / "o.jsonl"), *extra]) == 2
    assert message in capsys.readouterr().err


def test_batch_missing_input_or_checkpoint_exits_2(tmp_path, capsys):
    out = str(tmp_path / "o.jsonl")
    assert (
        cli.main(["batch", "-i", str(tmp_path / "nope.jsonl"), "-o", out, "--checkpoint", str(tmp_path)]) == 2
    )
    # the real loader names what is wrong: no config.json and no part folders
    assert "is not a checkpoint: it has no config.json" in capsys.readouterr().err
    (tmp_path / "in.jsonl").write_text('{"text": "x"}\n')
    assert (
        cli.main(["batch", "-i", str(tmp_path / "in.jsonl"), "-o", out, "--checkpoint", str(tmp_path / "x")])
        == 2
    )
    assert "does not exist" in capsys.readouterr().err


def test_batch_reads_stdin_and_writes_stdout(monkeypatch, use_fakes, capfd):
    monkeypatch.setattr(sys, "stdin", io.StringIO('{"id": "s1", "text": "Brazil wins the match."}\n'))
    assert cli.main(["batch", "-i", "-", "-o", "-", "--no-progress"]) == 0
    out, err = capfd.readouterr()
    [record] = [json.loads(x) for x in out.splitlines()]
    assert record["id"] == "s1" and record["themes"][0]["name"] == "sport"
    assert "rows in: 1, ok: 1" in err and "rows in" not in out


def test_show_prints_records_readably(tmp_path, capsys):
    records = [
        {
            "id": "ex-1",
            "countries": [{"code": "NO", "name": "Norway", "score": 0.93}],
            "regions": [{"name": "Northern Europe", "continent": "Europe", "m49": "154", "score": 0.9}],
            "themes": [
                {"name": "politics", "code": "medtop:11000000", "score": 0.91},
                {"name": "economy, business and finance", "code": "medtop:04000000", "score": 0.55},
            ],
            "summary": "Norway's parties agreed to form a coalition.",
            "summary_method": "extractive",
            "faithful": True,
            "warnings": [],
            "model": {},
        },
        {"id": "ex-2", "warnings": [], "model": {}, "error": "empty text"},
    ]
    path = tmp_path / "out.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records) + "not json\n")
    assert cli.main(["show", str(path)]) == 1  # the broken line is reported, the rest shown
    shown = capsys.readouterr().out
    assert "themes:    politics 0.91; economy, business and finance 0.55" in shown
    assert "regions:   Northern Europe 0.90" in shown
    assert "countries: Norway (NO) 0.93" in shown
    assert "summary:   Norway's parties agreed to form a coalition." in shown and "[extractive]" in shown
    assert "ex-2\n  error:     empty text" in shown
    assert "(line 3 is not a JSON record)" in shown


def fake_plugins(tmp_path: Path, monkeypatch) -> dict[str, EntryPoint]:
    """A package ``fake_training`` whose commands print their arguments and return 3 (``run``) or raise
    SystemExit(3) as a script's ``sys.exit`` does (``exits``), and an entry point whose package is missing."""
    pkg = tmp_path / "fake_training"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "cli.py").write_text(
        textwrap.dedent(
            """
            import sys

            def run(args):
                print("ARGS", args, sys.argv[0])
                return 3

            def exits(args):
                sys.exit(3)
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    return {
        "eval": EntryPoint("eval", "fake_training.cli:run", GROUP),
        "train": EntryPoint("train", "fake_training.cli:exits", GROUP),
        "gone": EntryPoint("gone", "no_such_package.cli:main", GROUP),
    }


def test_plugin_commands_get_all_arguments_and_give_the_exit_code(tmp_path, monkeypatch, capsys):
    plugins = fake_plugins(tmp_path, monkeypatch)
    assert cli.main(["eval", "--help", "--split", "test"], plugins=plugins) == 3
    assert "ARGS ['--help', '--split', 'test'] nlp-service eval" in capsys.readouterr().out
    assert cli.main(["-v", "train", "x"], plugins=plugins) == 3
    assert cli.main(["gone"], plugins=plugins) == 2
    assert "the command 'gone' (no_such_package.cli:main) cannot be loaded" in capsys.readouterr().err


def test_without_plugins_a_missing_command_says_how_to_get_it(capsys):
    assert cli.main(["train", "--output-dir", "x"], plugins={}) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no package has added commands to nlp-service" in err and "pip install -e ." in err
    assert cli.main(["--help"], plugins={}) == 0 and "train" not in capsys.readouterr().out


def test_the_project_adds_train_and_eval_by_entry_point():
    declared = project_commands()
    assert set(declared) == {"train", "eval"}
    assert all(callable(entry.load()) for entry in declared.values())
    installed = {name: entry.value for name, entry in installed_commands().items()}
    if not installed:
        pytest.skip("the installed metadata predates the entry points: pip install -e . refreshes it")
    assert installed == {name: entry.value for name, entry in declared.items()}


def test_console_script_help_without_loading_models_or_training():
    code = (
        "import sys; from nlp_service import cli; import nlp_service.batch, nlp_service.serve.app\n"
        "from test_cli import project_commands\n"
        "code = cli.main(['--help'], plugins=project_commands())\n"
        "assert not [m for m in sys.modules if m.split('.')[0] == 'training'], 'imports training'\n"
        "assert 'torch' not in sys.modules, 'imports torch'\n"
        "sys.exit(code)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])},
    )
    assert result.returncode == 0, result.stderr
    for command in ("batch", "serve", "show", "eval", "train"):
        assert command in result.stdout


@pytest.mark.slow
def test_batch_on_the_examples_with_the_real_models(tmp_path, checkpoints, examples_path):
    out = tmp_path / "out.jsonl"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "nlp_service.cli",
            "batch",
            "-i",
            str(examples_path),
            "-o",
            str(out),
            "--no-progress",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=900,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "OMP_NUM_THREADS": "1"},
    )
    assert result.returncode == 0, result.stderr
    records = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r["id"] for r in records] == [f"ex-{i:02d}" for i in range(1, 13)]
    assert all("error" not in r and "themes" in r and r["summary"] for r in records)
    assert "rows in: 12, ok: 12, failed: 0" in result.stderr


def test_show_into_a_closed_pipe_stops_quietly(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text("".join(json.dumps({"id": str(i), "warnings": [], "model": {}}) + "\n" for i in range(5000)))
    proc = subprocess.run(
        f"{sys.executable} -m nlp_service.cli show {path} | head -1",
        shell=True, cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert proc.stdout == "0\n" and proc.stderr == ""
