"""Comparing two DuckDB warehouses relation by relation, one way for every test that does.

Two relations are equal when EXCEPT ALL leaves nothing in either direction: every row, with
its multiplicity, column by column. The files are attached read-only to one connection under
catalog names; each test keeps its own choice of relations and of columns left out (load
times that differ by construction, a status row written at publish time).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from pathlib import Path

import duckdb

ColumnFilter = Callable[[str], bool] | Collection[str]


def attach(con: duckdb.DuckDBPyConnection, **files: Path) -> None:
    """Attaches each file read-only under its keyword as catalog name."""
    for catalog, path in files.items():
        con.execute(f"attach '{path}' as {catalog} (read_only)")


def relations(
    con: duckdb.DuckDBPyConnection,
    catalog: str,
    schemas: Collection[str] | None = ("marts",),
    exclude: Collection[str] = (),
    base_tables_only: bool = True,
) -> list[str]:
    """The 'schema.table' names of a catalog's relations in `schemas` (None: every schema),
    sorted, without the table names in `exclude`."""
    rows = con.execute(
        "select table_schema, table_name, table_type from information_schema.tables where table_catalog = ? order by 1, 2",
        [catalog],
    ).fetchall()
    return [
        f"{schema}.{table}"
        for schema, table, kind in rows
        if (schemas is None or schema in schemas) and table not in exclude and (not base_tables_only or kind == "BASE TABLE")
    ]


def differences(con: duckdb.DuckDBPyConnection, left_sql: str, right_sql: str) -> tuple[int, int]:
    """(rows only in left, rows only in right) of two queries, as bags (EXCEPT ALL)."""
    only_left = con.execute(f"select count(*) from ({left_sql} except all {right_sql})").fetchone()[0]
    only_right = con.execute(f"select count(*) from ({right_sql} except all {left_sql})").fetchone()[0]
    return only_left, only_right


def column_list(con: duckdb.DuckDBPyConnection, catalog: str, relation: str, exclude: ColumnFilter = ()) -> str:
    """The select list of a relation's columns (as in `catalog`) without the excluded ones;
    `*` when nothing is excluded."""
    if not exclude:
        return "*"
    excluded = exclude if callable(exclude) else (lambda name: name in exclude)
    schema, table = relation.split(".")
    columns = [
        row[0]
        for row in con.execute(
            "select column_name from information_schema.columns where table_catalog = ? and table_schema = ? and table_name = ? "
            "order by ordinal_position",
            [catalog, schema, table],
        ).fetchall()
    ]
    return ", ".join(f'"{column}"' for column in columns if not excluded(column))


def relation_differences(
    con: duckdb.DuckDBPyConnection, left: str, right: str, relation_names: list[str], exclude_columns: ColumnFilter = ()
) -> dict[str, tuple[int, int, int]]:
    """For each relation that differs between catalogs `left` and `right`: (rows in left,
    rows only in left, rows only in right). Empty when all are equal."""
    found = {}
    for relation in relation_names:
        select = column_list(con, left, relation, exclude_columns)
        only_left, only_right = differences(
            con, f"select {select} from {left}.{relation}", f"select {select} from {right}.{relation}"
        )
        if only_left or only_right:
            rows = con.execute(f"select count(*) from {left}.{relation}").fetchone()[0]
            found[relation] = (rows, only_left, only_right)
    return found
