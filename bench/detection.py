"""Detection benchmark: how well `linker run` finds the rings of a synthetic world, and how fast.

For each size it generates a world (seeds differ from the tests'), loads it into a fresh store,
runs the whole pipeline and prints:

- ring recall per typology: a ring is found when one flagged cluster holds at least half of its
  parcels and at least half of that cluster is the ring;
- precision of flagged clusters: the share whose majority is one ring's parcels;
- the share of smuggled controlled kg inside the top 25 clusters;
- legitimate look-alikes flagged: flagged clusters whose majority is shop, exporter, forwarder or
  outlet traffic (target 0);
- wall time and peak resident memory per stage (the process's, DuckDB included);
- the community-detection engines on the large components of the graph: networkx Louvain
  against igraph/leidenalg Leiden, same graph, same seed (skipped when, as usual now that
  detection grows from goods-carrying seeds, no component is large enough to split).

The goods signals come from the catalogue in effect: LINKER_CATALOGUE=path runs with another one.

Targets (issue 4): recall >= 0.95 in every typology, precision >= 0.90, no look-alike flagged,
1M parcels end to end under 5 minutes and 8 GB on the 2-core machine.

    .venv/bin/python bench/detection.py                     # 200k and 1M parcels
    .venv/bin/python bench/detection.py --parcels 50000     # one quick size
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import duckdb  # noqa: E402

from linker import pipeline, store  # noqa: E402
from linker.ingest import ingest_paths  # noqa: E402
from linker.synth import generate  # noqa: E402

LOOKALIKES = ("shop", "exporter", "forwarder_customer", "outlet_customer")


def evaluate(con: duckdb.DuckDBPyConnection, truth_path: Path) -> dict:
    """Detection figures of the published clusters against the world's truth."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE truth AS SELECT * FROM read_parquet('{truth_path.as_posix()}')")
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE labelled AS
        SELECT t.parcel_id, t.carrier, t.actor_kind, t.ring_id, t.typology, t.true_controlled_kg,
               pc.cluster_id, c.flagged, c.rank
        FROM truth t LEFT JOIN parcel_clusters pc USING (parcel_id, carrier)
        LEFT JOIN clusters c USING (cluster_id)
        """
    )
    # Per (ring, flagged cluster): shared parcels, ring size, cluster size.
    recall = con.execute(
        """
        WITH ring_size AS (SELECT ring_id, any_value(typology) AS typology, count(*) AS n FROM labelled
                           WHERE ring_id IS NOT NULL GROUP BY ring_id),
        cluster_size AS (SELECT cluster_id, count(*) AS n FROM labelled WHERE cluster_id IS NOT NULL GROUP BY cluster_id),
        shared AS (SELECT ring_id, cluster_id, count(*) AS k FROM labelled
                   WHERE ring_id IS NOT NULL AND flagged GROUP BY ALL),
        found AS (SELECT DISTINCT s.ring_id FROM shared s JOIN ring_size r USING (ring_id) JOIN cluster_size c USING (cluster_id)
                  WHERE 2 * s.k >= r.n AND 2 * s.k >= c.n)
        SELECT r.typology, count(*) AS rings, count(f.ring_id) AS found
        FROM ring_size r LEFT JOIN found f USING (ring_id) GROUP BY r.typology ORDER BY r.typology
        """
    ).fetchall()
    majority = con.execute(
        """
        WITH parts AS (
            SELECT cluster_id, any_value(flagged) AS flagged, any_value(rank) AS rank, count(*) AS n,
                   max(k) AS top_ring_k, max(lk) AS top_lookalike_k
            FROM (
                SELECT cluster_id, flagged, rank,
                       count(*) FILTER (WHERE ring_id IS NOT NULL) OVER (PARTITION BY cluster_id, ring_id) AS k,
                       count(*) FILTER (WHERE actor_kind IN ('shop', 'exporter', 'forwarder_customer', 'outlet_customer'))
                           OVER (PARTITION BY cluster_id, actor_kind) AS lk
                FROM labelled WHERE cluster_id IS NOT NULL
            ) GROUP BY cluster_id
        )
        SELECT count(*) FILTER (WHERE flagged) AS flagged,
               count(*) FILTER (WHERE flagged AND 2 * top_ring_k > n) AS flagged_rings,
               count(*) FILTER (WHERE flagged AND 2 * top_lookalike_k > n) AS flagged_lookalikes,
               count(*) AS clusters
        FROM parts
        """
    ).fetchall()[0]
    kg_total, kg_top = con.execute(
        """
        SELECT sum(true_controlled_kg) FILTER (WHERE ring_id IS NOT NULL),
               sum(true_controlled_kg) FILTER (WHERE ring_id IS NOT NULL AND rank <= 25)
        FROM labelled
        """
    ).fetchall()[0]
    return {
        "recall": {t: (found, rings) for t, rings, found in recall},
        "flagged": majority[0],
        "precision": (majority[1] / majority[0]) if majority[0] else float("nan"),
        "lookalikes_flagged": majority[2],
        "clusters": majority[3],
        "kg_share_top25": (kg_top or 0) / kg_total if kg_total else float("nan"),
    }


def compare_engines(con: duckdb.DuckDBPyConnection, config: dict, max_edges: int = 1_500_000) -> dict | None:
    """networkx Louvain against leidenalg Leiden on the components that detection splits."""
    import networkx as nx
    import numpy as np

    from linker import graph

    cfg = graph.graph_config(config["graph"])
    large = con.execute(
        f"""
        SELECT e.parcel_seq, e.node_id, e.weight FROM graph_edges e JOIN parcel_groups g USING (parcel_seq)
        WHERE g.component_key IN (SELECT component_key FROM parcel_groups GROUP BY component_key
                                  HAVING count(*) > {int(cfg['max_component_parcels'])})
        """
    ).fetchnumpy()
    m = len(large["parcel_seq"])
    if m == 0:
        return None
    if m > max_edges:
        return {"edges": m, "skipped": f"more than {max_edges:,} edges"}
    nodes, inverse = np.unique(np.concatenate([large["parcel_seq"], large["node_id"]]), return_inverse=True)
    src, dst = inverse[:m], inverse[m:]
    t = time.perf_counter()
    graph.leiden_communities(len(nodes), src, dst, large["weight"], seed=int(cfg["seed"]))
    leiden_s = time.perf_counter() - t
    g = nx.Graph()
    g.add_weighted_edges_from(zip(src.tolist(), dst.tolist(), large["weight"].tolist()))
    t = time.perf_counter()
    nx.community.louvain_communities(g, weight="weight", seed=int(cfg["seed"]))
    louvain_s = time.perf_counter() - t
    return {"nodes": len(nodes), "edges": m, "leiden_s": leiden_s, "networkx_louvain_s": louvain_s}


def bench(n: int, seed: int, workdir: Path, engines: bool) -> None:
    print(f"\n=== {n:,} parcels, seed {seed} ===", flush=True)
    t = time.perf_counter()
    world = generate(n, seed=seed)
    parcels_path = workdir / f"parcels_{n}_{seed}.parquet"
    truth_path = workdir / f"truth_{n}_{seed}.parquet"
    world.parcels.write_parquet(parcels_path)
    world.truth.write_parquet(truth_path)
    print(f"synth {time.perf_counter() - t:.1f}s; rings: "
          + ", ".join(f"{r['typology']} {r['n']}" for r in world.rings.group_by("typology").len("n").sort("typology").to_dicts()))
    del world
    db = workdir / f"store_{n}_{seed}.duckdb"
    con = store.connect(db)
    t = time.perf_counter()
    ingest_paths(con, [parcels_path])
    ingest_s = time.perf_counter() - t
    con.close()
    t = time.perf_counter()
    result = pipeline.run(db, on_stage=lambda stage, event, info: print(f"  {stage} {event} {info.get('seconds', '')}", flush=True))
    run_s = time.perf_counter() - t
    print(f"ingest {ingest_s:.1f}s; linker run {run_s:.1f}s end to end")
    print(f"{'stage':<10} {'seconds':>8} {'peak RSS MB':>12}")
    for stage in pipeline.STAGES:
        print(f"{stage:<10} {result.timings.get(stage, 0):8.1f} {result.peak_rss_mb.get(stage, 0):12.0f}")
    c = result.counts
    print(f"graph: {c.get('identifier_nodes', 0):,} identifier nodes ({c.get('hub_nodes', 0):,} hubs cut), "
          f"{c.get('edges', 0):,} edges; {c.get('seeds', 0):,} goods-carrying seeds in {c.get('components', 0):,} components, "
          f"{c.get('large_components', 0)} large ({c.get('large_component_parcels', 0):,} seeds) split by Leiden; "
          f"{c.get('groups', 0):,} groups of {c.get('grouped_parcels', 0):,} parcels ({c.get('attached_parcels', 0):,} attached as context)")
    con = store.connect(db, read_only=True)
    try:
        figures = evaluate(con, truth_path)
        print(f"clusters {figures['clusters']:,}, flagged {figures['flagged']:,}, precision {figures['precision']:.3f}, "
              f"look-alikes flagged {figures['lookalikes_flagged']}, smuggled kg in top 25: {figures['kg_share_top25']:.3f}")
        for typology, (found, rings) in figures["recall"].items():
            print(f"  recall {typology:<20} {found}/{rings} = {found / rings:.3f}")
        if engines:
            from linker.score import load_config

            cmp = compare_engines(con, load_config())
            if cmp is None:
                print("engines: no component large enough to split")
            elif "skipped" in cmp:
                print(f"engines: networkx comparison skipped ({cmp['skipped']})")
            else:
                print(f"engines on {cmp['nodes']:,} nodes / {cmp['edges']:,} edges: leidenalg Leiden {cmp['leiden_s']:.2f}s, "
                      f"networkx Louvain {cmp['networkx_louvain_s']:.2f}s "
                      f"({cmp['networkx_louvain_s'] / max(cmp['leiden_s'], 1e-9):.1f}x)")
    finally:
        con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parcels", type=int, nargs="*", default=[200_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=2024, help="seed of the first world; the next size adds 1")
    parser.add_argument("--workdir", type=Path, default=None, help="keep the stores here (default: a temp folder)")
    parser.add_argument("--no-engines", action="store_true", help="skip the networkx/Leiden comparison")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="linker-bench-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        for i, n in enumerate(args.parcels):
            bench(n, args.seed + i, workdir, engines=not args.no_engines)


if __name__ == "__main__":
    main()
