"""The generated raw rows written as the flat contract's files (CSV or Parquet), whole or
in successive slices of arrival time."""

from __future__ import annotations

from pathlib import Path

import duckdb

from tally import contract

# The contract's columns as the generator writes them (the loader stamps a campaign's
# ingested_at with the load time, as it would for a campaign export without one).
COLUMNS = {table: [c for c in contract.columns(table) if (table, c) != ("campaigns", "ingested_at")] for table in contract.TABLES}


def write(con: duckdb.DuckDBPyConnection, out: Path, file_format: str, slices: int) -> dict[str, int]:
    out.mkdir(parents=True, exist_ok=True)
    sources = {
        "message_feedback_events": "out_feedback",
        "message_tracking_events": "out_tracking",
        "offer_propositions": "out_propositions",
        "campaigns": "out_campaigns",
    }
    options = "(format parquet, compression zstd)" if file_format == "parquet" else "(format csv, header true)"
    counts: dict[str, int] = {}
    bounds = None
    if slices > 1:
        bounds = con.execute(
            "select min(ingested_at), max(ingested_at) from (select ingested_at from out_feedback union all "
            "select ingested_at from out_tracking) where ingested_at like '2%'"
        ).fetchone()
    for table, temp in sources.items():
        columns = ", ".join(COLUMNS[table])
        counts[table] = con.execute(f"select count(*) from {temp}").fetchone()[0]
        if bounds is None or table == "campaigns":
            target = out / f"{table}.{file_format}"
            con.execute(f"copy (select {columns} from {temp} order by all) to '{target}' {options}")
            if bounds is not None:
                for index in range(1, slices + 1):
                    folder = out / f"slice_{index:03d}"
                    folder.mkdir(exist_ok=True)
                    # campaigns arrive with the first slice; later slices carry an empty file's header only
                    where = "true" if index == 1 else "false"
                    con.execute(
                        f"copy (select {columns} from {temp} where {where} order by all) to '{folder / target.name}' {options}"
                    )
                target.unlink()
            continue
        low, high = bounds
        for index in range(1, slices + 1):
            folder = out / f"slice_{index:03d}"
            folder.mkdir(exist_ok=True)
            # Equal-width slices of arrival time; rows with unparseable arrival go to the last slice.
            condition = (
                f"cast(floor(epoch(try_cast(ingested_at as timestamp) - timestamp '{low}') / "
                f"(epoch(timestamp '{high}' - timestamp '{low}') + 1) * {slices}) as int) + 1"
            )
            con.execute(
                f"copy (select {columns} from {temp} where coalesce({condition}, {slices}) = {index} order by all) "
                f"to '{folder / f'{table}.{file_format}'}' {options}"
            )
    return counts
