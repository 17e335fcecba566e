"""Stable cluster ids across runs, and the lineage of each run: which clusters continued, were
born, merged, split or ended.

A cluster keeps its id from one run to the next while it is substantially the same operation
(CONTRACT.md section 3), so that an investigator's notes stay attached to it.
"""

from __future__ import annotations

import duckdb

from linker.store.schema import LINEAGE_DDL
from linker.store.tables import column_exists, table_exists


def assign_cluster_ids(con: duckdb.DuckDBPyConnection, run_id: str, *, prefix: str = "", previous: str = "parcel_clusters") -> dict:
    """Stable ids: `_cluster_ids(group_key, cluster_id, status)` and `{prefix}cluster_lineage_new`.

    A new cluster and an old one are the same operation when each is the other's best match
    by shared parcels (ties to the smaller id / group) and the shared parcels are a majority
    of either of them: a ring that grew, lost a few parcels or was cut differently keeps its
    id. Then:
    - continued: the new cluster keeps the old id;
    - merged: an old cluster whose parcels mostly went into a cluster that kept another id;
    - split: a new cluster (new id) that holds a majority of an old cluster's parcels that
      continued under the old id as another cluster;
    - new / ended: clusters with no counterpart.
    New ids continue after the largest number ever issued (`cluster_lineage` remembers them
    all), in rank order, so an id never comes back for another operation.
    """
    con.execute(LINEAGE_DDL.format(name="cluster_lineage"))
    con.execute(LINEAGE_DDL.format(name=f"{prefix}cluster_lineage_new"))
    con.execute(f"DELETE FROM {prefix}cluster_lineage_new")
    has_previous = table_exists(con, previous) and column_exists(con, previous, "cluster_id")
    con.execute(_overlap_sql(previous if has_previous else None))
    con.execute(_matches_sql())
    issued = con.execute(_issued_sql()).fetchall()[0][0]
    con.execute(_cluster_ids_sql(int(issued)))
    con.execute(_events_sql(run_id, prefix))
    if has_previous:
        con.execute(_ended_sql(run_id, prefix, previous))
    counts = dict(con.execute(f"SELECT event, count(*) FROM {prefix}cluster_lineage_new GROUP BY event").fetchall())
    return {k: int(v) for k, v in counts.items()}


def _overlap_sql(previous: str | None) -> str:
    """`_overlap`: parcels shared by each new group and each old cluster, with both sizes."""
    old_source = (
        f"SELECT parcel_id, carrier, cluster_id FROM {previous}" if previous
        else "SELECT NULL::VARCHAR AS parcel_id, NULL::VARCHAR AS carrier, NULL::VARCHAR AS cluster_id WHERE false"
    )
    return f"""
        CREATE OR REPLACE TEMP TABLE _overlap AS
        WITH old AS ({old_source}),
        old_sizes AS (SELECT cluster_id, count(*) AS old_n FROM old GROUP BY cluster_id),
        new_sizes AS (SELECT group_key, count(*) AS new_n FROM _members GROUP BY group_key)
        SELECT m.group_key, o.cluster_id, count(*) AS shared, any_value(ns.new_n) AS new_n, any_value(os.old_n) AS old_n
        FROM _members m JOIN old o USING (parcel_id, carrier)
        JOIN new_sizes ns USING (group_key) JOIN old_sizes os USING (cluster_id)
        GROUP BY m.group_key, o.cluster_id
        """


def _matches_sql() -> str:
    """`_matches`: pairs that are each other's best match and share a majority of either."""
    return """
        CREATE OR REPLACE TEMP TABLE _matches AS
        WITH best_old AS (
            SELECT group_key, arg_min(cluster_id, (-shared, cluster_id)) AS cluster_id FROM _overlap GROUP BY group_key
        ),
        best_new AS (
            SELECT cluster_id, arg_min(group_key, (-shared, group_key)) AS group_key FROM _overlap GROUP BY cluster_id
        )
        SELECT o.* FROM _overlap o
        JOIN best_old bo USING (group_key, cluster_id)
        JOIN best_new bn USING (group_key, cluster_id)
        WHERE 2 * o.shared > o.new_n OR 2 * o.shared > o.old_n
        """


def _issued_sql() -> str:
    """The largest cluster number ever issued (`cluster_lineage` remembers every id)."""
    return """
        SELECT coalesce(max(TRY_CAST(regexp_extract(cluster_id, '^C-(\\d+)$', 1) AS BIGINT)), 0)
        FROM (SELECT cluster_id FROM cluster_lineage UNION ALL SELECT cluster_id FROM _overlap)
        """


def _cluster_ids_sql(issued: int) -> str:
    """`_cluster_ids(group_key, cluster_id, status)`: a match keeps the old id; the rest get
    new ones after `issued`, in rank order (`_ranked_t`)."""
    return f"""
        CREATE OR REPLACE TEMP TABLE _cluster_ids AS
        WITH unmatched AS (
            SELECT r.group_key, r.rank FROM _ranked_t r ANTI JOIN _matches m USING (group_key)
        )
        SELECT group_key, cluster_id, 'continued' AS status FROM _matches
        UNION ALL
        SELECT group_key, 'C-' || lpad(CAST({issued} + row_number() OVER (ORDER BY rank) AS VARCHAR), 6, '0'), 'new'
        FROM unmatched
        """


def _events_sql(run_id: str, prefix: str) -> str:
    """This run's continued, merged, split and new events into `{prefix}cluster_lineage_new`."""
    return f"""
        INSERT INTO {prefix}cluster_lineage_new
        SELECT '{run_id}', i.cluster_id, 'continued', i.cluster_id, m.shared, m.new_n, m.old_n
        FROM _cluster_ids i JOIN _matches m USING (group_key);

        INSERT INTO {prefix}cluster_lineage_new
        -- an old cluster that did not continue but whose parcels mostly went to one new cluster
        SELECT '{run_id}', i.cluster_id, 'merged', o.cluster_id, o.shared, o.new_n, o.old_n
        FROM _overlap o JOIN _cluster_ids i USING (group_key)
        WHERE o.cluster_id NOT IN (SELECT cluster_id FROM _matches) AND 2 * o.shared > o.old_n;

        INSERT INTO {prefix}cluster_lineage_new
        -- a new cluster cut from an old one that continued as another cluster
        SELECT '{run_id}', i.cluster_id, 'split', o.cluster_id, o.shared, o.new_n, o.old_n
        FROM _overlap o JOIN _cluster_ids i USING (group_key)
        WHERE i.status = 'new' AND o.cluster_id IN (SELECT cluster_id FROM _matches) AND 2 * o.shared > o.new_n;

        INSERT INTO {prefix}cluster_lineage_new
        SELECT '{run_id}', i.cluster_id, 'new', NULL, NULL, NULL, NULL
        FROM _cluster_ids i
        WHERE i.status = 'new' AND i.cluster_id NOT IN (SELECT cluster_id FROM {prefix}cluster_lineage_new);
        """


def _ended_sql(run_id: str, prefix: str, previous: str) -> str:
    """Old clusters with no successor and not merged into one: ended."""
    return f"""
        INSERT INTO {prefix}cluster_lineage_new
        SELECT '{run_id}', cluster_id, 'ended', NULL, NULL, count(*), NULL
        FROM {previous}
        WHERE cluster_id NOT IN (SELECT cluster_id FROM _matches)
          AND cluster_id NOT IN (SELECT other_cluster_id FROM {prefix}cluster_lineage_new WHERE event = 'merged')
        GROUP BY cluster_id
        """
