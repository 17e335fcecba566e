"""`linker demo`: the whole product on a synthetic world, from nothing to a running dashboard.

It synthesises parcels with known rings into `demo/incoming/`, runs the nightly job on them
(ingest, analysis, snapshot, tonight's report), creates a demo investigator login, prints what
was found beside the planted truth, and starts the dashboard. Re-running reuses the data and
the store; the nightly job sees nothing new and keeps its results.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

DEMO_USER = "demo"
# A demo login on a synthetic store, printed on screen by design; real users are created with
# `linker users add`.
DEMO_PASSWORD = "parcel-linker-demo"


@dataclass
class DemoSetup:
    workdir: Path
    db: Path
    parcels_file: Path
    report_dir: Path
    nightly_summary: str
    top: list[dict]
    rings: int
    rings_found: int


def prepare(workdir: Path, parcels: int = 20_000, seed: int = 7, console=None, progress: bool = False) -> DemoSetup:
    """Synthesise (once), run the nightly job, and create the demo login."""
    import duckdb
    import polars as pl

    from linker import auth, store
    from linker.cases import cases_db_path, get_user
    from linker.nightly import run_nightly
    from linker.pipeline import top_clusters
    from linker.synth import synthesise

    workdir = Path(workdir)
    incoming = workdir / "incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    parcels_file = incoming / f"parcels_{parcels}_{seed}.csv.gz"
    truth_dir = workdir / "truth"
    if not parcels_file.exists():
        if console:
            console.print(f"synthesising {parcels:,} parcels (seed {seed}) ...")
        synthesise(parcels, parcels_file, seed=seed)
        # The truth stays out of the incoming folder: it is the answer key, not parcel data.
        truth_dir.mkdir(exist_ok=True)
        for name in (f"parcels_{parcels}_{seed}.truth.parquet", f"parcels_{parcels}_{seed}.rings.csv"):
            if (incoming / name).exists():
                (incoming / name).replace(truth_dir / name)

    db = workdir / "linker.duckdb"
    result = run_nightly(db, incoming, workdir / "reports", progress=progress, console=console)

    cases = cases_db_path(db)
    if get_user(cases, DEMO_USER) is None:
        auth.create_user(cases, DEMO_USER, "investigator", DEMO_PASSWORD)

    con = store.connect(db, read_only=True)
    try:
        top = top_clusters(con, 10)
        rings, found = _rings_found(con, truth_dir / f"parcels_{parcels}_{seed}.truth.parquet")
    finally:
        con.close()
    return DemoSetup(workdir, db, parcels_file, result.report_dir, result.describe(), top, rings, found)


def _rings_found(con: "duckdb.DuckDBPyConnection", truth: Path) -> tuple[int, int]:
    """How many planted rings a flagged cluster holds the majority of (the benchmark's rule)."""
    if not truth.exists():
        return 0, 0
    row = con.execute(
        """
        WITH truth AS (SELECT parcel_id, carrier, ring_id FROM read_parquet(?) WHERE ring_id IS NOT NULL),
        ring_sizes AS (SELECT ring_id, count(*) AS n FROM truth GROUP BY ring_id),
        members AS (
            SELECT t.ring_id, pc.cluster_id, count(*) AS n
            FROM truth t JOIN parcel_clusters pc USING (parcel_id, carrier)
            JOIN clusters c USING (cluster_id) WHERE c.flagged GROUP BY ALL
        ),
        cluster_sizes AS (SELECT cluster_id, count(*) AS n FROM parcel_clusters GROUP BY cluster_id)
        SELECT (SELECT count(*) FROM ring_sizes),
               count(DISTINCT m.ring_id) FILTER (WHERE m.n * 2 >= r.n AND m.n * 2 >= cs.n)
        FROM members m JOIN ring_sizes r USING (ring_id) JOIN cluster_sizes cs USING (cluster_id)
        """,
        [str(truth)],
    ).fetchone()
    return int(row[0]), int(row[1] or 0)
