"""`linker demo`: the whole product on a synthetic world, from nothing to a running dashboard.

It synthesises parcels with known rings and plays two nights of the nightly job: the first
loads and analyses everything up to yesterday, the second the last day's parcels, extending
the first night's analysis (as every night in production does) and reporting what changed.
It creates a demo investigator login, prints what was found beside the planted truth, and
starts the dashboard. Re-running reuses the data and the store; the nightly job sees nothing
new and keeps its results.
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
    """Synthesise (once), play the two nights of the nightly job, and create the demo login."""
    from datetime import date, timedelta

    import polars as pl

    from linker.casework import auth
    from linker import store
    from linker.casework.cases import cases_db_path, get_user
    from linker.nightly import run_nightly
    from linker.outputs.clusters import top_clusters
    from linker.synth import generate, write_parcels

    workdir = Path(workdir)
    incoming = workdir / "incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    history_file = incoming / f"parcels_{parcels}_{seed}_history.csv.gz"
    night_file = incoming / f"parcels_{parcels}_{seed}_last_night.csv.gz"
    held_back = workdir / "arriving" / night_file.name  # the last night's file, until it "arrives"
    truth_dir = workdir / "truth"
    truth_file = truth_dir / f"parcels_{parcels}_{seed}.truth.parquet"
    if not history_file.exists():
        if console:
            console.print(f"synthesising {parcels:,} parcels (seed {seed}) ...")
        world = generate(parcels, seed=seed)
        # The truth stays out of the incoming folder: it is the answer key, not parcel data.
        truth_dir.mkdir(exist_ok=True)
        world.truth.write_parquet(truth_file)
        world.rings.write_csv(truth_dir / f"parcels_{parcels}_{seed}.rings.csv")
        at = pl.col("accepted_at").str.to_datetime("%Y-%m-%dT%H:%M:%S%z", time_zone="UTC")
        last_day = world.parcels.select(at.max()).item() - timedelta(days=1)
        held_back.parent.mkdir(exist_ok=True)
        write_parcels(world.parcels.filter(at > last_day), held_back)
        write_parcels(world.parcels.filter(at <= last_day), history_file)

    db = workdir / "linker.duckdb"
    today = date.today()
    results = []
    if not night_file.exists():
        if console:
            console.print("night 1: everything up to yesterday")
        results.append(run_nightly(db, incoming, workdir / "reports", report_date=(today - timedelta(days=1)).isoformat(),
                                   progress=progress, console=console))
        held_back.replace(night_file)
        if console:
            console.print("night 2: the last day's parcels arrive")
    results.append(run_nightly(db, incoming, workdir / "reports", report_date=today.isoformat(),
                               progress=progress, console=console))
    result = results[-1]

    cases = cases_db_path(db)
    if get_user(cases, DEMO_USER) is None:
        auth.create_user(cases, DEMO_USER, "investigator", DEMO_PASSWORD)

    con = store.connect(db, read_only=True)
    try:
        top = top_clusters(con, 10)
        rings, found = _rings_found(con, truth_file)
    finally:
        con.close()
    return DemoSetup(workdir, db, night_file, result.report_dir, "\n".join(r.describe() for r in results), top, rings, found)


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
