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
RESULT_TABLES = ("graph_nodes", "graph_edges", "graph_uses", "parcel_groups", "parcel_clusters", "clusters",
                 "cluster_signals", "party_entities")
# What an incremental run rebuilds under staging names; the graph tables and party_entities
# it changes in place, inside its transaction.
INCREMENTAL_STAGED = ("parcel_groups", "parcel_clusters", "clusters", "cluster_signals")

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


MODES = ("auto", "full", "incremental")

STATE_DDL = """
CREATE TABLE IF NOT EXISTS analysis_state (
    fingerprint VARCHAR, parcels BIGINT, max_parcel_seq BIGINT, run_id VARCHAR, mode VARCHAR, full_run_id VARCHAR
)
"""


# The modules whose code decides what the working tables hold (ingest, reports, the CLI and
# the dashboard do not: a change there needs no full run).
ANALYSIS_MODULES = ("pipeline", "normalise", "resolve", "signals", "catalogue", "graph", "score")


def fingerprint(config: dict, catalogue) -> str:
    """What stored working tables depend on besides the parcels: the analysis modules' code and
    data files, the versions of the engines behind them, the scoring settings and the
    catalogue. An incremental run extends the stored analysis only when it is unchanged (an
    upgrade or a new setting means a full run)."""
    import hashlib
    import importlib.metadata as md

    from linker.stages import normalise

    linker_dir = Path(__file__).parents[1]
    digest = hashlib.sha256()
    code = [linker_dir / "stages" / f"{name}.py" for name in ANALYSIS_MODULES if name not in ("pipeline", "catalogue")]
    code += [Path(__file__), linker_dir / "settings" / "catalogue.py"]
    for path in code + sorted((linker_dir / "settings").glob("*.toml")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    digest.update(normalise.normaliser_version().encode())
    for package in ("duckdb", "rapidfuzz", "igraph", "numpy"):  # engines whose results feed the stored tables
        try:
            digest.update(f"{package}={md.version(package)}".encode())
        except md.PackageNotFoundError:
            digest.update(f"{package}=none".encode())
    digest.update(json.dumps(config, sort_keys=True, default=str).encode())
    digest.update(repr(catalogue).encode())
    return digest.hexdigest()[:16]


def full_run_reason(con: duckdb.DuckDBPyConnection, config: dict, catalogue) -> str | None:
    """None when the stored analysis can be extended to the parcels loaded since; else why
    the next run must analyse everything again, in a few words."""
    from linker.stages import resolve

    if not store.table_exists(con, "analysis_state"):
        return "no earlier analysis to extend"
    state = con.execute("SELECT fingerprint, parcels, max_parcel_seq FROM analysis_state").fetchall()
    if len(state) != 1:
        return "no earlier analysis to extend"
    fp, parcels, max_seq = state[0]
    if fp != fingerprint(config, catalogue):
        return "the code, settings or catalogue changed since the last analysis"
    for table in ("party_mentions", "graph_uses", *RESULT_TABLES):
        if not store.table_exists(con, table):
            return f"the working table {table} is missing"
    seen = con.execute("SELECT count(*) FROM parcels WHERE parcel_seq <= ?", [max_seq]).fetchall()[0][0]
    if seen != parcels:
        return "parcels analysed before are no longer as they were"
    mentioned = con.execute("SELECT coalesce(max(parcel_seq), -1) FROM party_mentions").fetchall()[0][0]
    if mentioned != max_seq:
        return "the working tables are not those of the last analysis"
    return resolve.can_extend(con)


def run_pipeline(
    con: duckdb.DuckDBPyConnection,
    *,
    run_id: str | None = None,
    config: dict | None = None,
    catalogue=None,
    on_stage: OnStage | None = None,
    seed: int = 42,
    mode: str = "auto",
    retrain: bool = False,
) -> RunResult:
    """Run the analysis and publish its results.

    `retrain` estimates the resolution model again (see resolve.estimate_model), which
    needs a full run; otherwise the model stored by the first full run is kept.

    `mode` "full" analyses every parcel; "incremental" extends the stored analysis to the
    parcels loaded since (see `_run_incremental`) and fails if it cannot; "auto" (the
    default) extends when it can and otherwise runs in full. `counts["mode"]` says which
    ran and `counts["full_reason"]` why a full run was needed.

    Example:
        >>> con = store.connect("store.duckdb")
        >>> run_pipeline(con).counts["flagged_clusters"]
    """
    from linker.stages import score
    from linker.settings.catalogue import load_catalogue

    if mode not in MODES:
        raise PipelineError(f"unknown run mode {mode!r}: use one of {', '.join(MODES)}")
    config = config or score.load_config()
    catalogue = catalogue or load_catalogue()
    result = RunResult(run_id or new_run_id())
    if not con.execute("SELECT count(*) FROM parcels").fetchall()[0][0]:
        raise PipelineError("the store holds no parcels: load some first with `linker ingest FILE`")
    if retrain and mode == "incremental":
        raise PipelineError("a new resolution model needs a full run: drop --retrain or run in full")
    reason = ("a new resolution model was asked for" if retrain else
              "a full run was asked for" if mode == "full" else full_run_reason(con, config, catalogue))
    if mode == "incremental" and reason:
        raise PipelineError(f"cannot extend the last analysis: {reason}; run it in full")
    with _RssSampler() as sampler:
        if reason is None:
            try:
                _run_incremental(con, result, config, catalogue, on_stage, sampler)
            except _FallBack as exc:
                if mode == "incremental":
                    raise PipelineError(f"cannot extend the last analysis: {exc}; run it in full") from None
                reason = str(exc)
                result.timings.clear()
                result.counts.clear()
        if reason is not None:
            _run_full(con, result, config, catalogue, on_stage, sampler, seed, retrain)
    result.counts["mode"] = "full" if reason else "incremental"
    result.counts["full_reason"] = reason
    result.counts["parcels"] = int(con.execute("SELECT count(*) FROM parcels").fetchall()[0][0])
    return result


class _FallBack(Exception):
    """The incremental run found it cannot extend the stored analysis (rolled back)."""


def _stage_runner(result: RunResult, on_stage: OnStage | None, sampler: "_RssSampler"):
    def do(stage: str, fn: Callable[[], dict | int | object]) -> None:
        if on_stage:
            on_stage(stage, "start", {})
        sampler.reset()
        started = time.perf_counter()
        try:
            info = fn()
        except (PipelineError, _FallBack):
            raise
        except Exception as exc:
            from linker.stages.resolve import NeedsFullResolution

            if isinstance(exc, NeedsFullResolution):
                raise _FallBack(str(exc)) from exc
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise PipelineError(f"the {stage} stage failed, previous results kept: {first}") from exc
        result.timings[stage] = round(time.perf_counter() - started, 3)
        result.peak_rss_mb[stage] = round(sampler.peak / 2**20, 1)
        if isinstance(info, dict):
            result.counts.update(info)
        if on_stage:
            on_stage(stage, "done", {"seconds": result.timings[stage], **(info if isinstance(info, dict) else {})})
    return do


def _resolve_all(con, seed: int, retrain: bool) -> dict:
    from linker.stages import resolve

    stats = resolve.resolve_entities(con, seed=seed, retrain=retrain)
    model = stats.model or {}
    return {"entities": stats.entities, "model": model.get("state"),
            "model_estimated_at": model.get("estimated_at")}


def _run_full(con, result: RunResult, config: dict, catalogue, on_stage, sampler, seed: int,
              retrain: bool = False) -> None:
    """Every stage over every parcel; results built under staging names and swapped in."""
    from linker.stages import graph, normalise, resolve, signals

    p = STAGE_PREFIX
    do = _stage_runner(result, on_stage, sampler)
    # The working tables are rebuilt stage by stage, outside one transaction: until this run
    # publishes, they are no analysis a later run could extend.
    con.execute(STATE_DDL)
    con.execute("DELETE FROM analysis_state")
    do("normalise", lambda: {"mentions": normalise.build_party_mentions(con)})
    do("resolve", lambda: _resolve_all(con, seed, retrain))
    do("signals", lambda: {"parcel_signals": signals.compute_parcel_signals(con, catalogue)})
    do("graph", lambda: graph.build_graph(con, config["graph"], prefix=p))
    do("detect", lambda: _detect(con, config, p))
    do("score", lambda: _score(con, config, result.run_id, p))
    do("publish", lambda: _publish(con, p, state=(fingerprint(config, catalogue), result.run_id, "full")))


def _run_incremental(con, result: RunResult, config: dict, catalogue, on_stage, sampler) -> None:
    """Extend the stored analysis to the parcels loaded since, in one transaction.

    New parcels get their mentions (normalise; values already normalised come from the
    cache) and their goods signals (each a property of one parcel); the new mentions are
    resolved against the stored parties (resolve.resolve_new_mentions: equal to a full
    resolution); the link graph is updated where a parcel is new or one of its parties
    changed (graph.update_graph); detection and scoring, cheap next to these, run over the
    whole graph. A failure rolls everything back: the store is as it was before the run.
    """
    from linker.stages import graph, normalise, resolve, signals

    p = STAGE_PREFIX
    do = _stage_runner(result, on_stage, sampler)
    analysed_to = int(con.execute("SELECT max_parcel_seq FROM analysis_state").fetchall()[0][0])
    con.execute("BEGIN TRANSACTION")
    try:
        do("normalise", lambda: {"mentions": normalise.build_party_mentions(con, new_only=True)})
        do("resolve", lambda: _resolve_new(con))
        do("signals", lambda: {"parcel_signals": signals.compute_parcel_signals(con, catalogue, after_seq=analysed_to)})
        do("graph", lambda: graph.update_graph(con, config["graph"], changed="_changed_parcels"))
        # the graph is updated in place: detection and scoring read it without the staging prefix
        do("detect", lambda: _detect(con, config, p, graph_prefix=""))
        do("score", lambda: _score(con, config, result.run_id, p, changed="_changed_parcels", graph_prefix=""))
        do("publish", lambda: _publish(con, p, state=(fingerprint(config, catalogue), result.run_id, "incremental"),
                                       tables=INCREMENTAL_STAGED, in_transaction=True))
        con.execute("DROP TABLE IF EXISTS _changed_parcels")
        con.execute("COMMIT")
    except BaseException:
        try:
            con.execute("ROLLBACK")
        except duckdb.Error:
            pass
        raise


def _resolve_new(con) -> dict:
    from linker.stages import resolve

    stats = resolve.resolve_new_mentions(con)
    changed = int(con.execute("SELECT count(*) FROM _changed_parcels").fetchall()[0][0])
    return {"new_mentions": stats.mentions, "touched_entities": stats.entities, "changed_parcels": changed,
            "entities": int(con.execute("SELECT count(*) FROM entities").fetchall()[0][0])}


def _detect(con, config: dict, prefix: str, graph_prefix: str | None = None) -> dict:
    from linker.stages import graph

    report = graph.detect_groups(con, config["graph"], prefix=prefix, graph_prefix=graph_prefix)
    return {"seeds": report.seeds, "components": report.components, "groups": report.groups,
            "grouped_parcels": report.grouped_parcels, "attached_parcels": report.attached_parcels,
            "large_components": report.large_components, "large_component_parcels": report.large_component_parcels}


def _score(con, config: dict, run_id: str, prefix: str, changed: str | None = None,
           graph_prefix: str | None = None) -> dict:
    from linker.stages import score

    n = score.score_groups(con, config, prefix=prefix, graph_prefix=graph_prefix)
    lineage = score.finalise_clusters(con, config, run_id, prefix=prefix, previous="parcel_clusters")
    if changed is None:
        con.execute(
            f"""
            CREATE OR REPLACE TABLE {prefix}party_entities AS
            SELECT parcel_seq, parcel_id, carrier, role, entity_id FROM party_mentions ORDER BY mention_id
            """
        )
    else:  # in place, inside the incremental run's transaction: only the changed parcels
        con.execute(f"DELETE FROM party_entities WHERE parcel_seq IN (SELECT parcel_seq FROM {changed})")
        con.execute(
            f"""
            INSERT INTO party_entities
            SELECT parcel_seq, parcel_id, carrier, role, entity_id FROM party_mentions
            WHERE parcel_seq IN (SELECT parcel_seq FROM {changed}) ORDER BY mention_id
            """
        )
    flagged = con.execute(f"SELECT count(*) FROM {prefix}clusters WHERE flagged").fetchall()[0][0]
    return {"clusters": n, "flagged_clusters": int(flagged), "lineage": lineage}


def _publish(con: duckdb.DuckDBPyConnection, prefix: str, *, state: tuple[str, str, str],
             tables: tuple[str, ...] = RESULT_TABLES, in_transaction: bool = False) -> dict:
    """Swap the staged results in and record what the working tables now hold
    (`analysis_state`), all or nothing. `state` is (fingerprint, run_id, mode)."""
    from linker.stages.score import LINEAGE_DDL

    fp, run_id, mode = state
    con.execute(LINEAGE_DDL.format(name="cluster_lineage"))
    con.execute(STATE_DDL)
    if not in_transaction:
        con.execute("BEGIN TRANSACTION")
    try:
        for table in tables:
            con.execute(f"DROP TABLE IF EXISTS {table}")
            con.execute(f"ALTER TABLE {prefix}{table} RENAME TO {table}")
        # run_seq orders the lineage by run (the latest run's rows have the largest), as in `runs`
        store.ensure_run_seq(con)
        con.execute(
            f"""INSERT INTO cluster_lineage (run_id, cluster_id, event, other_cluster_id, shared_parcels, parcels, other_parcels, run_seq)
                SELECT run_id, cluster_id, event, other_cluster_id, shared_parcels, parcels, other_parcels, ?
                FROM {prefix}cluster_lineage_new""",
            [store.run_seq_of(con, run_id)],
        )
        con.execute(f"DROP TABLE {prefix}cluster_lineage_new")
        con.execute("DROP TABLE IF EXISTS stage_cluster_scores")
        full_run = run_id if mode == "full" else (
            con.execute("SELECT max(full_run_id) FROM analysis_state").fetchall()[0][0])
        con.execute("DELETE FROM analysis_state")
        con.execute(
            """
            INSERT INTO analysis_state
            SELECT ?, count(*), coalesce(max(parcel_seq), -1), ?, ?, ? FROM parcels
            WHERE parcel_seq <= (SELECT coalesce(max(parcel_seq), -1) FROM party_mentions)
            """,
            [fp, run_id, mode, full_run],
        )
        if not in_transaction:
            con.execute("COMMIT")
    except Exception:
        if not in_transaction:
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
    mode: str = "auto",
    retrain: bool = False,
) -> RunResult:
    """`linker run`: open the store, run the pipeline, record the run in `runs`, and publish
    the result as the current snapshot for the dashboard.

    A failure marks the run 'failed' with its one-line error and raises PipelineError;
    the published results stay those of the last good run.
    """
    from linker.nightly import start_run

    con = store.connect(db_path)
    try:
        run_id = new_run_id()
        start_run(con, run_id, kind)
        try:
            result = run_pipeline(con, run_id=run_id, config=config, catalogue=catalogue, on_stage=on_stage, mode=mode,
                                  retrain=retrain)
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
        from linker.store import snapshot

        snapshot.publish(db_path or store.default_db_path(), run_id, con=con)
        return result
    finally:
        con.close()
