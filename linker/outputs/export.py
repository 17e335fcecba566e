"""`linker export`: the result files of CONTRACT.md section 3, written atomically.

- parcel_clusters.csv: parcel_id, carrier, cluster_id (every parcel in a cluster)
- clusters.csv: cluster_id, rank, score, flagged, commodity, est_controlled_kg, threshold_kg,
  parcels, senders, receivers, first_seen, last_seen, summary - ranked, riskiest first,
  flagged as true/false
- party_entities.csv: parcel_id, carrier, role, entity_id

Each file is written by DuckDB under a temporary name in the target folder and renamed over the
final name, so a reader never sees half a file and a failed export leaves the old files whole.
Timestamps are ISO 8601 (`2025-06-01T08:30:00`). `write_result` is the one writer of these
files: the morning report's clusters.csv is written by it too.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from linker.errors import LinkerError, one_line
from linker.store.sql import literal
from linker.store.tables import CLUSTER_COLUMNS, PARCEL_CLUSTER_COLUMNS, PARTY_ENTITY_COLUMNS, table_exists

# Each result file: the table it is read from, its columns (CONTRACT.md section 3), its order.
RESULTS = {
    "parcel_clusters.csv": ("parcel_clusters", PARCEL_CLUSTER_COLUMNS, "cluster_id, parcel_id, carrier"),
    "clusters.csv": ("clusters", CLUSTER_COLUMNS, "rank"),
    "party_entities.csv": ("party_entities", PARTY_ENTITY_COLUMNS, "parcel_seq, role DESC"),
}
_TIMES = ("first_seen", "last_seen")  # written as ISO 8601 to the second


class ExportError(LinkerError):
    pass


def _query(con: duckdb.DuckDBPyConnection, name: str) -> str:
    table, columns, order = RESULTS[name]
    if not table_exists(con, table):  # nothing analysed yet: the header alone
        return "SELECT " + ", ".join(f"NULL::VARCHAR AS {c}" for c in columns) + " WHERE false"
    select = ", ".join(f"strftime({c}, '%Y-%m-%dT%H:%M:%S') AS {c}" if c in _TIMES else c for c in columns)
    return f"SELECT {select} FROM {table} ORDER BY {order}"


def write_result(con: duckdb.DuckDBPyConnection, name: str, target: str | Path) -> int:
    """Write the result file `name` (a key of RESULTS) to `target`, atomically; returns its rows."""
    final = Path(target)
    temp = final.with_name(f".{final.name}.{os.getpid()}.tmp")
    query = _query(con, name)
    try:
        con.execute(f"COPY ({query}) TO {literal(temp)} (FORMAT csv, HEADER true, DELIMITER ',', QUOTE '\"')")
        fd = os.open(temp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, final)
    except (duckdb.Error, OSError) as exc:
        temp.unlink(missing_ok=True)
        raise ExportError(f"cannot write {final}: {one_line(exc)}") from None
    return int(con.execute(f"SELECT count(*) FROM ({query})").fetchall()[0][0])


def export_results(con: duckdb.DuckDBPyConnection, out_dir: str | Path) -> dict[str, int]:
    """Write the three result files into `out_dir` (created if needed); returns rows per file.

    Example:
        >>> export_results(store.connect("store.duckdb", read_only=True), "out/")
        {'parcel_clusters.csv': 1234, 'clusters.csv': 56, 'party_entities.csv': 200000}
    """
    for table, _, _ in RESULTS.values():
        if not table_exists(con, table):
            raise ExportError("there are no results to export yet: run `linker run` first")
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create the folder {out}: {exc.strerror}") from None
    return {name: write_result(con, name, out / name) for name in RESULTS}
