"""The batch script under hostile rows and file faults: every bad row is an error record naming its row, a
fault stops the run with its own exit code and one line, a second run on the same output is refused, a resume
counts what the output holds, and SIGTERM / SIGKILL leave a file that resumes exactly (fake components)."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import random
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from nlp_service import cli
from nlp_service.batch import BatchConfig, BatchError, run_batch
from nlp_service.batch import outputs as batch_output

ROOT = Path(__file__).resolve().parent.parent


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_bytes().decode("utf-8").splitlines()]


def quiet(**kw) -> BatchConfig:
    return BatchConfig(progress=False, **kw)


@pytest.fixture
def use_fakes(monkeypatch, fake_analyzer):
    monkeypatch.setattr(cli, "load_analyzer", lambda checkpoint: fake_analyzer)
    return fake_analyzer


def batch(*args: str) -> int:
    return cli.main(["batch", *args, "--no-progress"])


# -- bad rows ------------------------------------------------------------------------------------------------
def test_lone_surrogates_in_id_or_text_do_not_stop_the_run(tmp_path, fake_analyzer):
    src = write_lines(
        tmp_path / "in.jsonl",
        [
            '{"id": "\\udc00", "text": "Kenya held an election."}',
            '{"id": "s2", "text": "Japan \\ud800 won the match."}',
            '{"id": "s3", "text": "France."}',
        ],
    )
    out = tmp_path / "out.jsonl"
    stats = run_batch(fake_analyzer, str(src), str(out), quiet())
    got = records(out)  # decodes as strict UTF-8
    assert [r["id"] for r in got] == ["\\udc00", "s2", "s3"]  # the lone surrogate escaped, not replaced
    assert all("error" not in r for r in got) and stats.exit_code == 0
    again = run_batch(fake_analyzer, str(src), str(out), quiet())  # the repaired id resumes as done
    assert (again.skipped, len(records(out))) == (3, 3)


def test_wrong_types_and_nested_json_become_error_records_naming_the_row(tmp_path, fake_analyzer):
    src = write_lines(
        tmp_path / "in.jsonl",
        [
            '{"id": "ok", "text": "Kenya."}',
            '{"id": ["a"], "text": "Norway."}',
            '{"id": "nest", "text": {"body": "x"}}',
            '{"id": true, "text": "India."}',
            "[" * 100_000,
            '{"id": "late", "content": "the wrong field name"}',
        ],
    )
    out = tmp_path / "out.jsonl"
    stats = run_batch(fake_analyzer, str(src), str(out), quiet())
    errors = [r.get("error") for r in records(out)]
    assert errors[0] is None
    assert errors[1] == "line 2: id must be a string or a number, got array"
    assert errors[2] == "line 3: text must be a string, got dict"
    assert errors[3] == "line 4: id must be a string or a number, got boolean"
    assert errors[4].startswith("line 5: not valid JSON")
    assert errors[5] == (
        "line 6: row has no text (expected 'text' or 'title'+'body'); it has: content, id"
    )
    assert (stats.ok, stats.failed, stats.exit_code) == (1, 5, 1)


def test_a_number_too_long_for_python_is_an_error_record_and_the_run_goes_on(tmp_path, use_fakes, capsys):
    """json.loads refuses integers past 4,300 digits with a ValueError: that row fails alone, every run."""
    src = write_lines(
        tmp_path / "in.jsonl",
        ['{"id": "a", "text": "Kenya."}', '{"id": "b", "text": "Japan.", "n": ' + "9" * 5000 + "}",
         '{"id": "c", "text": "Chile."}'],
    )
    out = tmp_path / "out.jsonl"
    assert batch("-i", str(src), "-o", str(out)) == 1
    got = records(out)
    assert [r.get("error") for r in got] == [
        None, "line 2: not valid JSON here: a number has more than 4300 digits", None
    ]
    assert "rows in: 3, ok: 2, failed: 1" in capsys.readouterr().err
    assert batch("-i", str(src), "-o", str(out)) == 1 and len(records(out)) == 3  # a rerun resumes, no raise


def test_any_exception_while_parsing_a_line_is_an_error_record_naming_it(monkeypatch):
    from nlp_service.batch import readers as batch_module

    def loads(line: str) -> object:
        if "bad" in line:
            raise MemoryError("too big")
        return json.loads(line)

    monkeypatch.setattr(batch_module, "_LENIENT_JSON", type("J", (), {"decode": staticmethod(loads)}))
    rows = list(batch_module.read_jsonl(['{"text": "ok"}\n', '{"text": "bad"}\n']))
    assert rows[0] == (1, {"text": "ok"})
    assert rows[1][0] == 2 and rows[1][1].reason == "cannot be read as JSON (MemoryError: too big)"


def test_a_wrong_text_field_name_throughout_stops_jsonl_and_parquet_like_csv(tmp_path, use_fakes, capsys):
    src = write_lines(tmp_path / "in.jsonl", [json.dumps({"id": i, "content": "x"}) for i in range(3)])
    out = tmp_path / "out.jsonl"
    assert batch("-i", str(src), "-o", str(out)) == 2
    assert "has a 'text', 'title' or 'body' field (found: content, id)" in capsys.readouterr().err
    assert out.read_text() == ""

    pq.write_table(pa.table({"id": ["a"], "content": ["x"]}), tmp_path / "in.parquet")
    assert batch("-i", str(tmp_path / "in.parquet"), "-o", str(out)) == 2
    assert "no 'text', 'title' or 'body' column (found: id, content)" in capsys.readouterr().err


def test_ids_7_and_string_7_and_7_0_are_one_id_and_later_rows_say_so(tmp_path, fake_analyzer):
    src = write_lines(
        tmp_path / "in.jsonl",
        ['{"id": 7, "text": "Kenya."}', '{"id": "7", "text": "Japan."}', '{"id": 7.0, "text": "Chile."}'],
    )
    out = tmp_path / "out.jsonl"
    run_batch(fake_analyzer, str(src), str(out), quiet())
    got = records(out)
    assert [r["id"] for r in got] == ["7", "7", "7"]
    assert got[0]["countries"][0]["code"] == "KE"
    for line, r in zip((2, 3), got[1:], strict=True):
        assert r["error"] == f'line {line}: duplicate id (the same as line 1; ids compare as text, so 7, "7" ' \
            'and 7.0 are one id)'


def test_an_unclosed_csv_quote_is_reported_with_the_lines_it_swallowed(tmp_path, fake_analyzer):
    src = tmp_path / "in.csv"
    src.write_text(
        'id,text\n1,"Kenya held an election.\n2,"Japan won the match."\n3,"France."\n4,Chile.\n5,a,b\n',
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    stats = run_batch(fake_analyzer, str(src), str(out), quiet())
    got = records(out)
    assert got[0]["id"] == "#1" and got[0]["error"].startswith("row 1: row is not valid CSV")
    assert "lines 2-3 of the file were read as this one row, probably because of a quote that is not closed" in (
        got[0]["error"]
    )
    assert [r["id"] for r in got[1:]] == ["3", "4", "5"]
    assert got[1]["countries"][0]["code"] == "FR" and got[2]["countries"][0]["code"] == "CL"
    assert got[3]["error"] == "row 4: row has 3 cells, the header 2 (a comma in a cell that is not quoted?)"
    assert stats.failed == 2


# -- the lock ------------------------------------------------------------------------------------------------
def test_a_second_run_on_a_locked_output_is_refused_with_exit_4(tmp_path, use_fakes, capsys):
    src = write_lines(tmp_path / "in.jsonl", ['{"id": "a", "text": "Kenya."}'])
    out = tmp_path / "out.jsonl"
    with open(out, "a") as holder:
        fcntl.flock(holder, fcntl.LOCK_EX)  # as a running batch holds it
        assert batch("-i", str(src), "-o", str(out)) == 4
    assert "another run is writing to" in capsys.readouterr().err
    assert out.read_text() == ""
    assert batch("-i", str(src), "-o", str(out)) == 0  # the lock goes with its holder
    assert len(records(out)) == 1


# -- file faults ---------------------------------------------------------------------------------------------
def test_a_full_disk_stops_with_exit_3_and_one_line(tmp_path, use_fakes, monkeypatch, capsys):
    src = write_lines(tmp_path / "in.jsonl", [json.dumps({"id": f"r{i}", "text": "Kenya."}) for i in range(5)])
    out = tmp_path / "out.jsonl"
    real_write, calls = os.write, []

    def write(fd: int, data: bytes) -> int:
        calls.append(fd)
        if len(calls) > 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    monkeypatch.setattr(batch_output.os, "write", write)
    assert batch("-i", str(src), "-o", str(out)) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "the disk is full; 2 records were written in this run. Make room and run the same command" in err
    monkeypatch.setattr(batch_output.os, "write", real_write)
    assert batch("-i", str(src), "-o", str(out)) == 0
    assert [r["id"] for r in records(out)] == [f"r{i}" for i in range(5)]


@pytest.fixture
def small_tmpfs(tmp_path):
    """A 64 KiB tmpfs (a real full disk), where the platform lets the tests mount one; skipped elsewhere."""
    mount = tmp_path / "small"
    mount.mkdir()
    if os.geteuid() != 0 or subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True
    ).returncode:
        pytest.skip("cannot mount a tmpfs here; the simulated ENOSPC test covers the same path")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_really_full_disk_stops_with_exit_3_and_resumes_once_there_is_room(
    tmp_path, small_tmpfs, use_fakes, capsys
):
    n = 300
    sentence = "Kenya held a long election campaign that took many weeks of speeches and rallies. "
    rows = [json.dumps({"id": f"r{i:03d}", "text": sentence * 3}) for i in range(n)]
    src = write_lines(tmp_path / "in.jsonl", rows)
    out = small_tmpfs / "out.jsonl"
    assert batch("-i", str(src), "-o", str(out)) == 3
    err = capsys.readouterr().err
    assert "the disk is full" in err and err.count("\n") == 1
    assert out.stat().st_size > 0
    subprocess.run(["mount", "-o", "remount,size=4m", str(small_tmpfs)], check=True)  # make room
    assert batch("-i", str(src), "-o", str(out)) == 0
    assert [r["id"] for r in records(out)] == [f"r{i:03d}" for i in range(n)]


@pytest.mark.parametrize(
    "case, message",
    [
        ("parent_is_file", "is a file, not a folder"),
        ("output_is_folder", "is a folder; pass a file name"),
        ("dev_zero", "/dev/zero is not a regular file"),
        ("input_is_folder", "is a folder; pass a file"),
        ("input_missing", "does not exist"),
        ("corrupt_parquet", "the file is damaged"),
    ],
)
def test_file_faults_exit_3_with_one_clear_line(tmp_path, use_fakes, capsys, case, message):
    src = write_lines(tmp_path / "in.jsonl", ['{"id": "a", "text": "Kenya."}'])
    out = tmp_path / "out.jsonl"
    if case == "parent_is_file":
        (tmp_path / "f").write_text("x")
        out = tmp_path / "f" / "out.jsonl"
    elif case == "output_is_folder":
        out = tmp_path
    elif case == "dev_zero":
        out = Path("/dev/zero")
    elif case == "input_is_folder":
        src = tmp_path
    elif case == "input_missing":
        src = tmp_path / "missing.jsonl"
    elif case == "corrupt_parquet":
        src = corrupt_parquet(tmp_path / "in.parquet")
    assert batch("-i", str(src), "-o", str(out)) == 3
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err
    if case == "corrupt_parquet":
        assert [r["id"] for r in records(out)] == [f"p{i}" for i in range(50)]  # the good row group is done


def corrupt_parquet(path: Path) -> Path:
    """Two row groups of 50 rows; the second's data pages are overwritten (the footer stays readable)."""
    texts = [f"Article {i} about Kenya. " + "filler words " * 30 for i in range(100)]
    pq.write_table(
        pa.table({"id": [f"p{i}" for i in range(100)], "text": texts}),
        path,
        row_group_size=50,
        compression="snappy",
    )
    meta = pq.ParquetFile(path).metadata
    group = meta.row_group(1).column(1)
    start = group.dictionary_page_offset or group.data_page_offset
    data = bytearray(path.read_bytes())
    for i in range(start + 20, start + group.total_compressed_size - 20):
        data[i] = 0xAB
    path.write_bytes(bytes(data))
    return path


def test_an_unexpected_error_is_one_line_and_exit_70_never_1(tmp_path, use_fakes, monkeypatch, capsys):
    from nlp_service.cli import batch as batch_module  # where the command looks run_batch up

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(batch_module, "run_batch", broken)
    src = write_lines(tmp_path / "in.jsonl", ['{"id": "a", "text": "Kenya."}'])
    assert batch("-i", str(src), "-o", str(tmp_path / "out.jsonl")) == 70
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "internal error: RuntimeError: a bug (run with -v for the traceback)" in err


# -- resume --------------------------------------------------------------------------------------------------
def test_a_resume_with_other_tasks_is_refused(tmp_path, use_fakes, capsys):
    src = write_lines(tmp_path / "in.jsonl", [json.dumps({"id": f"r{i}", "text": "Kenya."}) for i in range(3)])
    out = tmp_path / "out.jsonl"
    assert batch("-i", str(src), "-o", str(out), "--tasks", "classify") == 0
    capsys.readouterr()
    assert batch("-i", str(src), "-o", str(out)) == 2
    err = capsys.readouterr().err
    assert "holds records made with --tasks classify, and this run asks for --tasks classify,summarize" in err
    assert "rerun with the same --tasks" in err and len(records(out)) == 3


def test_exit_code_and_summary_count_error_records_of_an_earlier_run(tmp_path, use_fakes, capsys):
    rows = [json.dumps({"id": "a", "text": "Kenya."}), json.dumps({"id": "b", "text": ""})]
    src = write_lines(tmp_path / "in.jsonl", rows)
    out = tmp_path / "out.jsonl"
    assert batch("-i", str(src), "-o", str(out)) == 1
    capsys.readouterr()
    write_lines(src, [*rows, json.dumps({"id": "c", "text": "Japan."})])
    assert batch("-i", str(src), "-o", str(out)) == 1
    assert "ok: 1, failed: 1 (1 from an earlier run), skipped (already done): 2" in capsys.readouterr().err


# -- signals -------------------------------------------------------------------------------------------------
CHILD = """
import sys
sys.path.insert(0, sys.argv[1])
from conftest import FakeClassifier, FakeSummarizer
from nlp_service import cli
from nlp_service.analyzer import Analyzer
cli.load_analyzer = lambda checkpoint: Analyzer(classifier=FakeClassifier(delay=float(sys.argv[2])),
                                                summarizer=FakeSummarizer())
sys.exit(cli.main(["batch", *sys.argv[3:], "--batch-size", "2", "--no-progress"]))
"""


def start_child(src: Path, out: Path, delay: float = 0.02) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(ROOT / "tests"), str(delay), "-i", str(src), "-o", str(out)],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_lines(out: Path, n: int, proc: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and proc.poll() is None:
        if out.exists() and out.read_bytes().count(b"\n") >= n:
            return
        time.sleep(0.01)


def test_sigterm_finishes_the_write_prints_a_resume_hint_and_exits_143(tmp_path, fake_analyzer):
    n = 200  # 4 s of work at least: the signal lands long before the end, however busy the machine
    src = write_lines(tmp_path / "in.jsonl", [json.dumps({"id": f"r{i:03d}", "text": "Chile."}) for i in range(n)])
    out = tmp_path / "out.jsonl"
    proc = start_child(src, out)
    wait_for_lines(out, 6, proc)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert "nlp-service: stopped by SIGTERM after writing" in err
    assert "records; run the same command again to resume" in err and "Traceback" not in err
    assert out.read_bytes().endswith(b"\n")
    written = len(records(out))
    assert 6 <= written < n
    run_batch(fake_analyzer, str(src), str(out), quiet())
    assert [r["id"] for r in records(out)] == [f"r{i:03d}" for i in range(n)]


def test_five_random_sigkills_in_one_file_then_resume_give_every_id_once(tmp_path, fake_analyzer):
    n, kills = 240, 0  # 5 kills take at most ~100 rows: the last one still lands before the end
    rng = random.Random(16)
    src = write_lines(tmp_path / "in.jsonl", [json.dumps({"id": f"r{i:03d}", "text": "Brazil."}) for i in range(n)])
    out = tmp_path / "out.jsonl"
    while kills < 5:
        done = out.read_bytes().count(b"\n") if out.exists() else 0
        proc = start_child(src, out, delay=0.01)
        wait_for_lines(out, done + rng.randint(1, 12), proc)
        time.sleep(rng.random() * 0.05)  # land anywhere: in a model call, a write, the resume scan
        proc.kill()
        proc.communicate(timeout=30)
        kills += 1
    assert out.read_bytes().count(b"\n") < n, "the kills should land before the end"
    stats = run_batch(fake_analyzer, str(src), str(out), quiet())
    ids = [r["id"] for r in records(out)]  # every line is whole JSON
    assert ids == [f"r{i:03d}" for i in range(n)] and stats.exit_code == 0


# -- quiet libraries and the progress bar --------------------------------------------------------------------
def test_library_future_warnings_are_silenced(monkeypatch):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cli.quiet_libraries()
        warnings.warn_explicit("x is deprecated", FutureWarning, "modeling_utils.py", 1, "transformers.modeling")
        warnings.warn_explicit("ours", FutureWarning, "batch.py", 1, "nlp_service.batch.runner")
    assert [str(w.message) for w in caught] == ["ours"]
    assert os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] == "1"


def test_the_progress_clock_starts_after_the_models_load(tmp_path, fake_classifier, fake_summarizer, monkeypatch):
    from nlp_service.analyzer import Analyzer
    from nlp_service.batch import runner as batch_module

    loaded_at: list[float] = []

    def slow_classifier():
        time.sleep(0.2)
        loaded_at.append(time.time())
        return fake_classifier

    bars = []
    real_progress = batch_module._progress

    def progress(*args):
        bars.append(real_progress(*args))
        return bars[-1]

    monkeypatch.setattr(batch_module, "_progress", progress)
    src = write_lines(tmp_path / "in.jsonl", ['{"id": "a", "text": "Kenya."}', '{"id": "b", "text": ""}'])
    analyzer = Analyzer(classifier=slow_classifier, summarizer=fake_summarizer)
    run_batch(analyzer, str(src), str(tmp_path / "out.jsonl"), BatchConfig(progress=True))
    assert bars[0].start_t >= loaded_at[0]  # the rate (and ETA) counts analysis, not loading


def test_batch_error_is_still_importable_from_batch():
    assert issubclass(BatchError, Exception)
