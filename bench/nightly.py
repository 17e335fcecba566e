"""Benchmark of `linker nightly`: a night of new parcels on top of a loaded, analysed store,
against a full rebuild of the same data.

One synthetic world of BASE + max(NIGHTS) parcels is cut by acceptance time: the first BASE
parcels are the history, the next N are one night. For each night size N:

- nightly:  copy of the prepared store (history loaded and analysed), `run_nightly` with the
            night's file added to the incoming folder (ingest only the new file, analyse,
            publish a snapshot, write the report);
- full:     a fresh store given the prepared store's entity-resolution model (as `linker run
            --full` keeps a store's model), `run_nightly` over history + night (load
            everything, analyse, ...);
- re-run:   the same night again on the nightly store (no new file: ingest skips, no analysis).

Prints seconds per step (ingest, analyse, publish, report) and the ratio full / nightly.
Each measurement runs in its own process so that peak memory and caches do not carry over.

    python bench/nightly.py                           # BASE 1,000,000, nights of 10k and 100k
    python bench/nightly.py --base 100000 --nights 1000 10000

What it showed (this 2-core VM, idle, 1,000,000 parcels of history, seed 11, 2026-11-22;
single timings vary by up to 30% with the machine's load):

    night     nightly (analysis)     full (analysis)      full / nightly (analysis)   rows differing
    10,000    33.4 s (23.5 s)        162.8 s (148.2 s)    4.9x (6.3x)                 0 in every table
    100,000   72.9 s (60.5 s)        175.5 s (156.2 s)    2.4x (2.6x)                 0 in every table

The same on 2026-12-07 (after the comparison rework that made a full run ~1.3x faster; the
analysed history is now kept per size and seed and made again when the code changed):

    10,000    27.8 s (19.7 s)        133.1 s (122.8 s)    4.8x (6.2x)                 0 in every table
    100,000   59.6 s (53.6 s)        146.8 s (134.6 s)    2.5x (2.5x)                 0 in every table

The same on the evening of 2026-12-07, after the runs started writing the dashboard's page and
search tables (the `pages` step: 5.4-5.6 s of a full run at 1M, 2.8 s of a 10k night, 4.6 s of a
100k night; the 100k night's full run shared the machine with another job for part of its time,
normalise 50 s against 34 s alone, so its ratio is too high):

    10,000    31.0 s (23.3 s)        131.7 s (122.1 s)    4.25x (5.24x)               0 in every table
    100,000   67.5 s (59.6 s)        159.1 s (149.2 s)    2.36x (2.50x)               0 in every table

and once a night appends to the search tables instead of merging into them (pages 2.8 s -> 1.4 s
of the 10k night; `python bench/nightly.py --nights 10000`):

    10,000    29.3 s (22.8 s)        142.5 s (132.7 s)    4.86x (5.82x)               0 in every table

The nightly store's parties, links, graph, groups, clusters and evidence are row for row those
of the full analysis. Of a 10k night's 23.5 s, resolution takes 10.1 s (re-deciding the pairs
whose evidence changed), normalisation 2.7 s, the graph update 3.5 s, detection and scoring
4.1 s over the whole graph, and committing the transaction about 3 s. A re-run or a night
with no new file skips the analysis (25x cheaper than a full night; the report is
rewritten). Publishing a snapshot (a kernel-side copy of the ~1.4 GB store) takes ~2 s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = HERE / "out"

CHILD = r"""
import json, resource, sys, time
from linker.nightly import run_nightly
db, incoming, reports, day = sys.argv[1:5]
t0 = time.perf_counter()
r = run_nightly(db, incoming, reports, report_date=day)
c = r.counts
pc = c.get("pipeline_counts") or {}
print(json.dumps({"seconds": round(time.perf_counter() - t0, 2), "analysed": r.analysed,
                  "mode": pc.get("mode"), "full_reason": pc.get("full_reason"), "stages": c.get("pipeline_timings"),
                  "ingest_s": c.get("ingest_s"), "analyse_s": c.get("analyse_s"), "publish_s": c.get("publish_s"),
                  "report_s": c.get("report_s"), "rows_loaded": c.get("rows_loaded"), "parcels": c.get("parcels"),
                  "flagged": c.get("flagged_clusters"),
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))
"""


def code_stamp() -> str:
    """A digest of the package's code and settings files."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted((ROOT / "linker").rglob("*")):
        if path.suffix in (".py", ".toml", ".txt", ".json") and path.is_file():
            digest.update(path.relative_to(ROOT).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def world(base: int, night: int, seed: int) -> Path:
    """One synthetic world of base + night parcels (cached)."""
    OUT.mkdir(parents=True, exist_ok=True)
    total = base + night
    src = OUT / f"nightly_world_{total}_{seed}.parquet"
    if not src.exists():
        from linker.synth import synthesise

        t0 = time.perf_counter()
        synthesise(total, src, seed=seed)
        print(f"synthesised {total:,} parcels in {time.perf_counter() - t0:.0f}s", flush=True)
    return src


def cut(src: Path, base: int, nights: list[int], folder: Path) -> tuple[Path, dict[int, Path]]:
    """The history file and one file per night size, cut from the world by acceptance time."""
    import duckdb

    folder.mkdir(parents=True, exist_ok=True)
    history = folder / f"history_{base}.parquet"
    con = duckdb.connect()
    ordered = f"(SELECT * FROM read_parquet('{src}') ORDER BY accepted_at, parcel_id, carrier)"
    con.execute(f"CREATE TABLE w AS SELECT row_number() OVER () AS n, * FROM {ordered}")
    if not history.exists():
        con.execute(f"COPY (SELECT * EXCLUDE (n) FROM w WHERE n <= {base}) TO '{history}' (FORMAT parquet)")
    files = {}
    for k in nights:
        f = folder / f"night_{base}_{k}.parquet"
        if not f.exists():
            con.execute(f"COPY (SELECT * EXCLUDE (n) FROM w WHERE n > {base} AND n <= {base + k}) TO '{f}' (FORMAT parquet)")
        files[k] = f
    con.close()
    return history, files


def nightly(db: Path, incoming: Path, reports: Path, day: str, profile: Path | None = None) -> dict:
    env = {**os.environ, "LINKER_SQL_PROFILE": str(profile)} if profile else None
    out = subprocess.run([sys.executable, "-c", CHILD, str(db), str(incoming), str(reports), day],
                         cwd=ROOT, capture_output=True, text=True, env=env)
    if out.returncode:
        raise SystemExit(f"nightly failed: {out.stderr.strip().splitlines()[-1] if out.stderr.strip() else out.returncode}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def show(label: str, r: dict) -> None:
    steps = "  ".join(f"{k[:-2]} {r[k]:>7.1f}s" for k in ("ingest_s", "analyse_s", "publish_s", "report_s") if r.get(k) is not None)
    mode = f"  [{r['mode']}]" if r.get("mode") else ""
    print(f"  {label:<9} {r['seconds']:>8.1f}s  ({steps})  parcels {r['parcels']:,}  flagged {r['flagged']}  "
          f"peak {r['peak_rss_mb']:,} MB{mode}", flush=True)
    if r.get("stages"):
        print("            stages: " + "  ".join(f"{k} {v:.1f}s" for k, v in r["stages"].items()), flush=True)


# What must be equal between the extended store and the fully analysed one (ids of clusters
# may differ: they are matched against each store's own history).
SAME = {
    "parties": "SELECT mention_id, profile_id, entity_id FROM {db}.party_mentions",
    "links": "SELECT mention_id_l, mention_id_r FROM {db}.entity_links",
    "graph nodes": "SELECT kind, key, entities, parcels, hub FROM {db}.graph_nodes",
    "groups": "SELECT parcel_seq, group_key, component_key, seed FROM {db}.parcel_groups",
    "clusters": "SELECT group_key, rank, score, flagged, est_controlled_kg, parcels, summary FROM {db}.clusters",
    "signals": "SELECT c.group_key, s.signal, s.strength, s.evidence FROM {db}.cluster_signals s JOIN {db}.clusters c USING (cluster_id)",
}


def compare(a: Path, b: Path) -> dict:
    """Rows in one store's results and not the other's, per table (0 everywhere: identical)."""
    import duckdb

    con = duckdb.connect()
    con.execute(f"ATTACH '{a}' AS a (READ_ONLY)")
    con.execute(f"ATTACH '{b}' AS b (READ_ONLY)")
    out = {}
    for name, sql in SAME.items():
        left, right = sql.format(db="a"), sql.format(db="b")
        out[name] = con.execute(
            f"SELECT (SELECT count(*) FROM (({left}) EXCEPT ALL ({right}))) + (SELECT count(*) FROM (({right}) EXCEPT ALL ({left})))"
        ).fetchall()[0][0]
    con.close()
    return out


def seed_model(source: Path, target: Path) -> None:
    """Give the fresh store of the full arm the entity-resolution model the nightly store keeps
    (`er_model`, `er_model_info`), so that both resolve with one model, as `linker run --full`
    on an existing store does: without it the full arm estimated a model of its own, and the
    rows that differed between the stores measured two models, not the incremental path."""
    code = (
        "import sys\n"
        "from linker import store\n"
        "from linker.stages.resolve import MODEL_DDL\n"
        "from linker.store.sql import literal\n"
        "src, dst = sys.argv[1:3]\n"
        "con = store.connect(dst)\n"
        "con.execute(MODEL_DDL)\n"
        "con.execute(f'ATTACH {literal(src)} AS prepared (READ_ONLY)')\n"
        "con.execute('INSERT INTO er_model SELECT * FROM prepared.er_model')\n"
        "con.execute('INSERT INTO er_model_info SELECT * FROM prepared.er_model_info')\n"
        "con.close()\n"
    )
    subprocess.run([sys.executable, "-c", code, str(source), str(target)], check=True, cwd=ROOT)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", type=int, default=1_000_000)
    ap.add_argument("--nights", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--work", type=Path, default=OUT / "nightly")
    ap.add_argument("--profile", action="store_true",
                    help="time each SQL statement of the nights' normalisation and resolution (LINKER_SQL_PROFILE) and "
                         "print the slowest")
    args = ap.parse_args()
    print(f"linker nightly benchmark on {platform.node()} ({os.cpu_count()} cores), python {platform.python_version()}")
    src = world(args.base, max(args.nights), args.seed)
    data = args.work / "data"
    history, night_files = cut(src, args.base, args.nights, data)

    # The analysed history is kept between runs for its size and seed, and made again when the
    # code or settings changed (a night on a store analysed by other code runs in full).
    prepared = args.work / f"prepared_{args.base}_{args.seed}"
    stamp = prepared / "code.sha256"
    if not (prepared / "store.duckdb").exists() or not stamp.exists() or stamp.read_text() != code_stamp():
        shutil.rmtree(prepared, ignore_errors=True)
        (prepared / "incoming").mkdir(parents=True)
        os.link(history, prepared / "incoming" / history.name)
        r = nightly(prepared / "store.duckdb", prepared / "incoming", prepared / "reports", "2026-01-01")
        print(f"history of {args.base:,} parcels loaded and analysed:")
        show("first", r)
        stamp.write_text(code_stamp())

    results = {}
    for k, night_file in sorted(night_files.items()):
        print(f"night of {k:,} new parcels on {args.base:,}:")
        inc = args.work / f"nightly_{k}"
        shutil.rmtree(inc, ignore_errors=True)
        shutil.copytree(prepared, inc)
        os.link(night_file, inc / "incoming" / night_file.name)
        # (the copy's 1.6 GB are written back to disk before the night starts, not during it:
        # a nightly job does not start on a store copied a second ago)
        os.sync()
        profile = args.work / f"sql-profile_night_{k}.jsonl" if args.profile else None
        if profile is not None and profile.exists():
            profile.unlink()
        r_inc = nightly(inc / "store.duckdb", inc / "incoming", inc / "reports", "2026-01-02", profile)
        show("nightly", r_inc)
        if profile is not None and profile.exists():
            statements = [json.loads(line) for line in profile.read_text(encoding="utf-8").splitlines()]
            print(f"            SQL of normalise and resolve: {len(statements)} statements, "
                  f"{sum(r['seconds'] for r in statements if not r.get('beside')):.1f} s; slowest:")
            for st in sorted(statements, key=lambda r: -r["seconds"])[:15]:
                print(f"            {st['seconds']:>6.2f} s {'py ' if st['python_udf'] else '   '}{st['statement'][:100]}")
        r_again = nightly(inc / "store.duckdb", inc / "incoming", inc / "reports", "2026-01-02")
        show("re-run", r_again)
        full = args.work / f"full_{k}"
        shutil.rmtree(full, ignore_errors=True)
        (full / "incoming").mkdir(parents=True)
        os.link(history, full / "incoming" / history.name)
        os.link(night_file, full / "incoming" / night_file.name)
        seed_model(prepared / "store.duckdb", full / "store.duckdb")
        os.sync()
        r_full = nightly(full / "store.duckdb", full / "incoming", full / "reports", "2026-01-02")
        show("full", r_full)
        diff = compare(inc / "store.duckdb", full / "store.duckdb")
        print(f"  full / nightly = {r_full['seconds'] / r_inc['seconds']:.2f}x (analysis alone "
              f"{r_full['analyse_s'] / r_inc['analyse_s']:.2f}x); full / re-run = {r_full['seconds'] / r_again['seconds']:.1f}x")
        print("  rows differing between the nightly and the full store: "
              + ", ".join(f"{name} {n}" for name, n in diff.items()), flush=True)
        results[k] = {"nightly": r_inc, "rerun": r_again, "full": r_full, "differing_rows": diff}
        shutil.rmtree(inc, ignore_errors=True)
        shutil.rmtree(full, ignore_errors=True)
    (args.work / f"results_{args.base}.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
