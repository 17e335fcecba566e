"""The read model of the results: what the report, the evidence pack, the dashboard and the
CLI read about clusters, written once.

All reads are parameterised queries on a connection to the store or one of its snapshots.
"""

from __future__ import annotations

import duckdb

from linker.store.tables import table_exists


def top_clusters(con: duckdb.DuckDBPyConnection, n: int = 10) -> list[dict]:
    """The first `n` clusters by rank, as dicts (the end-of-run table)."""
    if not table_exists(con, "clusters"):
        return []
    cur = con.execute(
        "SELECT cluster_id, rank, score, flagged, commodity, est_controlled_kg, threshold_kg, parcels, summary "
        "FROM clusters ORDER BY rank LIMIT ?",
        [n],
    )
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]
