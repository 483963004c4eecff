import pytest

from nlp_service.text import InputError, clean_text, prepare


def test_clean_text_removes_scraping_artefacts():
    assert clean_text("Hello_x000D_\nworld  &amp; more\r\n") == "Hello\nworld & more"


@pytest.mark.parametrize("bad", ["", "   \n ", None, 42, ["text"]])
def test_prepare_rejects_unusable_input(bad):
    with pytest.raises(InputError):
        prepare(bad)


def test_prepare_truncates_very_long_text_with_a_warning():
    text = "word " * 60_000
    cleaned, warnings = prepare(text, max_words=1000)
    assert len(cleaned.split()) == 1000
    assert any("truncated" in w for w in warnings)


def test_non_english_text_is_flagged_not_rejected():
    german = "Die Regierung hat am Montag beschlossen, die Steuern für kleine Unternehmen im nächsten Jahr zu senken."
    cleaned, warnings = prepare(german)
    assert cleaned and any("English" in w for w in warnings)
