"""Records as Parquet rows with one fixed schema, so every shard of a job has the same columns.

The schema follows ``nlp_service/data/record.schema.json``; a field a record leaves out (a task not run, no
error) is null in Parquet and left out again when read back, so a round trip gives the record unchanged.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

_S, _F = pa.string(), pa.float64()
MENTION = pa.struct([("surface", _S), ("kind", _S), ("start", pa.int64()), ("end", pa.int64())])
COUNTRY = pa.struct([("code", _S), ("name", _S), ("score", _F), ("evidence", pa.list_(MENTION))])
REGION = pa.struct([("name", _S), ("continent", _S), ("m49", _S), ("score", _F)])
THEME_EVIDENCE = pa.struct([("sentence", _S), ("terms", pa.list_(_S))])
THEME = pa.struct([("name", _S), ("code", _S), ("score", _F), ("evidence", THEME_EVIDENCE)])
ENTITY = pa.struct([("text", _S), ("type", _S), ("start", pa.int64()), ("end", pa.int64())])
RECORD_SCHEMA = pa.schema(
    [
        ("id", _S),
        ("countries", pa.list_(COUNTRY)),
        ("regions", pa.list_(REGION)),
        ("themes", pa.list_(THEME)),
        ("summary", _S),
        ("summary_method", _S),
        ("faithful", pa.bool_()),
        ("entities", pa.list_(ENTITY)),
        ("warnings", pa.list_(_S)),
        ("model", pa.map_(_S, _S)),  # component → version; a map, as the components present vary
        ("error", _S),
    ]
)
_ALWAYS = {"id", "warnings", "model"}  # Analysis.to_dict writes these even when empty


def records_to_table(records: list[dict[str, Any]]) -> pa.Table:
    unknown = {k for r in records for k in r} - set(RECORD_SCHEMA.names)
    if unknown:  # a new record field must be added to the schema, not dropped silently
        raise ValueError(f"record fields missing from the Parquet schema: {', '.join(sorted(unknown))}")
    return pa.Table.from_pylist(records, schema=RECORD_SCHEMA)


def table_to_records(table: pa.Table) -> list[dict[str, Any]]:
    out = []
    for row in table.to_pylist():
        record = {k: v for k, v in row.items() if v is not None or k in _ALWAYS}
        record["model"] = dict(record.get("model") or [])
        record["warnings"] = record.get("warnings") or []
        for theme in record.get("themes") or []:  # theme evidence is in a record only when asked for
            if theme.get("evidence") is None:
                theme.pop("evidence", None)
        out.append(record)
    return out
