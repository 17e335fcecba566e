"""Full build of the link graph against an in-place update for one night's changes.

Takes a copy of an analysed store (the original is never opened for writing), and makes a
night out of it: "yesterday" is the graph built on every parcel but the last `--new` ones;
"tonight" adds those parcels back and merges `--merges` pairs of old parties (their parcels'
mentions change entity_id, as when a new parcel ties two parties together). It then times

* update_graph over the night's changed parcels, inside one transaction as `linker run` holds;
* build_graph from scratch on tonight's mentions (what a non-incremental run does);

checks that both give the same graph (nodes by kind and key, edges by parcel, kind, key and
weight) and, with --detect, that detect_groups finds the same groups on both.

    .venv/bin/python bench/graph_incremental.py --store bench/out/dash_1000000_11.duckdb --new 10000
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

from linker.settings.scoring import load_scoring
from linker.stages import detect, graph
from linker import store


def timed(label: str, fn):
    t = time.perf_counter()
    out = fn()
    s = time.perf_counter() - t
    print(f"{label:<44} {s:8.2f} s  {out if isinstance(out, dict) else ''}")
    return out, s


class StatementTimer:
    """A connection that prints how long each statement takes (for --profile)."""

    def __init__(self, con):
        self.con = con

    def execute(self, sql, *args):
        t = time.perf_counter()
        out = self.con.execute(sql, *args)
        print(f"    {time.perf_counter() - t:6.2f} s  {' '.join(sql.split())[:100]}")
        return out

    def __getattr__(self, name):
        return getattr(self.con, name)


def diff_count(con, a: str, b: str) -> int:
    return int(con.execute(f"SELECT (SELECT count(*) FROM ({a} EXCEPT ALL {b})) + (SELECT count(*) FROM ({b} EXCEPT ALL {a}))").fetchall()[0][0])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--store", default="bench/out/dash_1000000_11.duckdb", help="analysed store (read only: it is copied)")
    ap.add_argument("--work", default="/tmp/graph_incremental.duckdb", help="where the copy goes")
    ap.add_argument("--new", type=int, default=10_000, help="last N parcels are the night's new ones")
    ap.add_argument("--merges", type=int, default=500, help="pairs of old parties merged tonight")
    ap.add_argument("--detect", action="store_true", help="also compare detect_groups on both graphs")
    ap.add_argument("--profile", action="store_true", help="print the time of each statement of update_graph")
    args = ap.parse_args()

    work = Path(args.work)
    t = time.perf_counter()
    shutil.copy(args.store, work)
    print(f"copied {args.store} -> {work} in {time.perf_counter() - t:.1f} s")
    con = store.connect(work)  # the settings linker run works under (memory limit, temp folder)
    config = load_scoring()["graph"]
    parcels = con.execute("SELECT count(*), max(parcel_seq) FROM parcels").fetchall()[0]
    cutoff = con.execute(f"SELECT parcel_seq FROM parcels ORDER BY parcel_seq DESC LIMIT 1 OFFSET {args.new}").fetchall()[0][0]
    print(f"{parcels[0]} parcels; night = parcel_seq > {cutoff} ({args.new}) + {args.merges} merged party pairs")

    # Yesterday: the graph without the night's parcels, with tonight's entity ids (the merges
    # below then change some of them).
    con.execute("ALTER TABLE party_mentions RENAME TO party_mentions_all")
    con.execute(f"CREATE VIEW party_mentions AS SELECT * FROM party_mentions_all WHERE parcel_seq <= {cutoff}")
    timed("build_graph, yesterday (all but the night)", lambda: graph.build_graph(con, config))
    con.execute("DROP VIEW party_mentions")
    con.execute("ALTER TABLE party_mentions_all RENAME TO party_mentions")

    # Tonight: pairs of old parties with a few parcels each become one party (the smaller id).
    con.execute(
        f"""
        CREATE TEMP TABLE _merge AS
        WITH small AS (
            SELECT entity_id, row_number() OVER (ORDER BY hash(entity_id), entity_id) AS r
            FROM party_mentions WHERE parcel_seq <= {cutoff} AND entity_id IS NOT NULL
            GROUP BY entity_id HAVING count(DISTINCT parcel_seq) BETWEEN 2 AND 10
        ),
        pairs AS (SELECT a.entity_id AS a, b.entity_id AS b FROM small a JOIN small b ON b.r = a.r + 1
                  WHERE a.r % 2 = 1 AND a.r < {2 * args.merges})
        SELECT greatest(a, b) AS old_id, least(a, b) AS new_id FROM pairs
        """
    )
    con.execute(
        f"""
        CREATE TABLE _changed_parcels AS
        SELECT parcel_seq FROM parcels WHERE parcel_seq > {cutoff}
        UNION
        SELECT parcel_seq FROM party_mentions WHERE entity_id IN (SELECT old_id FROM _merge)
        """
    )
    con.execute("UPDATE party_mentions SET entity_id = m.new_id FROM _merge m WHERE party_mentions.entity_id = m.old_id")
    changed = con.execute("SELECT count(*) FROM _changed_parcels").fetchall()[0][0]
    print(f"changed parcels: {changed}")
    con.execute("CHECKPOINT")

    def update():
        con.execute("BEGIN")
        counts = graph.update_graph(StatementTimer(con) if args.profile else con, config)
        con.execute("COMMIT")
        return counts

    _, s_update = timed("update_graph (one transaction, with commit)", update)
    _, s_build = timed("build_graph, tonight, from scratch", lambda: graph.build_graph(con, config, prefix="fresh_"))
    nodes = "SELECT kind, key, entities, parcels, weight, hub FROM {p}graph_nodes"
    edges = "SELECT e.parcel_seq, n.kind, n.key, e.weight FROM {p}graph_edges e JOIN {p}graph_nodes n USING (node_id)"
    uses = "SELECT parcel_seq, entity_id, name_key, kind, key FROM {p}graph_uses"
    for name, sql in (("uses", uses), ("nodes", nodes), ("edges", edges)):
        d = diff_count(con, sql.format(p=""), sql.format(p="fresh_"))
        print(f"{name} differing between update and fresh build: {d}")
    print(f"speed-up: {s_build / s_update:.1f}x")
    if args.detect:
        r1, _ = timed("detect_groups on the updated graph", lambda: detect.detect_groups(con, config, prefix="upd_", graph_prefix=""))
        r2, _ = timed("detect_groups on the fresh graph", lambda: detect.detect_groups(con, config, prefix="fresh_"))
        d = diff_count(con, "SELECT * FROM upd_parcel_groups", "SELECT * FROM fresh_parcel_groups")
        print(f"parcel_groups rows differing: {d} (groups {r1.groups} vs {r2.groups})")
    con.close()


if __name__ == "__main__":
    main()
