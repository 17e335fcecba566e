"""The nightly job: load tonight's files, analyse, publish a snapshot, write the morning report.

    linker nightly --incoming DIR --reports DIR [--db PATH] [--date YYYY-MM-DD]

One night, in order, all under an exclusive lock on `<db>.lock` (`fcntl.flock`; a second copy
started meanwhile exits at once with a clear message):

1. Any run left 'running' in the history by a killed job is marked 'abandoned'.
2. Ingest the files in the incoming folder; files loaded before (same bytes) are skipped.
3. If the files in the store are exactly those behind the current snapshot, the analysis is
   not repeated (a re-run of the same night, or a night with nothing new). Otherwise run the
   pipeline on the working store, record its clusters in `run_clusters` (so later nights can
   say what changed even after old snapshots are pruned) and publish a new snapshot. In the
   snapshot's copy of `runs` this run is already finished ('ok', with the counts known at that
   moment), so a reader of the snapshot names it as the last run; the working store's row is
   finished at step 5.
4. Write `reports/<date>/` from the snapshot, compared with the run behind the latest report
   dated before tonight (so re-running a night compares with the same baseline and writes
   the same report), and note it in `nightly_reports`.
5. Record the outcome in `runs` (kind 'nightly'): start, end, status, counts, error.

A failure at any step leaves the previous snapshot current and the previous reports in place,
records the error, and exits non-zero. A kill at any moment does the same (the snapshot and
report swaps are atomic renames; the store's own write-ahead log undoes half a transaction).
"""

from __future__ import annotations

import errno
import fcntl
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Callable, Iterator

import duckdb

from linker import store
from linker.casework.watchlist import load_watchlist
from linker.errors import LinkerError, one_line
from linker.outputs.report import Baseline, write_report
from linker.pipeline import analysis, runs
from linker.pipeline.runs import new_run_id
from linker.store import schema, snapshot
from linker.store.tables import RUN_CLUSTER_COLUMNS

# The analysis step: (working-store connection, run id) -> anything with optional `counts` and
# `timings` dicts. The default is the analysis of `linker run`; tests pass small stand-ins.
Analyse = Callable[[duckdb.DuckDBPyConnection, str], object]


class NightlyError(LinkerError):
    """The night failed; the message is one sentence and the previous results stand."""


class NightlyBusy(NightlyError):
    """Another nightly job holds the lock."""


@dataclass
class NightlyResult:
    run_id: str
    report_date: str
    report_dir: Path
    snapshot: Path
    analysed: bool
    counts: dict = field(default_factory=dict)

    def describe(self) -> str:
        c = self.counts
        if not self.analysed:
            what = "nothing new to analyse, kept the current results"
        else:
            pc = c.get("pipeline_counts") or {}
            if pc.get("mode") == "incremental":
                what = f"extended the last analysis ({pc.get('changed_parcels', 0):,} parcels new or with a changed party)"
            else:
                what = f"analysed in full ({pc.get('full_reason') or 'asked for'})"
        return (
            f"night {self.report_date}: {c.get('rows_loaded', 0):,} parcels loaded, {c.get('rows_quarantined', 0):,} quarantined, "
            f"{c.get('files_loaded', 0)} new files, {c.get('files_already_loaded', 0)} already loaded; {what}; "
            f"{c.get('flagged_clusters', 0):,} clusters flagged; report {self.report_dir}"
            + (f"; {c['files_unreadable']} files could not be read (listed in the report)" if c.get("files_unreadable") else "")
        )


def lock_path(db_path: str | Path) -> Path:
    db = Path(db_path)
    return db.with_name(db.name + ".lock")


@contextmanager
def nightly_lock(db_path: str | Path) -> Iterator[None]:
    """Hold `<db>.lock` exclusively for the block, or raise NightlyBusy at once.

    flock locks belong to the open file and vanish when the process dies, however it dies, so
    a killed job never leaves a stale lock behind. The file itself stays (removing it would let
    two processes lock two different files of the same name).
    """
    path = lock_path(db_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            raise NightlyBusy(
                f"another nightly job is already running on {db_path} (pid {holder}, lock {path}); this one did nothing"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)


def files_fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    """Which files the store holds, as one string: equal fingerprints mean the same input."""
    n, top, digest = con.execute(
        "SELECT count(*), coalesce(max(file_id), 0), coalesce(md5(string_agg(sha256, ',' ORDER BY sha256)), '') FROM files"
    ).fetchone()
    return f"{n}:{top}:{digest}"


def snapshot_fingerprint(path: Path) -> str | None:
    con = store.open_snapshot(path)
    try:
        return files_fingerprint(con)
    except duckdb.Error:
        return None
    finally:
        con.close()


def snapshot_run_id(path: Path) -> str:
    return path.name[: -len(snapshot.SUFFIX)]


def record_run_clusters(con: duckdb.DuckDBPyConnection, run_id: str) -> int:
    con.execute("DELETE FROM run_clusters WHERE run_id = ?", [run_id])
    if not store.table_exists(con, "clusters"):
        return 0
    cols = [c for c in RUN_CLUSTER_COLUMNS if store.column_exists(con, "clusters", c)]
    con.execute(
        f"INSERT INTO run_clusters (run_id, {', '.join(cols)}) SELECT ?, {', '.join(cols)} FROM clusters", [run_id]
    )
    return int(con.execute("SELECT count(*) FROM run_clusters WHERE run_id = ?", [run_id]).fetchone()[0])


def baseline_for(con: duckdb.DuckDBPyConnection, report_date: str) -> Baseline | None:
    row = con.execute(
        "SELECT run_id, report_date, max_file_id FROM nightly_reports WHERE report_date < ?::DATE ORDER BY report_date DESC LIMIT 1",
        [report_date],
    ).fetchone()
    return Baseline(row[0], row[1].isoformat(), int(row[2])) if row else None


def run_nightly(
    db_path: str | Path,
    incoming: str | Path,
    reports_dir: str | Path,
    *,
    report_date: str | None = None,
    force: bool = False,
    keep: int = snapshot.KEEP_SNAPSHOTS,
    grace_seconds: float = snapshot.GRACE_SECONDS,
    analyse: Analyse | None = None,
    progress: bool = False,
    console=None,
    full: bool = False,
) -> NightlyResult:
    """One night's job (see the module docstring). `force` re-analyses even when no file is new;
    `full` analyses every parcel again instead of extending the last analysis.

    Example:
        >>> run_nightly("store.duckdb", "incoming/", "reports/").describe()
    """
    db = Path(db_path)
    incoming = Path(incoming)
    if not incoming.is_dir():
        raise NightlyError(f"the incoming folder {incoming} does not exist")
    report_date = report_date or date.today().isoformat()  # the run's local date
    try:
        date.fromisoformat(report_date)
    except ValueError:
        raise NightlyError(f"--date must be YYYY-MM-DD, not {report_date!r}") from None
    if analyse is None:
        def analyse(con: duckdb.DuckDBPyConnection, run_id: str) -> object:
            return analysis.analyse(con, run_id=run_id, mode="full" if full else "auto")

    with nightly_lock(db):
        run_id = new_run_id()
        con = store.connect(db)
        counts: dict = {"report_date": report_date}
        try:
            schema.create_run_history(con)
            counts["abandoned_runs_marked"] = runs.mark_abandoned(con)
            runs.start_run(con, run_id, "nightly")
            # Checkpoint so the 'running' row is on disk even if we are killed next.
            con.execute("CHECKPOINT")
            problems = _ingest(con, incoming, counts, progress, console)
            current = snapshot.latest(db)
            analysed = force or current is None or snapshot_fingerprint(current) != files_fingerprint(con)
            if analysed:
                current = _analyse_and_publish(con, db, run_id, analyse, counts, keep, grace_seconds)
            counts["snapshot"] = current.name
            counts["analysed"] = analysed
            report_dir = _report(con, db, current, reports_dir, report_date, run_id, counts, problems)
            runs.finish_run(con, run_id, counts)
            con.execute("CHECKPOINT")
            return NightlyResult(run_id, report_date, report_dir, current, analysed, counts)
        except Exception as exc:
            message = one_line(exc)
            try:
                con.execute("ROLLBACK")
            except duckdb.Error:
                pass
            try:
                runs.fail_run(con, run_id, message, counts)
            except duckdb.Error:
                pass  # the history is best effort when the store itself is the problem
            if isinstance(exc, NightlyError):
                raise
            raise NightlyError(f"the night failed, previous results kept: {message}") from exc
        finally:
            con.close()


def _ingest(con: duckdb.DuckDBPyConnection, incoming: Path, counts: dict, progress: bool, console) -> list[str]:
    """Step 2: load the incoming folder's new files; returns the files that could not be read."""
    from linker.stages.ingest import ingest_paths

    t0 = time.perf_counter()
    ingested = ingest_paths(con, [incoming], progress=progress, console=console)
    counts.update(
        rows_loaded=ingested.rows_loaded,
        rows_quarantined=ingested.rows_quarantined,
        rows_duplicate=ingested.rows_duplicate,
        files_loaded=ingested.files_loaded,
        files_already_loaded=ingested.files_already_loaded,
        files_unreadable=len(ingested.problems),
        problems=ingested.problems[:20],
        ingest_s=round(time.perf_counter() - t0, 3),
    )
    return ingested.problems


def _analyse_and_publish(con: duckdb.DuckDBPyConnection, db: Path, run_id: str, analyse: Analyse, counts: dict,
                         keep: int, grace_seconds: float) -> Path:
    """Step 3: analyse, keep the run's clusters, publish the snapshot; returns its path."""
    t1 = time.perf_counter()
    outcome = analyse(con, run_id)
    counts["analyse_s"] = round(time.perf_counter() - t1, 3)
    for name in ("counts", "timings"):
        if isinstance(getattr(outcome, name, None), dict):
            counts[f"pipeline_{name}"] = getattr(outcome, name)
    record_run_clusters(con, run_id)
    t2 = time.perf_counter()
    # The snapshot is this run's result: its own history says so (finished, with the counts
    # known now), or the dashboard would name the run before it as the last.
    finished = dict(counts, analysed=True, snapshot=f"{run_id}{snapshot.SUFFIX}")
    published = snapshot.publish(db, run_id, con=con, keep=keep, grace_seconds=grace_seconds,
                                 amend=lambda copy: runs.finish_run(copy, run_id, finished))
    counts["publish_s"] = round(time.perf_counter() - t2, 3)
    return published


def _report(con: duckdb.DuckDBPyConnection, db: Path, current: Path, reports_dir: str | Path, report_date: str,
            run_id: str, counts: dict, problems: list[str]) -> Path:
    """Step 4: tonight's report from the snapshot, against the baseline, noted in `nightly_reports`."""
    shown_run = snapshot_run_id(current)
    baseline = baseline_for(con, report_date)
    t3 = time.perf_counter()
    report_dir = write_report(
        current, reports_dir, report_date=report_date, run_id=shown_run, baseline=baseline,
        watch_items=load_watchlist(db), unreadable_files=problems,
    )
    counts["report_s"] = round(time.perf_counter() - t3, 3)
    snap_con = store.open_snapshot(current)
    try:
        st = store.status(snap_con)
        max_file_id = snap_con.execute("SELECT coalesce(max(file_id), 0) FROM files").fetchone()[0]
    finally:
        snap_con.close()
    counts.update(parcels=st.parcels, clusters=st.clusters or 0, flagged_clusters=st.flagged_clusters or 0)
    con.execute(
        """INSERT OR REPLACE INTO nightly_reports (report_date, run_id, nightly_id, max_file_id, written_at, path)
           VALUES (?::DATE, ?, ?, ?, ?, ?)""",
        [report_date, shown_run, run_id, int(max_file_id), runs.utcnow(), str(report_dir)],
    )
    return report_dir
