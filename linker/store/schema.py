"""Every table whose columns are declared rather than made by a query, in one place, and the
migrations that bring a store made by an earlier version up to date.

The stage tables made by `CREATE TABLE ... AS SELECT` (party_mentions, entities, graph_nodes,
clusters, ...) take their columns from their query, documented in docs/ARCHITECTURE.md.
"""

from __future__ import annotations

import duckdb

from linker.store.tables import column_exists, table_exists

# ---------------------------------------------------------------- the load (linker ingest)

LOAD_DDL = """
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



# ---------------------------------------------------------------- the run ledger and history

RUNS_DDL = """
CREATE TABLE IF NOT EXISTS runs (
    run_id      VARCHAR PRIMARY KEY,
    kind        VARCHAR NOT NULL,
    status      VARCHAR NOT NULL,
    started_at  TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    counts      JSON,
    error       VARCHAR,
    run_seq     BIGINT  -- the order the runs started in: the latest run has the largest
);
"""

NIGHTLY_HISTORY_DDL = """
-- The clusters of each published run, small and kept: what "changed since last night" compares.
CREATE TABLE IF NOT EXISTS run_clusters (
    run_id            VARCHAR NOT NULL,
    cluster_id        VARCHAR NOT NULL,
    rank              INTEGER,
    score             DOUBLE,
    flagged           BOOLEAN,
    commodity         VARCHAR,
    parcels           BIGINT,
    est_controlled_kg DOUBLE,
    threshold_kg      DOUBLE
);
-- One row per report date: which run it shows and which files that run had seen.
CREATE TABLE IF NOT EXISTS nightly_reports (
    report_date  DATE PRIMARY KEY,
    run_id       VARCHAR NOT NULL,
    nightly_id   VARCHAR NOT NULL,
    max_file_id  INTEGER NOT NULL,
    written_at   TIMESTAMP NOT NULL,
    path         VARCHAR NOT NULL
);
"""

# ---------------------------------------------------------------- the analysis' own state

# What the working tables hold: the analysis an incremental run may extend.
ANALYSIS_STATE_DDL = """
CREATE TABLE IF NOT EXISTS analysis_state (
    fingerprint VARCHAR, parcels BIGINT, max_parcel_seq BIGINT, run_id VARCHAR, mode VARCHAR, full_run_id VARCHAR
)
"""

# Every run's cluster events; `{name}` is `cluster_lineage` or a run's staged rows.
LINEAGE_DDL = """
CREATE TABLE IF NOT EXISTS {name} (
    run_id VARCHAR, cluster_id VARCHAR, event VARCHAR, other_cluster_id VARCHAR,
    shared_parcels BIGINT, parcels BIGINT, other_parcels BIGINT
)
"""

# Written by resolution (resolve.write_households); a store resolved before households has none.
HOUSEHOLDS_DDL = "CREATE TABLE IF NOT EXISTS party_households (entity_id BIGINT, household_id BIGINT)"


def create_run_history(con: duckdb.DuckDBPyConnection) -> None:
    """`runs`, `run_clusters` and `nightly_reports`, with `run_seq` where an older store lacks it."""
    con.execute(RUNS_DDL)
    con.execute(NIGHTLY_HISTORY_DDL)
    ensure_run_seq(con)


# ---------------------------------------------------------------- migrations


def migrate(con: duckdb.DuckDBPyConnection) -> None:
    """Bring a store made by an earlier version up to the current schema."""
    # 0.1.0 development stores kept a content hash per parcel; it is now computed on demand.
    if column_exists(con, "parcels", "row_hash"):
        con.execute("ALTER TABLE parcels DROP COLUMN row_hash")
    ensure_run_seq(con)


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


def newest_first(con: duckdb.DuckDBPyConnection, table: str = "runs") -> str:
    """ORDER BY terms that put the latest run first: `run_seq`, or in a read-only copy made
    before it existed, the start time."""
    if column_exists(con, table, "run_seq"):
        return "run_seq DESC NULLS LAST"
    return "started_at DESC, run_id DESC" if table == "runs" else "run_id DESC"
