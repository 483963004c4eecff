"""The gazetteer's table is stored once per set of data files (``places.tables.cached_table``) and read back on later
starts; a damaged or unwritable cache only costs the time of building it."""

from __future__ import annotations

import logging

import pytest

from nlp_service.places import Gazetteer, NerSettings, tables

TEXT = ("Kenya and Uganda signed a trade deal in Nairobi on Monday.\n"
        "The Taoiseach met officials in Galway while the Kremlin said nothing. Paris, Texas, was quiet.")
OFF = NerSettings(enabled=False)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("NLP_SERVICE_CACHE", str(tmp_path))
    return tmp_path / tables.TABLE_CACHE


def _stored(cache) -> list:
    return sorted(cache.glob(f"table-*/{tables.TABLE_FILE}"))


def test_table_is_stored_then_read_back(cache, monkeypatch):
    built = Gazetteer.build(OFF)
    assert len(_stored(cache)) == 1

    def no_build():
        raise AssertionError("the stored table should have been read")

    monkeypatch.setattr(tables, "raw_table", no_build)
    reread = Gazetteer.build(OFF)
    assert repr(reread.find(TEXT)) == repr(built.find(TEXT))
    assert len(reread) == len(built)


def test_cached_and_fresh_tables_find_the_same(cache):
    assert repr(Gazetteer.build(OFF).find(TEXT)) == repr(Gazetteer.build(OFF, cache=False).find(TEXT))


def test_damaged_table_is_rebuilt(cache, caplog):
    Gazetteer.build(OFF)
    _stored(cache)[0].write_bytes(b"\x00not marshal")
    with caplog.at_level(logging.WARNING, logger="nlp_service.places.tables"):
        found = Gazetteer.build(OFF).find(TEXT)
    assert "unreadable" in caplog.text
    assert {m.code for m in found} >= {"KE", "UG", "IE", "RU"}


def test_unwritable_cache_still_builds(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv("NLP_SERVICE_CACHE", str(blocker))
    assert {m.code for m in Gazetteer.build(OFF).find(TEXT)} >= {"KE", "UG"}


def test_digest_follows_the_table_format(monkeypatch):
    before = tables.table_digest()
    monkeypatch.setattr(tables, "TABLE_FORMAT", "test")
    assert tables.table_digest() != before
