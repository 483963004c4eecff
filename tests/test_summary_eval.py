"""The summary evaluation harness on three documents written for these tests (no data package is read)."""

from __future__ import annotations

import json

import pytest

from training.evaluation import summaries, summary_report
from training.evaluation.summary_metrics import aggregate, novel_bigram_share, rouge, score_summary

DOCS = [
    summaries.Doc(
        "a",
        "The city council approved a new cycle lane on Monday. Work will start in June and cost £2m. "
        "Shop owners worry about deliveries.",
        "The council approved a new cycle lane that will cost £2m.",
    ),
    summaries.Doc(
        "b",
        "Heavy snow closed schools across the north on Tuesday. Drivers were told to stay at home. "
        "More snow is expected tomorrow.",
        "Snow closed schools across the north.",
    ),
    summaries.Doc(
        "c",
        "A rare orchid was found in a forest near Lakeby. Botanists had thought it extinct in the region. "
        "The site will be protected.",
        "Botanists found an orchid they thought was extinct.",
    ),
]


def test_rouge_is_100_for_identical_text_and_0_for_disjoint():
    assert rouge("The cat sat on the mat.", "The cat sat on the mat.") == pytest.approx(
        {"rouge1": 100.0, "rouge2": 100.0, "rougeLsum": 100.0}
    )
    assert rouge("Dogs bark loudly.", "Cats sleep quietly.")["rouge1"] == 0.0


def test_novel_bigram_share():
    assert novel_bigram_share("the cat sat", "yesterday the cat sat down") == 0.0
    assert novel_bigram_share("the dog sat", "the cat sat") == 1.0
    assert novel_bigram_share("word", "anything") is None


def test_score_and_aggregate():
    s1 = score_summary("Snow closed schools.", "Snow closed schools across the north.", DOCS[1].text)
    s2 = score_summary("Snow closed 40 schools in Oslo.", "Snow closed schools.", DOCS[1].text)
    assert s1.faithful and not s2.faithful
    agg = aggregate([s1, s2], seconds=2.0)
    assert agg["n"] == 2 and agg["faithful"] == 0.5 and agg["seconds_per_article"] == 1.0
    assert agg["words"] == pytest.approx((3 + 6) / 2)


def test_evaluate_side_by_side_and_write_report(tmp_path):
    methods = {
        "lead1": lambda texts: [summaries.lead(t, k=1) for t in texts],
        "invented": lambda texts: ["Officials in Paris said 300 people left." for _ in texts],
    }
    sets = [summaries.EvalSet("toy", DOCS, "hand-written")]
    report = summaries.evaluate(sets, methods, notes=["a note"])
    block = report["sets"]["toy"]
    assert block["n"] == 3
    lead1, invented = block["methods"]["lead1"], block["methods"]["invented"]
    assert lead1["faithful"] == 1.0 and lead1["novel_bigrams"] == 0.0
    assert invented["faithful"] == 0.0
    assert lead1["rouge1"] > invented["rouge1"]

    json_path, md_path = summary_report.write(report, tmp_path)
    assert json.loads(json_path.read_text())["sets"]["toy"]["methods"]["lead1"]["n"] == 3
    md = md_path.read_text()
    assert "| lead1 |" in md and "| invented |" in md and "a note" in md


def test_faithful_column_is_the_checkers_verdict():
    """With the service's checker given, ``faithful`` is its verdict, not the rule's."""
    from types import SimpleNamespace

    class Doubting:
        version = "doubting"

        def verify_many(self, articles, summaries):
            return [SimpleNamespace(faithful=False) for _ in summaries]

    methods = {"lead1": lambda texts: [summaries.lead(t, k=1) for t in texts]}
    sets = [summaries.EvalSet("toy", DOCS, "hand-written")]
    assert summaries.evaluate(sets, methods)["sets"]["toy"]["methods"]["lead1"]["faithful"] == 1.0
    doubted = summaries.evaluate(sets, methods, verifier=Doubting())
    assert doubted["sets"]["toy"]["methods"]["lead1"]["faithful"] == 0.0


def test_build_methods_skips_abstractive_without_adapter(tmp_path):
    from nlp_service.summarize import Summarizer, SummarizerConfig

    notes: list[str] = []
    names = ["lead1", "lead3", "abstractive_raw", "abstractive_guarded"]
    methods = summaries.build_methods(names, Summarizer(SummarizerConfig(), tmp_path), notes)
    assert list(methods) == ["lead1", "lead3"]
    assert len(notes) == 2 and all("skipped" in n for n in notes)
    assert methods["lead3"]([DOCS[0].text]) == [DOCS[0].text]
    with pytest.raises(ValueError, match="unknown method"):
        summaries.build_methods(["best"], Summarizer(SummarizerConfig(), tmp_path), [])


def test_main_runs_on_injected_sets(tmp_path, monkeypatch):
    from nlp_service.summarize import SummarizerConfig

    SummarizerConfig().write(tmp_path / "ckpt" / "summarizer")
    monkeypatch.setattr(summaries, "default_sets", lambda n, *_: [summaries.EvalSet("toy", DOCS[:n], "x")])
    ckpt, out = str(tmp_path / "ckpt"), str(tmp_path)
    report = summaries.main(["--limit", "2", "--methods", "lead1,lead3", "--checkpoint", ckpt, "--out", out])
    assert report["sets"]["toy"]["n"] == 2
    assert (tmp_path / "summary_eval.json").is_file() and (tmp_path / "summary_eval.md").is_file()


def test_judged_only_keeps_the_judged_articles_of_team_sets():
    team = summaries.EvalSet("team test", list(DOCS), "x")
    other = summaries.EvalSet("XSum test", list(DOCS), "x")
    kept = summaries.judged_articles([team, other], {DOCS[1].id})
    assert [d.id for d in kept[0].docs] == [DOCS[1].id]
    assert kept[1].docs == list(DOCS)  # only the team's articles carry team judgements


def test_best_threshold_is_the_upper_bound_of_one_threshold():
    from training.evaluation.faithfulness import best_threshold

    # incorrect sentences should score low; one incorrect one scores high
    best = best_threshold([0.1, 0.2, 0.9], [0.5, 0.6, 0.7])
    assert best["threshold"] == 0.5
    assert best["recall"] == round(2 / 3, 4) and best["specificity"] == 1.0
    assert best["balanced_accuracy"] == round((2 / 3 + 1) / 2, 4)
    assert best_threshold([0.9], [0.1])["balanced_accuracy"] == 0.5  # nothing beats chance: reported as 0.5


def test_checkers_compared_in_one_table_with_the_rule():
    """`--checkers`: each candidate's headline figures in one row beside the shipped checker and the rule."""
    from nlp_service.summarize.verify import Verifier
    from training.evaluation.faithfulness import compare_row, comparison_markdown

    team = {"balanced_accuracy": 0.7, "recall": 0.6, "span_overlap": 0.5,
            "false_alarms_by_kind": {"abstract": {"n": 10, "rate": 0.1}, "paraphrase": {"n": 10, "rate": 0.3}}}
    fsp = {"balanced_accuracy": 0.62, "recall": 0.55}
    scored = {"team_test": {"checker": team, "rule": {**team, "balanced_accuracy": 0.66}},
              "factual_summary_pairs": {"checker": fsp, "rule": {**fsp, "recall": 0.02}},
              "speed": {"ms_per_check_best_of_3": 14.5}}
    rows = [compare_row(Verifier.rule_only(), scored, "shipped"), compare_row(None, scored, "rule")]
    assert rows[0]["ms_per_check"] == 14.5 and rows[1]["ms_per_check"] is None
    assert rows[1]["team_balanced_accuracy"] == 0.66 and rows[1]["fsp_recall"] == 0.02
    table = comparison_markdown(rows)
    assert table[4] == "| shipped (`rule`) | 0.700 | 0.600 | 0.100 | 0.300 | – | 0.500 | 0.620 | 0.550 | 14.5 |"
    assert table[5].startswith("| rule (`rule`) | 0.660 |") and table[5].endswith("| – |")


def test_speed_section_reads_as_prose_and_a_table():
    from training.evaluation.faithfulness import speed_markdown

    lines = speed_markdown({"pairs": 64, "mean_article_words": 332.7, "mean_summary_words": 31.8,
                            "ms_per_check_best_of_3": 14.5, "ms_per_check_runs": [17.7, 14.5, 15.0],
                            "checks_per_second": 68.9,
                            "extractive_articles_per_second": {"check_on": [50.2, 52.8], "check_off": [66.5, 60.5]}})
    assert lines[2].startswith("14.5 ms a check (best of 3: [17.7, 14.5, 15.0]), 68.9 checks/s: 64 team test")
    assert "| with the check | 50.2 / 52.8 |" in lines and "| without | 66.5 / 60.5 |" in lines
    assert speed_markdown({"pairs": 0}) == ["## Speed", ""]  # no checker model: nothing to time


def test_second_writer_and_judged_shares_in_the_report():
    """A set's own method (the second writer) is scored beside the others; judged shares count the very texts."""
    from training.evaluation.judged import JudgedSummaries

    second = {d.text: d.reference for d in DOCS}  # a second writer who wrote what the first did
    sets = [summaries.EvalSet("twice", DOCS, "first writer", {"human_second": lambda t: [second[x] for x in t]})]
    lead1 = summaries.lead(DOCS[0].text, k=1)
    judged = JudgedSummaries([{"key": "a", "summary": lead1, "faithful": True, "fluent": True, "covers": False},
                              {"key": "a", "summary": lead1, "faithful": False, "fluent": True, "covers": False}])
    methods = {"lead1": lambda texts: [summaries.lead(t, k=1) for t in texts]}
    block = summaries.evaluate(sets, methods, judged=judged)["sets"]["twice"]["methods"]
    assert block["human_second"]["rouge1"] == pytest.approx(100.0)
    assert block["lead1"]["judged_n"] == 1 and block["lead1"]["judged_faithful"] == 0.5  # two judges, split
    assert block["human_second"]["judged_n"] == 0 and block["human_second"]["judged_faithful"] is None


def test_saved_predictions_are_reused_without_running_the_method(tmp_path):
    path = tmp_path / "summary_predictions.jsonl"
    sets = [summaries.EvalSet("toy", DOCS, "x")]
    first = summaries.Predictions(path)
    summaries.evaluate(sets, {"lead1": lambda texts: [summaries.lead(t, k=1) for t in texts]}, store=first)
    first.save()

    def must_not_run(texts):
        raise AssertionError("generated again")

    again = summaries.evaluate(sets, {"lead1": must_not_run}, store=summaries.Predictions(path, reuse=True))
    assert again["sets"]["toy"]["methods"]["lead1"]["faithful"] == 1.0
