"""Country mentions in running text (texts written for these tests)."""

from __future__ import annotations

import dataclasses

import pytest

from nlp_service.places import CountryMention, load_gazetteer, resolve_country


@pytest.fixture(scope="module")
def gaz():
    return load_gazetteer()


def codes(gaz, text: str) -> list[str]:
    return [m.code for m in gaz.find(text)]


def test_capital_and_demonym_put_ukraine_first(gaz):
    found = gaz.find("Kyiv said Ukrainian forces had retaken two villages. Moscow did not comment.")
    assert [m.code for m in found] == ["UA", "RU"]
    assert found[0].count == 2 and found[0].first_pos == 0.0
    assert found[0].score > found[1].score


def test_us_state_and_canadian_province(gaz):
    assert codes(gaz, "The Texas governor signed the bill on Friday.") == ["US"]
    assert codes(gaz, "Wildfires forced evacuations across northern Ontario.") == ["CA"]


def test_lowercase_pronoun_is_not_the_us(gaz):
    assert gaz.find("Tell us what you think; let us know by Friday.") == []
    assert codes(gaz, "Officials in the US and the U.S. Senate disagreed.") == ["US"]
    assert gaz.find("US")[0].count == 1


def test_common_words_that_are_also_city_names(gaz):
    # "Nice" (France) and "Reading" (England) are capitalised at sentence starts far more often than visited.
    assert gaz.find("Nice weather brought crowds out. Reading the forecast helped.") == []
    assert codes(gaz, "Nice weather in Paris today.") == ["FR"]


def test_empty_and_countryless_text(gaz):
    assert gaz.find("") == []
    assert gaz.find("The committee met on Tuesday and approved the budget.") == []


def test_longest_match_wins(gaz):
    assert codes(gaz, "Floods hit New South Wales.") == ["AU"]
    assert codes(gaz, "Port Moresby is the capital of Papua New Guinea.") == ["PG"]
    assert codes(gaz, "Voters in New Mexico and New Jersey went to the polls.") == ["US"]
    assert codes(gaz, "Exports from Guinea-Bissau rose.") == ["GW"]
    assert codes(gaz, "Snow fell across New England.") == ["US"]


def test_word_boundaries_and_possessives(gaz):
    found = gaz.find("Iran's foreign minister met Iranian exiles; Oman's envoy was absent.")
    assert {m.code: m.count for m in found} == {"IR": 2, "OM": 1}
    assert codes(gaz, "The Indiana Jones films") == ["US"]  # "Indiana", not "India"


def test_regions_that_contain_country_words_count_for_none(gaz):
    assert gaz.find("Latin American leaders met; the South Pole expedition set off.") == []
    assert codes(gaz, "Leaders from Latin America met in Mexico City.") == ["MX"]


def test_person_names_that_are_country_names(gaz):
    assert gaz.find("Michael Jordan scored 40 points.") == []
    assert codes(gaz, "In Jordan, protests continued.") == ["JO"]
    assert codes(gaz, "Amman, the capital of Jordan, was quiet.") == ["JO"]


def test_georgia_the_state_and_the_country(gaz):
    assert codes(gaz, "Georgia voters went to the polls as the US Senate hung in the balance.") == ["US"]
    assert codes(gaz, "Georgia applied to join the EU, officials in Tbilisi said.") == ["GE"]
    assert codes(gaz, "Georgia held talks with Armenia.")[0] == "GE"


def test_title_and_early_mentions_outrank_late_ones(gaz):
    text = "Kenya signs trade deal\nThe deal, worth millions, was also welcomed in Uganda."
    found = gaz.find(text)
    assert [m.code for m in found] == ["KE", "UG"]
    assert found[0].in_title and not found[1].in_title
    # A one-line text has no title: nothing is marked as in the title.
    assert not any(m.in_title for m in gaz.find("Kenya and Uganda signed a trade deal."))


def test_more_mentions_score_higher_and_scores_stay_in_range(gaz):
    once = gaz.find("A delegation from Peru arrived.")[0].score
    thrice = gaz.find("A delegation from Peru arrived. Peru and Peruvian officials spoke.")[0].score
    assert 0.0 < once < thrice < 1.0
    assert gaz.find(" ".join(["France"] * 200))[0].score <= 1.0


def test_abbreviations_aliases_and_all_caps(gaz):
    assert codes(gaz, "Talks between the UAE and the DRC resumed.") == ["AE", "CD"]
    assert codes(gaz, "RENO, Nev. (AP) - A judge ruled on Monday.") == ["US"]
    assert codes(gaz, "UKRAINE WAR: LATEST") == ["UA"]
    assert codes(gaz, "Côte d’Ivoire beat Cote d'Ivoire's rivals") == ["CI"]


def test_mention_is_frozen_and_sorted_best_first(gaz):
    found = gaz.find("Brazil and Argentina met in Buenos Aires. Argentina's president hosted.")
    assert [m.code for m in found] == ["AR", "BR"]
    assert all(isinstance(m, CountryMention) for m in found)
    with pytest.raises(dataclasses.FrozenInstanceError):
        found[0].score = 0.0  # type: ignore[misc]


def test_region_scores_combine_countries_of_one_region(gaz):
    mentions = gaz.find("Kenya, Uganda and Tanzania agreed a customs union; Germany watched.")
    regions = gaz.region_scores(mentions)
    assert next(iter(regions)) == "Eastern Africa"
    best_country = max(m.score for m in mentions if m.code in {"KE", "UG", "TZ"})
    assert best_country < regions["Eastern Africa"] <= 1.0
    assert set(regions) == {"Eastern Africa", "Western Europe"}
    assert gaz.region_scores([]) == {}


def test_long_article_counts_every_mention(gaz):
    # Speed is measured by `make bench` (docs/countries.md), not asserted here: a shared CI machine is too noisy.
    words = ("Officials in Nairobi said the Kenyan plan, backed by Ethiopia and the U.S., would start in"
             " March while critics in London and Berlin were unconvinced . ").split()
    repeats = 1000 // len(words) + 1
    found = {m.code: m for m in gaz.find(" ".join(words * repeats))}
    assert set(found) == {"KE", "ET", "US", "GB", "DE"}
    assert found["KE"].count == 2 * repeats and found["ET"].count == repeats


def test_load_gazetteer_is_cached():
    assert load_gazetteer() is load_gazetteer()


def test_resolve_country_unchanged():
    assert resolve_country("USA") == "US"
    assert resolve_country("U.K.") == "GB"
    assert resolve_country("Congo") == "CG"
    assert resolve_country("global") is None


def test_the_package_data_globs_ship_every_place_file():
    """setuptools installs only files the package-data globs match: the gazetteer cannot start without its tables."""
    import fnmatch
    import tomllib
    from pathlib import Path

    from nlp_service.places.data_files import PLACE_DATA, place_data_files

    root = Path(__file__).resolve().parents[1]
    globs = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["nlp_service"]
    assert len(place_data_files()) == 13
    for path in place_data_files():
        relative = path.relative_to(PLACE_DATA.parent.parent).as_posix()
        assert any(fnmatch.fnmatch(relative, g) and relative.count("/") == g.count("/") for g in globs), relative
