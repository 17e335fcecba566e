"""`linker run`: every analysis stage over everything loaded, in order, with timings.

normalise -> resolve -> signals -> graph -> detect -> score -> pages -> publish.

One list of steps (`STEPS`) serves both kinds of run; each step does its stage in full or for
the parcels loaded since, as the run asks:

- a full run rebuilds the working tables stage by stage (`party_mentions`, `entities`,
  `parcel_signals`, ...). The results that users, the export and the dashboard read
  (`graph_nodes`, `graph_edges`, `parcel_clusters`, `clusters`, `cluster_signals`,
  `party_entities`, the page and search tables) are built under staging names (`stage_*`) and swapped in by one
  transaction at the end, together with this run's rows of `cluster_lineage`: a run that fails
  at any point leaves the previous results as they were;
- an incremental run (the default once a full one has run) is one transaction from start to
  end: new parcels get their mentions and goods signals, the new mentions are resolved against
  the stored parties, the graph is updated where a parcel is new or one of its parties changed,
  and detection and scoring, cheap next to these, run over the whole graph; the page and
  search tables are written again for what changed.

Stable cluster ids are matched against the previous `parcel_clusters`, so they survive re-runs.
`run(db_path)` records the run in the ledger (`linker.pipeline.runs`) and publishes a snapshot;
`analyse(con)` is the analysis alone, for callers that keep their own record (the nightly job).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import duckdb

from linker.errors import one_line
from linker.pipeline import runs
from linker.pipeline.runs import new_run_id
from linker.pipeline.runner import FallBack, OnStage, PipelineError, RssSampler, RunResult, StageRunner
from linker.store import connection, schema, snapshot
from linker.store.tables import INCREMENTAL_STAGED, RESULT_TABLES, STAGE_PREFIX, table_exists

__all__ = ["MODES", "STAGES", "PipelineError", "RunResult", "analyse", "fingerprint", "full_run_reason", "run"]

MODES = ("auto", "full", "incremental")
# The parcels an incremental run's resolution found new or with a changed party; later steps
# of the run read it (a temporary table, dropped before the run commits).
CHANGED_PARCELS = "_changed_parcels"
# ... and the parties whose row, links or household may have changed (resolve._changed_entities_sql).
CHANGED_ENTITIES = "_changed_entities"


@dataclass(frozen=True)
class Analysis:
    """What the steps of one run share: the connection, the settings, and which kind of run."""

    con: duckdb.DuckDBPyConnection
    config: dict
    catalogue: object
    run_id: str
    incremental: bool
    seed: int = 42
    retrain: bool = False
    analysed_to: int | None = None  # an incremental run: the last parcel_seq analysed before

    @property
    def mode(self) -> str:
        return "incremental" if self.incremental else "full"

    @property
    def graph_prefix(self) -> str | None:
        """Where detection and scoring read the graph: an incremental run updates it in place."""
        return "" if self.incremental else None


# ---------------------------------------------------------------- the steps


def _normalise(a: Analysis) -> dict:
    from linker.stages import normalise

    return {"mentions": normalise.build_party_mentions(a.con, new_only=a.incremental)}


def _resolve(a: Analysis) -> dict:
    """A full run resolves every mention; an incremental one the new mentions against the
    stored parties (equal to a full resolution), writing CHANGED_PARCELS."""
    from linker.stages import resolve

    if not a.incremental:
        stats = resolve.resolve_entities(a.con, seed=a.seed, retrain=a.retrain)
        model = stats.model or {}
        return {"entities": stats.entities, "model": model.get("state"),
                "model_estimated_at": model.get("estimated_at")}
    stats = resolve.resolve_new_mentions(a.con)
    changed = int(a.con.execute(f"SELECT count(*) FROM {CHANGED_PARCELS}").fetchall()[0][0])
    return {"new_mentions": stats.mentions, "touched_entities": stats.entities, "changed_parcels": changed,
            "entities": int(a.con.execute("SELECT count(*) FROM entities").fetchall()[0][0])}


def _signals(a: Analysis) -> dict:
    from linker.stages import signals

    return {"parcel_signals": signals.compute_parcel_signals(a.con, a.catalogue, after_seq=a.analysed_to)}


def _graph(a: Analysis) -> dict:
    from linker.stages import graph

    if a.incremental:
        return graph.update_graph(a.con, a.config["graph"], changed=CHANGED_PARCELS)
    return graph.build_graph(a.con, a.config["graph"], prefix=STAGE_PREFIX)


def _detect(a: Analysis) -> dict:
    from linker.stages import detect

    return detect.detect_groups(a.con, a.config["graph"], prefix=STAGE_PREFIX, graph_prefix=a.graph_prefix).counts()


def _score(a: Analysis) -> dict:
    """Scores, summaries and stable ids of the groups; `party_entities` follows the parties
    (in full under its staging name, or in place for the parcels the run changed)."""
    from linker.stages import lineage, score, summary

    con, p = a.con, STAGE_PREFIX
    n = score.score_groups(con, a.config, prefix=p, graph_prefix=a.graph_prefix)
    ranked = summary.rank_and_summarise(con, prefix=p)
    events = lineage.assign_cluster_ids(con, a.run_id, prefix=p, previous="parcel_clusters")
    summary.write_clusters(con, a.config, a.run_id, ranked, prefix=p)
    if not a.incremental:
        con.execute(
            f"""
            CREATE OR REPLACE TABLE {p}party_entities AS
            SELECT parcel_seq, parcel_id, carrier, role, entity_id FROM party_mentions ORDER BY mention_id
            """
        )
    else:  # in place, inside the incremental run's transaction: only the changed parcels
        con.execute(f"DELETE FROM party_entities WHERE parcel_seq IN (SELECT parcel_seq FROM {CHANGED_PARCELS})")
        con.execute(
            f"""
            INSERT INTO party_entities
            SELECT parcel_seq, parcel_id, carrier, role, entity_id FROM party_mentions
            WHERE parcel_seq IN (SELECT parcel_seq FROM {CHANGED_PARCELS}) ORDER BY mention_id
            """
        )
    flagged = con.execute(f"SELECT count(*) FROM {p}clusters WHERE flagged").fetchall()[0][0]
    return {"clusters": n, "flagged_clusters": int(flagged), "lineage": events}


# The clusters whose page tables an incremental run writes again (a temp table).
CHANGED_CLUSTERS = "_changed_clusters"


def _pages(a: Analysis) -> dict:
    """What the dashboard reads: per cluster (linker.stages.pages) and for search
    (linker.stages.search). A full run writes them under staging names; an
    incremental one in place, the rows of the clusters whose parcels, parties or households
    may read differently tonight and the values of tonight's mentions."""
    from linker.stages import pages, search

    con, p = a.con, STAGE_PREFIX
    if not a.incremental:
        search.write_index(con, target=p)
        return pages.write_pages(con, results=p, target=p)
    search.write_index(con, after_seq=a.analysed_to)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE {CHANGED_CLUSTERS} AS
        WITH now AS (SELECT cluster_id, parcel_seq, est_controlled_kg FROM {p}parcel_clusters),
        before AS (SELECT cluster_id, parcel_seq, est_controlled_kg FROM parcel_clusters)
        SELECT cluster_id FROM (SELECT * FROM now EXCEPT SELECT * FROM before)
        UNION SELECT cluster_id FROM (SELECT * FROM before EXCEPT SELECT * FROM now)
        UNION SELECT pc.cluster_id FROM {p}parcel_clusters pc SEMI JOIN {CHANGED_PARCELS} USING (parcel_seq)
        UNION SELECT pc.cluster_id FROM {p}parcel_clusters pc JOIN party_mentions m USING (parcel_seq)
              SEMI JOIN {CHANGED_ENTITIES} USING (entity_id)"""
    )
    try:
        return pages.write_pages(con, results=p, changed=CHANGED_CLUSTERS)
    finally:
        con.execute(f"DROP TABLE {CHANGED_CLUSTERS}")


def _publish(a: Analysis) -> dict:
    """Swap the staged results in and record what the working tables now hold
    (`analysis_state`), all or nothing: in its own transaction for a full run, inside the
    run's transaction for an incremental one."""
    con, p = a.con, STAGE_PREFIX
    fp = fingerprint(a.config, a.catalogue)
    tables = INCREMENTAL_STAGED if a.incremental else RESULT_TABLES
    con.execute(schema.LINEAGE_DDL.format(name="cluster_lineage"))
    con.execute(schema.ANALYSIS_STATE_DDL)
    if not a.incremental:
        con.execute("BEGIN TRANSACTION")
    try:
        for table in tables:
            con.execute(f"DROP TABLE IF EXISTS {table}")
            con.execute(f"ALTER TABLE {p}{table} RENAME TO {table}")
        # run_seq orders the lineage by run (the latest run's rows have the largest), as in `runs`
        schema.ensure_run_seq(con)
        con.execute(
            f"""INSERT INTO cluster_lineage (run_id, cluster_id, event, other_cluster_id, shared_parcels, parcels, other_parcels, run_seq)
                SELECT run_id, cluster_id, event, other_cluster_id, shared_parcels, parcels, other_parcels, ?
                FROM {p}cluster_lineage_new""",
            [runs.run_seq_of(con, a.run_id)],
        )
        con.execute(f"DROP TABLE {p}cluster_lineage_new")
        con.execute(f"DROP TABLE IF EXISTS {p}cluster_scores")
        full_run = a.run_id if not a.incremental else (
            con.execute("SELECT max(full_run_id) FROM analysis_state").fetchall()[0][0])
        con.execute("DELETE FROM analysis_state")
        con.execute(
            """
            INSERT INTO analysis_state
            SELECT ?, count(*), coalesce(max(parcel_seq), -1), ?, ?, ? FROM parcels
            WHERE parcel_seq <= (SELECT coalesce(max(parcel_seq), -1) FROM party_mentions)
            """,
            [fp, a.run_id, a.mode, full_run],
        )
        if not a.incremental:
            con.execute("COMMIT")
    except Exception:
        if not a.incremental:
            con.execute("ROLLBACK")
        raise
    return {}


# The steps of every run, in order: (stage, what it does for a full or an incremental run).
STEPS: tuple[tuple[str, Callable[[Analysis], dict]], ...] = (
    ("normalise", _normalise),
    ("resolve", _resolve),
    ("signals", _signals),
    ("graph", _graph),
    ("detect", _detect),
    ("score", _score),
    ("pages", _pages),
    ("publish", _publish),
)
STAGES = tuple(stage for stage, _ in STEPS)


def _run_steps(a: Analysis, runner: StageRunner) -> None:
    for stage, step in STEPS:
        runner.run(stage, lambda step=step: step(a))


def _run_full(a: Analysis, runner: StageRunner) -> None:
    """Every stage over every parcel; results built under staging names and swapped in."""
    # The working tables are rebuilt stage by stage, outside one transaction: until this run
    # publishes, they are no analysis a later run could extend.
    a.con.execute(schema.ANALYSIS_STATE_DDL)
    a.con.execute("DELETE FROM analysis_state")
    _run_steps(a, runner)


def _run_incremental(a: Analysis, runner: StageRunner) -> None:
    """Extend the stored analysis to the parcels loaded since, in one transaction. A failure
    rolls everything back: the store is as it was before the run."""
    con = a.con
    con.execute("BEGIN TRANSACTION")
    try:
        _run_steps(a, runner)
        con.execute(f"DROP TABLE IF EXISTS {CHANGED_PARCELS}")
        con.execute(f"DROP TABLE IF EXISTS {CHANGED_ENTITIES}")
        con.execute("COMMIT")
    except BaseException:
        try:
            con.execute("ROLLBACK")
        except duckdb.Error:
            pass
        raise


# ---------------------------------------------------------------- full or incremental


def _analysis_code() -> list[Path]:
    """The code that decides what the working tables hold: the analysis stages (not ingest),
    the settings' loaders and this module (ingest, reports, the CLI and the dashboard do not:
    a change there needs no full run)."""
    linker_dir = Path(__file__).parents[1]
    stages = [p for p in sorted((linker_dir / "stages").glob("*.py")) if p.name not in ("__init__.py", "ingest.py")]
    settings = [p for p in sorted((linker_dir / "settings").glob("*.py")) if p.name != "__init__.py"]
    return stages + settings + [Path(__file__), linker_dir / "store" / "sql.py"]


def fingerprint(config: dict, catalogue) -> str:
    """What stored working tables depend on besides the parcels: the analysis code and settings
    files, the versions of the engines behind them, the scoring settings and the catalogue. An
    incremental run extends the stored analysis only when it is unchanged (an upgrade or a new
    setting means a full run)."""
    import hashlib
    import importlib.metadata as md

    from linker.stages import normalise

    settings_dir = Path(__file__).parents[1] / "settings"
    digest = hashlib.sha256()
    for path in _analysis_code() + sorted(settings_dir.glob("*.toml")):
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

    if not table_exists(con, "analysis_state"):
        return "no earlier analysis to extend"
    state = con.execute("SELECT fingerprint, parcels, max_parcel_seq FROM analysis_state").fetchall()
    if len(state) != 1:
        return "no earlier analysis to extend"
    fp, parcels, max_seq = state[0]
    if fp != fingerprint(config, catalogue):
        return "the code, settings or catalogue changed since the last analysis"
    for table in ("party_mentions", "graph_uses", *RESULT_TABLES):
        if not table_exists(con, table):
            return f"the working table {table} is missing"
    seen = con.execute("SELECT count(*) FROM parcels WHERE parcel_seq <= ?", [max_seq]).fetchall()[0][0]
    if seen != parcels:
        return "parcels analysed before are no longer as they were"
    mentioned = con.execute("SELECT coalesce(max(parcel_seq), -1) FROM party_mentions").fetchall()[0][0]
    if mentioned != max_seq:
        return "the working tables are not those of the last analysis"
    return resolve.can_extend(con)


def analyse(
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
    """Run the analysis and publish its results into the working store.

    `retrain` estimates the resolution model again (see resolve.estimate_model), which
    needs a full run; otherwise the model stored by the first full run is kept.

    `mode` "full" analyses every parcel; "incremental" extends the stored analysis to the
    parcels loaded since and fails if it cannot; "auto" (the default) extends when it can and
    otherwise runs in full. `counts["mode"]` says which ran and `counts["full_reason"]` why a
    full run was needed.

    Example:
        >>> con = store.connect("store.duckdb")
        >>> analyse(con).counts["flagged_clusters"]
    """
    from linker.settings.catalogue import load_catalogue
    from linker.settings.scoring import load_scoring
    from linker.stages import resolve

    if mode not in MODES:
        raise PipelineError(f"unknown run mode {mode!r}: use one of {', '.join(MODES)}")
    config = config or load_scoring()
    catalogue = catalogue or load_catalogue()
    result = RunResult(run_id or new_run_id())
    parcels = con.execute("SELECT count(*) FROM parcels").fetchall()[0][0]
    if not parcels:
        raise PipelineError("the store holds no parcels: load some first with `linker ingest FILE`")
    con.execute(f"SET memory_limit = '{connection.memory_limit(parcels)}'")  # grows with a big history
    if retrain and mode == "incremental":
        raise PipelineError("a new resolution model needs a full run: drop --retrain or run in full")
    reason = ("a new resolution model was asked for" if retrain else
              "a full run was asked for" if mode == "full" else full_run_reason(con, config, catalogue))
    if mode == "incremental" and reason:
        raise PipelineError(f"cannot extend the last analysis: {reason}; run it in full")
    with RssSampler() as sampler:
        runner = StageRunner(result, sampler, on_stage, fall_back_on=(resolve.NeedsFullResolution,))
        if reason is None:
            analysed_to = int(con.execute("SELECT max_parcel_seq FROM analysis_state").fetchall()[0][0])
            try:
                _run_incremental(Analysis(con, config, catalogue, result.run_id, True, analysed_to=analysed_to), runner)
            except FallBack as exc:
                if mode == "incremental":
                    raise PipelineError(f"cannot extend the last analysis: {exc}; run it in full") from None
                reason = str(exc)
                result.timings.clear()
                result.counts.clear()
        if reason is not None:
            _run_full(Analysis(con, config, catalogue, result.run_id, False, seed=seed, retrain=retrain), runner)
    result.counts["mode"] = "full" if reason else "incremental"
    result.counts["full_reason"] = reason
    result.counts["parcels"] = int(con.execute("SELECT count(*) FROM parcels").fetchall()[0][0])
    return result


def _drop_staging(con: duckdb.DuckDBPyConnection) -> None:
    for table in (*RESULT_TABLES, "cluster_scores", "cluster_lineage_new"):
        try:
            con.execute(f"DROP TABLE IF EXISTS {STAGE_PREFIX}{table}")
        except duckdb.Error:
            pass


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
    """`linker run`: open the store, run the analysis, record the run in `runs`, and publish
    the result as the current snapshot for the dashboard.

    A failure marks the run 'failed' with its one-line error and raises PipelineError;
    the published results stay those of the last good run.
    """
    con = connection.connect(db_path)
    try:
        run_id = new_run_id()
        runs.start_run(con, run_id, kind)
        try:
            result = analyse(con, run_id=run_id, config=config, catalogue=catalogue, on_stage=on_stage, mode=mode,
                             retrain=retrain)
        except Exception as exc:
            try:
                con.execute("ROLLBACK")
            except duckdb.Error:
                pass
            _drop_staging(con)
            message = one_line(exc)
            runs.fail_run(con, run_id, message)
            if isinstance(exc, PipelineError):
                raise
            raise PipelineError(f"the run failed, previous results kept: {message}") from exc
        runs.finish_run(con, run_id, {**result.counts, "seconds": result.timings, "peak_rss_mb": result.peak_rss_mb})
        con.execute("CHECKPOINT")
        # The dashboard reads published snapshots only, so a plain `linker run` publishes too;
        # the nightly job publishes on its own after its report is built.
        snapshot.publish(db_path or connection.default_db_path(), run_id, con=con)
        return result
    finally:
        con.close()
