"""Detection benchmark: how well `linker run` finds the rings of a synthetic world, and how fast.

For each size it generates a world (seeds differ from the tests'), loads it into a fresh store,
runs the whole pipeline and prints:

- ring recall per typology: a ring is found when one flagged cluster holds at least half of its
  parcels and at least half of that cluster is the ring;
- precision of flagged clusters: the share whose majority is one ring's parcels;
- the share of smuggled controlled kg inside the top 25 clusters;
- legitimate look-alikes flagged: flagged clusters whose majority is shop, exporter, forwarder or
  outlet traffic (target 0);
- legitimate groups touched: per look-alike kind (magnet_toy_shop, ..., forwarder_customer: the
  warehouse, outlet_customer: the outlet, transit_trader), how many distinct groups (the truth's
  `lookalike_group`) have at least one parcel in a flagged cluster, out of how many exist;
- the top 25 of the queue: of the flagged clusters ranked 1-25, how many are real operations
  (their majority is one ring's parcels);
- false flags per 100k parcels: flagged clusters whose majority is not one ring's parcels;
- wall time and peak resident memory per stage (the process's, DuckDB included);
- the community-detection engines on the large components of the graph: networkx Louvain
  against igraph/leidenalg Leiden, same graph, same seed (skipped when, as usual now that
  detection grows from goods-carrying seeds, no component is large enough to split).

The goods signals come from the catalogue in effect: LINKER_CATALOGUE=path runs with another one.

Targets (issue 4): recall >= 0.95 in every typology, precision >= 0.90, no look-alike flagged,
1M parcels end to end under 5 minutes and 8 GB on the 2-core machine. Issue 12: the same with
realistic look-alikes (`--lookalikes 1`, the default) and harder ones (`--lookalikes 2`): no
legitimate group touched, the top 25 all real operations.

    .venv/bin/python bench/detection.py                                  # 200k and 1M parcels
    .venv/bin/python bench/detection.py --parcels 50000                  # one quick size
    .venv/bin/python bench/detection.py --parcels 200000 --seeds 3 --lookalikes 2 --no-engines

Issue 12, detection of commit baf4555 unchanged, 200k parcels, seed 2024 (look-alike strength 0 / 1 / 2):
precision 0.984 / 0.769 / 0.589; false flags per 100k 0.5 / 9.0 / 22.0; top 25 real 25 / 24 / 24;
recall (of 13 per typology) at strength 1: channel switching 13, concealment 12, false origin 12,
recruited senders 10, splitting 12; groups touched at strength 1: cover-goods shops 7 of 9, magnet
toy shops 6 of 14, warehouses 4 of 8, jewellery shops 1 of 8, alloy-parts shops 0 of 11.

After issue 12's detection (2026-12-06, this 2-core VM under load; recall per typology, flagged
precision, legitimate groups touched by a flagged cluster, false flags per 100k):
- 200k, strength 1, seeds 2024+2124: recall 1.000 in all five typologies (26/26 each), precision
  1.000 (130 flagged), 0 of 144 groups touched, top 25 all real, 0 false flags.
- 200k, strength 2, seeds 3031+3131: recall 1.000 (26/26 each), precision 1.000 (130), 2 of 146
  groups touched (1 cover-goods shop: a buyer resolved into a ring's receiver; 1 warehouse),
  0 false flags.
- 1M, strength 1, seed 4242: recall 1.000 (67/67 each), precision 0.994 (2 false of 337), 2 of
  315 groups touched (both warehouses), top 25 all real, 0.2 false flags per 100k; `linker run`
  111 s.

After issue 13's resolution and the warehouse-number cut (2026-12-07; the generator now writes
customer codes into names, more scripts and harder warehouses, so worlds differ from the above):
- 200k, strength 1, seed 2024: recall 13/13 in every typology, precision 0.970 (67 flagged,
  2 false flags = 1.0 per 100k), top 25 all real.
- 200k, strength 1.5, seed 9090: recall 13/13 each, precision 0.985, 0 of 8 warehouses touched.
- 1M, strength 1.5, seed 9090: recall 1.000 but concealment 66/67, precision 0.997 (1 false
  flag = 0.1 per 100k), 1 of 40 warehouses touched, top 25 all real.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import duckdb  # noqa: E402

from linker.pipeline import analysis as pipeline  # noqa: E402
from linker import store  # noqa: E402
from linker.stages.ingest import ingest_paths  # noqa: E402
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
        "groups_touched": groups_touched(con),
        **queue_figures(con),
    }


def groups_touched(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, int]]:
    """Per look-alike kind: (groups with a parcel in a flagged cluster, groups that exist)."""
    rows = con.execute(
        """
        SELECT t.lookalike_kind, count(DISTINCT t.lookalike_group) AS groups,
               count(DISTINCT t.lookalike_group) FILTER (WHERE c.flagged) AS touched
        FROM truth t LEFT JOIN parcel_clusters pc USING (parcel_id, carrier) LEFT JOIN clusters c USING (cluster_id)
        WHERE t.lookalike_group IS NOT NULL GROUP BY ALL ORDER BY 1
        """
    ).fetchall()
    return {kind: (touched, groups) for kind, groups, touched in rows}


def queue_figures(con: duckdb.DuckDBPyConnection) -> dict:
    """The top of the queue and the false flags: a flagged cluster is a real operation when more than
    half of its parcels are one ring's."""
    top_flagged, top_real, false_flags, parcels = con.execute(
        """
        WITH ring_k AS (SELECT cluster_id, max(k) AS ring_k
                        FROM (SELECT cluster_id, ring_id, count(*) AS k FROM labelled
                              WHERE cluster_id IS NOT NULL AND ring_id IS NOT NULL GROUP BY ALL) GROUP BY cluster_id),
        parts AS (SELECT cluster_id, any_value(flagged) AS flagged, any_value(rank) AS rank, count(*) AS n
                  FROM labelled WHERE cluster_id IS NOT NULL GROUP BY cluster_id)
        SELECT count(*) FILTER (WHERE flagged AND rank <= 25),
               count(*) FILTER (WHERE flagged AND rank <= 25 AND 2 * coalesce(ring_k, 0) > n),
               count(*) FILTER (WHERE flagged AND NOT 2 * coalesce(ring_k, 0) > n),
               (SELECT count(*) FROM truth)
        FROM parts LEFT JOIN ring_k USING (cluster_id)
        """
    ).fetchall()[0]
    return {"top25_flagged": top_flagged, "top25_real": top_real, "false_flags": false_flags,
            "false_flags_per_100k": false_flags * 100_000 / parcels if parcels else float("nan")}


def print_figures(figures: dict) -> None:
    """The figures of one world (or of several pooled)."""
    print(f"clusters {figures['clusters']:,}, flagged {figures['flagged']:,}, precision {figures['precision']:.3f}, "
          f"look-alikes flagged {figures['lookalikes_flagged']}, smuggled kg in top 25: {figures['kg_share_top25']:.3f}")
    for typology, (found, rings) in figures["recall"].items():
        print(f"  recall {typology:<20} {found}/{rings} = {found / rings:.3f}")
    print(f"top 25 of the queue: {figures['top25_real']} of {figures['top25_flagged']} flagged clusters ranked 1-25 "
          f"are real operations; false flags {figures['false_flags']} = {figures['false_flags_per_100k']:.1f} per 100k parcels")
    print("legitimate groups touched by a flagged cluster:")
    for kind, (touched, groups) in figures["groups_touched"].items():
        print(f"  {kind:<22} {touched:>5} of {groups:>5}")


def pool_figures(runs: list[dict], parcels: int) -> dict:
    """Figures of several worlds of one size pooled: counts added, shares recomputed."""
    recall: dict[str, tuple[int, int]] = {}
    touched: dict[str, tuple[int, int]] = {}
    for f in runs:
        for t, (a, b) in f["recall"].items():
            recall[t] = (recall.get(t, (0, 0))[0] + a, recall.get(t, (0, 0))[1] + b)
        for k, (a, b) in f["groups_touched"].items():
            touched[k] = (touched.get(k, (0, 0))[0] + a, touched.get(k, (0, 0))[1] + b)
    flagged = sum(f["flagged"] for f in runs)
    rings = sum(round(f["precision"] * f["flagged"]) for f in runs if f["flagged"])
    false_flags = sum(f["false_flags"] for f in runs)
    return {
        "clusters": sum(f["clusters"] for f in runs), "flagged": flagged,
        "precision": rings / flagged if flagged else float("nan"),
        "lookalikes_flagged": sum(f["lookalikes_flagged"] for f in runs),
        "kg_share_top25": sum(f["kg_share_top25"] for f in runs) / len(runs),
        "recall": dict(sorted(recall.items())), "groups_touched": dict(sorted(touched.items())),
        "top25_flagged": sum(f["top25_flagged"] for f in runs), "top25_real": sum(f["top25_real"] for f in runs),
        "false_flags": false_flags, "false_flags_per_100k": false_flags * 100_000 / (parcels * len(runs)),
    }


def compare_engines(con: duckdb.DuckDBPyConnection, config: dict, max_edges: int = 1_500_000) -> dict | None:
    """networkx Louvain against leidenalg Leiden on the components that detection splits."""
    import networkx as nx
    import numpy as np

    from linker.settings.scoring import graph_settings
    from linker.stages import detect

    cfg = graph_settings(config["graph"])
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
    detect.leiden_communities(len(nodes), src, dst, large["weight"], seed=int(cfg["seed"]))
    leiden_s = time.perf_counter() - t
    g = nx.Graph()
    g.add_weighted_edges_from(zip(src.tolist(), dst.tolist(), large["weight"].tolist()))
    t = time.perf_counter()
    nx.community.louvain_communities(g, weight="weight", seed=int(cfg["seed"]))
    louvain_s = time.perf_counter() - t
    return {"nodes": len(nodes), "edges": m, "leiden_s": leiden_s, "networkx_louvain_s": louvain_s}


def bench(n: int, seed: int, workdir: Path, engines: bool, lookalikes: float = 1.0) -> dict:
    print(f"\n=== {n:,} parcels, seed {seed}, look-alike strength {lookalikes:g} ===", flush=True)
    t = time.perf_counter()
    world = generate(n, seed=seed, lookalike_strength=lookalikes)
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
        print_figures(figures)
        if engines:
            from linker.settings.scoring import load_scoring

            cmp = compare_engines(con, load_scoring())
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
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parcels", type=int, nargs="*", default=[200_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=2024, help="seed of the first world; the next size adds 1")
    parser.add_argument("--seeds", type=int, default=1, help="worlds per size (seeds 100 apart), figures pooled")
    parser.add_argument("--lookalikes", type=float, default=1.0,
                        help="look-alike strength of the worlds: 0 plain, 1 realistic (default), 2 harder")
    parser.add_argument("--workdir", type=Path, default=None, help="keep the stores here (default: a temp folder)")
    parser.add_argument("--no-engines", action="store_true", help="skip the networkx/Leiden comparison")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="linker-bench-") as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        for i, n in enumerate(args.parcels):
            runs = [bench(n, args.seed + i + 100 * j, workdir, engines=not args.no_engines, lookalikes=args.lookalikes)
                    for j in range(args.seeds)]
            if len(runs) > 1:
                print(f"\n=== {n:,} parcels, {len(runs)} worlds pooled, look-alike strength {args.lookalikes:g} ===")
                print_figures(pool_figures(runs, n))


if __name__ == "__main__":
    main()
