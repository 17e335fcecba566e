"""The parcel store: one DuckDB file holding the loaded parcels and everything derived from them.

This module owns the connection settings and the schema of the tables that the load writes
(`files`, `parcels`, `quarantine`). Later stages create their own tables (`party_mentions`,
`entities`, `clusters`, ...); `status()` reports on whichever of them exist.

DuckDB allows one writing process or many read-only ones. A second writer gets a clear
`StoreBusy` error rather than DuckDB's lock message.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

DEFAULT_DB = "linker.duckdb"

# Columns of CONTRACT.md section 1, in contract order, with whether each is required.
CONTRACT_COLUMNS: tuple[tuple[str, bool], ...] = (
    ("parcel_id", True),
    ("carrier", True),
    ("accepted_at", True),
    ("origin_country", True),
    ("dest_country", True),
    ("sender_name", True),
    ("sender_phone", False),
    ("sender_id_number", False),
    ("sender_address", True),
    ("receiver_name", True),
    ("receiver_phone", False),
    ("receiver_address", True),
    ("payer_account", False),
    ("declared_description", True),
    ("hs_code", False),
    ("declared_weight_kg", True),
    ("gross_weight_kg", False),
    ("declared_value", False),
    ("currency", False),
    ("category", False),
    ("declared_origin", False),
    ("acceptance_point", False),
)
COLUMN_NAMES = tuple(name for name, _ in CONTRACT_COLUMNS)
REQUIRED_COLUMNS = tuple(name for name, required in CONTRACT_COLUMNS if required)

SCHEMA = """
CREATE SEQUENCE IF NOT EXISTS file_ids START 1;

-- One row per file loaded (whole, in one transaction). A file is known by its content hash,
-- so loading the same bytes again under another name changes nothing.
CREATE TABLE IF NOT EXISTS files (
    file_id          INTEGER PRIMARY KEY,
    path             VARCHAR NOT NULL,
    sha256           VARCHAR NOT NULL UNIQUE,
    format           VARCHAR NOT NULL,
    size_bytes       BIGINT NOT NULL,
    loaded_at        TIMESTAMP NOT NULL,
    rows_read        BIGINT NOT NULL,
    rows_loaded      BIGINT NOT NULL,
    rows_quarantined BIGINT NOT NULL,
    rows_duplicate   BIGINT NOT NULL
);

-- Validated parcels, typed. parcel_seq is a unique, increasing integer key for the set work of later stages.
-- accepted_at is UTC where the record gave a zone, and the wall time as written where it did not.
CREATE TABLE IF NOT EXISTS parcels (
    parcel_seq           BIGINT NOT NULL,
    parcel_id            VARCHAR NOT NULL,
    carrier              VARCHAR NOT NULL,
    accepted_at          TIMESTAMP NOT NULL,
    origin_country       VARCHAR NOT NULL,
    dest_country         VARCHAR NOT NULL,
    sender_name          VARCHAR NOT NULL,
    sender_phone         VARCHAR,
    sender_id_number     VARCHAR,
    sender_address       VARCHAR NOT NULL,
    receiver_name        VARCHAR NOT NULL,
    receiver_phone       VARCHAR,
    receiver_address     VARCHAR NOT NULL,
    payer_account        VARCHAR,
    declared_description VARCHAR NOT NULL,
    hs_code              VARCHAR,
    declared_weight_kg   DOUBLE NOT NULL,
    gross_weight_kg      DOUBLE,
    declared_value       DOUBLE,
    currency             VARCHAR NOT NULL,
    category             VARCHAR,
    declared_origin      VARCHAR,
    acceptance_point     VARCHAR,
    extra                JSON,
    file_id              INTEGER NOT NULL,
    source_line          BIGINT NOT NULL
);

-- Rows that broke the contract, kept with where they came from and why, never dropped.
CREATE TABLE IF NOT EXISTS quarantine (
    file_id        INTEGER,
    source_file    VARCHAR NOT NULL,
    source_line    BIGINT,
    parcel_id      VARCHAR,
    carrier        VARCHAR,
    reason         VARCHAR NOT NULL,
    raw            VARCHAR,
    quarantined_at TIMESTAMP NOT NULL
);
"""


class StoreError(Exception):
    """A problem with the store that the user can act on; its message is one sentence."""


class StoreBusy(StoreError):
    pass


def default_db_path() -> Path:
    return Path(os.environ.get("LINKER_DB") or DEFAULT_DB)


def memory_limit() -> str:
    """DuckDB's buffer budget. Bounded by default so a big load spills to disk instead of
    growing with the file; operators raise it with LINKER_MEMORY_LIMIT."""
    return os.environ.get("LINKER_MEMORY_LIMIT", "2GB")


def connect(db_path: str | Path | None = None, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the store, creating the file and schema if needed (unless read_only)."""
    path = Path(db_path) if db_path else default_db_path()
    if read_only and not path.exists():
        raise StoreError(f"no store at {path}: load parcels first with `linker ingest FILE --db {path}`")
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        msg = str(exc)
        if "lock" in msg.lower():
            raise StoreBusy(f"the store {path} is in use by another writing process; try again when it has finished") from None
        raise StoreError(f"cannot open the store {path}: {msg.splitlines()[0]}") from None
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"SET memory_limit = '{memory_limit()}'")
    if not read_only:
        temp_dir = path.with_name(path.name + ".tmp")
        con.execute(f"SET temp_directory = '{temp_dir.as_posix()}'")
        con.execute(SCHEMA)
        _migrate(con)
    return con


def _migrate(con: duckdb.DuckDBPyConnection) -> None:
    """Bring a store made by an earlier version up to the current schema."""
    # 0.1.0 development stores kept a content hash per parcel; it is now computed on demand.
    if column_exists(con, "parcels", "row_hash"):
        con.execute("ALTER TABLE parcels DROP COLUMN row_hash")
    ensure_run_seq(con)


# ---------------------------------------------------------------- the order of runs

# Which run came last is decided by `run_seq`, a number each run takes when it starts, one more
# than any before it. Never by run_id: an id is the start time to the second plus random hex,
# so two runs started in the same second sort by chance.
RUN_SEQ_TABLES = ("runs", "cluster_lineage")


def ensure_run_seq(con: duckdb.DuckDBPyConnection) -> None:
    """Give `runs` and `cluster_lineage` their `run_seq` column where a store made by an earlier
    version lacks it, numbering the runs recorded so far in the order they started (a run known
    only from its lineage rows by the time in its id)."""
    missing = [t for t in RUN_SEQ_TABLES if table_exists(con, t) and not column_exists(con, t, "run_seq")]
    if not missing:
        return
    for table in missing:
        con.execute(f"ALTER TABLE {table} ADD COLUMN run_seq BIGINT")
    known = [t for t in RUN_SEQ_TABLES if table_exists(con, t)]
    has_runs = "runs" in known
    ids = " UNION ".join(f"SELECT DISTINCT run_id FROM {t}" for t in known)
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _run_order AS
        WITH ids AS ({ids}),
        started AS (
            SELECT i.run_id,
                   {"r.run_seq" if has_runs else "NULL::BIGINT"} AS run_seq,
                   coalesce({"r.started_at" if has_runs else "NULL::TIMESTAMP"},
                            try_strptime(left(i.run_id, 16), '%Y%m%dT%H%M%SZ')) AS started_at
            FROM ids i {"LEFT JOIN runs r USING (run_id)" if has_runs else ""}
        )
        SELECT run_id, coalesce(run_seq, (SELECT coalesce(max(run_seq), 0) FROM started)
                       + row_number() OVER (PARTITION BY run_seq IS NULL ORDER BY started_at NULLS FIRST, run_id)) AS run_seq
        FROM started
        """
    )
    for table in known:
        con.execute(
            f"UPDATE {table} SET run_seq = o.run_seq FROM _run_order o WHERE {table}.run_id = o.run_id AND {table}.run_seq IS NULL"
        )
    con.execute("DROP TABLE _run_order")


def next_run_seq(con: duckdb.DuckDBPyConnection) -> int:
    """The `run_seq` of a run starting now: one more than any recorded."""
    ensure_run_seq(con)
    tops = [
        f"(SELECT max(run_seq) FROM {t})" for t in RUN_SEQ_TABLES if table_exists(con, t)
    ]
    if not tops:
        return 1
    return int(con.execute(f"SELECT coalesce(greatest({', '.join(tops)}), 0) + 1").fetchall()[0][0])


def run_seq_of(con: duckdb.DuckDBPyConnection, run_id: str) -> int:
    """The `run_seq` of the run `run_id`: its row in `runs` when it has one, else a new number
    (an analysis run on its own, without a history row)."""
    ensure_run_seq(con)
    if table_exists(con, "runs"):
        row = con.execute("SELECT run_seq FROM runs WHERE run_id = ?", [run_id]).fetchall()
        if row and row[0][0] is not None:
            return int(row[0][0])
    return next_run_seq(con)


def newest_first(con: duckdb.DuckDBPyConnection, table: str = "runs") -> str:
    """ORDER BY terms that put the latest run first: `run_seq`, or in a read-only copy made
    before it existed, the start time."""
    if column_exists(con, table, "run_seq"):
        return "run_seq DESC NULLS LAST"
    return "started_at DESC, run_id DESC" if table == "runs" else "run_id DESC"


# Queries here use fetchall(): in DuckDB 2 a half-read result (fetchone) left on the connection
# makes a later con.register() fail with ResourceInUseException.


def table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ? AND table_schema = 'main'",
            [name],
        ).fetchall()[0][0]
    )


def column_exists(con: duckdb.DuckDBPyConnection, table: str, column: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.columns WHERE table_name = ? AND column_name = ? AND table_schema = 'main'",
            [table, column],
        ).fetchall()[0][0]
    )


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
