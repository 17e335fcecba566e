"""Detection: groups of parcels that may be one operation, grown from the suspicious parcels.

Detection works as an investigator does, from the suspicious parcels outward, not by
partitioning all traffic (in a realistic world nearly every parcel is linked to every other
through some chain of weak shared identifiers):

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
their stable ids, is the scoring's job. Reads the graph of linker.stages.graph.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pyarrow as pa

from linker.settings.scoring import graph_settings
from linker.stages.components import connected_components
from linker.stages.graph import NODE_KINDS


def leiden_communities(n: int, src: np.ndarray, dst: np.ndarray, weight: np.ndarray, *, seed: int, resolution: float = 1.0) -> np.ndarray:
    """Seeded Leiden communities (Traag, Waltman & van Eck 2019, modularity objective) of one
    graph given as edge arrays over nodes 0..n-1. Returns a membership array.

    igraph's own C implementation is used: on our graphs it was an order of magnitude faster than
    the leidenalg package (bench/detection.py compares it with networkx's Louvain). igraph draws from Python's
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
    """What detection found, in the order the run's record lists it."""

    seeds: int = 0
    components: int = 0
    groups: int = 0
    grouped_parcels: int = 0
    attached_parcels: int = 0
    large_components: int = 0
    large_component_parcels: int = 0
    timings: dict = field(default_factory=dict)

    def counts(self) -> dict:
        """The counts, for the run's record (the timings apart)."""
        return {k: v for k, v in dataclasses.asdict(self).items() if k != "timings"}


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
    report.seeds = _seeds_and_links(con, cfg, gp)
    edges = _seed_graph(con)
    labels = connected_components(edges.n_nodes, edges.src, edges.dst)
    report.timings["components_s"] = round(time.perf_counter() - t0, 3)
    groups = _components(edges, labels, report)
    t1 = time.perf_counter()
    _split_large_components(edges, labels, groups, cfg, report)
    report.timings["communities_s"] = round(time.perf_counter() - t1, 3)
    _write_seed_groups(con, groups)
    t2 = time.perf_counter()
    con.execute(_attach_context_sql(cfg, prefix, gp))
    report.timings["attach_s"] = round(time.perf_counter() - t2, 3)
    for table in ("_seeds", "_link_nodes", "_seed_edges", "_seed_nodes", "_seed_groups", "_warehouse_shared"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    report.groups, report.grouped_parcels, report.attached_parcels = (int(v) for v in con.execute(
        f"SELECT count(DISTINCT group_key), count(*), count(*) FILTER (WHERE NOT seed) FROM {prefix}parcel_groups"
    ).fetchall()[0])
    return report


def _seeds_and_links(con: duckdb.DuckDBPyConnection, cfg: dict, gp: str) -> int:
    """Steps 1 and 2's tables: `_seeds` (parcels with goods evidence strong enough to seed),
    `_link_nodes` (the identifiers that may link seeds: of a link kind, no hub, few enough
    parties, not a forwarding warehouse's shared identifier) and `_seed_edges` (seeds to those
    identifiers). Returns the number of seeds."""
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
    return int(con.execute("SELECT count(*) FROM _seeds").fetchall()[0][0])


@dataclass
class _SeedGraph:
    """Seeds and the identifiers on their links as edge arrays over one index space: parcels
    are their parcel_seq, identifiers follow from `first_identifier` on."""

    src: np.ndarray
    dst: np.ndarray
    weight: np.ndarray
    first_identifier: int
    n_nodes: int


def _seed_graph(con: duckdb.DuckDBPyConnection) -> _SeedGraph:
    """`_seed_edges` as arrays. Parcels and identifiers share one index space here: parcels are
    their parcel_seq, the identifiers on seed edges follow after the last parcel, numbered in
    (kind, key) order. Node ids themselves are no use for that: update_graph leaves gaps, and
    parcels that arrived later can carry a parcel_seq equal to an older node's id. Numbering
    by (kind, key) is what a full build's node ids give, and it makes the Leiden input (node
    order, edge order) the same whichever way the graph was built, so the groups are too."""
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
    return _SeedGraph(
        src=np.asarray(edges["parcel_seq"], dtype=np.int64),
        dst=np.asarray(edges["node"], dtype=np.int64),
        weight=np.asarray(edges["weight"], dtype=np.float64),
        first_identifier=first_identifier,
        n_nodes=n_nodes,
    )


@dataclass
class _Groups:
    """The linked seeds (sorted), each with its component's key, its group's key (the same
    unless Leiden split the component) and whether it was split."""

    parcel_nodes: np.ndarray
    component_key: np.ndarray
    group_key: np.ndarray
    split: np.ndarray
    comp_ids: np.ndarray
    comp_sizes: np.ndarray


def _components(edges: _SeedGraph, labels: np.ndarray, report: DetectReport) -> _Groups:
    """Components of two or more seeds; a component's key is its smallest seed, not its
    smallest node (which could be an identifier): parcels sort first, so the min over parcels
    is the one wanted."""
    parcel_nodes = np.unique(edges.src)  # seeds with at least one link; the rest are alone
    parcel_label = labels[parcel_nodes]
    comp_ids, comp_sizes = np.unique(parcel_label, return_counts=True)
    keep = comp_sizes[np.searchsorted(comp_ids, parcel_label)] >= 2
    parcel_nodes, parcel_label = parcel_nodes[keep], parcel_label[keep]
    report.components = int((comp_sizes >= 2).sum())
    component_key = _min_per_label(parcel_label, parcel_nodes)
    return _Groups(parcel_nodes, component_key, component_key.copy(), np.zeros(len(parcel_nodes), dtype=bool),
                   comp_ids, comp_sizes)


def _split_large_components(edges: _SeedGraph, labels: np.ndarray, groups: _Groups, cfg: dict,
                            report: DetectReport) -> None:
    """Step 3: seeded Leiden inside each component of more than `max_component_parcels` seeds;
    each community's group key is its smallest seed."""
    src, dst, weight = edges.src, edges.dst, edges.weight
    large = groups.comp_ids[groups.comp_sizes > int(cfg["max_component_parcels"])].tolist()
    report.large_components = len(large)
    if not large:
        return
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
        is_parcel = local_nodes < edges.first_identifier
        membership = split_communities(
            len(local_nodes), ls, ld, cw, is_parcel, max_parcels=int(cfg["max_component_parcels"]),
            seed=int(cfg["seed"]), resolution=float(cfg["leiden_resolution"]),
        )
        comm_parcels = local_nodes[is_parcel]
        comm_key = _min_per_label(membership[is_parcel], comm_parcels)
        at = np.searchsorted(groups.parcel_nodes, comm_parcels)  # parcel_nodes is sorted
        groups.group_key[at] = comm_key
        groups.split[at] = True
        report.large_component_parcels += int(len(comm_parcels))


def _write_seed_groups(con: duckdb.DuckDBPyConnection, groups: _Groups) -> None:
    """`_seed_groups(parcel_seq, group_key, component_key, community_split)`: the linked seeds
    in groups of two or more (a Leiden community of one seed is no group)."""
    table = pa.table(
        {
            "parcel_seq": pa.array(groups.parcel_nodes, pa.int64()),
            "group_key": pa.array(groups.group_key, pa.int64()),
            "component_key": pa.array(groups.component_key, pa.int64()),
            "community_split": pa.array(groups.split, pa.bool_()),
        }
    )
    con.register("_groups_arrow", table)
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _seed_groups AS
        SELECT * FROM _groups_arrow
        WHERE group_key IN (SELECT group_key FROM _groups_arrow GROUP BY group_key HAVING count(*) >= 2)
        """
    )
    con.unregister("_groups_arrow")


def _attach_context_sql(cfg: dict, prefix: str, gp: str) -> str:
    """Step 4, and the result: `{prefix}parcel_groups` - the seed groups, and the parcels without
    goods signals that join one through identifiers dedicated to it (see detect_groups)."""
    share = float(cfg["attach_min_seed_share"])
    return f"""
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


def _unit_digits_sql(unit: str) -> str:
    """SQL for the digits of a unit ('' for none): a customer code has four or more."""
    return f"regexp_replace(coalesce({unit}, ''), '[^0-9]', '', 'g')"


def customer_code_sql(unit: str) -> str:
    """SQL for a unit as a customer code: its digits where it has four or more ("US67381",
    "#US-67381" and "Suite 67381" are one warehouse customer), else the unit as it is."""
    digits = _unit_digits_sql(unit)
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
    - the warehouse's street address without a customer code, and with a unit that is not one
      ("sklad No. 8", "Warehouse 3": the warehouse's own number) where the place has at least
      `min_units` customer codes of four digits or more: every customer who leaves the code
      out writes it, so it would join strangers' operations (a flat's number at a block of
      flats, where units are short, is not cut);
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
        ), coded AS (
            SELECT address_key FROM party_mentions
            WHERE role = 'receiver' AND address_key IS NOT NULL AND address_key <> ''
              AND length({_unit_digits_sql('address_unit')}) >= 4
            GROUP BY address_key HAVING count(DISTINCT {customer_code_sql('address_unit')}) >= {int(min_units)}
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
        UNION
        SELECT 'address', m.address_key || '#' || coalesce(m.address_unit, '')
        FROM party_mentions m JOIN coded USING (address_key)
        WHERE length({_unit_digits_sql('m.address_unit')}) < 4
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
