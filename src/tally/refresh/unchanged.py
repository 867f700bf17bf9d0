"""Views and seeds a refresh need not rebuild: their definition and the relation the last
refresh built from it are both unchanged, checked at every refresh, never assumed.

A view holds no data and a seed holds only its file, so rebuilding either when nothing
changed rewrites the same relation; each still costs dbt's per-node overhead (compile,
materialization, transaction, about 0.1-0.3 s) on the refresh's critical path, since the
staging views are the roots of the live selection. A node is left out of a refresh when
both fingerprints match those recorded after the last refresh that built it:

* definition: for a view, its SQL as parsed, its config, the relations it reads, every
  macro of the project and the dbt versions; for a seed, the bytes of its file (read at
  each refresh, so a changed lookup applies at once even in a long-running watcher), its
  config and the same macros and versions;
* stored: what the warehouse holds now: the view's text in DuckDB's catalog, or the
  seed table's columns, row count and row hash sum. A relation dropped or rebuilt by
  anything else since (a full `dbt build` from another checkout, an operator) no longer
  matches, and the node is rebuilt.

A node whose SQL or macros read per-run context (vars, env vars, the run's start) is
never left out: its compiled SQL could differ between two refreshes. The record is a
JSON file beside the warehouse, so a copied or new warehouse starts with a full build.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any

import duckdb

SKIPPABLE = ("view", "seed")

# Jinja that makes a compiled SQL depend on the run, not on the project's files.
PER_RUN_CONTEXT = re.compile(r"\bvar\s*\(|\benv_var\s*\(|run_started_at|invocation_id|modules\.")


def state_path(warehouse: Path) -> Path:
    return warehouse.with_name(warehouse.name + ".refresh-state.json")


def read_state(warehouse: Path) -> dict[str, dict[str, str]]:
    try:
        return json.loads(state_path(warehouse).read_text())
    except (FileNotFoundError, ValueError):
        return {}


def write_state(warehouse: Path, state: dict[str, dict[str, str]]) -> None:
    """Written aside, then renamed: a crash leaves the previous record or the new one."""
    path = state_path(warehouse)
    aside = path.with_name(path.name + ".tmp")
    aside.write_text(json.dumps(state, indent=1, sort_keys=True))
    os.replace(aside, path)


def digest(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def macros_digest(manifest: Any) -> str:
    """Every macro of the manifest and the dbt versions: a change to any macro (a dispatched
    implementation, a materialization) rebuilds every view and seed once."""
    from dbt.adapters.duckdb.__version__ import version as adapter_version
    from dbt.version import __version__ as dbt_version

    macros = sorted((unique_id, macro.macro_sql) for unique_id, macro in manifest.macros.items())
    return digest(dbt_version, adapter_version, macros)


def candidates(manifest: Any) -> list[Any]:
    """The views and seeds of the project (excluding one outside the refresh's selection is a no-op)."""
    return [
        node
        for node in manifest.nodes.values()
        if node.resource_type in ("model", "seed") and node.config.materialized in SKIPPABLE
    ]


def macro_closure(manifest: Any, names: list[str]) -> list[Any]:
    """The macros a node calls, recursively, with each one's dispatched implementations."""
    by_name: dict[str, list[Any]] = {}
    for macro in manifest.macros.values():
        by_name.setdefault(macro.name, []).append(macro)
    seen: dict[str, Any] = {}
    pending = list(names)
    while pending:
        unique_id = pending.pop()
        macro = manifest.macros.get(unique_id)
        if macro is None or unique_id in seen:
            continue
        seen[unique_id] = macro
        pending += macro.depends_on.macros
        for prefix in ("duckdb__", "default__"):
            pending += [impl.unique_id for impl in by_name.get(prefix + macro.name, [])]
    return list(seen.values())


def definition(manifest: Any, node: Any, macros: str, repo_root: Path) -> str | None:
    """The definition's fingerprint; None when the compiled SQL may depend on the run."""
    sources = [*macro_closure(manifest, node.depends_on.macros)]
    if node.resource_type == "model":
        texts = [node.raw_code, *(macro.macro_sql for macro in sources)]
        if any(PER_RUN_CONTEXT.search(text) for text in texts):
            return None
        upstream = [
            getattr(manifest.nodes.get(unique_id) or manifest.sources.get(unique_id), "relation_name", unique_id)
            for unique_id in node.depends_on.nodes
        ]
        return digest(node.raw_code, node.config.to_dict(), node.relation_name, upstream, macros)
    seed_file = repo_root / node.original_file_path
    try:
        content = hashlib.sha256(seed_file.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None
    return digest(content, node.config.to_dict(), node.relation_name, macros)


def stored(con: duckdb.DuckDBPyConnection, node: Any) -> str | None:
    """What the warehouse holds for the node now; None when the relation is missing."""
    if node.config.materialized == "view":
        rows = con.execute(
            "select sql from duckdb_views() where schema_name = ? and view_name = ?", [node.schema, node.alias]
        ).fetchall()
        return digest(rows) if rows else None
    columns = con.execute(
        "select column_name, data_type from duckdb_columns() where schema_name = ? and table_name = ? order by column_index",
        [node.schema, node.alias],
    ).fetchall()
    if not columns:
        return None
    relation = f'"{node.schema}"."{node.alias}"'
    rows = con.execute(f"select count(*), sum(hash(t))::varchar from {relation} as t").fetchone()
    return digest(columns, rows)


def unchanged(
    con: duckdb.DuckDBPyConnection, nodes: list[Any], definitions: dict[str, str | None], state: dict[str, dict[str, str]]
) -> list[Any]:
    """The nodes whose definition and stored relation both match the record."""
    kept = []
    for node in nodes:
        recorded = state.get(node.unique_id)
        fingerprint = definitions.get(node.unique_id)
        if recorded is None or fingerprint is None or recorded.get("definition") != fingerprint:
            continue
        if recorded.get("stored") == stored(con, node):
            kept.append(node)
    return kept
