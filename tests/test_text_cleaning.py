"""Input cleaning as a user sees it: HTML pages, control and invisible characters, other languages, and what
``nlp-service show`` prints for a record that holds them."""

from __future__ import annotations

import json

import pytest

from nlp_service import cli
from nlp_service.text.clean import InputError, cap_words, count_words, prepare

PAGE = """<!DOCTYPE html><html><head><title>Floods hit Nairobi</title>
<style>p { color: red }</style><script>var ad = "<p>Buy now</p>";</script></head>
<body><nav><a href="/">Home</a> | <a href="/world">World</a></nav>
<article><h1>Floods hit Nairobi</h1><p>Heavy <b>rain</b> fell in Kenya on Tuesday.</p>
<p>Thousands of people were moved to schools.</p></article>
<aside>Most read: celebrity news</aside><footer>(c) 2026 Example News. Cookie policy.</footer></body></html>"""

CHINESE = (
    "国务院总理今天在北京主持召开国务院常务会议，讨论当前经济形势和就业问题。会议指出，今年以来经济运行总体平稳，"
    "但外部环境复杂多变。会议要求各地区各部门加大政策支持力度，稳定就业，保障民生，推动高质量发展。"
)


def test_an_html_page_becomes_its_title_and_body_text():
    cleaned, warnings = prepare(PAGE)
    assert cleaned.startswith("Floods hit Nairobi\n")
    assert "Heavy rain fell in Kenya on Tuesday." in cleaned
    assert "Thousands of people were moved to schools." in cleaned
    for gone in ("<", "DOCTYPE", "color: red", "Buy now", "Home", "Most read", "Cookie policy"):
        assert gone not in cleaned
    assert warnings == ["the text was HTML; its title and body text were analysed"]


def test_plain_text_with_a_less_than_sign_is_not_parsed_as_html():
    cleaned, warnings = prepare("Inflation fell to <2% in France, the lowest since 2021 <b> figures show.")
    assert cleaned.startswith("Inflation fell to <2% in France") and not warnings


def test_control_and_zero_width_characters_are_removed():
    cleaned, _ = prepare("Kenya\u200b held\x1b[31m an elec\u00adtion\u202e on \ufeffTuesday.\x00\udc00")
    assert cleaned == "Kenya held[31m an election on Tuesday."


@pytest.mark.parametrize(
    "text", ["\u200b\u200b\ufeff", "\x00\x01\x1b", "<html><body><script>x()</script></body></html>"]
)
def test_text_empty_after_cleaning_is_rejected(text):
    with pytest.raises(InputError, match="empty text after cleaning"):
        prepare(text)


def test_non_english_text_gets_a_language_warning():
    _, warnings = prepare(CHINESE)
    assert "text looks like Chinese (zh), not English; the models are trained on English news only" in warnings
    _, english = prepare("The government said on Monday that it would cut taxes for small firms next year.")
    assert not english


def test_words_are_counted_per_character_in_chinese_and_japanese():
    assert count_words("国务院总理 met 3 ministers") == 8
    assert cap_words("国务院总理今天在北京", 3) == "国务院"
    assert cap_words("one two three four", 2) == "one two" and cap_words("one two", 5) == "one two"


def test_a_chinese_summary_obeys_max_words(fake_analyzer):
    record = fake_analyzer.analyze(CHINESE, max_words=10)
    assert count_words(record.summary) <= 10 and record.summary == CHINESE[:10]
    assert any("Chinese" in w for w in record.warnings)


def test_show_prints_control_characters_as_escapes(tmp_path, capsys):
    path = tmp_path / "r.jsonl"
    record = {"id": "a\x1b[2J", "summary": "red \x1b[31mtext\u202e", "summary_method": "extractive",
              "faithful": True, "warnings": ["w\x07"], "model": {}}
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    assert cli.main(["show", str(path)]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert "a\\x1b[2J" in out and "red \\x1b[31mtext\\u202e" in out


@pytest.mark.slow
def test_the_real_models_on_html_and_chinese(real_analyzer):
    page = real_analyzer.analyze(PAGE)
    assert not page.summary.lstrip().startswith(("<", "DOCTYPE", "html")) and "Kenya" in page.summary
    assert "the text was HTML; its title and body text were analysed" in page.warnings
    chinese = real_analyzer.analyze(CHINESE, max_words=12)
    assert count_words(chinese.summary) <= 12
    assert any("Chinese (zh), not English" in w for w in chinese.warnings)
