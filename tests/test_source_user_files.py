"""Loading a user's JSONL / CSV training file: happy paths, label semantics and every error message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nlp_service.taxonomy import load_taxonomy
from training.sources.user_files import DataFileError, load_user_file

REPO = Path(__file__).resolve().parents[1]
ALL_THEMES = load_taxonomy().theme_names


def write_jsonl(path: Path, rows: list[object]) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def positives(example) -> set[str]:
    return {name for name, v in example.themes.items() if v}


# ------------------------------------------------------------------------------------------------ happy paths


def test_shipped_examples_load():
    jsonl = load_user_file(REPO / "examples" / "train_sample.jsonl")
    csv_rows = load_user_file(REPO / "examples" / "train_sample.csv")
    assert len(jsonl) == 6 and len(csv_rows) == 3
    for e in jsonl + csv_rows:
        assert e.text and e.countries and set(e.themes) == set(ALL_THEMES)
    assert jsonl[0].id == "user:train_sample.jsonl:s1" and jsonl[0].source == "user:train_sample.jsonl"
    assert csv_rows[2].countries == ["PE", "DE"] and csv_rows[2].summary is None


def test_jsonl_fields_and_label_semantics(tmp_path):
    path = write_jsonl(tmp_path / "mine.jsonl", [
        {"id": "a", "title": "Dam opens", "body": "The dam opened.", "countries": ["Kenya", "UG"],
         "themes": ["environment", "medtop:04000000"], "summary": "A dam opened."},
        {"text": "Nothing labelled here."},
        {"text": "Labelled as having none of the themes.", "themes": [], "countries": []},
        {"id": 7, "text": "Numeric id.", "themes": "sport; Politics"},
    ])
    a, b, c, d = load_user_file(path)
    assert (a.id, a.title, a.body) == ("user:mine.jsonl:a", "Dam opens", "The dam opened.")
    assert a.summary == "A dam opened."
    assert a.countries == ["KE", "UG"] and a.primary_country == "KE"
    assert positives(a) == {"environment", "economy, business and finance"}
    assert len(a.themes) == 17 and sum(a.themes.values()) == 2  # listed = 1, all others = 0
    # Absent label fields are unknown, not negative.
    assert b.themes == {} and b.countries is None and b.primary_country is None and b.summary is None
    assert b.id == "user:mine.jsonl:2" and b.body == "Nothing labelled here." and b.title == ""
    # A present but empty list is a label: no theme, no country.
    assert c.themes == dict.fromkeys(ALL_THEMES, 0) and c.countries == []
    assert d.id == "user:mine.jsonl:7" and positives(d) == {"sport", "politics"}


def test_csv_with_separated_strings_and_empty_cells(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text(
        "ID,Text,Countries,Themes,Summary\n"
        'x1,"Talks in Lima, then Quito.",Peru; Ecuador,"economy, business and finance;politics",Talks held.\n'
        "x2,No labels on this one.,,,\n"
        'x3,"A quoted text\nover two lines.","FR,DE",health,\n',
        encoding="utf-8",
    )
    x1, x2, x3 = load_user_file(path)
    assert x1.countries == ["PE", "EC"] and positives(x1) == {"economy, business and finance", "politics"}
    assert x1.body == "Talks in Lima, then Quito." and x1.summary == "Talks held."
    assert x2.themes == {} and x2.countries is None and x2.summary is None  # empty cells are unknown
    assert x3.countries == ["FR", "DE"] and x3.body == "A quoted text\nover two lines."


def test_renamed_fields_and_utf8_bom(tmp_path):
    path = tmp_path / "pairs.csv"
    path.write_bytes("\ufeffdocument,reference\nA long story.,Short.\n".encode())
    (e,) = load_user_file(path, text_field="document", summary_field="reference")
    assert e.body == "A long story." and e.summary == "Short."


def test_unrelated_extra_fields_are_ignored(tmp_path):
    path = write_jsonl(tmp_path / "x.jsonl", [{"text": "Hello.", "published": "2024-01-01", "url": "u"}])
    assert load_user_file(path)[0].body == "Hello."


# ----------------------------------------------------------------------------------------------------- errors


def error_of(path: Path) -> DataFileError:
    with pytest.raises(DataFileError) as info:
        load_user_file(path)
    assert isinstance(info.value, ValueError)
    assert str(path) in str(info.value)
    return info.value


def test_empty_file(tmp_path):
    for name in ("empty.jsonl", "empty.csv"):
        path = tmp_path / name
        path.write_text("\n  \n", encoding="utf-8")
        assert "the file is empty" in str(error_of(path))


def test_csv_header_without_rows(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("text,themes\n", encoding="utf-8")
    assert "no rows" in str(error_of(path))


def test_missing_text_column_in_csv(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("headline,themes\nA,politics\n", encoding="utf-8")
    err = error_of(path)
    assert (err.line, err.field) == (1, "text")
    assert "missing text column" in str(err) and "found: headline, themes" in str(err)


def test_missing_text_field_in_jsonl(tmp_path):
    path = write_jsonl(tmp_path / "t.jsonl", [{"text": "fine"}, {"title": "Only a title"}])
    err = error_of(path)
    assert (err.line, err.field) == (2, "text")
    assert "no text" in str(err) and "line 2" in str(err)


def test_empty_text_value(tmp_path):
    path = write_jsonl(tmp_path / "t.jsonl", [{"text": "   "}])
    assert "empty text" in str(error_of(path))


def test_broken_json_line(tmp_path):
    path = write_jsonl(tmp_path / "b.jsonl", [{"text": "ok"}, "", '{"text": "unterminated}'])
    err = error_of(path)
    assert err.line == 3 and "broken JSON" in str(err)


def test_json_array_instead_of_lines(tmp_path):
    path = tmp_path / "a.json"
    path.write_text(json.dumps([{"text": "a"}]), encoding="utf-8")
    assert "one JSON object per line" in str(error_of(path))


def test_line_that_is_not_an_object(tmp_path):
    path = write_jsonl(tmp_path / "l.jsonl", [{"text": "ok"}, "[1, 2]"])
    err = error_of(path)
    assert err.line == 2 and "expected a JSON object, got a list" in str(err)


def test_unknown_theme_lists_valid_ones(tmp_path):
    path = write_jsonl(tmp_path / "u.jsonl", [{"text": "x", "themes": ["sports"]}])
    err = error_of(path)
    assert (err.line, err.field) == (1, "themes")
    msg = str(err)
    assert "unknown theme 'sports'" in msg and "did you mean 'sport'" in msg
    assert all(name in msg for name in ALL_THEMES)


def test_unknown_theme_in_csv_reports_the_data_line(tmp_path):
    path = tmp_path / "u.csv"
    path.write_text("text,themes\nfine,politics\nbad,finance\n", encoding="utf-8")
    err = error_of(path)
    assert (err.line, err.field) == (3, "themes")  # the header is line 1


def test_unknown_country(tmp_path):
    path = write_jsonl(tmp_path / "c.jsonl", [{"text": "x", "countries": ["France", "Narnia"]}])
    err = error_of(path)
    assert (err.line, err.field) == (1, "countries") and "unknown country 'Narnia'" in str(err)


@pytest.mark.parametrize(
    ("row", "field", "words"),
    [
        ({"text": 42}, "text", "must be a string, got a number"),
        ({"text": "x", "themes": {"politics": 1}}, "themes", "got an object"),
        ({"text": "x", "themes": ["politics", 3]}, "themes", "list items must be strings"),
        ({"text": "x", "countries": 5}, "countries", "got a number"),
        ({"text": "x", "summary": ["a"]}, "summary", "got a list"),
        ({"text": "x", "id": {"a": 1}}, "id", "must be a string or a number"),
    ],
)
def test_wrong_types(tmp_path, row, field, words):
    err = error_of(write_jsonl(tmp_path / "w.jsonl", [row]))
    assert err.field == field and words in str(err)


def test_misspelt_label_field_is_not_silently_ignored(tmp_path):
    err = error_of(write_jsonl(tmp_path / "m.jsonl", [{"text": "x", "theme": ["politics"]}]))
    assert err.field == "theme" and "did you mean 'themes'" in str(err)


def test_duplicate_ids(tmp_path):
    err = error_of(write_jsonl(tmp_path / "d.jsonl", [{"id": "a", "text": "x"}, {"id": "a", "text": "y"}]))
    assert err.line == 2 and "first used on line 1" in str(err)


def test_csv_row_with_too_many_values(tmp_path):
    path = tmp_path / "v.csv"
    path.write_text("text,summary\nA,B\nA,B,C\n", encoding="utf-8")
    assert error_of(path).line == 3


def test_not_utf8_and_wrong_extension(tmp_path):
    latin = tmp_path / "l.csv"
    latin.write_bytes("text\ncaf\xe9\n".encode("latin-1"))
    err = error_of(latin)
    assert err.line == 2 and "UTF-8" in str(err)
    other = tmp_path / "notes.txt"
    other.write_text("text", encoding="utf-8")
    assert "unsupported file type" in str(error_of(other))
    assert "cannot read" in str(error_of(tmp_path / "missing.jsonl"))
