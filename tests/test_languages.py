"""Honest about languages: themes only for the languages the classifier was trained and measured in (English);
for other languages no themes and a warning saying so, while countries are still found, also from the country
names of German, French, Spanish, Italian and Portuguese (articles written for these tests)."""

from __future__ import annotations

import pytest

from nlp_service.places import load_gazetteer

GERMAN = ("Bahnstreik legt den Fernverkehr lahm\nDie Lokführergewerkschaft hat am Montag in ganz Deutschland zu "
          "einem Streik aufgerufen. Die Deutsche Bahn strich die meisten Fernzüge, Pendler wichen auf Busse aus.")
SPANISH = ("Un terremoto sacude el sur de México\nUn fuerte terremoto sacudió el martes el sur de México. Las "
           "autoridades informaron de daños en viviendas y escuelas, pero no de víctimas.")
LOCAL_NAMES = {
    "de": ("Die Regierung in Frankreich und die Schweiz haben ein neues Abkommen über Grenzpendler "
           "unterzeichnet, teilte das Ministerium mit.", {"FR", "CH"}),
    "fr": ("Le gouvernement a signé un accord avec l'Allemagne et la Belgique sur le transport de marchandises, "
           "a annoncé le ministère mardi.", {"DE", "BE"}),
    "es": ("El gobierno firmó un acuerdo con Alemania y Estados Unidos para reducir los aranceles al acero, "
           "informó el ministerio.", {"DE", "US"}),
    "it": ("Il governo ha firmato un accordo con la Spagna e la Grecia sulla gestione dei porti, ha annunciato "
           "il ministero.", {"ES", "GR"}),
    "pt": ("O governo assinou um acordo com a Alemanha e a Espanha sobre energia renovável, anunciou o "
           "ministério nesta terça-feira.", {"DE", "ES"}),
}


@pytest.mark.parametrize("language", sorted(LOCAL_NAMES))
def test_country_names_in_five_languages_are_found_in_texts_of_that_language(language):
    text, codes = LOCAL_NAMES[language]
    found = {m.code for m in load_gazetteer().find_many([text], [language])[0]}
    assert codes <= found


def test_local_names_are_read_only_in_their_language():
    # "Maurice" is Mauritius in French and a first name in English news.
    text = "Maurice Jones, the club's chairman, said the deal was done."
    assert load_gazetteer().find_many([text], [None]) == [[]]


@pytest.mark.slow
def test_a_german_article_gets_countries_and_a_warning_instead_of_themes(real_analyzer):
    record = real_analyzer.classify(GERMAN)
    assert record.themes == [] and "DE" in [c.code for c in record.countries]
    assert "themes skipped: German (de) is not supported" in record.warnings


@pytest.mark.slow
def test_a_spanish_article_gets_its_country_and_english_articles_keep_their_themes(real_analyzer):
    spanish, english = real_analyzer.classify([SPANISH, "Norway's parliament passed the budget on Tuesday "
                                               "after the governing coalition agreed on tax cuts."])
    assert spanish.themes == [] and [c.code for c in spanish.countries] == ["MX"]
    assert any(w.startswith("themes skipped: Spanish (es)") for w in spanish.warnings)
    assert english.themes and not any(w.startswith("themes skipped") for w in english.warnings)
