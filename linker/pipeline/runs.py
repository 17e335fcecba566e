"""The run ledger: `runs`, one row per `linker run` and per nightly job, written here only.

A run is recorded 'running' when it starts, and 'ok' (with its counts) or 'failed' (with its
one-line error) when it ends; a run still 'running' when the next job takes the lock belonged
to a process that died, and is marked 'abandoned'. `run_seq` orders the runs: each takes one
more than any before it (run ids are start times to the second and can tie).
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from linker.store import schema
from linker.store.connection import StoreBusy, connect, open_snapshot
from linker.store.schema import RUN_SEQ_TABLES, ensure_run_seq, newest_first
from linker.store.snapshot import latest
from linker.store.tables import table_exists


def new_run_id(now: datetime | None = None) -> str:
    """Sortable by time, unique, safe as a file name: 20261121T020000Z-1a2b3c."""
    now = now or datetime.now(timezone.utc)
    return now.strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def utcnow() -> datetime:
    """Now in UTC, as the naive timestamp the ledger stores."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def next_run_seq(con: duckdb.DuckDBPyConnection) -> int:
    """The `run_seq` of a run starting now: one more than any recorded."""
    ensure_run_seq(con)
    tops = [
        f"(SELECT max(run_seq) FROM {t})" for t in RUN_SEQ_TABLES if table_exists(con, t)
    ]
    if not tops:
        return 1
    return int(con.execute(f"SELECT coalesce(greatest({', '.join(tops)}), 0) + 1").fetchall()[0][0])


def run_seq_of(con: duckdb.DuckDBPyConnection, run_id: str) -> int:
    """The `run_seq` of the run `run_id`: its row in `runs` when it has one, else a new number
    (an analysis run on its own, without a history row)."""
    ensure_run_seq(con)
    if table_exists(con, "runs"):
        row = con.execute("SELECT run_seq FROM runs WHERE run_id = ?", [run_id]).fetchall()
        if row and row[0][0] is not None:
            return int(row[0][0])
    return next_run_seq(con)


def start_run(con: duckdb.DuckDBPyConnection, run_id: str, kind: str) -> int:
    """Record a run as 'running' in `runs`; returns its `run_seq`, the number that orders it
    after every run before it (run ids can tie: they are times to the second)."""
    con.execute(schema.RUNS_DDL)
    seq = next_run_seq(con)
    con.execute(
        "INSERT INTO runs (run_id, kind, status, started_at, run_seq) VALUES (?, ?, 'running', ?, ?)",
        [run_id, kind, utcnow(), seq],
    )
    return seq


def finish_run(con: duckdb.DuckDBPyConnection, run_id: str, counts: dict) -> None:
    """Mark the run 'ok', now, with its counts."""
    con.execute(
        "UPDATE runs SET status = 'ok', finished_at = ?, counts = ? WHERE run_id = ?",
        [utcnow(), json.dumps(counts, default=str), run_id],
    )


def fail_run(con: duckdb.DuckDBPyConnection, run_id: str, message: str, counts: dict | None = None) -> None:
    """Mark the run 'failed', now, with its one-line error (and the counts known so far, if given)."""
    if counts is None:
        con.execute(
            "UPDATE runs SET status = 'failed', finished_at = ?, error = ? WHERE run_id = ?",
            [utcnow(), message, run_id],
        )
    else:
        con.execute(
            "UPDATE runs SET status = 'failed', finished_at = ?, counts = ?, error = ? WHERE run_id = ?",
            [utcnow(), json.dumps(counts, default=str), message, run_id],
        )


def mark_abandoned(con: duckdb.DuckDBPyConnection) -> int:
    """Runs still 'running' while we hold the lock belong to a job that died; say so."""
    n = con.execute("SELECT count(*) FROM runs WHERE status = 'running'").fetchone()[0]
    if n:
        con.execute(
            "UPDATE runs SET status = 'abandoned', error = coalesce(error, 'the job stopped before finishing (killed or crashed)') WHERE status = 'running'"
        )
    return int(n)


def list_runs(db_path: str | Path, limit: int = 50) -> tuple[list[dict], str]:
    """The run history, newest first, and where it was read from.

    Reads the working store read-only; while a job holds it for writing, reads the current
    snapshot instead (its history stops at that snapshot's run).
    """
    db = Path(db_path)
    source = str(db)
    try:
        con = connect(db, read_only=True)
    except StoreBusy:
        current = latest(db)
        if current is None:
            raise
        con = open_snapshot(current)
        source = f"{current} (the store is busy with a run; history as of that snapshot)"
    try:
        if not table_exists(con, "runs"):
            return [], source
        rows = con.execute(
            f"""SELECT run_id, kind, status, started_at, finished_at,
                      date_diff('millisecond', started_at, finished_at) / 1000.0 AS seconds, counts, error
               FROM runs ORDER BY {newest_first(con)} LIMIT ?""",
            [limit],
        ).fetchall()
    finally:
        con.close()
    out = []
    for run_id, kind, status, started, finished, seconds, counts, error in rows:
        out.append(
            {
                "run_id": str(run_id),
                "kind": kind,
                "status": status,
                "started_at": started.isoformat() if started else None,
                "finished_at": finished.isoformat() if finished else None,
                "seconds": seconds,
                "counts": json.loads(counts) if isinstance(counts, str) else counts,
                "error": error,
            }
        )
    return out, source
