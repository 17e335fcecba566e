"""`linker export`: the result files of CONTRACT.md section 3, written atomically.

- parcel_clusters.csv: parcel_id, carrier, cluster_id (every parcel in a cluster)
- clusters.csv: cluster_id, rank, score, flagged, commodity, est_controlled_kg, threshold_kg,
  parcels, senders, receivers, first_seen, last_seen, summary - ranked, riskiest first,
  flagged as true/false
- party_entities.csv: parcel_id, carrier, role, entity_id

Each file is written by DuckDB under a temporary name in the target folder and renamed over the
final name, so a reader never sees half a file and a failed export leaves the old files whole.
Timestamps are ISO 8601 (`2025-06-01T08:30:00`).
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from linker import store
from linker.errors import LinkerError, one_line

EXPORTS = {
    "parcel_clusters.csv": """
        SELECT parcel_id, carrier, cluster_id FROM parcel_clusters ORDER BY cluster_id, parcel_id, carrier
    """,
    "clusters.csv": """
        SELECT cluster_id, rank, score, flagged, commodity, est_controlled_kg, threshold_kg, parcels, senders,
               receivers, strftime(first_seen, '%Y-%m-%dT%H:%M:%S') AS first_seen,
               strftime(last_seen, '%Y-%m-%dT%H:%M:%S') AS last_seen, summary
        FROM clusters ORDER BY rank
    """,
    "party_entities.csv": """
        SELECT parcel_id, carrier, role, entity_id FROM party_entities ORDER BY parcel_seq, role DESC
    """,
}


class ExportError(LinkerError):
    pass


def export_results(con: duckdb.DuckDBPyConnection, out_dir: str | Path) -> dict[str, int]:
    """Write the three result files into `out_dir` (created if needed); returns rows per file.

    Example:
        >>> export_results(store.connect("store.duckdb", read_only=True), "out/")
        {'parcel_clusters.csv': 1234, 'clusters.csv': 56, 'party_entities.csv': 200000}
    """
    for table in ("parcel_clusters", "clusters", "party_entities"):
        if not store.table_exists(con, table):
            raise ExportError("there are no results to export yet: run `linker run` first")
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create the folder {out}: {exc.strerror}") from None
    rows: dict[str, int] = {}
    for name, query in EXPORTS.items():
        final = out / name
        temp = out / f".{name}.{os.getpid()}.tmp"
        try:
            con.execute(
                f"COPY ({query}) TO '{_sql_path(temp)}' (FORMAT csv, HEADER true, DELIMITER ',', QUOTE '\"')"
            )
            fd = os.open(temp, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(temp, final)
        except (duckdb.Error, OSError) as exc:
            temp.unlink(missing_ok=True)
            raise ExportError(f"cannot write {final}: {one_line(exc)}") from None
        rows[name] = int(con.execute(f"SELECT count(*) FROM ({query})").fetchall()[0][0])
    return rows


def _sql_path(path: Path) -> str:
    return path.as_posix().replace("'", "''")
