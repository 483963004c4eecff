"""A user's own labelled articles, as JSON Lines (``.jsonl`` or ``.json``, one object per line) or CSV
(``.csv``, header on line 1).

Fields (names are case-insensitive):

- ``text``: the article; or ``title`` and ``body`` (``body`` alone is fine too).
- ``id`` (optional): kept in the example id, ``user:<file name>:<id>``; by default the line number.
- ``countries`` (optional): country names or ISO codes, as a list, or a string separated by ``;`` or ``,``.
  The first is taken as the primary country.
- ``themes`` (optional): IPTC theme names ("politics", "economy, business and finance") or ``medtop:`` codes,
  as a list or a ``;``-separated string (theme names contain commas, so ``,`` does not separate them).
- ``summary`` (optional): a reference summary.

Other fields are ignored, except near-misses of these ("theme", "country"), which are reported as mistakes.

Labels: a field that is absent (or ``null``, or an empty CSV cell) is *unknown* and masked from training.
A ``themes`` field that is present says the listed themes are present and all the other themes absent, even
when the list is empty (in JSON); likewise ``countries: []`` says the article is about no country.

Any problem stops loading with a ``DataFileError`` that names the file, the line (1-based; in CSV the header
is line 1) and the field.
"""

from __future__ import annotations

import csv
import difflib
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from nlp_service.places import resolve_country
from nlp_service.taxonomy import load_taxonomy
from nlp_service.text.clean import clean_text
from training.examples import Example

SUFFIXES = (".jsonl", ".json", ".csv")


class DataFileError(ValueError):
    """A user data file that cannot be loaded; the message says where and why."""

    def __init__(self, path: str | Path, message: str, line: int | None = None, field: str | None = None):
        self.path, self.line, self.field = str(path), line, field
        where = str(path)
        if line is not None:
            where += f", line {line}"
        if field:
            where += f", field {field!r}"
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class _Fields:
    """The field names read as text, summary, title and body (lower case)."""

    text: str = "text"
    summary: str = "summary"
    title: str = "title"
    body: str = "body"

    def known(self) -> set[str]:
        return {"id", "countries", "themes", self.text, self.summary, self.title, self.body}


def load_user_file(
    path: str | Path,
    text_field: str = "text",
    summary_field: str = "summary",
    title_field: str = "title",
    body_field: str = "body",
) -> list[Example]:
    """Examples from a user's JSONL or CSV file, in file order. The ``*_field`` arguments rename the fields
    read as text, summary, title and body (e.g. ``text_field="document"``)."""
    path = Path(path)
    fields = _Fields(text_field.lower(), summary_field.lower(), title_field.lower(), body_field.lower())
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise DataFileError(path, f"unsupported file type {suffix or '(none)'!r}: use .jsonl or .json "
                                  "(JSON Lines) or .csv")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DataFileError(path, f"cannot read the file: {exc.strerror or exc}") from exc
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DataFileError(path, "not UTF-8 text; save the file as UTF-8", line) from exc
    if not content.strip():
        raise DataFileError(path, "the file is empty")
    rows = _csv_rows(path, content, fields) if suffix == ".csv" else _json_rows(path, content)
    out: list[Example] = []
    first_line: dict[str, int] = {}
    for line, row in rows:
        example = _example(path, line, row, fields)
        if example.id in first_line:
            first = first_line[example.id]
            raise DataFileError(path, f"duplicate id (first used on line {first})", line, "id")
        first_line[example.id] = line
        out.append(example)
    if not out:
        raise DataFileError(path, "no rows: the file has a header but no articles")
    return out


def _json_rows(path: Path, content: str) -> list[tuple[int, dict]]:
    rows = []
    for number, line in enumerate(content.splitlines(), start=1):
        if not line.strip():
            continue
        if number == 1 and line.lstrip().startswith("["):
            raise DataFileError(path, "this is a JSON array; write one JSON object per line (JSON Lines)", 1)
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataFileError(path, f"broken JSON: {exc.msg} (column {exc.colno}); each line must be one "
                                      "complete JSON object", number) from exc
        if not isinstance(obj, dict):
            raise DataFileError(path, f"expected a JSON object, got {_type_name(obj)}", number)
        rows.append((number, {str(k).strip().lower(): v for k, v in obj.items()}))
    return rows


def _csv_rows(path: Path, content: str, fields: _Fields) -> list[tuple[int, dict]]:
    reader = csv.reader(io.StringIO(content, newline=""))
    header = [h.strip().lower() for h in next(reader)]
    if fields.text not in header and fields.body not in header:
        found = ", ".join(h for h in header if h) or "(nothing)"
        need = f"{fields.text!r} (or {fields.title!r} and {fields.body!r})"
        why = f"missing text column: the header needs {need}; found: {found}"
        raise DataFileError(path, why, 1, fields.text)
    _check_field_names(path, 1, header, fields)
    rows = []
    start = reader.line_num + 1  # a quoted value may span lines: report the line its record starts on
    try:
        for values in reader:
            line, start = start, reader.line_num + 1
            if not any(v.strip() for v in values):
                continue
            if len(values) > len(header):
                why = f"{len(values)} values, but the header has {len(header)} columns"
                raise DataFileError(path, why, line)
            # An empty CSV cell cannot say "labelled: none", so it means unknown, like an absent field.
            rows.append((line, {h: v for h, v in zip(header, values, strict=False) if h and v.strip()}))
    except csv.Error as exc:
        raise DataFileError(path, f"broken CSV: {exc}", reader.line_num) from exc
    return rows


def _check_field_names(path: Path, line: int, names: Iterable[str], fields: _Fields) -> None:
    """Unknown fields are ignored, except near-misses of known ones ("theme", "country")."""
    known = sorted(fields.known())
    for name in names:
        if not name or name in known:
            continue
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.8)
        if close:
            raise DataFileError(path, f"unknown field {name!r}; did you mean {close[0]!r}?", line, name)


def _example(path: Path, line: int, row: dict, fields: _Fields) -> Example:
    _check_field_names(path, line, row, fields)
    title = _string(path, line, row, fields.title)
    body = _string(path, line, row, fields.text) or _string(path, line, row, fields.body)
    if not body:
        given = fields.text in row or fields.body in row
        need = f"give {fields.text!r}, or {fields.title!r} and {fields.body!r}"
        why = "empty text" if given else f"no text: {need}"
        raise DataFileError(path, why, line, fields.text)
    countries = _countries(path, line, row.get("countries"))
    return Example(
        id=f"user:{path.name}:{_id(path, line, row.get('id'))}",
        source=f"user:{path.name}",
        title=title,
        body=body,
        themes=_themes(path, line, row.get("themes")),
        countries=countries,
        primary_country=countries[0] if countries else None,
        summary=_string(path, line, row, fields.summary) or None,
    )


def _id(path: Path, line: int, value: object) -> str:
    if value is None or value == "":
        return str(line)
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise DataFileError(path, f"must be a string or a number, got {_type_name(value)}", line, "id")
    return str(value).strip()


def _string(path: Path, line: int, row: dict, name: str) -> str:
    value = row.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise DataFileError(path, f"must be a string, got {_type_name(value)}", line, name)
    return clean_text(value)


def _items(path: Path, line: int, field: str, value: object, separators: str) -> list[str] | None:
    """A label field as a list of non-empty strings; None when absent (unknown)."""
    if value is None:
        return None
    if isinstance(value, str):
        for sep in separators[1:]:
            value = value.replace(sep, separators[0])
        parts = value.split(separators[0])
    elif isinstance(value, list):
        bad = [v for v in value if not isinstance(v, str)]
        if bad:
            raise DataFileError(path, f"list items must be strings, got {_type_name(bad[0])}", line, field)
        parts = value
    else:
        raise DataFileError(path, f"must be a list of strings or a string, got {_type_name(value)}", line,
                            field)
    return [p.strip() for p in parts if p.strip()]


def _themes(path: Path, line: int, value: object) -> dict[str, int]:
    names = _items(path, line, "themes", value, ";")
    if names is None:
        return {}
    tax = load_taxonomy()
    present = set()
    for name in names:
        try:
            present.add(tax.theme(name).name)
        except KeyError:
            close = difflib.get_close_matches(name.lower(), tax.theme_names, n=1, cutoff=0.6)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            valid = "; ".join(tax.theme_names)
            raise DataFileError(path, f"unknown theme {name!r}{hint}; valid themes (IPTC names, or medtop: "
                                      f"codes): {valid}", line, "themes") from None
    return {t: int(t in present) for t in tax.theme_names}


def _countries(path: Path, line: int, value: object) -> list[str] | None:
    names = _items(path, line, "countries", value, ";,")
    if names is None:
        return None
    codes = []
    for name in names:
        code = resolve_country(name)
        if code is None:
            raise DataFileError(path, f"unknown country {name!r}: use a country name or an ISO 3166 code "
                                      "such as 'FR' or 'FRA'", line, "countries")
        codes.append(code)
    return list(dict.fromkeys(codes))


def _type_name(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "true/false", int: "a number",
             float: "a number", type(None): "null"}
    return names.get(type(value), type(value).__name__)
