"""The link graph: which parcels are tied together by a shared party or identifier.

Nodes are parcels and the things parcels share: resolved parties (a sender or receiver entity),
phones, identity-document numbers, payer accounts, canonical addresses (with their unit, so two
customers of one forwarding warehouse are two nodes) and acceptance points. Each parcel has an
edge to each identifier it carries. An identifier's edges weigh less the more distinct parties
use it, and an identifier used by more parties than its kind allows (`[graph.max_entities]` in
scoring.toml) is a *hub* - an outlet's phone, a warehouse without suite, an agent paying for
walk-in customers - whose edges are cut, so it cannot glue thousands of strangers together.
Identifiers on a single parcel link nothing and are left out.

Detection (linker.stages.detect) reads this graph. `update_graph` brings it up to date in place
for the parcels an incremental run changed; `cluster_graph` reads one cluster of it back, as the
graph stage sees it (parcels and the identifiers on them, hubs marked).
"""

from __future__ import annotations

import duckdb
import networkx as nx

from linker.settings.scoring import graph_settings
from linker.store.schema import HOUSEHOLDS_DDL
from linker.store.tables import table_exists

NODE_KINDS = ("party", "household", "phone", "id_number", "account", "address", "acceptance_point")


def _identifier_uses_sql(mentions: str = "party_mentions") -> str:
    """One row per (parcel, identifier) with the party that used it on that parcel.

    Each use carries the party's entity and name key (parties are counted both ways).
    Phones, addresses and parties are shared across roles (a person who sends and receives is
    one node); ID numbers and accounts only exist on the sender side. The address node is the
    canonical address key plus its unit, so a forwarding warehouse's customers stay apart.
    A household (parties living together, resolve.write_households) is a node of its own that
    every parcel of its members uses: two people are two parties, and the graph still ties them.
    `mentions` names the mention rows to read (all of `party_mentions`, or a night's share).
    """
    return f"""
        SELECT parcel_seq, entity_id, name_key, 'party' AS kind, CAST(entity_id AS VARCHAR) AS key
        FROM {mentions} WHERE entity_id IS NOT NULL
        UNION ALL
        SELECT parcel_seq, entity_id, name_key, 'phone', phone_e164
        FROM {mentions} WHERE phone_e164 IS NOT NULL AND phone_e164 <> ''
        UNION ALL
        SELECT parcel_seq, entity_id, name_key, 'id_number', id_number_norm
        FROM {mentions} WHERE role = 'sender' AND id_number_norm IS NOT NULL AND id_number_norm <> ''
        UNION ALL
        SELECT parcel_seq, entity_id, name_key, 'account', account_norm
        FROM {mentions} WHERE role = 'sender' AND account_norm IS NOT NULL AND account_norm <> ''
        UNION ALL
        SELECT parcel_seq, entity_id, name_key, 'address', address_key || '#' || coalesce(address_unit, '')
        FROM {mentions} WHERE address_key IS NOT NULL AND address_key <> ''
        UNION ALL
        SELECT m.parcel_seq, m.entity_id, m.name_key, 'household', CAST(h.household_id AS VARCHAR)
        FROM {mentions} m JOIN party_households h USING (entity_id)
        UNION ALL
        SELECT m.parcel_seq, m.entity_id, m.name_key, 'acceptance_point', p.acceptance_point
        FROM {mentions} m JOIN parcels p USING (parcel_seq)
        WHERE m.role = 'sender' AND p.acceptance_point IS NOT NULL AND p.acceptance_point <> ''
    """


_USE_COLUMNS = "parcel_seq, entity_id, name_key, kind, key"
_NODE_COLUMNS = "node_id, kind, key, entities, parcels, weight, hub"


def _node_terms(cfg: dict) -> tuple[str, str, str]:
    """SQL for an identifier's statistics over `uses` rows, its edge weight and its hub flag.

    Weight falls with the log of how many distinct parties share the identifier: a phone of
    one person weighs its kind's weight, one shared by 8 parties about a third of it. Parties
    are counted as resolved entities or as distinct names, whichever is more, so that a
    resolution that merged an outlet's walk-in customers into one party (they share its
    phone) cannot hide the hub: that over-merged party is itself cut as a hub.
    build_graph and update_graph share these terms, so an updated node equals a rebuilt one.
    """
    kind_weight, max_entities = cfg["kind_weight"], cfg["max_entities"]
    cases_w = " ".join(f"WHEN '{k}' THEN {float(kind_weight.get(k, 1.0))}" for k in NODE_KINDS)
    cases_n = " ".join(f"WHEN '{k}' THEN {int(max_entities.get(k, 1_000_000))}" for k in NODE_KINDS)
    stats = ("greatest(count(DISTINCT entity_id), count(DISTINCT name_key)) AS entities, "
             "count(DISTINCT parcel_seq) AS parcels")
    weight = f"(CASE kind {cases_w} ELSE 1.0 END) / (1 + ln(greatest(entities, 1)))"
    hub = f"entities > (CASE kind {cases_n} ELSE 1000000 END)"
    return stats, weight, hub


def build_graph(con: duckdb.DuckDBPyConnection, config: dict | None = None, *, prefix: str = "") -> dict:
    """Build `{prefix}graph_uses`, `{prefix}graph_nodes` and `{prefix}graph_edges` from
    `party_mentions` and `parcels`, from scratch.

    graph_uses: parcel_seq, entity_id, name_key, kind, key - every identifier use, kept so that
    `update_graph` can recount an identifier without re-reading every mention.
    graph_nodes: node_id (dense, after the parcel_seq range), kind, key, entities (distinct parties
    using it), parcels, weight (weight of each of its edges), hub (edges cut).
    graph_edges: parcel_seq, node_id, weight - only for non-hub identifiers on two or more parcels.
    Returns counts.
    """
    stats, weight, hub = _node_terms(graph_settings(config))
    con.execute(HOUSEHOLDS_DDL)
    con.execute(f"CREATE OR REPLACE TABLE {prefix}graph_uses AS {_identifier_uses_sql()}")
    con.execute(
        f"""
        CREATE OR REPLACE TABLE {prefix}graph_nodes AS
        -- (an identifier used once is on one parcel and no node: its distinct counts are not
        -- taken, a third of the work at 1M parcels)
        WITH reused AS (SELECT kind, key FROM {prefix}graph_uses GROUP BY kind, key HAVING count(*) >= 2),
        stats AS (
            SELECT kind, key, {stats} FROM {prefix}graph_uses SEMI JOIN reused USING (kind, key) GROUP BY kind, key
        )
        SELECT (SELECT coalesce(max(parcel_seq), -1) + 1 FROM parcels)
                   + row_number() OVER (ORDER BY kind, key) - 1 AS node_id,
               kind, key, entities, parcels, {weight} AS weight, {hub} AS hub
        FROM stats WHERE parcels >= 2
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TABLE {prefix}graph_edges AS
        SELECT DISTINCT u.parcel_seq, n.node_id, n.weight
        FROM {prefix}graph_uses u JOIN {prefix}graph_nodes n USING (kind, key)
        WHERE NOT n.hub
        ORDER BY u.parcel_seq, n.node_id
        """
    )
    return _graph_counts(con, prefix)


def _graph_counts(con: duckdb.DuckDBPyConnection, prefix: str = "") -> dict:
    nodes, hubs = con.execute(f"SELECT count(*), count(*) FILTER (WHERE hub) FROM {prefix}graph_nodes").fetchall()[0]
    edges = con.execute(f"SELECT count(*) FROM {prefix}graph_edges").fetchall()[0][0]
    return {"identifier_nodes": int(nodes), "hub_nodes": int(hubs), "edges": int(edges)}


def update_graph(con: duckdb.DuckDBPyConnection, config: dict | None = None, *, changed: str = "_changed_parcels") -> dict:
    """Bring `graph_uses`, `graph_nodes` and `graph_edges` up to date with `party_mentions` in
    place, touching only what the parcels in `changed` (a table with a `parcel_seq` column:
    parcels whose mentions are new or whose mentions' entity_id changed) can have changed.

    The result equals a fresh `build_graph` compared by (kind, key) for nodes and by
    (parcel_seq, kind, key, weight) for edges; only node ids differ: a key that already had a
    node keeps its id, a new key gets a fresh id above every node id and parcel_seq so far.
    So node ids are neither dense nor above every parcel_seq once new parcels arrive
    (`detect_groups` does not rely on either).

    An identifier's statistics depend only on its own uses, so only the identifiers whose uses
    changed (the *touched* keys) can change:

    1. the changed parcels' uses are recomputed (from `party_mentions` and
       `parcels.acceptance_point`); a key is touched when a use of it was dropped or added,
       compared with the parcels' stored uses as whole rows (a re-resolved receiver leaves its
       sender's account and acceptance point untouched);
    2. the changed parcels' uses are replaced in `graph_uses`;
    3. each touched key is recounted over all its uses: it may appear, change weight, cross
       the hub threshold, or fall under two parcels and disappear;
    4. the nodes of touched keys are replaced (a kept key keeps its node_id);
    5. edges: a node that appeared, disappeared or changed weight or hub flag has all its edges
       rewritten; a touched node that stayed the same only has its edges from the changed
       parcels rewritten. Edges of changed parcels to untouched keys are unchanged (their uses
       were the same before).

    Runs inside the caller's transaction (it neither begins nor commits) and needs the tables
    of an earlier `build_graph`. Returns counts: touched keys, changed parcels, rewritten
    nodes and edges, and the graph's totals as build_graph reports them.
    """
    missing = {"graph_uses", "graph_nodes", "graph_edges"} - {
        r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE NOT temporary").fetchall()}
    if missing:
        raise RuntimeError(f"update_graph needs a graph built by build_graph first (missing {', '.join(sorted(missing))})")
    stats, weight, hub = _node_terms(graph_settings(config))
    con.execute(HOUSEHOLDS_DDL)
    _replace_changed_uses(con, changed)
    _recount_touched_keys(con, stats, weight, hub)
    edges_rewritten = _rewrite_edges(con)
    counts = {
        "changed_parcels": int(con.execute("SELECT count(*) FROM _ug_changed").fetchall()[0][0]),
        "touched_keys": int(con.execute("SELECT count(*) FROM _ug_touched").fetchall()[0][0]),
        "nodes_rewritten": int(con.execute("SELECT count(*) FROM _ug_nodes").fetchall()[0][0]),
        "edges_rewritten": int(edges_rewritten),
    }
    for table in ("_ug_changed", "_ug_mentions", "_ug_uses", "_ug_old_uses", "_ug_touched", "_ug_key_uses",
                  "_ug_old_nodes", "_ug_nodes", "_ug_steady"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    return counts | _graph_counts(con)


def _replace_changed_uses(con: duckdb.DuckDBPyConnection, changed: str) -> None:
    """update_graph's steps 1 and 2: the changed parcels' uses recomputed (`_ug_uses`), the keys
    whose uses differ from the stored ones (`_ug_touched`), and the uses replaced in `graph_uses`."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE _ug_changed AS SELECT DISTINCT parcel_seq FROM {changed}")
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _ug_mentions AS
        SELECT parcel_seq, entity_id, name_key, role, phone_e164, id_number_norm, account_norm, address_key, address_unit
        FROM party_mentions WHERE parcel_seq IN (SELECT parcel_seq FROM _ug_changed)
        """
    )
    con.execute(f"CREATE OR REPLACE TEMP TABLE _ug_uses AS {_identifier_uses_sql('_ug_mentions')}")
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _ug_old_uses AS
        SELECT {_USE_COLUMNS} FROM graph_uses WHERE parcel_seq IN (SELECT parcel_seq FROM _ug_changed)
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _ug_touched AS
        SELECT DISTINCT kind, key FROM (
            (SELECT {_USE_COLUMNS} FROM _ug_old_uses EXCEPT ALL SELECT {_USE_COLUMNS} FROM _ug_uses)
            UNION ALL
            (SELECT {_USE_COLUMNS} FROM _ug_uses EXCEPT ALL SELECT {_USE_COLUMNS} FROM _ug_old_uses)
        )
        """
    )
    con.execute("DELETE FROM graph_uses WHERE parcel_seq IN (SELECT parcel_seq FROM _ug_changed)")
    con.execute(f"INSERT INTO graph_uses ({_USE_COLUMNS}) SELECT {_USE_COLUMNS} FROM _ug_uses")


def _recount_touched_keys(con: duckdb.DuckDBPyConnection, stats: str, weight: str, hub: str) -> None:
    """update_graph's steps 3 and 4: every touched key recounted over all its uses (`_ug_nodes`;
    a kept key keeps its node_id, a new one gets a fresh id), the nodes that stayed the same
    (`_ug_steady`), and the touched keys' nodes replaced in `graph_nodes`."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _ug_old_nodes AS
        SELECT n.node_id, n.kind, n.key, n.weight, n.hub FROM graph_nodes n SEMI JOIN _ug_touched t USING (kind, key)
        """
    )
    # Every use of a touched key, read once from the big table: the counts and the rewritten
    # edges both come from it.
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _ug_key_uses AS
        SELECT {_USE_COLUMNS} FROM graph_uses SEMI JOIN _ug_touched t USING (kind, key)
        """
    )
    # Fresh ids start above every node id and every parcel_seq there is now; parcels arriving
    # later may pass them, which is why detect_groups maps ids to a local range.
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _ug_nodes AS
        WITH stats AS (SELECT kind, key, {stats} FROM _ug_key_uses GROUP BY kind, key),
        kept AS (SELECT s.*, o.node_id AS old_id FROM stats s LEFT JOIN _ug_old_nodes o USING (kind, key) WHERE s.parcels >= 2),
        base AS (SELECT greatest((SELECT coalesce(max(node_id), -1) FROM graph_nodes),
                                 (SELECT coalesce(max(parcel_seq), -1) FROM parcels)) + 1 AS first_id)
        SELECT CASE WHEN old_id IS NOT NULL THEN old_id
                    ELSE (SELECT first_id FROM base)
                         + row_number() OVER (PARTITION BY old_id IS NULL ORDER BY kind, key) - 1 END AS node_id,
               kind, key, entities, parcels, {weight} AS weight, {hub} AS hub
        FROM kept
        """
    )
    # Nodes whose every edge changes (new, gone, reweighted, hub flag flipped) by their old
    # and new ids; the other touched nodes are `steady`.
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _ug_steady AS
        SELECT n.node_id FROM _ug_nodes n JOIN _ug_old_nodes o USING (node_id)
        WHERE n.weight = o.weight AND n.hub = o.hub
        """
    )
    con.execute("DELETE FROM graph_nodes WHERE node_id IN (SELECT node_id FROM _ug_old_nodes)")
    con.execute(f"INSERT INTO graph_nodes ({_NODE_COLUMNS}) SELECT {_NODE_COLUMNS} FROM _ug_nodes")


def _rewrite_edges(con: duckdb.DuckDBPyConnection) -> int:
    """update_graph's step 5: every edge of a node that appeared, disappeared or changed, and the
    changed parcels' edges of a touched node that stayed the same; returns the edges written."""
    con.execute(
        """
        DELETE FROM graph_edges
        WHERE node_id IN (SELECT node_id FROM _ug_old_nodes)
          AND (node_id NOT IN (SELECT node_id FROM _ug_steady) OR parcel_seq IN (SELECT parcel_seq FROM _ug_changed))
        """
    )
    return int(con.execute(
        """
        INSERT INTO graph_edges (parcel_seq, node_id, weight)
        SELECT DISTINCT u.parcel_seq, n.node_id, n.weight
        FROM _ug_key_uses u JOIN _ug_nodes n USING (kind, key)
        WHERE NOT n.hub AND n.node_id NOT IN (SELECT node_id FROM _ug_steady)
        UNION ALL
        SELECT DISTINCT u.parcel_seq, n.node_id, n.weight
        FROM _ug_uses u JOIN _ug_nodes n USING (kind, key)
        WHERE NOT n.hub AND n.node_id IN (SELECT node_id FROM _ug_steady)
        """
    ).fetchall()[0][0])


def cluster_graph(con: duckdb.DuckDBPyConnection, cluster_id: str) -> nx.Graph:
    """One cluster as the graph stage sees it, a networkx graph.

    Parcel nodes are `("parcel", parcel_seq)` with parcel_id, carrier, accepted_at, declared
    description and weight; identifier nodes are `(kind, key)` with `label` and `hub`. Every
    identifier the cluster's parcels carry is included, including those on one parcel only and
    hubs (marked `hub=True`, drawn but not used for linking), so the investigator sees the
    whole picture.

    >>> g = cluster_graph(con, "C-000001")  # doctest: +SKIP
    >>> sorted({kind for kind, _ in g.nodes})  # doctest: +SKIP
    ['account', 'address', 'parcel', 'party', 'phone']
    """
    g = nx.Graph(cluster_id=cluster_id)
    parcels = con.execute(
        """
        SELECT p.parcel_seq, p.parcel_id, p.carrier, p.accepted_at, p.declared_description, p.declared_weight_kg, p.hs_code
        FROM parcel_clusters c JOIN parcels p USING (parcel_seq)
        WHERE c.cluster_id = ? ORDER BY p.parcel_seq
        """,
        [cluster_id],
    ).fetchall()
    for seq, pid, carrier, at, desc, kg, hs in parcels:
        g.add_node(("parcel", seq), kind="parcel", parcel_id=pid, carrier=carrier, accepted_at=at,
                   declared_description=desc, declared_weight_kg=kg, hs_code=hs, label=pid)
    if not parcels:
        return g
    # graph_uses holds every identifier use; a store from before it existed derives them
    source = "SELECT * FROM graph_uses" if table_exists(con, "graph_uses") else _identifier_uses_sql()
    uses = con.execute(
        f"""
        WITH members AS (SELECT parcel_seq FROM parcel_clusters WHERE cluster_id = ?),
        uses AS ({source})
        SELECT u.parcel_seq, u.kind, u.key, n.weight, coalesce(n.hub, false), coalesce(n.entities, 1), e.best_name
        FROM uses u
        JOIN members m USING (parcel_seq)
        LEFT JOIN graph_nodes n USING (kind, key)
        LEFT JOIN entities e ON u.kind = 'party' AND e.entity_id = u.entity_id
        ORDER BY u.parcel_seq, u.kind, u.key
        """,
        [cluster_id],
    ).fetchall()
    for seq, kind, key, weight, hub, entities, best_name in uses:
        node = (kind, key)
        label = best_name if kind == "party" and best_name else (key.rstrip("#") if kind == "address" else key)
        if node not in g:
            g.add_node(node, kind=kind, key=key, label=label, hub=bool(hub), entities=int(entities))
        g.add_edge(("parcel", seq), node, weight=float(weight) if weight is not None else 0.0, hub=bool(hub))
    return g
