"""Batch inference: readers, row → text, resume after a crash, ordering, error records (fake components)."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from nlp_service.analyzer import AnalyzeOptions, Analyzer
from nlp_service.batch import (
    DUPLICATE_ID,
    NO_TEXT,
    BadRow,
    BatchConfig,
    BatchError,
    read_jsonl,
    read_rows,
    row_id,
    row_text,
    run_batch,
)
from nlp_service.batch.outputs import scan_output
from nlp_service.batch.readers import detect_format

ROOT = Path(__file__).resolve().parent.parent


def write_jsonl(path: Path, rows: list[dict | str]) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for r in rows:
            fh.write((r if isinstance(r, str) else json.dumps(r)) + "\n")
    return path


def read_records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def quiet(**kw) -> BatchConfig:
    return BatchConfig(progress=False, **kw)


# -- readers -----------------------------------------------------------------------------------------------
def test_jsonl_reader_turns_broken_lines_into_bad_rows_and_skips_blank_lines():
    lines = ['{"id": "a", "text": "x"}\n', "\n", "{not json\n", "[1, 2]\n", '{"text": "y"}\n']
    rows = list(read_jsonl(io.StringIO("".join(lines))))
    assert [n for n, _ in rows] == [1, 3, 4, 5]  # numbers are physical line numbers
    assert rows[0][1] == {"id": "a", "text": "x"}
    assert isinstance(rows[1][1], BadRow) and "not valid JSON" in rows[1][1].reason
    assert isinstance(rows[2][1], BadRow) and rows[2][1].reason == "not a JSON object"
    assert row_id(rows[3][1], rows[3][0]) == "#5"


def test_csv_reader_needs_a_header_and_treats_empty_cells_as_missing(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text(
        'id,title,body\n7,"Title, with comma","Body\nover two lines"\n,Only a title,\n', encoding="utf-8"
    )
    rows = list(read_rows(str(path), "csv"))
    assert rows[0] == (1, {"id": "7", "title": "Title, with comma", "body": "Body\nover two lines"})
    assert rows[1] == (2, {"id": None, "title": "Only a title", "body": None})
    assert row_text(rows[1][1]) == "Only a title" and row_id(rows[1][1], 2) == "#2"

    (tmp_path / "nohead.csv").write_text("", encoding="utf-8")
    with pytest.raises(BatchError, match="header"):
        list(read_rows(str(tmp_path / "nohead.csv"), "csv"))
    (tmp_path / "wrong.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(BatchError, match="no 'text', 'title' or 'body' column"):
        list(read_rows(str(tmp_path / "wrong.csv"), "csv"))


def test_long_cells_and_bad_bytes_do_not_stop_a_run(tmp_path, fake_analyzer):
    src = tmp_path / "in.csv"
    long_text = "Kenya " + "word " * 40_000  # 200 kB, over the csv module's default cell limit
    src.write_bytes(b"id,text\n" + f"long,{long_text}\n".encode() + b"bad,caf\xe9 in Japan\n")
    out = tmp_path / "out.jsonl"
    stats = run_batch(fake_analyzer, str(src), str(out), quiet())
    records = read_records(out)
    assert stats.failed == 0 and [r["countries"][0]["code"] for r in records] == ["KE", "JP"]


def test_parquet_reader_streams_record_batches(tmp_path):
    path = tmp_path / "in.parquet"
    table = pa.table(
        {"id": [f"p{i}" for i in range(5)], "text": [f"article {i}" if i != 3 else None for i in range(5)]}
    )
    pq.write_table(table, path, row_group_size=2)
    rows = list(read_rows(str(path), "parquet"))
    assert [n for n, _ in rows] == [1, 2, 3, 4, 5]
    assert rows[0][1] == {"id": "p0", "text": "article 0"}
    with pytest.raises(ValueError, match="row has no text"):
        row_text(rows[3][1])  # a null cell is a missing text


def test_format_is_chosen_by_extension_unless_overridden():
    assert detect_format("a.jsonl") == "jsonl" and detect_format("a.CSV") == "csv"
    assert detect_format("a.parquet") == "parquet" and detect_format("-") == "jsonl"
    assert detect_format("a.txt", "csv") == "csv"
    with pytest.raises(BatchError, match="--format"):
        detect_format("a.txt")


# -- row → text / id ---------------------------------------------------------------------------------------
def test_row_text_prefers_text_then_title_and_body():
    assert row_text({"text": "T", "title": "ignored"}) == "T"
    assert row_text({"title": "Headline", "body": "Body."}) == "Headline\nBody."
    with pytest.raises(ValueError, match=r"^text must be a string, got int$"):
        row_text({"text": 12})
    with pytest.raises(ValueError, match=r"^body must be a string, got list$"):
        row_text({"title": "x", "body": ["a"]})
    with pytest.raises(ValueError) as err:
        row_text({"id": "x"})
    assert str(err.value) == NO_TEXT == "row has no text (expected 'text' or 'title'+'body')"


def test_row_id_is_a_string_or_the_row_number():
    assert row_id({"id": 42}, 1) == "42"
    assert row_id({"id": 42.0}, 1) == "42"  # pandas turns integer ids with gaps into floats
    assert row_id({"id": ""}, 9) == "#9"
    assert row_id({"id": ["no"]}, 3) == "#3"  # and the row becomes an error record (see below)


def test_a_row_number_id_is_never_a_given_id_and_both_are_reversible():
    from nlp_service.batch import input_id

    assert row_id({"text": "x"}, 3) == "#3" and row_id({"id": 3}, 3) == "3"
    assert row_id({"id": "#3"}, 1) == "##3" and row_id({"id": "##3"}, 1) == "###3"  # a given "#…" gets one more
    for given in ("3", "#3", "##3", "a#b", "\udc00", "\ud800"):
        assert input_id(row_id({"id": given}, 3)) == given
    assert input_id("#3") is None  # the row gave no id


# -- runner ------------------------------------------------------------------------------------------------
def test_records_come_out_in_input_order_although_batches_are_length_sorted(tmp_path, fake_analyzer):
    texts = [("x " * n).strip() + f" end{n}." for n in (30, 5, 20, 1, 12, 8, 25)]
    src = write_jsonl(tmp_path / "in.jsonl", [{"id": f"r{i}", "text": t} for i, t in enumerate(texts)])
    out = tmp_path / "out.jsonl"
    stats = run_batch(fake_analyzer, str(src), str(out), quiet(batch_size=3, window_factor=8))

    assert [r["id"] for r in read_records(out)] == [f"r{i}" for i in range(7)]
    assert (stats.rows_in, stats.ok, stats.failed, stats.skipped, stats.exit_code) == (7, 7, 0, 0, 0)
    calls = fake_analyzer._classifier.get().calls
    assert [len(c) for c in calls] == [3, 3, 1]
    lengths = [len(t) for call in calls for t in call]
    assert lengths == sorted(lengths), "inside a window, batches go shortest first"


def test_every_kind_of_bad_row_becomes_an_error_record_and_the_run_goes_on(tmp_path, fake_analyzer):
    src = write_jsonl(
        tmp_path / "in.jsonl",
        [
            {"id": "ok1", "text": "Kenya held an election."},
            "{broken json",
            {"id": "num", "text": 5},
            {"id": "none"},
            {"id": "blank", "text": "   "},
            {"id": "ok1", "text": "the same id again"},
            {"title": "Japan", "body": "The match was won."},
        ],
    )
    out = tmp_path / "out.jsonl"
    stats = run_batch(fake_analyzer, str(src), str(out), quiet(batch_size=2))
    records = {r["id"]: r for r in read_records(out)}
    assert [r["id"] for r in read_records(out)] == ["ok1", "#2", "num", "none", "blank", "ok1", "#7"]
    assert records["#2"]["error"].startswith("line 2: not valid JSON")
    assert records["num"]["error"] == "line 3: text must be a string, got int"
    assert records["none"]["error"] == f"line 4: {NO_TEXT}"
    assert records["blank"]["error"] == "line 5: empty text"
    assert read_records(out)[5]["error"].startswith(f"line 6: {DUPLICATE_ID} (the same as line 1; ")
    assert records["#7"]["countries"][0]["code"] == "JP" and "error" not in records["#7"]
    for r in read_records(out):
        if "error" in r:
            assert "themes" not in r and "summary" not in r
    assert (stats.ok, stats.failed, stats.exit_code) == (2, 5, 1)


def test_a_component_exception_fails_only_its_row(tmp_path, fake_analyzer):
    rows = [{"id": f"r{i}", "text": f"Article {i} about France."} for i in range(6)]
    rows[2]["text"] = "Article BOOM about France."
    src = write_jsonl(tmp_path / "in.jsonl", rows)
    out = tmp_path / "out.jsonl"
    stats = run_batch(fake_analyzer, str(src), str(out), quiet(batch_size=6))
    records = read_records(out)
    assert [r["id"] for r in records] == [f"r{i}" for i in range(6)]
    assert records[2]["error"] == "line 3: analysis failed: RuntimeError: fake classifier failure"
    assert all(
        "error" not in r and r["countries"][0]["code"] == "FR" for i, r in enumerate(records) if i != 2
    )
    assert (stats.ok, stats.failed) == (5, 1)


def test_tasks_not_run_are_left_out_and_options_reach_the_components(tmp_path, fake_analyzer):
    src = write_jsonl(
        tmp_path / "in.jsonl", [{"id": "a", "text": "One two three four five six seven eight."}]
    )
    out = tmp_path / "out.jsonl"
    opts = AnalyzeOptions(tasks=("summarize",), max_words=5, method="abstractive")
    run_batch(fake_analyzer, str(src), str(out), quiet(options=opts))
    [record] = read_records(out)
    assert record["summary"] == "One two three four five" and record["summary_method"] == "abstractive"
    assert not {"countries", "regions", "themes"} & record.keys()
    assert record["model"] == {"summarizer": "fake-summarizer-1"}


def test_resume_skips_done_ids_and_cuts_a_half_written_line(tmp_path, fake_analyzer):
    src = write_jsonl(
        tmp_path / "in.jsonl", [{"id": f"r{i}", "text": f"Article number {i}."} for i in range(5)]
    )
    out = tmp_path / "out.jsonl"
    run_batch(fake_analyzer, str(src), str(out), quiet())
    full = out.read_bytes().splitlines(keepends=True)
    out.write_bytes(b"".join(full[:2]) + full[2][:25])  # as if killed in the middle of writing r2

    stats = run_batch(fake_analyzer, str(src), str(out), quiet())
    assert [r["id"] for r in read_records(out)] == ["r0", "r1", "r2", "r3", "r4"]
    assert out.read_bytes() == b"".join(full)
    assert (stats.rows_in, stats.ok, stats.skipped) == (5, 3, 2)
    assert stats.line().startswith("rows in: 5, ok: 3, failed: 0, skipped (already done): 2, seconds: ")

    again = run_batch(fake_analyzer, str(src), str(out), quiet())
    assert (again.ok, again.skipped) == (0, 5) and out.read_bytes() == b"".join(full)


def test_resume_counts_duplicate_ids(tmp_path, fake_analyzer):
    src = write_jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": "first"}, {"id": "a", "text": "second"}])
    out = tmp_path / "out.jsonl"
    run_batch(fake_analyzer, str(src), str(out), quiet())
    assert scan_output(str(out)).counts == {"a": 2}
    lines = out.read_bytes().splitlines(keepends=True)
    out.write_bytes(lines[0])  # the duplicate's error record was lost
    run_batch(fake_analyzer, str(src), str(out), quiet())
    assert out.read_bytes() == b"".join(lines)


def test_usage_problems_raise_batch_error(tmp_path, fake_analyzer):
    with pytest.raises(BatchError, match="does not exist"):
        run_batch(fake_analyzer, str(tmp_path / "missing.jsonl"), str(tmp_path / "o.jsonl"), quiet())
    src = write_jsonl(tmp_path / "in.jsonl", [{"text": "x"}])
    with pytest.raises(BatchError, match="same file"):
        run_batch(fake_analyzer, str(src), str(src), quiet())
    (tmp_path / "bad.parquet").write_text("not parquet")
    with pytest.raises(BatchError, match="Parquet"):
        run_batch(fake_analyzer, str(tmp_path / "bad.parquet"), str(tmp_path / "o.jsonl"), quiet())


def test_models_that_cannot_load_stop_the_run_once(tmp_path, fake_summarizer):
    def broken():
        raise OSError("weights missing")

    analyzer = Analyzer(classifier=broken, summarizer=fake_summarizer)
    src = write_jsonl(tmp_path / "in.jsonl", [{"text": "a"}, {"text": "b"}])
    with pytest.raises(BatchError, match="cannot load the models: OSError: weights missing"):
        run_batch(analyzer, str(src), str(tmp_path / "o.jsonl"), quiet())


def test_a_run_killed_with_sigkill_resumes_without_duplicates_or_gaps(tmp_path, fake_analyzer):
    """The real crash: kill -9 a running batch, rerun, and every id is in the output exactly once."""
    n = 40
    src = write_jsonl(
        tmp_path / "in.jsonl", [{"id": f"r{i:02d}", "text": f"Article {i} from Chile."} for i in range(n)]
    )
    out = tmp_path / "out.jsonl"
    script = (
        "import sys; sys.path.insert(0, sys.argv[3])\n"
        "from conftest import FakeClassifier, FakeSummarizer\n"
        "from nlp_service.analyzer import Analyzer\n"
        "from nlp_service.batch import BatchConfig, run_batch\n"
        "a = Analyzer(classifier=FakeClassifier(delay=0.02), summarizer=FakeSummarizer())\n"
        "run_batch(a, sys.argv[1], sys.argv[2], BatchConfig(batch_size=2, progress=False))\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script, str(src), str(out), str(ROOT / "tests")], cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (not out.exists() or out.read_bytes().count(b"\n") < 6):
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    written = out.read_bytes().count(b"\n")
    assert 6 <= written < n, "the kill should land in the middle of the run"

    stats = run_batch(fake_analyzer, str(src), str(out), quiet())
    ids = [r["id"] for r in read_records(out)]
    assert ids == [f"r{i:02d}" for i in range(n)]
    assert stats.skipped == len(ids) - stats.ok and stats.failed == 0


def test_stdout_without_a_file_descriptor_still_gets_the_records(tmp_path, fake_analyzer, capsys):
    # capsys replaces sys.stdout with an in-memory stream, like a notebook does
    src = write_jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": "Norway."}, {"id": "b", "text": "India."}])
    run_batch(fake_analyzer, str(src), "-", quiet())
    records = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [(r["id"], r["countries"][0]["code"]) for r in records] == [("a", "NO"), ("b", "IN")]
