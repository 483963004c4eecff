"""Property-based fuzzing (hypothesis) of the Python API, the batch readers (JSONL, CSV, Parquet) and the HTTP
API with hostile input: random unicode with lone surrogates, control, zero-width and bidi characters, HTML,
huge strings, nested and odd JSON, wrong types, empty and duplicate ids. Fake models, real cleaning.

Properties: nothing raises but the documented errors, nothing hangs, and every input row is in the output
exactly once (as a result or an error record), in input order; a rerun resumes to the same file.

The default run tries a few hundred cases in all; ``make fuzz`` (NLP_FUZZ=1, marker ``fuzz``) tries 10,000 and
prints how many each target ran.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import math
import os
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_server import LiveServer, wait_ready

from nlp_service.analyzer import Analyzer
from nlp_service.batch import BatchConfig, BatchError, run_batch
from nlp_service.records import Analysis
from nlp_service.server import create_app
from nlp_service.text import InputError

# Cases per target: (default run, make fuzz). The long run's figures sum to 10,000.
CASES = {
    "python_api": (80, 2500),
    "batch_jsonl": (60, 2500),
    "batch_csv": (50, 1500),
    "batch_parquet": (30, 1000),
    "http": (80, 2500),
}
LONG = os.environ.get("NLP_FUZZ") == "1"
# A hang is an example that takes longer than this (fake models answer in milliseconds); no limit in the
# default run, where a loaded CI machine must not turn slowness into a failure.
HANG_MS = 30_000 if LONG else None
ran: Counter[str] = Counter()

# -- strategies ----------------------------------------------------------------------------------------------
SPECIAL = [
    "\udc00", "\ud800", "\udfff",  # lone surrogates
    "\x00", "\x01", "\x07", "\x1b", "\x7f", "\x85", "\x9b",  # control
    "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad",  # zero-width, BOM, soft hyphen
    "\u202e", "\u202a", "\u2066",  # bidi
    "\u2028", "\u2029", "\r", "\n", "\t", "\x0b", "\x0c",  # line breaks of every kind
    "<", ">", "&", "&amp;", '"', "'", ",", ";", "\\", "{", "}", "[", "]",
    "国", "務", "한", "ع", "é", "ß", "😀", "\U0001f3f3\ufe0f\u200d\U0001f308",
]
WORDS = ["Kenya", "election", "France", "match", "flood", "bank", "the", "said", "on", "Tuesday", "."]
TAGS = ["p", "div", "script", "style", "title", "b", "nav", "footer", "a", "li", "html", "body", "head"]

pieces = st.one_of(st.characters(), st.sampled_from(SPECIAL))
hostile_text = st.lists(pieces, max_size=40).map("".join)
prose = st.lists(st.sampled_from(WORDS), min_size=1, max_size=30).map(" ".join)


@st.composite
def html_text(draw: st.DrawFn) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 6))):
        tag = draw(st.sampled_from(TAGS))
        inner = draw(st.one_of(prose, hostile_text))
        closed = draw(st.booleans())
        parts.append(f"<{tag}>{inner}" + (f"</{tag}>" if closed else ""))
    prefix = draw(st.sampled_from(["", "<!DOCTYPE html>", "<html><body>"]))
    return prefix + "".join(parts)


huge_text = st.integers(5_000, 60_000).map(lambda n: ("Kenya held an election. " * (n // 24 + 1))[:n])
texts = st.one_of(prose, hostile_text, html_text(), st.just(""), st.just("   "), huge_text)
json_leaf = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True), hostile_text
)
odd_json = st.recursive(
    json_leaf, lambda c: st.lists(c, max_size=3) | st.dictionaries(hostile_text, c, max_size=3), max_leaves=6
)
ids = st.one_of(
    st.none(),
    st.just(""),
    st.sampled_from(["7", 7, 7.0, "a", "a", "\udc00"]),  # duplicates on purpose
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    hostile_text,
    odd_json,
)
text_values = st.one_of(texts, texts, texts, odd_json)  # mostly strings, sometimes anything


@st.composite
def rows(draw: st.DrawFn) -> dict:
    row = {}
    if draw(st.integers(0, 4)):
        row["id"] = draw(ids)
    shape = draw(st.sampled_from(["text", "text", "text", "title_body", "title", "content", "none"]))
    if shape == "text":
        row["text"] = draw(text_values)
    elif shape == "title_body":
        row["title"], row["body"] = draw(text_values), draw(text_values)
    elif shape == "title":
        row["title"] = draw(text_values)
    elif shape == "content":
        row["content"] = draw(text_values)  # a wrong field name
    if draw(st.integers(0, 5)) == 0:
        row[draw(hostile_text)] = draw(odd_json)  # an extra field
    return row


def fuzz(name: str, *strategies: st.SearchStrategy, **kw) -> Callable:
    """Decorate a property: hypothesis with this target's number of cases, counted in ``ran``."""
    default, long = CASES[name]

    def wrap(prop: Callable) -> Callable:
        @functools.wraps(prop)  # hypothesis reads the property's signature through __wrapped__
        def counted(*args, **kwargs):
            ran[name] += 1
            return prop(*args, **kwargs)

        return settings(
            max_examples=long if LONG else default,
            deadline=HANG_MS,
            suppress_health_check=list(HealthCheck),
            database=None,
            derandomize=not LONG,  # the default run is the same every time; make fuzz explores
        )(given(*strategies, **kw)(counted))

    return wrap


# -- helpers -------------------------------------------------------------------------------------------------
def read_output(path: Path) -> list[dict]:
    """Every line whole JSON, the file strict UTF-8."""
    if not path.exists():
        return []
    lines = path.read_bytes().decode("utf-8").split("\n")
    assert lines[-1] == "" and len(lines) == len(path.read_text("utf-8").splitlines()) + 1  # splitlines-safe
    return [json.loads(line) for line in lines[:-1]]


def plain_id(row: object) -> str | None:
    """The id a record must carry when the row's id is plain text (no repair, no renumbering)."""
    if not isinstance(row, dict):
        return None
    value = row.get("id")
    if isinstance(value, str) and value and not re.search(r"[\ud800-\udfff]", value):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def has_text_field(row: object) -> bool:
    return isinstance(row, dict) and bool({"text", "title", "body"} & row.keys())


def check_batch(analyzer: Analyzer, src: Path, out: Path, expected: list[object], fmt: str) -> None:
    """One record per input row, in order, ids kept; a rerun changes nothing."""
    try:
        stats = run_batch(analyzer, str(src), str(out), BatchConfig(progress=False, batch_size=4, fmt=fmt))
    except BatchError as exc:  # documented stop: no row of the first ones has a text field at all
        assert not any(has_text_field(r) for r in expected[:100]), exc
        assert read_output(out) == []
        return
    records = read_output(out)
    assert len(records) == len(expected) == stats.rows_in
    assert stats.ok + stats.failed == len(expected)
    for row, record in zip(expected, records, strict=True):
        want = plain_id(row)
        if want is not None:
            assert record["id"] == want
        assert ("error" in record) != ("themes" in record)
    before = out.read_bytes()
    again = run_batch(analyzer, str(src), str(out), BatchConfig(progress=False, batch_size=4, fmt=fmt))
    assert again.skipped == len(expected) and out.read_bytes() == before


# -- Python API ----------------------------------------------------------------------------------------------
@fuzz("python_api", st.lists(text_values, max_size=6), st.booleans())
def run_python_api(analyzer: Analyzer, values: list, with_ids: bool) -> None:
    ids_ = [str(i) for i in range(len(values))] if with_ids else None
    records = analyzer.analyze(values, ids=ids_)
    assert len(records) == len(values)
    for record in records:
        assert isinstance(record, Analysis)
        assert (record.error is None) == (record.themes is not None)
        json.dumps(record.to_dict(), ensure_ascii=False).encode("utf-8")  # writable as UTF-8 JSON
        if record.summary is not None:
            assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f\u200b\u202e\ud800-\udfff]", record.summary)
    if values and isinstance(values[0], str):
        try:
            single = analyzer.analyze(values[0])
        except InputError:
            return
        assert single.error is None


def test_python_api_never_raises_for_a_bad_row(fake_analyzer):
    run_python_api(fake_analyzer)


# -- batch readers -------------------------------------------------------------------------------------------
@st.composite
def jsonl_files(draw: st.DrawFn) -> tuple[str, list[object]]:
    lines, expected = [], []
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.sampled_from(["row", "row", "row", "row", "garbage", "blank", "array"]))
        if kind == "row":
            row = draw(rows())
            lines.append(json.dumps(row, ensure_ascii=True))
        elif kind == "garbage":
            row = draw(hostile_text.filter(lambda t: "\n" not in t and "\r" not in t))
            lines.append(row)
        elif kind == "array":
            row = draw(odd_json)
            lines.append(json.dumps(row, ensure_ascii=True))
        else:
            lines.append(draw(st.sampled_from(["", " ", "\t"])))
    content = "".join(line + "\n" for line in lines)
    # The rows the reader sees: lines as a text file splits them, blank ones skipped.
    for line in io.StringIO(content, newline=""):
        if line.strip():
            try:
                expected.append(json.loads(line))
            except (ValueError, RecursionError):
                expected.append(None)
    return content, expected


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def fresh(work: Path, suffix: str) -> tuple[Path, Path]:
    ran["files"] += 1
    n = ran["files"]
    return work / f"in{n}{suffix}", work / f"out{n}.jsonl"


@fuzz("batch_jsonl", jsonl_files())
def run_batch_jsonl(analyzer: Analyzer, work: Path, file: tuple[str, list[object]]) -> None:
    content, expected = file
    src, out = fresh(work, ".jsonl")
    src.write_bytes(content.encode("utf-8", "surrogatepass"))
    check_batch(analyzer, src, out, expected, "jsonl")


def test_batch_jsonl_gives_every_row_once(fake_analyzer, work):
    run_batch_jsonl(fake_analyzer, work)


cell = st.one_of(prose, hostile_text, html_text(), st.just(""))


@fuzz(
    "batch_csv",
    st.lists(st.tuples(ids.map(lambda v: "" if v is None else str(v)), cell, cell), max_size=10),
    st.lists(st.text(st.sampled_from('ab,"\n\r'), max_size=8), max_size=3),
)
def run_batch_csv(analyzer: Analyzer, work: Path, table: list[tuple[str, str, str]], garbage: list[str]) -> None:
    src, out = fresh(work, ".csv")
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(["id", "title", "body"])
    writer.writerows(table)
    content = buffer.getvalue() + "".join(garbage)  # an unclosed quote or stray cells at the end
    src.write_bytes(content.encode("utf-8", "surrogatepass"))  # surrogates become bytes that are not UTF-8
    stats = run_batch(analyzer, str(src), str(out), BatchConfig(progress=False, batch_size=4))
    records = read_output(out)
    assert len(records) == stats.rows_in >= (len(table) if not garbage else 0)
    if not garbage:
        assert len(records) == len(table)
        for (id_, _, _), record in zip(table, records, strict=True):
            if id_ and not re.search(r"[\ud800-\udfff\r]", id_) and id_.strip() == id_:
                assert record["id"] == id_
    before = out.read_bytes()
    again = run_batch(analyzer, str(src), str(out), BatchConfig(progress=False, batch_size=4))
    assert again.skipped == stats.rows_in and out.read_bytes() == before


def test_batch_csv_gives_every_row_once(fake_analyzer, work):
    run_batch_csv(fake_analyzer, work)


def no_surrogates(text: str | None) -> str | None:
    return None if text is None else re.sub(r"[\ud800-\udfff]", "\ufffd", text)  # Arrow strings are UTF-8


@fuzz(
    "batch_parquet",
    st.sampled_from(["string", "int", "float", "none"]),
    st.lists(st.tuples(st.integers(-(2**40), 2**40), st.one_of(st.none(), texts)), max_size=10),
)
def run_batch_parquet(analyzer: Analyzer, work: Path, id_kind: str, table: list[tuple[int, str | None]]) -> None:
    src, out = fresh(work, ".parquet")
    id_values: list[object] = {
        "string": [str(n % 5) for n, _ in table],  # small range: duplicates
        "int": [n for n, _ in table],
        "float": [float(n) if n % 7 else math.nan for n, _ in table],
        "none": [None for _ in table],
    }[id_kind]
    texts_ = [no_surrogates(t) for _, t in table]
    pq.write_table(pa.table({"id": id_values, "text": pa.array(texts_, pa.string())}), src, row_group_size=3)
    expected = [{"id": i, "text": t} for i, t in zip(id_values, texts_, strict=True)]
    check_batch(analyzer, src, out, expected, "parquet")


def test_batch_parquet_gives_every_row_once(fake_analyzer, work):
    run_batch_parquet(fake_analyzer, work)


# -- HTTP API ------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def http_client():
    from conftest import FakeClassifier, FakeSummarizer

    app = create_app(Analyzer(FakeClassifier(), FakeSummarizer()), max_body_bytes=200_000, max_items=8)
    with LiveServer(app) as live, httpx.Client(base_url=live.url, timeout=60) as client:
        assert wait_ready(client).status_code == 200
        yield client


bodies = st.one_of(
    rows(),
    st.fixed_dictionaries({"articles": st.lists(rows(), max_size=10)}),
    st.fixed_dictionaries(
        {"text": texts},
        optional={
            "tasks": odd_json | st.lists(st.sampled_from(["classify", "summarize", "x"]), max_size=3),
            "max_words": odd_json | st.integers(-5, 500),
            "top_k": odd_json | st.integers(-2, 10),
            "method": odd_json | st.sampled_from(["extractive", "abstractive"]),
        },
    ),
    odd_json,
)


@fuzz(
    "http",
    st.sampled_from(["/v1/analyze", "/v1/classify", "/v1/summarize"]),
    st.one_of(bodies.map(lambda b: json.dumps(b, ensure_ascii=True).encode()), st.binary(max_size=200)),
)
def run_http(client: httpx.Client, path: str, body: bytes) -> None:
    response = client.post(path, content=body, headers={"content-type": "application/json"})
    assert response.status_code in (200, 400, 413, 422), response.text
    payload = response.json()
    if response.status_code == 200 and "results" in payload:
        sent = json.loads(body)["articles"]
        assert len(payload["results"]) == len(sent)
    assert client.get("/healthz").status_code == 200  # the same keep-alive connection still works


def test_http_api_answers_4xx_never_500(http_client):
    run_http(http_client)


# -- the long run ----------------------------------------------------------------------------------------------
@pytest.mark.fuzz
def test_fuzz_report():
    """Runs last in ``make fuzz``: the cases each target tried (every property above passed to get here)."""
    total = sum(ran[name] for name in CASES)
    print(f"\nfuzz cases: {dict((n, ran[n]) for n in CASES)}; total {total}; crashes 0, hangs 0, rows lost 0")
    assert total >= sum(long for _, long in CASES.values())
