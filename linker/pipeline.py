"""`linker run`: every analysis stage over everything loaded, in order, with timings.

normalise -> resolve -> signals -> graph -> detect -> score -> publish.

The stages up to signals rebuild their own working tables (`party_mentions`, `entities`,
`parcel_signals`, ...). The results that users, the export and the dashboard read
(`graph_nodes`, `graph_edges`, `parcel_clusters`, `clusters`, `cluster_signals`,
`party_entities`) are built under staging names (`stage_*`) and swapped in by one transaction
at the end, together with this run's rows of `cluster_lineage`: a run that fails at any point
leaves the previous results as they were. Stable cluster ids are matched against the previous
`parcel_clusters`, so they survive re-runs.

`run(db_path)` records the run in `runs(run_id, kind, status, started_at, finished_at, counts,
error)`; `run_pipeline(con)` is the analysis alone, for callers that keep their own record
(the nightly job).
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import duckdb

from linker import store

STAGES = ("normalise", "resolve", "signals", "graph", "detect", "score", "publish")
STAGE_PREFIX = "stage_"
# Result tables built under STAGE_PREFIX and swapped in together.
RESULT_TABLES = ("graph_nodes", "graph_edges", "parcel_groups", "parcel_clusters", "clusters",
                 "cluster_signals", "party_entities")

OnStage = Callable[[str, str, dict], None]  # (stage, "start" | "done", info)


class PipelineError(store.StoreError):
    """The run failed; the message is one sentence and the previous results stand."""


@dataclass
class RunResult:
    run_id: str
    counts: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)
    peak_rss_mb: dict = field(default_factory=dict)

    def top_clusters(self, con: duckdb.DuckDBPyConnection, n: int = 10) -> list[dict]:
        return top_clusters(con, n)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def new_run_id(now: datetime | None = None) -> str:
    from linker.nightly import new_run_id as nightly_run_id

    return nightly_run_id(now)


class _RssSampler:
    """Peak resident memory of this process during each stage (DuckDB's memory included,
    which tracemalloc would not see), sampled from /proc every 50 ms."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    @staticmethod
    def rss() -> int:
        try:
            with open("/proc/self/statm") as fh:
                return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError):
            return 0

    def _loop(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, self.rss())

    def reset(self) -> None:
        self.peak = self.rss()

    def __enter__(self) -> "_RssSampler":
        self.reset()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def run_pipeline(
    con: duckdb.DuckDBPyConnection,
    *,
    run_id: str | None = None,
    config: dict | None = None,
    catalogue=None,
    on_stage: OnStage | None = None,
    seed: int = 42,
) -> RunResult:
    """Run the analysis over every parcel in the store and publish its results.

    Example:
        >>> con = store.connect("store.duckdb")
        >>> run_pipeline(con).counts["flagged_clusters"]
    """
    from linker import graph, normalise, resolve, score, signals
    from linker.catalogue import load_catalogue

    config = config or score.load_config()
    catalogue = catalogue or load_catalogue()
    result = RunResult(run_id or new_run_id())
    if not con.execute("SELECT count(*) FROM parcels").fetchall()[0][0]:
        raise PipelineError("the store holds no parcels: load some first with `linker ingest FILE`")
    p = STAGE_PREFIX

    def do(stage: str, fn: Callable[[], dict | int | object]) -> None:
        if on_stage:
            on_stage(stage, "start", {})
        sampler.reset()
        started = time.perf_counter()
        try:
            info = fn()
        except PipelineError:
            raise
        except Exception as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise PipelineError(f"the {stage} stage failed, previous results kept: {first}") from exc
        result.timings[stage] = round(time.perf_counter() - started, 3)
        result.peak_rss_mb[stage] = round(sampler.peak / 2**20, 1)
        if isinstance(info, dict):
            result.counts.update(info)
        if on_stage:
            on_stage(stage, "done", {"seconds": result.timings[stage], **(info if isinstance(info, dict) else {})})

    with _RssSampler() as sampler:
        do("normalise", lambda: {"mentions": normalise.build_party_mentions(con)})
        do("resolve", lambda: {"entities": resolve.resolve_entities(con, seed=seed).entities})
        do("signals", lambda: {"parcel_signals": signals.compute_parcel_signals(con, catalogue)})
        do("graph", lambda: graph.build_graph(con, config["graph"], prefix=p))
        do("detect", lambda: _detect(con, config, p))
        do("score", lambda: _score(con, config, result.run_id, p))
        do("publish", lambda: _publish(con, p))
    result.counts["parcels"] = int(con.execute("SELECT count(*) FROM parcels").fetchall()[0][0])
    return result


def _detect(con, config: dict, prefix: str) -> dict:
    from linker import graph

    report = graph.detect_groups(con, config["graph"], prefix=prefix)
    return {"seeds": report.seeds, "components": report.components, "groups": report.groups,
            "grouped_parcels": report.grouped_parcels, "attached_parcels": report.attached_parcels,
            "large_components": report.large_components, "large_component_parcels": report.large_component_parcels}


def _score(con, config: dict, run_id: str, prefix: str) -> dict:
    from linker import score

    n = score.score_groups(con, config, prefix=prefix)
    lineage = score.finalise_clusters(con, config, run_id, prefix=prefix, previous="parcel_clusters")
    con.execute(
        f"""
        CREATE OR REPLACE TABLE {prefix}party_entities AS
        SELECT parcel_seq, parcel_id, carrier, role, entity_id FROM party_mentions ORDER BY mention_id
        """
    )
    flagged = con.execute(f"SELECT count(*) FROM {prefix}clusters WHERE flagged").fetchall()[0][0]
    return {"clusters": n, "flagged_clusters": int(flagged), "lineage": lineage}


def _publish(con: duckdb.DuckDBPyConnection, prefix: str) -> dict:
    """Swap the staged results in, all or nothing."""
    from linker.score import LINEAGE_DDL

    con.execute(LINEAGE_DDL.format(name="cluster_lineage"))
    con.execute("BEGIN TRANSACTION")
    try:
        for table in RESULT_TABLES:
            con.execute(f"DROP TABLE IF EXISTS {table}")
            con.execute(f"ALTER TABLE {prefix}{table} RENAME TO {table}")
        con.execute(f"INSERT INTO cluster_lineage SELECT * FROM {prefix}cluster_lineage_new")
        con.execute(f"DROP TABLE {prefix}cluster_lineage_new")
        con.execute("DROP TABLE IF EXISTS stage_cluster_scores")
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return {}


def _drop_staging(con: duckdb.DuckDBPyConnection) -> None:
    for table in (*RESULT_TABLES, "cluster_scores", "cluster_lineage_new"):
        try:
            con.execute(f"DROP TABLE IF EXISTS {STAGE_PREFIX}{table}")
        except duckdb.Error:
            pass


def top_clusters(con: duckdb.DuckDBPyConnection, n: int = 10) -> list[dict]:
    """The first `n` clusters by rank, as dicts (the end-of-run table)."""
    if not store.table_exists(con, "clusters"):
        return []
    cur = con.execute(
        "SELECT cluster_id, rank, score, flagged, commodity, est_controlled_kg, threshold_kg, parcels, summary "
        "FROM clusters ORDER BY rank LIMIT ?",
        [n],
    )
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def run(
    db_path: str | Path | None = None,
    *,
    kind: str = "run",
    on_stage: OnStage | None = None,
    config: dict | None = None,
    catalogue=None,
) -> RunResult:
    """`linker run`: open the store, run the pipeline, record the run in `runs`, and publish
    the result as the current snapshot for the dashboard.

    A failure marks the run 'failed' with its one-line error and raises PipelineError;
    the published results stay those of the last good run.
    """
    from linker.nightly import RUNS_DDL

    con = store.connect(db_path)
    try:
        con.execute(RUNS_DDL)
        run_id = new_run_id()
        con.execute(
            "INSERT INTO runs (run_id, kind, status, started_at) VALUES (?, ?, 'running', ?)",
            [run_id, kind, _utcnow()],
        )
        try:
            result = run_pipeline(con, run_id=run_id, config=config, catalogue=catalogue, on_stage=on_stage)
        except Exception as exc:
            try:
                con.execute("ROLLBACK")
            except duckdb.Error:
                pass
            _drop_staging(con)
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            con.execute(
                "UPDATE runs SET status = 'failed', finished_at = ?, error = ? WHERE run_id = ?",
                [_utcnow(), message, run_id],
            )
            if isinstance(exc, PipelineError):
                raise
            raise PipelineError(f"the run failed, previous results kept: {message}") from exc
        counts = {**result.counts, "seconds": result.timings, "peak_rss_mb": result.peak_rss_mb}
        con.execute(
            "UPDATE runs SET status = 'ok', finished_at = ?, counts = ? WHERE run_id = ?",
            [_utcnow(), json.dumps(counts, default=str), run_id],
        )
        con.execute("CHECKPOINT")
        # The dashboard reads published snapshots only, so a plain `linker run` publishes too;
        # the nightly job publishes on its own after its report is built.
        from linker import snapshot

        snapshot.publish(db_path or store.default_db_path(), run_id, con=con)
        return result
    finally:
        con.close()
