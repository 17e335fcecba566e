"""`linker status`: what the store holds, for whichever stages have run."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from linker.store.schema import newest_first
from linker.store.tables import column_exists, table_exists


@dataclass
class StoreStatus:
    parcels: int
    quarantined: int
    files: int
    entities: int | None
    clusters: int | None
    flagged_clusters: int | None
    last_run: dict | None

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def status(con: duckdb.DuckDBPyConnection) -> StoreStatus:
    """What the store holds. Counts of stages that have not run yet are None."""

    def count(table: str, where: str = "") -> int | None:
        if not table_exists(con, table):
            return None
        return int(con.execute(f"SELECT count(*) FROM {table} {where}").fetchall()[0][0])

    last_run = None
    if table_exists(con, "runs"):
        row = con.execute(
            f"SELECT run_id, kind, status, started_at, finished_at FROM runs ORDER BY {newest_first(con)} LIMIT 1"
        ).fetchall()
        row = row[0] if row else None
        if row:
            last_run = {
                "run_id": row[0],
                "kind": row[1],
                "status": row[2],
                "started_at": row[3].isoformat() if row[3] else None,
                "finished_at": row[4].isoformat() if row[4] else None,
            }
    flagged = None
    if table_exists(con, "clusters") and column_exists(con, "clusters", "flagged"):
        flagged = count("clusters", "WHERE flagged")
    return StoreStatus(
        parcels=count("parcels") or 0,
        quarantined=count("quarantine") or 0,
        files=count("files") or 0,
        entities=count("entities"),
        clusters=count("clusters"),
        flagged_clusters=flagged,
        last_run=last_run,
    )
