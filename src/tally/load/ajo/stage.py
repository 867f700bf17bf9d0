"""Reading one export: its format, its structure (sampled), which dataset it is, and, for
JSON, the whole file parsed into memory before the warehouse is opened; refused whole
(RefusedFile naming the file and the first missing field path) when it is not an export
of a dataset that feeds the table."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from tally.common import first_line, quote_ident, quote_literal
from tally.load import RefusedFile, flat
from tally.load.ajo.schema import AUTO, BCC_PATH, DATASETS, Dataset
from tally.load.ajo.structure import Resolver, find, json_type_sql, match_key, structure_of_type, unknown_fields

SAMPLE_RECORDS = 20000
JSON_SUFFIXES = (".json", ".json.gz", ".ndjson", ".ndjson.gz", ".jsonl", ".jsonl.gz")
PARQUET_SUFFIXES = (".parquet",)


@dataclass
class StagedFile:
    """A file identified and checked, ready to land: `source` is what its statements read
    (a temp table of the parsed JSON, or the Parquet file itself)."""

    path: Path
    sha256: str
    file_format: str
    dataset: Dataset
    tables: list[str]
    source: str
    resolver: Resolver
    records: int
    ignored_fields: list[str] = field(default_factory=list)


def file_format_of(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(PARQUET_SUFFIXES):
        return "parquet"
    if name.endswith(JSON_SUFFIXES):
        return "json"
    raise RefusedFile(
        f"{path}: unknown file type; an AJO export is .json (or .json.gz, NDJSON, one record per line) or .parquet", path
    )


def sample_structure(con: duckdb.DuckDBPyConnection, path: Path, file_format: str) -> dict:
    """The file's field structure (JSON: of its first records; Parquet: its schema)."""
    literal = quote_literal(str(path))
    try:
        if file_format == "parquet":
            relation = con.sql(f"select * from read_parquet({literal})")
            return {
                name: structure_of_type(column_type) for name, column_type in zip(relation.columns, relation.types, strict=True)
            }
        row = con.execute(
            f"select json_group_structure(json) from (select json from read_ndjson_objects({literal}) limit {SAMPLE_RECORDS})"
        ).fetchone()
    except duckdb.Error as error:
        raise RefusedFile(f"{path}: cannot be read as {file_format}: {first_line(error)}", path) from error
    structure = json.loads(row[0]) if row and row[0] else None
    if structure is None:
        raise RefusedFile(f"{path}: the file holds no record; expected one JSON object per line", path)
    if not isinstance(structure, dict):
        line, kind = con.execute(
            f"select line, kind from (select row_number() over () as line, json_type(json) as kind "
            f"from (select json from read_ndjson_objects({literal}) limit {SAMPLE_RECORDS})) "
            "where kind <> 'OBJECT' order by line limit 1"
        ).fetchone() or (None, None)
        where = f"record {line} is a JSON {kind}, not an object" if line else "its records are not JSON objects"
        raise RefusedFile(f"{path}: {where}; an AJO JSON export holds one XDM record (object) per line", path)
    return structure


def record_root(structure: dict) -> list[str]:
    """Where the XDM record is: the top level, or `body.xdmEntity` of a streaming envelope."""
    if match_key(structure, "_id") or not match_key(structure, "body"):
        return []
    body = match_key(structure, "body")[0]
    entity = match_key(structure[body], "xdmEntity")
    return [body, entity[0]] if entity else []


def identify(structure: object, table: str, path: Path) -> Dataset:
    """The dataset whose required field paths the file has; refuses naming the first one
    missing (or the dataset it is, when that dataset does not feed `table`)."""
    complete = [d for d in DATASETS if all(find(structure, p) for p in d.required)]
    if complete:
        dataset = complete[0]
        if dataset.key == "message_feedback" and find(structure, BCC_PATH):
            raise RefusedFile(
                f"{path}: an AJO Secondary Recipient (BCC) Feedback export (field path '{BCC_PATH}'): copies kept for "
                "archiving, not loaded (they would count every send twice)",
                path,
            )
        if table != AUTO and table not in dataset.tables:
            raise RefusedFile(f"{path}: an {dataset.title} export, which feeds {' and '.join(dataset.tables)}, not {table}", path)
        return dataset
    candidates = [d for d in DATASETS if table == AUTO or table in d.tables]

    def missing(dataset: Dataset) -> list[str]:
        return [p for p in dataset.required if not find(structure, p)]

    closest = min(candidates, key=lambda d: len(missing(d)))
    others = [d.title for d in candidates if d is not closest]
    also = f" (nor an export of {', '.join(others)})" if others else ""
    raise RefusedFile(f"{path}: not an {closest.title} export: missing field path '{missing(closest)[0]}'{also}", path)


def parse_json(
    con: duckdb.DuckDBPyConnection, path: Path, dataset: Dataset, structure: dict, root: list[str], table_name: str
) -> dict:
    """Parses the whole JSON file into a temp table holding only the schema's field paths;
    returns the temp table's structure."""
    if root:
        inner = structure[root[0]][root[1]]
        spec = {root[0]: f"STRUCT({quote_ident(root[1])} {json_type_sql(dataset.schema, inner, '.'.join(root) + '.', path)})"}
    else:
        spec = {}
        for name, child in dataset.schema.items():
            keys = match_key(structure, name)
            actual = keys[0] if keys else name
            spec[actual] = json_type_sql(child, structure.get(actual), f"{actual}.", path)
    columns = "{" + ", ".join(f"{quote_literal(name)}: {quote_literal(kind)}" for name, kind in spec.items()) + "}"
    try:
        con.execute(
            f"create or replace temp table {table_name} as select * from read_json({quote_literal(str(path))}, "
            f"format = 'newline_delimited', records = 'true', columns = {columns})"
        )
    except duckdb.Error as error:
        message = first_line(error)
        if "Expected OBJECT" in message:
            message = "a line is not a JSON object: " + message
        raise RefusedFile(f"{path}: cannot be read as an {dataset.title} export: {message}", path) from error
    relation = con.table(table_name)
    return {name: structure_of_type(kind) for name, kind in zip(relation.columns, relation.types, strict=True)}


def stage_file(con: duckdb.DuckDBPyConnection, table: str, path: Path, index: int) -> StagedFile:
    """Identifies and checks one file (a JSON file is parsed here, whole); refuses it
    (RefusedFile naming the file) if it is not a readable export of a dataset feeding `table`."""
    if not path.is_file():
        raise RefusedFile(f"{path}: no such file", path)
    if path.stat().st_size == 0:
        raise RefusedFile(f"{path}: the file is empty; expected an AJO dataset export", path)
    file_format = file_format_of(path)
    structure = sample_structure(con, path, file_format)
    root = record_root(structure)
    record_structure = structure
    for name in root:
        record_structure = record_structure[name]
    dataset = identify(record_structure, table, path)
    ignored = unknown_fields(record_structure, dataset.schema)
    if file_format == "json":
        source = f"ajo_file_{index}"
        structure = parse_json(con, path, dataset, structure, root, source)
    else:
        source = f"read_parquet({quote_literal(str(path))})"
    records = con.execute(f"select count(*) from {source}").fetchone()[0]
    tables = list(dataset.tables) if table == AUTO else [table]
    return StagedFile(
        path, flat.file_sha256(path), file_format, dataset, tables, source, Resolver(structure, root), int(records), ignored
    )
