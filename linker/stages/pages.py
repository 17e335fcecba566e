"""The page tables: what the dashboard's cluster pages, the evidence pack and the report read
of each cluster, written by every run after scoring (the `pages` step of linker.pipeline).

Each read is one SQL query over a *scope* of clusters (a condition on `pc.cluster_id`). The run
writes every cluster's rows (`write_pages`), so that a cluster page reads a few rows by cluster
id instead of joining `parcels` and `party_mentions`, which grow with the history; the readers
(linker.outputs.clusters) fall back to the same queries scoped to one cluster on a store
analysed before the page tables existed. Rows are stored in cluster id order: DuckDB compares
the id with each row group's min and max and reads only the row groups that hold it.

    cluster_page_parcels     every parcel with every declared field, its estimate and signals
    cluster_page_mentions    the sender and receiver mentions of those parcels, with their party
    cluster_page_links       the resolver's links inside the cluster, strongest first (link_order)
    cluster_page_households  the households of the cluster's parties
    cluster_page_entities    the cluster's parties as `entities` holds them
    cluster_page_spread      the carriers and countries of the cluster's parcels (the queue)
"""

from __future__ import annotations

import duckdb

from linker.store.tables import COLUMN_NAMES, PAGE_TABLES, columns, table_exists


def one(param: str = "?") -> str:
    return f"pc.cluster_id = {param}"


def of(cluster_ids: list[str]) -> tuple[str, list]:
    """The scope condition and its parameter for a list of cluster ids (an equality for one,
    which DuckDB checks against each row group's min and max before reading it)."""
    ids = list(cluster_ids)
    if len(ids) == 1:
        return one(), ids
    return "pc.cluster_id IN (SELECT unnest(?::VARCHAR[]))", [ids]


def has_pages(con: duckdb.DuckDBPyConnection) -> bool:
    """True when `linker run` wrote the page tables into this store or snapshot."""
    found = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main' AND list_contains(?::VARCHAR[], table_name)",
        [list(PAGE_TABLES)],
    ).fetchall()[0][0]
    return found == len(PAGE_TABLES)


def parcels_sql(con: duckdb.DuckDBPyConnection, scope: str, pcs: str = "parcel_clusters") -> str:
    fields = ", ".join(f"p.{c}" for c in COLUMN_NAMES)
    est = "pc.est_controlled_kg" if "est_controlled_kg" in columns(con, pcs) else "NULL::DOUBLE"
    if table_exists(con, "parcel_signals"):
        signals_cte = """, sig AS (
            SELECT s.parcel_seq, string_agg(s.signal || coalesce(' (' || s.commodity || ')', ''), '; ' ORDER BY s.signal, s.commodity) AS signals
            FROM parcel_signals s WHERE s.parcel_seq IN (SELECT parcel_seq FROM pc) GROUP BY s.parcel_seq)"""
        signals_join, signals_col = "LEFT JOIN sig ON sig.parcel_seq = pc.parcel_seq", "sig.signals"
    else:
        signals_cte, signals_join, signals_col = "", "", "NULL::VARCHAR"
    return f"""WITH pc AS (SELECT * FROM {pcs} pc WHERE {scope}){signals_cte}
        SELECT pc.cluster_id, p.parcel_seq, {fields}, {est} AS est_controlled_kg, {signals_col} AS signals
        FROM pc JOIN parcels p ON p.parcel_seq = pc.parcel_seq {signals_join}"""


PARCEL_ORDER = "cluster_id, accepted_at, parcel_id, parcel_seq"


def mentions_sql(con: duckdb.DuckDBPyConnection, scope: str, pcs: str = "parcel_clusters") -> str:
    if table_exists(con, "party_mentions"):
        return f"""SELECT pc.cluster_id, m.mention_id, m.parcel_seq, m.parcel_id, m.role, m.name_raw, m.name_norm, m.phone_raw,
            m.phone_e164, m.account_norm, m.id_number_norm, m.address_raw, m.address_key, m.address_unit, m.country,
            m.entity_id, p.acceptance_point
            FROM {pcs} pc JOIN party_mentions m ON m.parcel_seq = pc.parcel_seq
            JOIN parcels p ON p.parcel_seq = pc.parcel_seq
            WHERE {scope}"""
    return f"""SELECT pc.cluster_id, p.parcel_seq * 2 + r.receiver AS mention_id, p.parcel_seq, p.parcel_id,
            CASE WHEN r.receiver = 1 THEN 'receiver' ELSE 'sender' END AS role,
            CASE WHEN r.receiver = 1 THEN p.receiver_name ELSE p.sender_name END AS name_raw,
            NULL::VARCHAR AS name_norm,
            CASE WHEN r.receiver = 1 THEN p.receiver_phone ELSE p.sender_phone END AS phone_raw,
            NULL::VARCHAR AS phone_e164,
            CASE WHEN r.receiver = 0 THEN p.payer_account END AS account_norm,
            CASE WHEN r.receiver = 0 THEN p.sender_id_number END AS id_number_norm,
            CASE WHEN r.receiver = 1 THEN p.receiver_address ELSE p.sender_address END AS address_raw,
            NULL::VARCHAR AS address_key, NULL::VARCHAR AS address_unit,
            CASE WHEN r.receiver = 1 THEN p.dest_country ELSE p.origin_country END AS country,
            NULL::BIGINT AS entity_id, p.acceptance_point
        FROM {pcs} pc JOIN parcels p ON p.parcel_seq = pc.parcel_seq, (VALUES (0), (1)) r(receiver)
        WHERE {scope}"""


def links_sql(con: duckdb.DuckDBPyConnection, scope: str, pcs: str = "parcel_clusters") -> str:
    """The accepted links whose two ends are in one cluster, numbered strongest first per cluster."""
    profile = "m.profile_id" if "profile_id" in columns(con, "party_mentions") else "m.mention_id"
    return f"""WITH m AS (
            SELECT pc.cluster_id, {profile} AS profile_id, any_value(m.name_raw ORDER BY m.mention_id) AS name_raw,
                   any_value(m.role ORDER BY m.mention_id) AS role, count(*) AS parcels
            FROM {pcs} pc JOIN party_mentions m ON m.parcel_seq = pc.parcel_seq
            WHERE {scope} GROUP BY ALL)
        SELECT l.cluster_id,
               row_number() OVER (PARTITION BY l.cluster_id ORDER BY e.match_probability DESC, e.mention_id_l, e.mention_id_r) AS link_order,
               l.name_raw AS name_left, r.name_raw AS name_right, l.role,
               l.parcels AS parcels_left, r.parcels AS parcels_right,
               e.match_probability, e.match_weight, CAST(e.evidence AS VARCHAR) AS evidence
        FROM entity_links e JOIN m l ON l.profile_id = e.mention_id_l
        JOIN m r ON r.profile_id = e.mention_id_r AND r.cluster_id = l.cluster_id"""


def households_sql(scope: str, pcs: str = "parcel_clusters") -> str:
    """Per cluster, the households (resolve.write_households) of its parties: the members' names,
    how many of them are in the cluster, and the flat (the first address of its first member)."""
    return f"""WITH mine AS (
            SELECT DISTINCT pc.cluster_id, m.entity_id FROM {pcs} pc JOIN party_mentions m ON m.parcel_seq = pc.parcel_seq
            WHERE {scope} AND m.entity_id IS NOT NULL),
        homes AS (SELECT DISTINCT mine.cluster_id, h.household_id FROM mine JOIN party_households h USING (entity_id)),
        house AS (
            SELECT homes.cluster_id, h.household_id,
                   string_agg(e.best_name, ' · ' ORDER BY e.entity_id) AS members,
                   count(*) FILTER (WHERE mine.entity_id IS NOT NULL) AS in_cluster,
                   count(*) AS parties, min(h.entity_id) AS first_entity
            FROM homes JOIN party_households h USING (household_id) JOIN entities e USING (entity_id)
            LEFT JOIN mine ON mine.cluster_id = homes.cluster_id AND mine.entity_id = h.entity_id
            GROUP BY homes.cluster_id, h.household_id),
        flats AS (
            SELECT m.entity_id, any_value(m.address_raw ORDER BY m.mention_id) AS flat FROM party_mentions m
            WHERE m.entity_id IN (SELECT first_entity FROM house) GROUP BY m.entity_id)
        SELECT house.cluster_id, house.household_id, house.members, house.in_cluster, house.parties, flats.flat
        FROM house LEFT JOIN flats ON flats.entity_id = house.first_entity"""


def entities_sql(scope: str, pcs: str = "parcel_clusters") -> str:
    return f"""SELECT mine.cluster_id, e.* FROM (
            SELECT DISTINCT pc.cluster_id, m.entity_id FROM {pcs} pc JOIN party_mentions m ON m.parcel_seq = pc.parcel_seq
            WHERE {scope} AND m.entity_id IS NOT NULL) mine
        JOIN entities e USING (entity_id)"""


def spread_sql(scope: str, pcs: str = "parcel_clusters") -> str:
    """Per cluster, the carriers and countries of its parcels (the queue's columns)."""
    return f"""SELECT pc.cluster_id,
               list(DISTINCT p.carrier ORDER BY p.carrier) AS carriers,
               list(DISTINCT p.origin_country ORDER BY p.origin_country) AS origin_countries,
               list(DISTINCT p.dest_country ORDER BY p.dest_country) AS dest_countries
        FROM {pcs} pc JOIN parcels p ON p.parcel_seq = pc.parcel_seq
        WHERE {scope} GROUP BY pc.cluster_id"""


def _page_queries(con: duckdb.DuckDBPyConnection, scope: str, pcs: str) -> dict[str, tuple[str, str]]:
    """(query over the clusters in scope, row order) of each page table."""
    return {
        "cluster_page_parcels": (parcels_sql(con, scope, pcs), PARCEL_ORDER),
        "cluster_page_mentions": (mentions_sql(con, scope, pcs), "cluster_id, mention_id"),
        "cluster_page_links": (links_sql(con, scope, pcs), "cluster_id, link_order"),
        "cluster_page_households": (households_sql(scope, pcs), "cluster_id, household_id"),
        "cluster_page_entities": (entities_sql(scope, pcs), "cluster_id, parcels DESC, entity_id"),
        "cluster_page_spread": (spread_sql(scope, pcs), "cluster_id"),
    }


def write_pages(con: duckdb.DuckDBPyConnection, *, results: str = "", target: str = "",
                changed: str | None = None) -> dict:
    """Write what the cluster pages read, per cluster, into the page tables (PAGE_TABLES).

    The clusters are read from `{results}parcel_clusters` and `{results}clusters` (a run's
    staged results before they are swapped in), the parties from the resolution's tables
    (`party_mentions`, `entities`, `entity_links`, `party_households`). With `changed` None,
    every cluster's rows are written anew into `{target}cluster_page_*`. Otherwise `changed`
    names a table of the cluster ids whose rows may differ from the stored ones (an
    incremental run's, see pipeline.analysis): only theirs are written again, in place, and
    the rows of clusters that no longer exist are removed. Rows are stored in cluster id order,
    so that a read by cluster id touches only the row groups that hold that cluster (DuckDB
    compares the id with each row group's min and max before reading it)."""
    pcs = f"{results}parcel_clusters"
    if changed is None or not has_pages(con):
        for table, (sql, order) in _page_queries(con, "true", pcs).items():
            con.execute(f"CREATE OR REPLACE TABLE {target}{table} AS SELECT * FROM ({sql}) ORDER BY {order}")
        return {"page_clusters": int(con.execute(f"SELECT count(*) FROM {results}clusters").fetchall()[0][0])}
    scope = f"pc.cluster_id IN (SELECT cluster_id FROM {changed})"
    for table, (sql, order) in _page_queries(con, scope, pcs).items():
        con.execute(f"""DELETE FROM {table} WHERE cluster_id IN (SELECT cluster_id FROM {changed})
                        OR cluster_id NOT IN (SELECT cluster_id FROM {results}clusters)""")
        con.execute(f"INSERT INTO {table} SELECT * FROM ({sql}) ORDER BY {order}")
    return {"page_clusters": int(con.execute(f"SELECT count(*) FROM {changed}").fetchall()[0][0])}
