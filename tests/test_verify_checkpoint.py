"""The shipped consistency checker (checkpoints/faithfulness/), loaded from its local path: the known failures of
the name-and-number rule are caught, copied and faithful sentences pass. Our own example articles only."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlp_service.summarize.verify import Verifier
from nlp_service.summarize.verify.model import ConsistencyModel
from tests.example_texts import FERRY_ARTICLE

FOLDER = Path(__file__).resolve().parent.parent / "checkpoints" / "faithfulness"

NORWAY = (
    "Norway's centre-left opposition wins election\n"
    "Norway's centre-left opposition, led by Labour leader Jonas Gahr Store, won Monday's general election, "
    "ending eight years of Conservative-led government. "
    "The three parties of the centre-left coalition are expected to hold 100 of the 169 seats in parliament. "
    "Prime Minister Erna Solberg conceded defeat late on Monday night. "
    "Climate policy and the future of the oil industry dominated the campaign."
)
FERRY = FERRY_ARTICLE
STRIKE = (
    "Ferry strike ends after pay deal\n"
    "Ferry workers on the Kestrel Line ended a six-day strike on Monday after accepting a pay rise of 4 per cent.\n"
    "Services between Portwick and the island of Hale will resume on Wednesday, the company said.\n"
    "Passengers had faced long detours during the strike, and some businesses on Hale ran short of supplies.\n"
    "The union said the deal was the best offer in a decade."
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def checker() -> Verifier:
    if not (FOLDER / "config.json").is_file():
        pytest.skip(f"no trained checker in {FOLDER}")
    import torch

    torch.set_num_threads(1)
    return Verifier.load(FOLDER)


def test_loads_from_the_local_package_path_without_a_hub():
    if not (FOLDER / "config.json").is_file():
        pytest.skip(f"no trained checker in {FOLDER}")
    model = ConsistencyModel.load(FOLDER)
    [a, b] = model.logits(["The bank raised rates on Monday."] * 2,
                          ["The bank raised rates.", "The bank did not raise rates."])
    assert a > b


@pytest.mark.parametrize("article, summary", [
    (NORWAY, "Norwell's centre-right coalition has won the general election."),  # the reported abstract
    (FERRY, "The harbour town is the first in the area to be built on a new rail link."),  # 550-step adapter
    (STRIKE, "Ferry workers in Norway ended a 12-day strike."),  # test_summarize_facade's guard cases
    (STRIKE, "Kestrel Line workers ended a six-day strike after a pay deal. Talks were led by Anna Grey."),
    pytest.param(NORWAY, "Norway's centre-right opposition won Monday's general election.", marks=pytest.mark.xfail(
        reason="known miss: a flipped direction with every other word copied (docs/summariser.md)", strict=False)),
    (NORWAY, "Prime Minister Erna Solberg did not concede defeat."),
    (FERRY, "The project cost 12 million euros, all of it paid by a regional development fund."),
])
def test_known_unfaithful_summaries_are_caught(checker: Verifier, article: str, summary: str):
    record = checker.verify(article, summary)
    assert not record.faithful, record
    assert record.unsupported


@pytest.mark.parametrize("article, summary", [
    (NORWAY, "Norway's centre-left opposition won Monday's general election."),
    pytest.param(FERRY, "Eastmere opened a new ferry terminal on Monday after two years of building work.",
                 marks=pytest.mark.xfail(reason="known false alarm on a close paraphrase (score just under the "
                                                "threshold; docs/summariser.md)", strict=False)),
    pytest.param(FERRY, "The new terminal in Eastmere replaces a wooden pier that dated from 1952.",
                 marks=pytest.mark.xfail(reason="known false alarm on a close paraphrase", strict=False)),
    (STRIKE, "Kestrel Line ferry workers ended a six-day strike after accepting a pay rise of 4 per cent."),
])
def test_supported_summaries_pass(checker: Verifier, article: str, summary: str):
    record = checker.verify(article, summary)
    assert record.faithful, record


def test_claim_mask_covers_the_summary_sentence_and_its_closing_token():
    """The model scores only the claim's tokens; the mask comes from the tokenizer's sequence ids, so encoders
    without segment ids (MPNet) read pairs the same way as MiniLM."""
    from transformers import AutoTokenizer

    from nlp_service.runtime.weights import minilm_path
    from nlp_service.summarize.verify.model import encode

    tokenizer = AutoTokenizer.from_pretrained(minilm_path())
    enc = encode(tokenizer, ["The bank raised rates on Monday, its board said.", "Short."],
                 ["Rates rose.", "The board met on Monday and raised rates."], 16)
    segment = (enc["token_type_ids"] == 1) & enc["attention_mask"].bool()  # BERT's second segment
    assert enc["claim_mask"].tolist() == segment.tolist()
    claim_ids = enc["input_ids"][0][enc["claim_mask"][0]].tolist()
    assert tokenizer.decode(claim_ids) == "rates rose. [SEP]"
    assert enc["input_ids"].shape[1] == 16  # the window was cut, the claim kept whole
