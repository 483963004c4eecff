"""The name-and-number rule, its repair, and the guard policy on sentences written for these tests."""

from __future__ import annotations

import pytest

from nlp_service.records import Summary
from nlp_service.summarize import GuardPolicy, Verifier
from nlp_service.summarize.verify import check, repair
from nlp_service.summarize.verify.names import extract_names
from nlp_service.summarize.verify.numbers import extract_numbers

SOURCE = """Russia's defence ministry said on Tuesday that 2,000 troops had left the border with Ukraine.
The Kremlin spokesman Dmitry Peskov told reporters in Moscow that the move had been planned for weeks.
NATO said it had seen no sign of a pullback. The UK government pledged £1.5bn in aid, while three European
Union members asked for talks. Inflation rose to 5 per cent in March, the highest since the 1990s.
About twenty-five people were hurt in the unrest, and the International Monetary Fund cut its forecast."""


@pytest.mark.parametrize(
    "summary",
    [
        "Russian troops have left the border with Ukraine, the defence ministry said.",  # demonym ↔ country
        "Russia said 2000 troops left the Ukrainian border.",  # 2,000 = 2000
        "The UK made a 1.5-billion-pound pledge.",  # 1.5-billion = £1.5bn
        "Britain pledged 1.5 billion pounds in aid.",  # UK ↔ Britain, 1.5bn = 1.5 billion
        "The UK pledged £1.5 billion in aid as inflation hit 5%.",  # 5 per cent = 5%
        "Three EU members asked for talks, and the IMF cut its forecast.",  # initialisms
        "Twenty-five people were hurt; inflation was the highest since the 1990s.",
        "Russia's Defence Ministry said 2,000 troops had left on Tuesday.",  # case, possessive
        "Dmitry Peskov said the move in Moscow had been planned.",
        "Scientists were not involved.",  # a common sentence opener is no name
        "One official said the move was planned.",  # the pronoun-like "one" is not checked
    ],
)
def test_supported_summaries_pass(summary):
    report = check(summary, SOURCE)
    assert report.passed, report.unsupported
    assert report.unsupported == []


@pytest.mark.parametrize(
    ("summary", "unsupported"),
    [
        ("NATO said Russia had withdrawn 3,000 troops.", ["3,000"]),
        ("Vladimir Putin ordered 2,000 troops to leave the border.", ["Vladimir Putin"]),
        ("The UK pledged $1.5bn in aid.", ["$1.5bn"]),  # same value, other currency
        ("Inflation rose to 6% in April.", ["April", "6%"]),
        ("France asked for talks about the border.", ["France"]),  # a country opening the sentence
        ("Peskov said the move was planned, according to the BBC.", ["BBC"]),
        ("Four people were hurt in the unrest.", ["Four"]),
        ("The Kremlin said two million troops had left.", ["two million"]),
    ],
)
def test_unsupported_names_and_numbers_are_listed(summary, unsupported):
    report = check(summary, SOURCE)
    assert not report.passed
    assert report.unsupported == unsupported


def test_number_forms_are_normalised():
    values = {m.surface: m.value for m in extract_numbers(
        "£1.5bn, 2,000 people, 5% growth, 3 million, twenty-five, two million, a dozen, "
        "one hundred and five, the 1990s, 37-year-old, a 12-million-euro pier"
    )}
    assert values["£1.5bn"] == 1.5e9
    assert values["2,000"] == 2000
    assert values["5%"] == 5
    assert values["3 million"] == 3e6
    assert values["twenty-five"] == 25
    assert values["two million"] == 2e6
    assert values["a dozen"] == 12
    assert values["one hundred five"] == 105
    assert values["1990s"] == 1990
    assert values["37"] == 37
    assert values["12-million"] == 12e6  # a hyphenated compound keeps its scale


def test_codes_with_digits_are_names_not_numbers():
    text = "COVID-19 hit the G7 and the F-35 programme."
    assert {n.surface for n in extract_names(text)} >= {"COVID-19", "G7", "F-35"}
    assert extract_numbers(text) == []
    assert not check("COVID-20 hit the G7.", "COVID-19 hit the G7 hard.").passed


def test_names_grow_over_connectors_and_skip_sentence_openers():
    text = "The Bank of England met on Monday. Officials said Mr Smith left."
    names = [n.surface for n in extract_names(text)]
    assert names == ["Bank of England", "Monday", "Mr Smith"]


def test_check_is_case_and_accent_insensitive():
    source = "Officials in Zürich met José Álvarez today."
    assert check("Officials in Zurich met Jose Alvarez.", source).passed


def test_repair_drops_an_unsupported_sentence():
    summary = "The Kremlin said 2,000 troops had left the border with Ukraine. Germany welcomed it on Friday."
    assert repair(summary, SOURCE) == "The Kremlin said 2,000 troops had left the border with Ukraine."


def test_repair_drops_an_unsupported_opening_clause():
    summary = "In 2019, the Kremlin said 2,000 troops had left the border with Ukraine after weeks of plans."
    assert repair(summary, SOURCE) == (
        "The Kremlin said 2,000 troops had left the border with Ukraine after weeks of plans."
    )


def test_repair_refuses_when_too_little_is_left():
    assert repair("NATO saw no pullback, Jens Stoltenberg said in Brussels.", SOURCE) is None


def test_guard_keeps_repairs_or_replaces_with_the_rule_alone():
    fallback = "Russia's defence ministry said on Tuesday that 2,000 troops had left the border with Ukraine."
    extracted: list[str] = []

    def extract(texts: list[str]) -> list[Summary]:
        extracted.extend(texts)
        return [Summary(fallback, "extractive", True) for _ in texts]

    abstracts = [
        "Britain pledged £1.5bn in aid.",
        "The Kremlin said 2,000 troops had left the border with Ukraine. Germany welcomed it.",
        "Vladimir Putin pulled 9,000 troops back.",
        "",
    ]
    kept, repaired, replaced, empty = GuardPolicy().apply(Verifier.rule_only(), [SOURCE] * 4, abstracts, 45, extract)
    assert kept == Summary("Britain pledged £1.5bn in aid.", "abstractive", True)
    assert repaired.summary == "The Kremlin said 2,000 troops had left the border with Ukraine."
    assert repaired.faithful and repaired.warnings == ["abstractive summary repaired: dropped unsupported 'Germany'"]
    assert (replaced.summary, replaced.summary_method) == (fallback, "extractive")
    assert replaced.warnings == ["abstractive summary replaced by extractive: unsupported 'Vladimir Putin', '9,000'"]
    assert empty.warnings == ["abstractive summary replaced by extractive: empty output"]
    assert extracted == [SOURCE, SOURCE]  # one extractive batch for every replaced abstract


def test_guard_policy_settings_change_its_choices():
    two = "The Kremlin said 2,000 troops had left the border with Ukraine. Germany welcomed it."
    no_repair = GuardPolicy(drop_failing_sentences=False, rule_repair=False)
    [out] = no_repair.apply(Verifier.rule_only(), [SOURCE], [two], 45, lambda texts: [Summary("x", "extractive", True)])
    assert out.summary_method == "extractive" and "replaced" in out.warnings[0]
    [out] = GuardPolicy(min_repaired_words=12).apply(
        Verifier.rule_only(), [SOURCE], [two], 45, lambda texts: [Summary("x", "extractive", True)])
    assert out.summary == "x"  # the 11-word repair is too short


def test_a_possessive_name_opening_the_summary_is_checked():
    """A sentence-opening word is usually a common word ("Officials said"), but one that owns something is a name:
    an invented "Norwell's" is caught, the article's own "Norway's" passes."""
    article = "Norway's two largest centre-left parties agreed on Tuesday to form a minority coalition government."
    assert check("Norwell's two parties agreed to form a coalition.", article).unsupported == ["Norwell's"]
    assert check("Norway's two parties agreed to form a coalition.", article).passed
