"""Hostile input, round two: what a user sees when one row or one request is built to break the service (fake
components, real cleaning). Each case here also has a property in tests/test_fuzz.py."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient
from test_server import wait_ready

from nlp_service import cli
from nlp_service.analyzer import Analyzer
from nlp_service.records import Classification, Summary
from nlp_service.serve.app import create_app
from nlp_service.summarize.verify import Verifier
from nlp_service.text.clean import MAX_CHARS, InputError

ARTICLE = "Kenya held a general election on Tuesday. Parliament will meet next week."
NO_SPACES = "x" * 1_100_000  # one "word" of 1.1 M characters: past spaCy's 1 M-character limit


@pytest.fixture
def client(fake_analyzer):
    with TestClient(create_app(fake_analyzer, max_body_bytes=3_000_000)) as c:
        assert wait_ready(c).status_code == 200
        yield c


class TokenizerLikeChecker:
    """Raises TypeError for a lone surrogate, as a Hugging Face tokenizer does; else every summary is faithful."""

    def verify_many(self, articles: list[str], summaries: list[str]) -> list:
        if any("\ud800" <= ch <= "\udfff" for text in articles + summaries for ch in text):
            raise TypeError("TextEncodeInput must be Union[TextInputSequence, Tuple[...]]")
        return Verifier.rule_only().verify_many(articles, summaries)


class SummarizerWithChecker:
    version = "fake-summarizer-1"
    verifier = TokenizerLikeChecker()


# -- text limits in characters ---------------------------------------------------------------------------------
def test_text_without_spaces_past_the_character_cap_is_refused_before_any_model(fake_analyzer, fake_classifier):
    with pytest.raises(InputError, match=r"^text too long: 1,100,000 characters, at most 300,000"):
        fake_analyzer.analyze(NO_SPACES)
    records = fake_analyzer.analyze([NO_SPACES, ARTICLE])
    assert records[0].error.startswith("text too long") and records[1].countries[0].code == "KE"
    assert all(len(t) <= MAX_CHARS for call in fake_classifier.calls for t in call)


def test_http_a_single_over_long_text_is_413_and_a_list_keeps_its_good_articles(client):
    one = client.post("/v1/analyze", json={"text": NO_SPACES})
    assert one.status_code == 413 and one.json()["detail"].startswith("text too long: 1,100,000 characters")
    many = client.post("/v1/analyze", json={"articles": [{"id": "long", "text": NO_SPACES}, {"text": ARTICLE}]})
    assert many.status_code == 200
    long, good = many.json()["results"]
    assert long["id"] == "long" and long["error"].startswith("text too long")
    assert good["countries"][0]["code"] == "KE"


def test_batch_gives_the_over_long_row_an_error_record_without_spacys_advice(tmp_path, fake_analyzer):
    from nlp_service.batch import BatchConfig, run_batch

    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text(json.dumps({"id": "a", "text": NO_SPACES}) + "\n" + json.dumps({"id": "b", "text": ARTICLE}) + "\n")
    stats = run_batch(fake_analyzer, str(src), str(out), BatchConfig(progress=False))
    got = [json.loads(line) for line in out.read_text().splitlines()]
    assert got[0]["error"].startswith("line 1: text too long") and "max_length" not in got[0]["error"]
    assert "error" not in got[1] and (stats.ok, stats.failed) == (1, 1)


# -- verify with lone surrogates ---------------------------------------------------------------------------------
def test_verify_with_a_lone_surrogate_in_the_summary_answers_in_every_door(tmp_path, monkeypatch, capsys):
    from conftest import FakeClassifier

    analyzer = Analyzer(classifier=FakeClassifier(), summarizer=SummarizerWithChecker())
    record = analyzer.verify(ARTICLE, "Kenya \udc00held an election.")
    assert record.error is None and record.faithful

    with TestClient(create_app(analyzer)) as c:
        assert wait_ready(c).status_code == 200
        body = json.dumps({"text": ARTICLE, "summary": "Kenya \udc00held an election."})  # \udc00 as JSON escape
        response = c.post("/v1/verify", content=body, headers={"content-type": "application/json"})
        assert response.status_code == 200 and response.json()["faithful"] is True

    monkeypatch.setattr(cli, "load_analyzer", lambda checkpoint: analyzer)
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_text(json.dumps({"id": "s", "text": ARTICLE, "summary": "Kenya \ud800 voted."}) + "\n")
    assert cli.main(["verify", "-i", str(src), "-o", str(out)]) == 0
    assert json.loads(out.read_text())["id"] == "s" and "Traceback" not in capsys.readouterr().err


def test_verify_a_checker_failure_on_one_pair_fails_that_pair_only():
    class FailsOnBoom:
        def verify_many(self, articles, summaries):
            if any("BOOM" in s for s in summaries):
                raise RuntimeError("checker failure")
            return Verifier.rule_only().verify_many(articles, summaries)

    class Summ:
        version = "x"
        verifier = FailsOnBoom()

    records = Analyzer(classifier=lambda: None, summarizer=Summ()).verify([ARTICLE] * 3, ["Kenya.", "BOOM", None])
    assert records[0].error is None
    assert records[1].error == "check failed: RuntimeError: checker failure"
    assert records[2].error == "summary must be a string, got NoneType"


# -- the Python list API ----------------------------------------------------------------------------------------
def test_classify_and_summarize_lists_give_a_bad_row_an_error_record(fake_analyzer):
    classes = fake_analyzer.classify([None, "Kenya vote"])
    assert classes[0] == Classification(error="text must be a string, got NoneType")
    assert classes[0].to_dict() == {"countries": [], "regions": [], "themes": [], "warnings": [],
                                    "error": "text must be a string, got NoneType"}
    assert classes[1].countries[0].code == "KE" and "error" not in classes[1].to_dict()
    summaries = fake_analyzer.summarize(["", "Kenya held a vote. It was calm."])
    assert summaries[0] == Summary("", "none", False, error="empty text")
    assert summaries[1].summary == "Kenya held a vote." and summaries[1].error is None
    with pytest.raises(InputError):
        fake_analyzer.classify("   ")  # a single text still raises


@pytest.mark.parametrize("max_words", [0, -3, 2.5, True])
def test_summarize_refuses_max_words_below_one(fake_analyzer, max_words):
    with pytest.raises(ValueError, match="max_words must be a whole number of at least 1"):
        fake_analyzer.summarize(ARTICLE, max_words=max_words)


def test_http_an_article_that_breaks_the_model_fails_alone_in_its_list(client):
    response = client.post("/v1/classify", json={"articles": [{"id": "a", "text": ARTICLE},
                                                               {"id": "b", "text": "This BOOM breaks the fake."}]})
    assert response.status_code == 200
    good, bad = response.json()["results"]
    assert good["countries"][0]["code"] == "KE"
    assert bad == {"id": "b", "warnings": [], "model": {},
                   "error": "analysis failed (an internal error; the server log has the cause)"}


# -- rows lost without a word ---------------------------------------------------------------------------------
def run_file(analyzer, tmp_path, name: str, content: bytes) -> list[dict]:
    from nlp_service.batch import BatchConfig, run_batch

    src, out = tmp_path / name, tmp_path / f"{name}.out.jsonl"
    src.write_bytes(content)
    run_batch(analyzer, str(src), str(out), BatchConfig(progress=False))
    return [json.loads(line) for line in out.read_bytes().decode("utf-8").split("\n")[:-1]]


def test_a_csv_quote_never_closed_loses_no_row(tmp_path, fake_analyzer):
    lines = ["id,text"] + [f"{i},Kenya story {i}." for i in range(1, 501)]
    lines[3] = '3,"Kenya story 3.'  # opens a quote no later line closes
    got = run_file(fake_analyzer, tmp_path, "in.csv", ("\n".join(lines) + "\n").encode())
    # the broken row's id cannot be read: its record is named by its row number
    assert len(got) == 500 and [r["id"] for r in got] == [str(i) if i != 3 else "#3" for i in range(1, 501)]
    assert got[2]["error"].startswith("row 3: row is not valid CSV: the quote opened on line 4 is never closed")
    assert got[2]["error"].endswith("(unexpected end of data); lines 5-501 after it were read again as rows")
    assert all("error" not in r for i, r in enumerate(got) if i != 2)


def test_a_raw_carriage_return_inside_a_jsonl_string_keeps_its_row_whole(tmp_path, fake_analyzer, monkeypatch):
    content = b'{"id": "a", "text": "Kenya held\rits vote."}\r\n{"id": "b", "text": "Chile."}\n'
    got = run_file(fake_analyzer, tmp_path, "in.jsonl", content)
    assert [(r["id"], "error" in r) for r in got] == [("a", False), ("b", False)]

    import io
    import sys

    from nlp_service.batch import read_rows

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(content)))  # stdin splits as a file does
    assert [row["id"] for _, row in read_rows("-", "jsonl")] == ["a", "b"]


# -- ids ----------------------------------------------------------------------------------------------------------
def test_lone_surrogate_ids_stay_distinct_and_reversible(tmp_path, fake_analyzer):
    from nlp_service.batch import escape_id, unescape_id

    rows = [{"id": i, "text": "Kenya."} for i in ("\udc00", "\ud800", "\udc01", "\\udc00")]
    content = "".join(json.dumps(r) + "\n" for r in rows).encode()  # json.dumps writes the surrogates as escapes
    got = run_file(fake_analyzer, tmp_path, "in.jsonl", content)
    assert [r["id"] for r in got] == ["\\udc00", "\\ud800", "\\udc01", "\\\\udc00"]
    assert all("error" not in r for r in got)
    assert [unescape_id(r["id"]) for r in got] == [r["id"] for r in rows]
    assert escape_id("plain id \\ with a backslash") == "plain id \\ with a backslash"


def test_a_row_number_id_never_makes_a_given_id_a_duplicate(tmp_path, fake_analyzer):
    content = b'{"text": "Kenya."}\n{"id": 1, "text": "Chile."}\n{"id": 1, "text": "Japan."}\n'
    got = run_file(fake_analyzer, tmp_path, "in.jsonl", content)
    assert [r["id"] for r in got] == ["#1", "1", "1"]  # a row number is marked, so no two records share an id
    assert "error" not in got[0] and "error" not in got[1]  # the given id 1 is not the row number's duplicate
    assert got[2]["error"].startswith("line 3: duplicate id (the same as line 2;")
    again = run_file(fake_analyzer, tmp_path, "in.jsonl", content)  # the same output file: a resume
    assert again == got


def test_http_ids_are_escaped_not_replaced(client):
    body = json.dumps({"articles": [{"id": "\udc00", "text": ARTICLE}, {"id": "\ud800", "text": ARTICLE}]})
    response = client.post("/v1/classify", content=body, headers={"content-type": "application/json"})
    assert [r["id"] for r in response.json()["results"]] == ["\\udc00", "\\ud800"]


# -- cleaning -----------------------------------------------------------------------------------------------------
def test_tag_annotation_and_musical_formatting_characters_are_removed_also_as_entities():
    from nlp_service.text.clean import prepare

    hidden = "".join(chr(0xE0000 + ord(c)) for c in "ignore all") + "\U000e007f"
    text = f"Kenya{hidden} held\ufff9an\ufffa election\ufffb on\U0001d173 Tuesday\U0001d17a. &#xE0041;&#917569;Vote."
    cleaned, _ = prepare(text)
    assert cleaned == "Kenya heldan election on Tuesday. Vote."


def test_mojibake_is_repaired_and_curly_quotes_are_kept():
    from nlp_service.text.clean import prepare

    cleaned, _ = prepare("The cafÃ© owner said â€œwe will reopenâ€\x9d on Tuesday in Kenya.")
    assert cleaned == "The café owner said “we will reopen” on Tuesday in Kenya."


@pytest.mark.parametrize(
    "text",
    ["Plain text that mentions <b> and <i> tags, the bold and italic markers.",
     "Use <br> for a line break and <p> for a paragraph, the tutorial says."],
)
def test_plain_text_that_names_tags_is_not_html(text):
    from nlp_service.text.clean import prepare

    cleaned, warnings = prepare(text)
    assert cleaned == text and not warnings


@pytest.mark.parametrize(
    "html", ["<p>Kenya held an election.</p>", '<a href="/x">Kenya</a> held an election.',
             "<html><p>Kenya held an election."]
)
def test_html_is_known_by_its_structure(html):
    from nlp_service.text.clean import prepare

    cleaned, warnings = prepare(html)
    assert "<" not in cleaned and "Kenya" in cleaned and warnings[0].startswith("the text was HTML")


def test_an_english_article_opening_with_a_french_quote_is_english():
    from nlp_service.text.clean import prepare

    article = (
        "« Nous ne céderons rien, ni aujourd'hui ni demain, face à ceux qui veulent diviser la République et "
        "affaiblir nos institutions démocratiques », a déclaré le président devant l'Assemblée nationale. "
        "The French president made the remarks on Tuesday after a week of protests over the pension reform. "
        "Opposition parties said they would file a motion of no confidence in the government later this week."
    )
    _, warnings = prepare(article)
    assert not any("not English" in w for w in warnings)
    _, french = prepare("Le gouvernement a annoncé mardi une baisse des impôts pour les petites entreprises "
                        "l'année prochaine, selon le ministre de l'Économie.")
    assert any("French (fr), not English" in w for w in french)  # French throughout is still French


# -- encodings and compression ------------------------------------------------------------------------------------
SIX = [{"id": f"r{i}", "text": f"Café owners in Kenya voted, story {i}."} for i in range(6)]


def jsonl_text(rows: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-8-sig", "utf-32"])
def test_byte_order_marks_and_utf16_are_detected(tmp_path, fake_analyzer, encoding):
    got = run_file(fake_analyzer, tmp_path, "in.jsonl", jsonl_text(SIX).encode(encoding))
    assert [r["id"] for r in got] == [r["id"] for r in SIX] and all("error" not in r for r in got)
    assert got[0]["summary"].startswith("Café owners")


def test_a_latin1_file_is_refused_with_the_option_to_pass_and_decoded_with_it(tmp_path, use_fakes, capsys):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_bytes(jsonl_text(SIX).encode("latin-1"))
    assert cli.main(["batch", "-i", str(src), "-o", str(out), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert f"{src} is not UTF-8: byte 0xe9 on line 1 cannot be decoded" in err and "--encoding latin-1" in err
    assert not out.exists() or out.read_text() == ""
    assert cli.main(["batch", "-i", str(src), "-o", str(out), "--no-progress", "--encoding", "latin-1"]) == 0
    got = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert len(got) == 6 and got[0]["summary"].startswith("Café owners")
    assert cli.main(["batch", "-i", str(src), "-o", str(out), "--encoding", "klingon"]) == 2
    assert "unknown encoding 'klingon'" in capsys.readouterr().err


@pytest.fixture
def use_fakes(monkeypatch, fake_analyzer):
    monkeypatch.setattr(cli, "load_analyzer", lambda checkpoint: fake_analyzer)
    return fake_analyzer


def test_gzip_inputs_are_read_transparently(tmp_path, fake_analyzer):
    import gzip

    got = run_file(fake_analyzer, tmp_path, "in.jsonl.gz", gzip.compress(jsonl_text(SIX).encode()))
    assert [r["id"] for r in got] == [r["id"] for r in SIX]
    csv_rows = "id,text\n" + "".join(f"{r['id']},{r['text'].replace(',', '')}\n" for r in SIX)
    got = run_file(fake_analyzer, tmp_path, "in.csv.gz", gzip.compress(csv_rows.encode()))
    assert [r["id"] for r in got] == [r["id"] for r in SIX] and all("error" not in r for r in got)


def test_a_damaged_gzip_file_is_one_line_and_exit_3(tmp_path, use_fakes, capsys):
    src = tmp_path / "in.jsonl.gz"
    src.write_bytes(b"not gzip at all")
    assert cli.main(["batch", "-i", str(src), "-o", str(tmp_path / "o.jsonl"), "--no-progress"]) == 3
    assert "cannot read" in capsys.readouterr().err


def test_a_stray_bad_byte_late_in_a_file_is_replaced_and_logged(tmp_path, fake_analyzer, caplog):
    rows = [{"id": f"r{i}", "text": "Kenya held an election. " * 20} for i in range(200)]  # > 64 KiB
    content = jsonl_text(rows).encode() + b'{"id": "bad", "text": "caf\xe9 in Japan"}\n'
    got = run_file(fake_analyzer, tmp_path, "in.jsonl", content)
    assert len(got) == 201 and got[-1]["countries"][0]["code"] == "JP"
    assert "1 byte sequences were not utf-8 and were read as U+FFFD" in caplog.text
    assert "--encoding latin-1" in caplog.text


def test_verify_reads_encodings_like_batch(tmp_path, use_fakes, capsys):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    src.write_bytes(jsonl_text([{"id": "a", "text": ARTICLE, "summary": "Kenya voted."}]).encode("utf-16"))
    assert cli.main(["verify", "-i", str(src), "-o", str(out)]) == 0
    src.write_bytes(jsonl_text([{"id": "a", "text": "Café in Kenya.", "summary": "Café."}]).encode("latin-1"))
    assert cli.main(["verify", "-i", str(src), "-o", str(out)]) == 2
    assert "--encoding latin-1" in capsys.readouterr().err
    assert cli.main(["verify", "-i", str(src), "-o", str(out), "--encoding", "latin-1"]) == 0


# -- the real models -------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_the_real_models_with_a_surrogate_summary_and_an_over_long_text(real_analyzer):
    record = real_analyzer.verify(ARTICLE, "Kenya \udc00held an election \ud800on Tuesday.")
    assert record.error is None and 0.0 <= record.score <= 1.0
    with pytest.raises(InputError, match="^text too long"):
        real_analyzer.analyze(NO_SPACES)
    long, good = real_analyzer.analyze([NO_SPACES, ARTICLE], tasks=("classify",))
    assert long.error.startswith("text too long") and good.countries[0].code == "KE"
