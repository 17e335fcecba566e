"""The link graph: which parcels are tied together by a shared party or identifier.

Nodes are parcels and the things parcels share: resolved parties (a sender or receiver entity),
phones, identity-document numbers, payer accounts, canonical addresses (with their unit, so two
customers of one forwarding warehouse are two nodes) and acceptance points. Each parcel has an
edge to each identifier it carries. An identifier's edges weigh less the more distinct parties
use it, and an identifier used by more parties than its kind allows (`[graph.max_entities]` in
scoring.toml) is a *hub* - an outlet's phone, a warehouse without suite, an agent paying for
walk-in customers - whose edges are cut, so it cannot glue thousands of strangers together.
Identifiers on a single parcel link nothing and are left out.

Detection (`detect_groups`) works as an investigator does, from the suspicious parcels outward,
not by partitioning all traffic (in a realistic world nearly every parcel is linked to every
other through some chain of weak shared identifiers):

1. Seeds are the parcels that probably carry controlled goods (`parcel_goods`).
2. Seeds are joined through strong, rare identifiers only - a resolved party, a phone, an ID
   number, a payer account, an address with its unit, each used by few parties; never an
   acceptance point - by vectorised union-find over the edge arrays (`connected_components`).
   Ordinary parcels take no part in the linking, so they cannot chain two operations together.
3. Seeded Leiden (igraph, modularity) splits a component still too large to be one operation.
4. Parcels without goods signals join a group through an identifier dedicated to it (most of
   the identifier's parcels are the group's seeds), as context: the ring parcel declared under
   a cover the catalogue does not know.

Every parcel in a group of two or more gets a row in `parcel_groups`, keyed by the group's
smallest seed, so the same input always gives the same groups. Which groups are flagged, and
their stable ids, is score.py's job.
`cluster_graph` gives the dashboard and report one cluster as a networkx graph.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import duckdb
import networkx as nx
import numpy as np

from linker.settings.scoring import graph_settings
from linker.store.schema import HOUSEHOLDS_DDL

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
        WITH stats AS (SELECT kind, key, {stats} FROM {prefix}graph_uses GROUP BY kind, key)
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
    con.execute(
        """
        DELETE FROM graph_edges
        WHERE node_id IN (SELECT node_id FROM _ug_old_nodes)
          AND (node_id NOT IN (SELECT node_id FROM _ug_steady) OR parcel_seq IN (SELECT parcel_seq FROM _ug_changed))
        """
    )
    edges_rewritten = con.execute(
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
    ).fetchall()[0][0]
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


def connected_components(n: int, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Label every node 0..n-1 with the smallest node id in its connected component.

    Vectorised union-find (hook and compress, after Shiloach and Vishkin): each round every
    edge hooks the root of the larger label under the smaller one (`np.minimum.at` over all
    edges at once), then pointer jumping (`labels = labels[labels]`) flattens the trees. Labels
    only decrease, so it stops when a round changes nothing; on sparse graphs that takes a
    handful of rounds. The result does not depend on edge order.

    >>> connected_components(5, np.array([0, 3]), np.array([1, 4])).tolist()
    [0, 0, 2, 3, 3]
    """
    labels = np.arange(n, dtype=np.int64)
    if len(src) == 0:
        return labels
    src = np.asarray(src, dtype=np.int64)
    dst = np.asarray(dst, dtype=np.int64)
    while True:
        lu, lv = labels[src], labels[dst]
        low = np.minimum(lu, lv)
        hooked = labels.copy()
        np.minimum.at(hooked, lu, low)
        np.minimum.at(hooked, lv, low)
        while True:
            jumped = hooked[hooked]
            if np.array_equal(jumped, hooked):
                break
            hooked = jumped
        if np.array_equal(hooked, labels):
            return labels
        labels = hooked


def leiden_communities(n: int, src: np.ndarray, dst: np.ndarray, weight: np.ndarray, *, seed: int, resolution: float = 1.0) -> np.ndarray:
    """Seeded Leiden communities (Traag, Waltman & van Eck 2019, modularity objective) of one
    graph given as edge arrays over nodes 0..n-1. Returns a membership array.

    igraph's own C implementation is used: on our graphs it is an order of magnitude faster than
    the leidenalg package (bench/detection.py prints both engines). igraph draws from Python's
    `random`; a private seeded generator is swapped in for the call, so results depend on the
    seed only and the global generator is left alone."""
    import random

    import igraph as ig

    g = ig.Graph(n=n, edges=np.column_stack([src, dst]), directed=False)
    ig.set_random_number_generator(random.Random(seed))
    try:
        clustering = g.community_leiden(
            objective_function="modularity", weights=np.asarray(weight, dtype=float).tolist(),
            resolution=resolution, n_iterations=2,
        )
    finally:
        ig.set_random_number_generator(random)
    return np.asarray(clustering.membership, dtype=np.int64)


def split_communities(n: int, src: np.ndarray, dst: np.ndarray, weight: np.ndarray, is_parcel: np.ndarray,
                      *, max_parcels: int, seed: int, resolution: float = 1.0, depth: int = 3) -> np.ndarray:
    """Leiden, then Leiden again inside any community still holding more than `max_parcels`
    parcels (up to `depth` levels). Modularity cannot see communities much smaller than the
    square root of the graph's size (its resolution limit), so on a component of a million
    parcels one pass leaves operations of thirty parcels inside communities of thousands;
    re-running on each such community's own subgraph resolves them."""
    membership = leiden_communities(n, src, dst, weight, seed=seed, resolution=resolution)
    if depth <= 0:
        return membership
    parcels_per = np.bincount(membership[is_parcel], minlength=membership.max() + 1)
    next_label = int(membership.max()) + 1
    for community in np.flatnonzero(parcels_per > max_parcels).tolist():
        members = np.flatnonzero(membership == community)
        inside = (membership[src] == community) & (membership[dst] == community)
        local = np.full(n, -1, dtype=np.int64)
        local[members] = np.arange(len(members))
        sub = split_communities(len(members), local[src[inside]], local[dst[inside]], weight[inside], is_parcel[members],
                                max_parcels=max_parcels, seed=seed, resolution=resolution, depth=depth - 1)
        if sub.max() == 0:
            continue  # no further split: it stays one community
        membership[members] = next_label + sub
        next_label += int(sub.max()) + 1
    return membership


@dataclass
class DetectReport:
    seeds: int = 0
    components: int = 0
    grouped_parcels: int = 0
    attached_parcels: int = 0
    large_components: int = 0
    large_component_parcels: int = 0
    groups: int = 0
    timings: dict = field(default_factory=dict)


def detect_groups(con: duckdb.DuckDBPyConnection, config: dict | None = None, *, prefix: str = "",
                  graph_prefix: str | None = None) -> DetectReport:
    """Operations grown from the parcels that carry goods signals; writes `{prefix}parcel_groups`
    (parcel_seq, group_key, component_key, community_split, seed) for groups of two or more parcels.
    It reads `{graph_prefix}graph_nodes` and `{graph_prefix}graph_edges` (`graph_prefix` defaults
    to `prefix`; an incremental run updates the graph in place but stages the groups).

    An investigator starts from the suspicious parcels and follows what ties them together, not
    from a partition of all traffic: in a realistic world almost every parcel is linked to every
    other through some chain of weak shared identifiers, and a partition of that chain mixes a
    ring with hundreds of ordinary parcels. So:

    1. Seeds: parcels with a `parcel_goods` row (probable controlled goods: named, under a
       controlled heading, a cover, concealed) of confidence at least `seed_min_confidence`.
    2. Links: seeds are joined through the identifiers of the `link_kinds` (a resolved party, a
       phone, an ID number, a payer account, an address with its unit) that are no hub and are
       used by at most `link_max_entities` parties. Acceptance points are left out: an outlet
       serves a whole district. Connected components over seeds and identifiers only (union-find),
       so ordinary parcels cannot chain two suspicious ones together.
    3. Components larger than `max_component_parcels` seeds are split by seeded Leiden.
    4. Context: a parcel without goods signals joins a group when it uses an identifier that is
       *dedicated* to the group - one with at least two of the group's seeds, which with the
       parcels carrying goods evidence too weak to seed make at least `attach_min_seed_share` of
       its parcels (the ring's receiving suite, the organiser's own phone) - through its
       resolved party or through two such identifiers, so a ring
       parcel declared under a cover the catalogue does not know still lands in its ring. It
       joins but does not link further, and a busy person's phone with one odd parcel among
       hundreds is not dedicated to anything. A parcel with dedicated identifiers of several
       groups joins the one it shares most of them with (then the smallest group key).

    `group_key` is the smallest seed of the group, `component_key` the smallest seed of its
    component, so the same input always gives the same groups.
    """
    cfg = graph_settings(config)
    gp = prefix if graph_prefix is None else graph_prefix
    report = DetectReport()
    t0 = time.perf_counter()
    link_kinds = [k for k in cfg["link_kinds"] if k in NODE_KINDS]
    caps = " ".join(f"WHEN '{k}' THEN {int(cfg['link_max_entities'].get(k, cfg['max_entities'].get(k, 0)))}"
                    for k in link_kinds)
    kinds_sql = ", ".join(f"'{k}'" for k in link_kinds) or "NULL"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _seeds AS
        SELECT DISTINCT parcel_seq FROM parcel_goods WHERE confidence >= {float(cfg['seed_min_confidence'])}
        """
    )
    _warehouse_shared(con, int(cfg["warehouse_min_units"]))
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _link_nodes AS
        SELECT node_id, kind, key, parcels FROM {gp}graph_nodes
        ANTI JOIN _warehouse_shared USING (kind, key)
        WHERE NOT hub AND kind IN ({kinds_sql}) AND entities <= (CASE kind {caps or 'WHEN NULL THEN 0'} ELSE 0 END)
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _seed_edges AS
        SELECT e.parcel_seq, e.node_id, e.weight
        FROM {gp}graph_edges e JOIN _seeds USING (parcel_seq) JOIN _link_nodes USING (node_id)
        """
    )
    report.seeds = int(con.execute("SELECT count(*) FROM _seeds").fetchall()[0][0])
    # Parcels and identifiers share one index space here: parcels are their parcel_seq, the
    # identifiers on seed edges follow after the last parcel, numbered in (kind, key) order.
    # Node ids themselves are no use for that: update_graph leaves gaps, and parcels that
    # arrived later can carry a parcel_seq equal to an older node's id. Numbering by
    # (kind, key) is what a full build's node ids give, and it makes the Leiden input (node
    # order, edge order) the same whichever way the graph was built, so the groups are too.
    first_identifier = int(con.execute("SELECT coalesce(max(parcel_seq), -1) + 1 FROM parcels").fetchall()[0][0])
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _seed_nodes AS
        SELECT node_id, row_number() OVER (ORDER BY kind, key) - 1 AS local_id
        FROM _link_nodes WHERE node_id IN (SELECT node_id FROM _seed_edges)
        """
    )
    n_nodes = first_identifier + int(con.execute("SELECT count(*) FROM _seed_nodes").fetchall()[0][0])
    edges = con.execute(
        f"""
        SELECT e.parcel_seq, {first_identifier} + s.local_id AS node, e.weight
        FROM _seed_edges e JOIN _seed_nodes s USING (node_id)
        ORDER BY e.parcel_seq, node
        """
    ).fetchnumpy()
    src = np.asarray(edges["parcel_seq"], dtype=np.int64)
    dst = np.asarray(edges["node"], dtype=np.int64)
    weight = np.asarray(edges["weight"], dtype=np.float64)
    labels = connected_components(n_nodes, src, dst)
    report.timings["components_s"] = round(time.perf_counter() - t0, 3)

    parcel_nodes = np.unique(src)  # seeds with at least one link; the rest are alone
    parcel_label = labels[parcel_nodes]
    comp_ids, comp_sizes = np.unique(parcel_label, return_counts=True)
    keep = comp_sizes[np.searchsorted(comp_ids, parcel_label)] >= 2
    parcel_nodes, parcel_label = parcel_nodes[keep], parcel_label[keep]
    report.components = int((comp_sizes >= 2).sum())

    # A component's key is its smallest seed, not its smallest node (which could be an
    # identifier); parcels sort first, so the min over parcels is the one we want.
    component_key = _min_per_label(parcel_label, parcel_nodes)
    group_key = component_key.copy()
    split = np.zeros(len(parcel_nodes), dtype=bool)

    large = comp_ids[comp_sizes > int(cfg["max_component_parcels"])].tolist()
    report.large_components = len(large)
    t1 = time.perf_counter()
    if large:
        large_set = np.array(sorted(large), dtype=np.int64)
        edge_in_large = np.isin(labels[src], large_set)
        e_src, e_dst, e_w, e_lab = src[edge_in_large], dst[edge_in_large], weight[edge_in_large], labels[src][edge_in_large]
        order = np.argsort(e_lab, kind="stable")
        e_src, e_dst, e_w, e_lab = e_src[order], e_dst[order], e_w[order], e_lab[order]
        bounds = np.searchsorted(e_lab, large_set, side="left"), np.searchsorted(e_lab, large_set, side="right")
        for lo, hi in zip(bounds[0].tolist(), bounds[1].tolist()):
            cs, cd, cw = e_src[lo:hi], e_dst[lo:hi], e_w[lo:hi]
            local_nodes, inverse = np.unique(np.concatenate([cs, cd]), return_inverse=True)
            ls, ld = inverse[: len(cs)], inverse[len(cs):]
            is_parcel = local_nodes < first_identifier
            membership = split_communities(
                len(local_nodes), ls, ld, cw, is_parcel, max_parcels=int(cfg["max_component_parcels"]),
                seed=int(cfg["seed"]), resolution=float(cfg["leiden_resolution"]),
            )
            comm_parcels = local_nodes[is_parcel]
            comm_of = membership[is_parcel]
            comm_key = _min_per_label(comm_of, comm_parcels)
            at = np.searchsorted(parcel_nodes, comm_parcels)  # parcel_nodes is sorted
            group_key[at] = comm_key
            split[at] = True
            report.large_component_parcels += int(len(comm_parcels))
    report.timings["communities_s"] = round(time.perf_counter() - t1, 3)

    import pyarrow as pa

    groups = pa.table(
        {
            "parcel_seq": pa.array(parcel_nodes, pa.int64()),
            "group_key": pa.array(group_key, pa.int64()),
            "component_key": pa.array(component_key, pa.int64()),
            "community_split": pa.array(split, pa.bool_()),
        }
    )
    con.register("_groups_arrow", groups)
    # A Leiden community of one seed is no group.
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _seed_groups AS
        SELECT * FROM _groups_arrow
        WHERE group_key IN (SELECT group_key FROM _groups_arrow GROUP BY group_key HAVING count(*) >= 2)
        """
    )
    con.unregister("_groups_arrow")
    t2 = time.perf_counter()
    share = float(cfg["attach_min_seed_share"])
    con.execute(
        f"""
        CREATE OR REPLACE TABLE {prefix}parcel_groups AS
        WITH group_nodes AS (
            -- identifiers on a group's seeds, with how many of the identifier's parcels they are
            SELECT g.group_key, e.node_id, count(*) AS seeds_here
            FROM _seed_groups g JOIN _seed_edges e USING (parcel_seq)
            GROUP BY g.group_key, e.node_id
        ),
        weak_here AS (
            -- parcels on those identifiers with goods evidence too weak to seed (a small weight
            -- gap): a concealment ring hides a few hundred grams per parcel, and most of its
            -- parcels look like ordinary packaging one by one
            SELECT e.node_id, count(DISTINCT e.parcel_seq) AS weak
            FROM {gp}graph_edges e
            JOIN (SELECT DISTINCT parcel_seq FROM parcel_goods
                  WHERE confidence < {float(cfg['seed_min_confidence'])}) w USING (parcel_seq)
            WHERE e.node_id IN (SELECT node_id FROM group_nodes)
            GROUP BY e.node_id
        ),
        dedicated AS (
            SELECT gn.group_key, gn.node_id
            FROM group_nodes gn JOIN _link_nodes n USING (node_id) LEFT JOIN weak_here w USING (node_id)
            -- one seed and one other parcel on a number is a coincidence (a typo, a reused ID)
            -- as often as a tie
            WHERE gn.seeds_here >= 2 AND gn.seeds_here + coalesce(w.weak, 0) >= {share} * n.parcels
        ),
        candidates AS (
            SELECT e.parcel_seq, d.group_key, count(*) AS links
            FROM dedicated d JOIN {gp}graph_edges e USING (node_id) JOIN _link_nodes n USING (node_id)
            ANTI JOIN _seeds s ON s.parcel_seq = e.parcel_seq
            GROUP BY e.parcel_seq, d.group_key
            -- tied by its resolved party (which already weighs name and contacts together) or
            -- by two identifiers; one shared number alone does not make a stranger's parcel context
            HAVING bool_or(n.kind = 'party') OR count(*) >= 2
        ),
        attached AS (
            SELECT parcel_seq, arg_min(group_key, (-links, group_key)) AS group_key
            FROM candidates GROUP BY parcel_seq
        )
        SELECT parcel_seq, group_key, component_key, community_split, true AS seed FROM _seed_groups
        UNION ALL
        SELECT a.parcel_seq, a.group_key, k.component_key, k.community_split, false
        FROM attached a JOIN (SELECT group_key, any_value(component_key) AS component_key,
                                     bool_or(community_split) AS community_split
                              FROM _seed_groups GROUP BY group_key) k USING (group_key)
        ORDER BY parcel_seq
        """
    )
    report.timings["attach_s"] = round(time.perf_counter() - t2, 3)
    for table in ("_seeds", "_link_nodes", "_seed_edges", "_seed_nodes", "_seed_groups", "_warehouse_shared"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    report.groups, report.grouped_parcels, report.attached_parcels = (int(v) for v in con.execute(
        f"SELECT count(DISTINCT group_key), count(*), count(*) FILTER (WHERE NOT seed) FROM {prefix}parcel_groups"
    ).fetchall()[0])
    return report


def customer_code_sql(unit: str) -> str:
    """SQL for a unit as a customer code: its digits where it has four or more ("US67381",
    "#US-67381" and "Suite 67381" are one warehouse customer), else the unit as it is."""
    digits = f"regexp_replace(coalesce({unit}, ''), '[^0-9]', '', 'g')"
    return f"CASE WHEN length({digits}) >= 4 THEN {digits} ELSE {unit} END"


def _warehouse_shared(con: duckdb.DuckDBPyConnection, min_units: int) -> None:
    """`_warehouse_shared(kind, key)`: identifiers that stand for a forwarding warehouse, not for
    one of its customers, so that they link nothing and attach nothing.

    A forwarding warehouse abroad receives for thousands of customers at one street address;
    the customer code, box or suite in the address is the consignee, and customers of one
    warehouse are strangers (DOMAIN.md). A warehouse is recognised by the number of distinct
    customer codes behind one street address (at least `min_units` receiver units), not by a
    list of names. At a warehouse, a parcel can join an operation only through its own customer
    code (the address node with that unit); cut are:
    - the warehouse's street address without a customer code;
    - every receiver party and phone used there with two or more customer codes: the desk's
      phone, the warehouse's own name written as the receiver, a party that resolution merged
      across customers. A customer's own phone and name, used with its one code, still link.
    """
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _warehouse_shared AS
        WITH warehouses AS (
            SELECT address_key FROM party_mentions
            WHERE role = 'receiver' AND address_key IS NOT NULL AND address_key <> '' AND address_unit IS NOT NULL
            GROUP BY address_key HAVING count(DISTINCT address_unit) >= {int(min_units)}
        ), uses AS (
            SELECT m.address_key, m.address_unit, u.kind, u.key
            FROM party_mentions m JOIN warehouses w USING (address_key)
            CROSS JOIN LATERAL (VALUES ('party', CAST(m.entity_id AS VARCHAR)), ('phone', m.phone_e164)) AS u(kind, key)
            WHERE m.role = 'receiver' AND u.key IS NOT NULL AND u.key <> ''
        )
        SELECT kind, key FROM uses GROUP BY kind, key, address_key
        HAVING count(DISTINCT {customer_code_sql('address_unit')}) >= 2
        UNION
        SELECT 'address', address_key || '#' FROM warehouses
        """
    )


def _min_per_label(labels: np.ndarray, values: np.ndarray) -> np.ndarray:
    """For each position, the smallest value among the positions sharing its label."""
    if len(labels) == 0:
        return values.copy()
    uniq, inverse = np.unique(labels, return_inverse=True)
    mins = np.full(len(uniq), np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(mins, inverse, values)
    return mins[inverse]


def cluster_graph(con: duckdb.DuckDBPyConnection, cluster_id: str) -> nx.Graph:
    """One cluster as a networkx graph, for the dashboard and the report.

    Parcel nodes are `("parcel", parcel_seq)` with parcel_id, carrier, accepted_at, declared
    description and weight; identifier nodes are `(kind, key)` with `label` and `hub`. Every
    identifier the cluster's parcels carry is included, including those on one parcel only and
    hubs (marked `hub=True`, drawn but not used for linking), so the investigator sees the
    whole picture.

    >>> g = cluster_graph(con, "C-000001")  # doctest: +SKIP
    >>> sorted({kind for kind, _ in g.nodes})  # doctest: +SKIP
    ['account', 'address', 'parcel', 'party', 'phone']
    """
    return cluster_graphs(con, [cluster_id])[cluster_id]


def cluster_graphs(con: duckdb.DuckDBPyConnection, cluster_ids: list[str]) -> dict[str, nx.Graph]:
    """`cluster_graph` of several clusters, read in one pass over the stored identifier uses
    (`graph_uses`; a store from before it existed derives them from `party_mentions`): the
    nightly report draws fifty clusters, and a scan per cluster was most of its time."""
    ids = list(dict.fromkeys(cluster_ids))
    graphs = {cid: nx.Graph(cluster_id=cid) for cid in ids}
    if not ids:
        return graphs
    parcels = con.execute(
        """
        SELECT c.cluster_id, p.parcel_seq, p.parcel_id, p.carrier, p.accepted_at, p.declared_description,
               p.declared_weight_kg, p.hs_code
        FROM parcel_clusters c JOIN parcels p USING (parcel_seq)
        WHERE list_contains(?::VARCHAR[], c.cluster_id) ORDER BY c.cluster_id, p.parcel_seq
        """,
        [ids],
    ).fetchall()
    for cid, seq, pid, carrier, at, desc, kg, hs in parcels:
        graphs[cid].add_node(("parcel", seq), kind="parcel", parcel_id=pid, carrier=carrier, accepted_at=at,
                             declared_description=desc, declared_weight_kg=kg, hs_code=hs, label=pid)
    if not parcels:
        return graphs
    has_uses = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'graph_uses' AND table_schema = 'main'"
    ).fetchall()[0][0]
    source = "SELECT * FROM graph_uses" if has_uses else _identifier_uses_sql()
    uses = con.execute(
        f"""
        WITH members AS (SELECT cluster_id, parcel_seq FROM parcel_clusters WHERE list_contains(?::VARCHAR[], cluster_id)),
        uses AS ({source})
        SELECT m.cluster_id, u.parcel_seq, u.kind, u.key, n.weight, coalesce(n.hub, false), coalesce(n.entities, 1),
               e.best_name
        FROM uses u
        JOIN members m USING (parcel_seq)
        LEFT JOIN graph_nodes n USING (kind, key)
        LEFT JOIN entities e ON u.kind = 'party' AND e.entity_id = u.entity_id
        ORDER BY m.cluster_id, u.parcel_seq, u.kind, u.key
        """,
        [ids],
    ).fetchall()
    for cid, seq, kind, key, weight, hub, entities, best_name in uses:
        g = graphs[cid]
        node = (kind, key)
        label = best_name if kind == "party" and best_name else (key.rstrip("#") if kind == "address" else key)
        if node not in g:
            g.add_node(node, kind=kind, key=key, label=label, hub=bool(hub), entities=int(entities))
        g.add_edge(("parcel", seq), node, weight=float(weight) if weight is not None else 0.0, hub=bool(hub))
    return graphs


def identifier_weight(kind: str, entities: int, config: dict | None = None) -> float:
    """The weight of an edge to an identifier of `kind` shared by `entities` parties (as
    build_graph computes it in SQL), for explanations in the dashboard."""
    cfg = graph_settings(config)
    return float(cfg["kind_weight"].get(kind, 1.0)) / (1 + math.log(max(entities, 1)))
