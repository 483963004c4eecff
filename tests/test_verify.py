"""The consistency checker as a user meets it: Verifier records, Analyzer.verify, `nlp-service verify`,
POST /v1/verify, and the summariser's guard. A fake cross-encoder keeps these fast; the trained checkpoint is
tested in test_verify_checkpoint.py (slow)."""

from __future__ import annotations

import io
import json
import sys
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from nlp_service import cli
from nlp_service.analyzer import Analyzer
from nlp_service.records import Verification
from nlp_service.summarize import Summarizer, SummarizerConfig
from nlp_service.summarize.sentences import sentence_spans
from nlp_service.summarize.verify import QUALIFIERS, Article, Verifier, VerifyCalibration
from nlp_service.summarize.verify.calibration import THRESHOLD_GRID, balanced_accuracy

ARTICLE = """Harbour town opens ferry terminal
The small harbour town of Eastmere opened a new ferry terminal on Friday, the council said.
At least 300 people attended the opening, which was delayed by two years.
The terminal will not serve freight ships, officials said.
Half of the cost was paid by the regional government."""


class FakeModel:
    """Logit -4 when the claim holds a word from ``bad_words`` (or a negation the window lacks), else +4."""

    def __init__(self, bad_words: tuple[str, ...] = ("centre-right", "freight ships will")):
        self.bad_words = bad_words
        self.calls: list[int] = []

    def logits(self, premises: list[str], claims: list[str], batch_size: int = 32) -> list[float]:
        self.calls.append(len(claims))
        out = []
        for premise, claim in zip(premises, claims, strict=True):
            bad = any(w in claim.lower() for w in self.bad_words)
            bad |= ("not" in claim.split()) != ("not" in premise.split())
            bad |= "at least" in premise.lower() and "at least" not in claim.lower() and "300" in claim
            out.append(-4.0 if bad else 4.0)
        return out


CALIBRATION = VerifyCalibration(model_weight=1.0, rule_weight=-5.0, bias=0.5, threshold=0.5, fitted_on="test")


def verifier(model: FakeModel | None = None) -> Verifier:
    return Verifier(model or FakeModel(), calibration=CALIBRATION, version="test-checker")


def test_copied_sentences_pass_without_the_model():
    model = FakeModel()
    record = verifier(model).verify(
        ARTICLE, "The small harbour town of Eastmere opened a new ferry terminal on Friday, the council said.")
    assert record.faithful and record.score == 1.0 and record.unsupported == []
    assert model.calls == []  # copied text never reaches the cross-encoder


def test_copied_opening_of_a_sentence_passes_but_not_a_copied_middle():
    doc = Article.build(ARTICLE)
    assert doc.copied("At least 300 people attended the opening…")
    assert not doc.copied("300 people attended the opening.")


def test_record_shape_and_schema():
    record = verifier().verify(ARTICLE, "Eastmere opened a terminal that will serve freight ships. It cost little.")
    data = record.to_dict()
    assert set(data) >= {"id", "faithful", "score", "unsupported", "warnings", "checker"}
    assert 0.0 <= data["score"] <= 1.0 and data["checker"] == "test-checker"
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(resources.files("nlp_service.data").joinpath("verify.schema.json").read_text("utf-8"))
    jsonschema.Draft202012Validator(schema).validate(data)


def test_a_name_the_article_lacks_is_reported_as_a_name_with_its_span():
    summary = "Eastmere opened a new ferry terminal on Friday, said mayor Anna Grey."
    record = verifier().verify(ARTICLE, summary)
    assert not record.faithful
    names = [u for u in record.unsupported if u.kind == "name"]
    assert names and names[0].span == "Anna Grey"
    assert summary[names[0].start: names[0].end] == "Anna Grey"
    assert "Eastmere" in names[0].closest


def test_a_dropped_qualifier_is_reported_as_a_qualifier():
    record = verifier().verify(ARTICLE, "300 people attended the opening of the terminal.")
    assert not record.faithful
    assert [u.kind for u in record.unsupported] == ["qualifier"]
    assert record.unsupported[0].span.startswith("300")
    assert record.unsupported[0].closest.startswith("At least 300")


def test_a_negation_is_reported_as_a_negation():
    record = verifier().verify(ARTICLE, "The terminal will serve freight ships, officials said.")
    assert not record.faithful
    assert record.unsupported[0].kind == "negation"


def test_evidence_adds_up_rule_and_model():
    c = verifier().calibration
    assert c.apply(4.0, False) > c.apply(4.0, True)  # a missing name lowers a confident model
    assert c.apply(-4.0, False) > c.apply(-4.0, True)
    assert c.apply(4.0, True) < CALIBRATION.threshold  # bias 0.5 + 4 - 5 < 0


SHIPPED_CHECKER = Path(__file__).resolve().parent.parent / "checkpoints" / "faithfulness"


def test_shipped_checker_calibration_is_read_strictly():
    calibration = Verifier.load(SHIPPED_CHECKER).calibration  # the cross-encoder itself is not loaded here
    assert calibration.fitted_on != "not fitted" and 0.0 < calibration.threshold < 1.0


@pytest.mark.parametrize(("change", "message"), [
    ({"slope": 1.0}, "unknown key calibration.slope"),
    ({"threshold": None}, "calibration.threshold must be a number"),
    ({"fitted_on": 3}, "calibration.fitted_on must be a string"),
])
def test_a_bad_calibration_key_names_the_file_and_the_key(tmp_path, change, message):
    config = json.loads((SHIPPED_CHECKER / "config.json").read_text())
    config["calibration"].update(change)
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match=message) as err:
        Verifier.load(tmp_path)
    assert str(tmp_path / "config.json") in str(err.value)


def test_a_missing_calibration_key_is_an_error_but_an_uncalibrated_checker_loads(tmp_path):
    config = json.loads((SHIPPED_CHECKER / "config.json").read_text())
    del config["calibration"]["bias"]
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="calibration.bias is missing"):
        Verifier.load(tmp_path)
    del config["calibration"]  # trained, not calibrated yet: training.calibrate_faithfulness loads it so
    (tmp_path / "config.json").write_text(json.dumps(config))
    assert Verifier.load(tmp_path).calibration == VerifyCalibration()


def test_calibration_fit_separates_the_evidence():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 400)
    logits = rng.normal(0, 1, 400) + 2.0 * (labels - 0.5)
    rule_fails = [bool(x) for x in (labels == 0) & (rng.random(400) < 0.5)]
    fitted = VerifyCalibration.fit(list(logits), rule_fails, labels, fitted_on="400 test sentences")
    assert fitted.model_weight > 0 and fitted.rule_weight < 0 and fitted.fitted_on == "400 test sentences"
    prob = np.array([fitted.apply(z, r) for z, r in zip(logits, rule_fails, strict=True)])
    best = max(balanced_accuracy(prob, labels, t) for t in THRESHOLD_GRID)
    assert balanced_accuracy(prob, labels, fitted.threshold) == best > 0.8
    assert VerifyCalibration.from_config({"calibration": fitted.to_dict()}, "x.json") == fitted


def test_training_pairs_drop_every_qualifier_the_checker_flags():
    import random
    from types import SimpleNamespace

    from training import faith_pairs

    for q in QUALIFIERS:
        text = f"Officials think {q} forty people came to the town hall."
        out = faith_pairs.drop_qualifier(SimpleNamespace(text=text), random.Random(0))
        assert out is not None and f" {q} " not in f" {out.lower()} ", q


def test_verify_many_scores_every_sentence_in_one_model_call():
    model = FakeModel()
    summaries = ["Eastmere has a new terminal. It will carry cars.", "The centre-right council built it."]
    records = verifier(model).verify_many([ARTICLE, ARTICLE], summaries)
    assert model.calls == [3]
    assert [r.faithful for r in records] == [True, False]
    assert records[1].unsupported[0].kind == "claim" and records[1].unsupported[0].span == "centre-right"


def test_summary_score_is_its_weakest_sentence():
    v = verifier()
    both = v.verify(ARTICLE, "Eastmere has a new terminal. The centre-right council built it.")
    weak = v.verify(ARTICLE, "The centre-right council built it.")
    assert both.score == weak.score and not both.faithful


def test_empty_summary_is_faithful_with_a_warning():
    record = verifier().verify(ARTICLE, "  ")
    assert record.faithful and record.warnings


def test_rule_only_checker_without_a_model():
    v = Verifier.rule_only()
    assert v.verify(ARTICLE, "Eastmere opened a ferry terminal.").faithful
    assert not v.verify(ARTICLE, "Eastmere opened a ferry terminal in Norway.").faithful


def test_sentence_spans_keep_abbreviations_and_numbers_together():
    text = "Shares rose 2.5% on Monday. The U.S. bank said so.\nA new line."
    assert [text[a:b] for a, b in sentence_spans(text)] == [
        "Shares rose 2.5% on Monday.", "The U.S. bank said so.", "A new line."]


def test_sentence_spans_take_a_period_with_only_punctuation_before_it():
    # found by `make fuzz`: '"." Next' made the abbreviation check index an empty word list (a 500 from /v1/verify)
    for text in ('"." Next one.', ").\" Then.", ". A."):
        assert "".join(text[a:b] for a, b in sentence_spans(text)).strip()


# -- the three doors ----------------------------------------------------------------------------------------
class SummarizerWithChecker:
    version = "fake-summarizer-1"

    def __init__(self, checker: Verifier):
        self.verifier = checker


def test_analyzer_verify_single_and_list():
    analyzer = Analyzer(classifier=lambda: None, summarizer=SummarizerWithChecker(verifier()))
    one = analyzer.verify(ARTICLE, "The centre-right council built it.")
    assert isinstance(one, Verification) and not one.faithful
    many = analyzer.verify([ARTICLE, ARTICLE], ["Eastmere has a new ferry terminal.", "x"])
    assert [r.faithful for r in many] == [True, True]


def test_analyzer_verify_bad_rows(fake_analyzer):
    records = fake_analyzer.verify_prepared(["", ARTICLE], ["a summary", None], ["a", "b"])
    assert [r.id for r in records] == ["a", "b"]
    assert records[0].error and records[1].error and not records[0].faithful


def test_cli_verify_writes_one_record_per_row(tmp_path, monkeypatch, fake_analyzer, capsys):
    monkeypatch.setattr(cli, "load_analyzer", lambda checkpoint: fake_analyzer)
    src = tmp_path / "in.jsonl"
    rows = [{"id": "ok", "text": ARTICLE, "summary": "Eastmere opened a new ferry terminal."},
            {"id": "bad", "title": "Harbour", "body": ARTICLE, "summary": "Eastmere opened a terminal in Norway."},
            {"id": "none", "text": ARTICLE}]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows) + "{broken\n")
    out = tmp_path / "out.jsonl"
    assert cli.main(["verify", "-i", str(src), "-o", str(out)]) == 1  # error rows → exit 1
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in records] == ["ok", "bad", "none", "#4"]
    assert records[0]["faithful"] is True
    assert records[1]["faithful"] is False and records[1]["unsupported"][0]["span"] == "Norway"
    assert "summary" in records[2]["error"] and "JSON" in records[3]["error"]
    assert "4 rows checked" in capsys.readouterr().err


def test_cli_verify_stdin_to_stdout(monkeypatch, fake_analyzer, capsys):
    monkeypatch.setattr(cli, "load_analyzer", lambda checkpoint: fake_analyzer)
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps({"text": ARTICLE, "summary": "Eastmere."}) + "\n"))
    assert cli.main(["verify", "-i", "-", "-o", "-"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["id"] == "#1" and record["faithful"] is True


def test_http_verify(fake_analyzer):
    from fastapi.testclient import TestClient

    from nlp_service.serve.app import create_app

    with TestClient(create_app(fake_analyzer)) as client:
        fake_analyzer.warm_up = lambda tasks=(): None  # type: ignore[method-assign]
        for _ in range(200):
            if client.get("/readyz").status_code == 200:
                break
        one = client.post("/v1/verify", json={"text": ARTICLE, "summary": "Eastmere opened a terminal in Norway."})
        assert one.status_code == 200
        assert one.json()["faithful"] is False and one.json()["unsupported"][0]["kind"] == "name"
        many = client.post("/v1/verify", json={"articles": [
            {"id": 7, "text": ARTICLE, "summary": "Eastmere opened a new ferry terminal."}]})
        assert many.json()["results"][0]["id"] == "7" and many.json()["results"][0]["faithful"] is True
        assert client.post("/v1/verify", json={"text": ARTICLE}).status_code == 422
        assert client.post("/v1/verify", json={"text": " ", "summary": "x"}).status_code == 422


# -- the guard ----------------------------------------------------------------------------------------------
class FakeAbstractive:
    def __init__(self, outputs: list[str]):
        self.outputs = outputs

    def generate(self, texts: list[str], max_words: int) -> list[str]:
        return self.outputs[: len(texts)]


class Encoder:
    def encode(self, texts: list[str], batch_size: int = 64):
        import numpy as np

        return np.ones((len(texts), 4), dtype=np.float32)


def test_guard_uses_the_learned_checker(tmp_path):
    outputs = [
        "Eastmere opened a new ferry terminal on Friday. The centre-right council paid for all of it.",
        "The centre-right council of Eastmere paid for a terminal.",
        "Eastmere opened a new ferry terminal on Friday after a delay of two years.",
    ]
    s = Summarizer(SummarizerConfig(), tmp_path, Encoder(), FakeAbstractive(outputs), verifier=verifier())
    repaired, replaced, kept = s.summarize([ARTICLE] * 3, method="abstractive")
    assert repaired.summary == "Eastmere opened a new ferry terminal on Friday."
    assert repaired.summary_method == "abstractive" and repaired.faithful
    assert "repaired" in repaired.warnings[0] and "centre-right" in repaired.warnings[0]
    assert replaced.summary_method == "extractive" and replaced.faithful and "replaced" in replaced.warnings[0]
    assert kept.summary == outputs[2] and kept.warnings == []


def test_extractive_summaries_carry_the_checkers_verdict(tmp_path):
    model = FakeModel()
    s = Summarizer(SummarizerConfig(), tmp_path, Encoder(), verifier=verifier(model))
    summary = s.summarize([ARTICLE])[0]
    assert summary.faithful and model.calls == []  # copied sentences: no model call


def test_cli_verify_reads_rows_as_the_batch_command_does(tmp_path, monkeypatch, fake_analyzer):
    """A line nested too deeply for the JSON parser and a non-string text are error records; ids 7 and 7.0 agree."""
    monkeypatch.setattr(cli, "load_analyzer", lambda checkpoint: fake_analyzer)
    src = tmp_path / "in.jsonl"
    src.write_text("[" * 100_000 + "\n" + json.dumps({"id": 7.0, "text": 5, "summary": "x"}) + "\n"
                   + json.dumps({"id": 7, "text": ARTICLE, "summary": "Eastmere opened a new ferry terminal."}) + "\n")
    out = tmp_path / "out.jsonl"
    assert cli.main(["verify", "-i", str(src), "-o", str(out)]) == 1
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in records] == ["#1", "7", "7"]
    assert "JSON" in records[0]["error"] and "text must be a string" in records[1]["error"]
    assert records[2]["faithful"] is True
