"""Engine building blocks without Ray: input specs, windows equal to the local runner's, output folders."""

from __future__ import annotations

import importlib.util
import json
import os
from collections import Counter
from pathlib import Path

import pytest

from nlp_service.batch import BatchConfig, BatchError, run_batch
from nlp_service.batch.engines.inputs import expand_input, read_windows
from nlp_service.batch.engines.outputs import (
    StaleJob,
    already_written,
    claim_folder,
    output_target,
    read_output,
    write_shard,
)
from nlp_service.batch.parquet_records import records_to_table, table_to_records


def jsonl(path: Path, rows: list[dict | str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return path


def test_an_input_spec_is_a_file_a_folder_or_a_glob(tmp_path):
    a = jsonl(tmp_path / "in" / "a.jsonl", [{"text": "x"}])
    jsonl(tmp_path / "in" / "sub" / "b.jsonl", [{"text": "y"}])
    (tmp_path / "in" / "notes.txt").write_text("not an input")
    assert [f.label for f in expand_input(str(a))] == ["a.jsonl"]
    assert [f.label for f in expand_input(str(tmp_path / "in"))] == ["a.jsonl", "sub/b.jsonl"]
    assert [f.label for f in expand_input(str(tmp_path / "in" / "**" / "*.jsonl"))] == ["a.jsonl", "sub/b.jsonl"]
    with pytest.raises(BatchError, match="does not exist"):
        expand_input(str(tmp_path / "missing.jsonl"))
    with pytest.raises(BatchError, match="names no"):
        expand_input(str(tmp_path / "in" / "*.csv"))


def test_windows_hold_the_rows_the_local_runner_batches_together(tmp_path, fake_analyzer):
    rows = [{"id": f"r{i}", "text": f"Article {i} from Kenya."} for i in range(50)]
    rows[3] = "{broken"
    rows[7] = {"id": "r1", "text": "a repeated id"}
    src = jsonl(tmp_path / "in.jsonl", rows)
    [source] = expand_input(str(src))
    windows = list(read_windows(source, 16, Counter({"r0": 1, "r20": 1}), multi_file=False))
    assert [len(w.items) for w in windows] == [16, 16, 16]
    assert sum(w.skipped for w in windows) == 2 and sum(w.rows_in for w in windows) == 50
    assert windows[0].items[2].record.error.startswith("line 4: not valid JSON")
    assert windows[0].items[6].record.error.startswith("line 8: duplicate id (the same as line 2;")
    assert len({w.key for w in windows}) == 3


def test_rows_without_ids_in_a_multi_file_input_are_named_by_file_and_row(tmp_path):
    jsonl(tmp_path / "in" / "a.jsonl", [{"text": "x"}, {"id": 7, "text": "y"}])
    jsonl(tmp_path / "in" / "b.jsonl", [{"text": "z"}])
    ids = [
        item.id
        for source in expand_input(str(tmp_path / "in"))
        for window in read_windows(source, 8, Counter(), multi_file=True)
        for item in window.items
    ]
    assert ids == ["#a.jsonl:1", "7", "#b.jsonl:1"]


def test_output_is_a_file_for_jsonl_names_and_a_folder_otherwise(tmp_path):
    assert not output_target(str(tmp_path / "o.jsonl")).is_folder
    assert output_target(str(tmp_path / "shards"), "parquet").shard_format == "parquet"
    (tmp_path / "plain").write_text("x")
    with pytest.raises(BatchError, match="is a file"):
        output_target(str(tmp_path / "plain"))


@pytest.mark.parametrize("shard_format", ["jsonl", "parquet"])
def test_shards_round_trip_the_records_and_resume_reads_their_ids(tmp_path, fake_analyzer, shard_format):
    src = jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": "Kenya held an election."}, {"id": "b"}])
    local = tmp_path / "local.jsonl"
    run_batch(fake_analyzer, str(src), str(local), BatchConfig(progress=False))
    records = read_output(str(local))
    folder = tmp_path / "shards"
    write_shard(str(folder), "k1", records, shard_format)
    (folder / ".tmp-dead-part-k2.jsonl").write_text('{"id": "half')  # a shard a killed run left unfinished
    assert read_output(str(folder)) == records
    previous = already_written(output_target(str(folder), shard_format))
    assert previous.counts == Counter({"a": 1, "b": 1}) and previous.failed == 1
    assert not list(folder.glob(".tmp-*"))


def test_parquet_schema_refuses_a_field_it_does_not_know():
    with pytest.raises(ValueError, match="surprise"):
        records_to_table([{"id": "a", "surprise": 1}])
    assert table_to_records(records_to_table([{"id": "a", "warnings": [], "model": {}}])) == [
        {"id": "a", "warnings": [], "model": {}}
    ]


def test_ray_options_need_the_ray_engine(tmp_path, capsys):
    from nlp_service import cli

    src = jsonl(tmp_path / "in.jsonl", [{"text": "x"}])
    code = cli.main(["batch", "-i", str(src), "-o", str(tmp_path / "o.jsonl"), "--num-actors", "4", "--no-progress"])
    assert code == 2 and "need --engine ray" in capsys.readouterr().err
    assert not (tmp_path / "o.jsonl").exists()


@pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="the ray extra is not installed")
def test_a_ray_job_refuses_what_it_cannot_do_before_ray_starts(tmp_path, capsys, checkpoints):
    """A misspelt threshold name (checked against the checkpoint, no model loads) and --shard-format with a
    one-file output are one line and exit code 2, before Ray starts and before anything is written."""
    from nlp_service import cli

    src = jsonl(tmp_path / "in.jsonl", [{"text": "Kenya votes."}])
    ray_job = ["batch", "-i", str(src), "--engine", "ray", "--no-progress", "--checkpoint", str(checkpoints)]
    assert cli.main([*ray_job, "-o", str(tmp_path / "o.jsonl"), "--threshold", "politcs=0.3"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("nlp-service: error: unknown threshold name 'politcs' (did you mean 'politics'?)")
    assert len(err.splitlines()) == 1
    for output in ("o.jsonl", "o.csv", "o.parquet"):
        assert cli.main([*ray_job, "-o", str(tmp_path / output), "--shard-format", "parquet"]) == 2
        err = capsys.readouterr().err
        assert "--shard-format is for a folder --output" in err and "drop --shard-format" in err
        assert len(err.splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.jsonl"]


def test_the_ray_engine_without_ray_installed_says_how_to_get_it(tmp_path, capsys, monkeypatch):
    import importlib.util

    from nlp_service import cli

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "ray" else real(name, *a))
    src = jsonl(tmp_path / "in.jsonl", [{"text": "x"}])
    assert cli.main(["batch", "-i", str(src), "-o", str(tmp_path / "o.jsonl"), "--engine", "ray"]) == 2
    assert "make setup-ray" in capsys.readouterr().err


def test_a_worker_of_a_job_that_lost_the_folder_adds_no_shard(tmp_path):
    folder = str(tmp_path / "shards")
    claim_folder(folder, "job-1")
    write_shard(folder, "a", [{"id": "x", "warnings": [], "model": {}}], "jsonl", job="job-1")
    claim_folder(folder, "job-2")  # a rerun took over
    with pytest.raises(StaleJob, match="job-2"):
        write_shard(folder, "b", [{"id": "y", "warnings": [], "model": {}}], "jsonl", job="job-1")
    assert [r["id"] for r in read_output(folder)] == ["x"]
    assert sorted(os.listdir(folder)) == [".job", "part-a.jsonl"]


def test_parquet_rows_keep_country_mentions_and_theme_evidence():
    record = {
        "id": "a",
        "countries": [
            {"code": "KE", "name": "Kenya", "score": 0.9,
             "evidence": [{"surface": "Kenya", "kind": "name", "start": 0, "end": 5}]},
        ],
        "themes": [
            {"name": "politics", "code": "medtop:11000000", "score": 0.8,
             "evidence": {"sentence": "Kenya held an election.", "terms": ["election"]}},
            {"name": "economy, business and finance", "code": "medtop:04000000", "score": 0.6},
        ],
        "warnings": [],
        "model": {"classifier": "c1"},
    }
    assert table_to_records(records_to_table([record])) == [record]
