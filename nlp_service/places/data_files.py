"""The place data files (``nlp_service/places/data/``, each names its source in a ``#`` header) and their one reader.

Other sections read these tables through ``read_data_csv`` rather than opening the files themselves."""

from __future__ import annotations

import csv
from pathlib import Path

PLACE_DATA = Path(__file__).resolve().parent / "data"


def read_data_csv(name: str) -> list[dict[str, str]]:
    """Rows of a place data CSV (``PLACE_DATA / name``), skipping its ``#`` header comment."""
    with (PLACE_DATA / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(line for line in fh if not line.startswith("#")))


def place_data_files() -> list[Path]:
    """Every place data CSV, sorted by name."""
    return sorted(PLACE_DATA.glob("*.csv"))
