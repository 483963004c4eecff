"""The shipped checkpoints on articles we wrote: what a user sees on clear-cut cases."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nlp_service.classify import TopicClassifier
from nlp_service.classify.decision.country_relevance import RelevanceSettings
from nlp_service.runtime.onnx_model import RuntimeOptions

pytestmark = pytest.mark.slow

# id → (a theme, a sub-region, a country) the record must contain
CLEAR_CASES = {
    "ex-01": ("politics", "Northern Europe", "NO"),
    "ex-02": ("conflict, war and peace", "Middle Africa", "CD"),
    "ex-03": ("economy, business and finance", "South-eastern Asia", "VN"),
    "ex-04": ("sport", "Australia and New Zealand", "NZ"),
}


@pytest.fixture(scope="module")
def example_records(real_analyzer, examples_path):
    rows = [json.loads(line) for line in examples_path.read_text().splitlines() if line.strip()]
    texts = [r.get("text") or f"{r['title']}\n{r['body']}" for r in rows]
    return {
        r["id"]: rec
        for r, rec in zip(rows, real_analyzer.analyze(texts, ids=[r["id"] for r in rows]), strict=True)
    }


@pytest.mark.parametrize(
    "article_id",
    [
        a for a in sorted(CLEAR_CASES)
    ],
)
def test_clear_cases_are_tagged(example_records, article_id):
    theme, region, country = CLEAR_CASES[article_id]
    rec = example_records[article_id]
    assert theme in [t.name for t in rec.themes]
    assert region in [r.name for r in rec.regions]
    assert country in [c.code for c in rec.countries]


def test_records_are_well_formed(example_records):
    for rec in example_records.values():
        d = rec.to_dict()
        assert d["error"] is None if "error" in d else True
        for key in ("countries", "regions", "themes"):
            scores = [x["score"] for x in d[key]]
            assert all(0 <= s <= 1 for s in scores)
            if key == "countries" and scores:
                # of near-equal countries the one the text names first leads (the story's primary country)
                assert scores[0] >= max(scores) - RelevanceSettings().first_named_margin
                scores = scores[1:]
            assert scores == sorted(scores, reverse=True)
        assert d["summary"] and len(d["summary"].split()) <= 45
        assert d["summary_method"] in ("extractive", "abstractive") and isinstance(d["faithful"], bool)
        assert set(d["model"]) == {"classifier", "summarizer"}


def test_bad_input_gets_a_defined_result(real_analyzer):
    records = real_analyzer.analyze(
        [
            "",
            "Nachrichten aus Berlin: Die Regierung hat heute beschlossen, die Steuern "
            "zu senken, sagte der Minister.",
            "word " * 60_000,
            "One sentence only.",
        ]
    )
    assert records[0].error == "empty text"
    assert any("English" in w for w in records[1].warnings)
    assert any("truncated" in w for w in records[2].warnings) and records[2].summary is not None
    assert records[3].summary == "One sentence only."


# Short stories we wrote, one clear theme each. The classifier is fitted on long general-news articles (the gold
# set), and its lexical expert weighs most; on two- or three-sentence stories of rare themes it still misses some.
# Those are marked as known failures (strict: the mark must go when they pass), see docs/classifier.md.
SHORT_STORIES = [
    pytest.param("religion", "Pilgrims fill the cathedral as the bishop leads Easter worship\nThousands of Christian "
                 "pilgrims attended the service, and the clergy of three dioceses joined the procession to the church.",
                 id="religion"),
    pytest.param("weather", "Heavy rain and thunderstorms forecast for the weekend\nThe meteorological office warned "
                 "of rainfall of up to 80mm and strong wind as temperatures drop sharply on Sunday.",
                 id="weather", marks=pytest.mark.xfail(strict=True, reason=(
                     "a two-sentence forecast is tagged 'disaster' only: weather is the rarest gold theme (11 test "
                     "articles) and forecasts are its weakest form (docs/classifier.md, known weaknesses)"))),
    pytest.param("disaster, accident and emergency incident", "Ferry capsizes; rescue teams search for survivors\n"
                 "The death toll rose to 14 after the accident, and emergency services evacuated the harbour.",
                 id="disaster"),
    pytest.param("labour", "Dockers walk out at Rotterdam over pay\nPort workers in Rotterdam stopped work on Monday "
                 "after talks over pay broke down, leaving container ships waiting at anchor. The dockers want a rise "
                 "in line with inflation; the port operator offered half that.", id="labour"),
    pytest.param("education", "Pupils sit new reading test\nEleven-year-olds across Wales sat a new national reading "
                 "test this week, and teachers will receive the results before the summer holiday.",
                 id="education"),
]


@pytest.mark.parametrize(("theme", "text"), SHORT_STORIES)
def test_short_clear_stories_get_their_theme(real_analyzer, theme, text):
    assert theme in [t.name for t in real_analyzer.classify(text).themes]


def test_a_welfare_story_is_not_labour(real_analyzer):
    welfare = (
        "Council approves welfare budget\nThe city council approved a new budget for social welfare programmes "
        "on Tuesday, including more money for homeless shelters."
    )
    assert "labour" not in [t.name for t in real_analyzer.classify(welfare).themes]


def test_research_and_space_news_is_science(example_records, real_analyzer):
    """BBC's tech folder holds gadgets and the internet only; the gold set labels research and space news as
    science too, so such stories are tagged, and a business story is not."""
    sci = "science and technology"
    assert sci in [t.name for t in example_records["ex-11"].themes]  # a lunar probe lands near the south pole
    space, business = real_analyzer.classify(
        [
            "Astronomers find a second moon orbiting the dwarf planet\nScientists using a space telescope said "
            "the small moon completes one orbit every 12 days, and researchers at the space agency will "
            "point the telescope at it again in the spring.",
            "Retailer's profits rise as shoppers return\nThe chain said sales rose 4% in the quarter and it "
            "would open 20 new stores next year, sending its shares higher.",
        ]
    )
    assert sci in [t.name for t in space.themes], space.themes
    assert sci not in [t.name for t in business.themes], business.themes


def test_shipped_classifier_runs_as_configured(checkpoints):
    torch_runtime = RuntimeOptions(backend="torch")  # the fallback path; tests/test_onnx_runtime.py has ONNX's
    fast = TopicClassifier.load(checkpoints / "classifier", runtime=torch_runtime)
    exact = TopicClassifier.load(checkpoints / "classifier", quantize=False, runtime=torch_runtime)
    kinds = {type(m).__module__ for m in fast.model.modules() if type(m).__name__ == "Linear"}
    expected = "torch.ao.nn.quantized.dynamic.modules.linear" if fast.cfg.quantize else "torch.nn.modules.linear"
    assert kinds == {expected}
    # int8 moves logits a little, not decisions: the same labels on clear cases, and the same top raw score
    # wherever fp32's best two are not near-tied (the region head reads rugby in Auckland as Northern Europe and
    # Australia/New Zealand alike; the named country decides the region)
    texts = ["Norway's parliament votes on the budget\nThe Storting in Oslo approved the government's plan.",
             "Strikers score twice as New Zealand win the rugby final in Auckland."]
    for a, b in zip(*(c.text_outputs(texts)[:2] for c in (fast, exact)), strict=True):
        best_two = np.sort(b, axis=1)[:, -2:]
        clear = best_two[:, 1] - best_two[:, 0] > 0.5
        assert clear.any()
        assert np.array_equal(a.argmax(1)[clear], b.argmax(1)[clear])

    def labels(clf: TopicClassifier) -> list[list[str]]:
        return [sorted(t.name for t in r.themes) + sorted(g.name for g in r.regions) + [c.code for c in r.countries]
                for r in clf.classify(texts)]

    assert labels(fast) == labels(exact)


def test_serving_imports_only_what_serving_needs(real_analyzer):
    """Start-up time: once the caches are warm, analysing an article imports neither scikit-learn nor
    transformers (each costs ~1 s of start-up; docs/performance.md)."""
    import subprocess
    import sys

    real_analyzer.analyze(["Kenya and Uganda signed a trade deal in Nairobi on Monday."])  # fills the caches
    code = ("import sys; from nlp_service import Analyzer; "
            "Analyzer.load().analyze(['Kenya and Uganda signed a trade deal in Nairobi on Monday.']); "
            "print(sorted(m for m in ('sklearn', 'transformers', 'peft', 'pandas') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"
