"""Published snapshots of the store: what readers (dashboard, reports) open, never the working file.

DuckDB lets one process write a database file or many processes read it, never both at once.
So the working store (`linker.duckdb`) belongs to whoever ingests and runs, and readers open a
*snapshot*: after a successful run the working store is checkpointed (its write-ahead log
folded into the file) and copied byte for byte to `<db>.snapshots/<run_id>.duckdb`. The copy
is written under a temporary name, fsynced, checked by opening it read-only, and only then
renamed into place. Finally a small pointer file `CURRENT`, holding the snapshot's file name,
is replaced atomically with `os.replace`.

A reader calls `latest(db_path)` on each page load and opens that file read-only. Whatever
moment a publishing process dies at, `CURRENT` names either the old complete snapshot or the
new complete one, never a half-written file. Old snapshots are pruned by `prune()`: keep the
newest N, never the current one, never one younger than a grace period (a reader that looked
up the pointer a moment ago may be about to open it).

    >>> path = publish("linker.duckdb", "20261121T020000Z-1a2b3c")   # after `linker run`
    >>> con = open_latest("linker.duckdb")                         # a reader
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import duckdb

from linker.store.connection import StoreError, connect, open_snapshot

POINTER = "CURRENT"
SUFFIX = ".duckdb"
PARTIAL_MARK = ".partial-"
KEEP_SNAPSHOTS = 3
GRACE_SECONDS = 600

_SAFE_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


def snapshots_dir(db_path: str | Path) -> Path:
    """The folder holding the published snapshots of the store at `db_path`."""
    db = Path(db_path)
    return db.with_name(db.name + ".snapshots")


def snapshot_path(db_path: str | Path, run_id: str) -> Path:
    run_id = str(run_id)
    if not _SAFE_RUN_ID.match(run_id) or run_id.endswith(SUFFIX):
        raise StoreError(f"run id {run_id!r} cannot name a snapshot file (letters, digits, '_', '.', '-' only)")
    return snapshots_dir(db_path) / f"{run_id}{SUFFIX}"


def latest(db_path: str | Path) -> Path | None:
    """The snapshot readers should open now, or None if nothing was ever published.

    Reads the pointer file; if the pointer is missing or names a file that no longer exists
    (removed by hand), falls back to the newest complete snapshot in the folder.
    """
    folder = snapshots_dir(db_path)
    try:
        name = (folder / POINTER).read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        name = ""
    if name and "/" not in name and "\\" not in name and name.endswith(SUFFIX):
        candidate = folder / name
        if candidate.is_file():
            return candidate
    snapshots = list_snapshots(db_path)
    return snapshots[-1].path if snapshots else None


def open_latest(db_path: str | Path) -> duckdb.DuckDBPyConnection | None:
    """A read-only connection to the current snapshot (None if none published). Close it when done."""
    path = latest(db_path)
    return None if path is None else open_snapshot(path)


@dataclass(frozen=True)
class Snapshot:
    run_id: str
    path: Path
    published_at: float  # mtime, seconds since the epoch
    size_bytes: int
    current: bool


def list_snapshots(db_path: str | Path) -> list[Snapshot]:
    """Complete snapshots, oldest first (by publication time, then name)."""
    folder = snapshots_dir(db_path)
    if not folder.is_dir():
        return []
    try:
        current = (folder / POINTER).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        current = ""
    found = []
    for entry in folder.iterdir():
        if not entry.name.endswith(SUFFIX) or PARTIAL_MARK in entry.name or not entry.is_file():
            continue
        st = entry.stat()
        found.append(Snapshot(entry.name[: -len(SUFFIX)], entry, st.st_mtime, st.st_size, entry.name == current))
    found.sort(key=lambda s: (s.published_at, s.run_id))
    return found


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _copy_fsynced(src: Path, dst: Path) -> None:
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        size = os.fstat(fin.fileno()).st_size
        copied = 0
        while copied < size:
            # copy_file_range stays in the kernel (and can reflink on filesystems that allow it).
            n = os.copy_file_range(fin.fileno(), fout.fileno(), size - copied)
            if n == 0:
                break
            copied += n
        fout.flush()
        os.fsync(fout.fileno())
    if copied != size:
        raise StoreError(f"copying {src} to {dst} stopped after {copied} of {size} bytes")


def _checkpoint(db: Path, con: duckdb.DuckDBPyConnection | None) -> None:
    """Fold the write-ahead log into the database file, so the file alone is the whole store."""
    if con is not None:
        con.execute("CHECKPOINT")
        return
    # Inside one process DuckDB shares one instance per file, so this also works while the
    # caller still holds its own connection; from another process it fails with StoreBusy.
    own = connect(db)
    try:
        own.execute("CHECKPOINT")
    finally:
        own.close()


def _amend(partial: Path, amend: Callable[[duckdb.DuckDBPyConnection], None]) -> None:
    """Apply `amend` to the copy and fold its write-ahead log into it, so the file alone is the
    snapshot again (only the file is renamed into place)."""
    con = open_snapshot(partial, read_only=False)
    try:
        amend(con)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    wal = partial.with_name(partial.name + ".wal")
    if wal.exists():
        wal.unlink()
        raise StoreError(f"the snapshot copy {partial.name} kept a write-ahead log after its amendment")
    fd = os.open(partial, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_pointer(db_path: str | Path, snapshot: Path) -> None:
    """Point readers at `snapshot` (a file inside the snapshots folder), atomically."""
    folder = snapshots_dir(db_path)
    tmp = folder / f".{POINTER}.{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(snapshot.name + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, folder / POINTER)
    _fsync_dir(folder)


def publish(
    db_path: str | Path,
    run_id: str,
    *,
    con: duckdb.DuckDBPyConnection | None = None,
    keep: int = KEEP_SNAPSHOTS,
    grace_seconds: float = GRACE_SECONDS,
    amend: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
) -> Path:
    """Copy the working store to a new snapshot named after `run_id` and make it the current one.

    Call it after a successful run, with no other process writing the store. Pass `con` if
    this process holds the store open for writing. Returns the snapshot's path. Publishing the
    same run id twice replaces that snapshot with a fresh copy.

    `amend`, if given, is called with a writable connection to the copy before the copy is
    checked and made current: what the copy should say that the working store cannot say yet
    (the nightly job marks its own run finished there, while in the working store the run
    goes on to write its report).
    """
    db = Path(db_path)
    if not db.is_file():
        raise StoreError(f"no store at {db} to publish")
    final = snapshot_path(db, run_id)
    _checkpoint(db, con)
    wal = db.with_name(db.name + ".wal")
    if wal.exists() and wal.stat().st_size > 0:
        raise StoreError(f"the store {db} still has unsaved changes in {wal.name} after a checkpoint; is another process writing it?")
    folder = final.parent
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f"{final.name}{PARTIAL_MARK}{os.getpid()}"
    try:
        _copy_fsynced(db, partial)
        if amend is not None:
            _amend(partial, amend)
        # Open the copy once before anyone else can: a snapshot that DuckDB cannot read must
        # never become current.
        check = open_snapshot(partial)
        try:
            check.execute("SELECT count(*) FROM parcels").fetchone()
        finally:
            check.close()
        os.replace(partial, final)
        _fsync_dir(folder)
    finally:
        if partial.exists():
            partial.unlink()
    write_pointer(db, final)
    prune(db, keep=keep, grace_seconds=grace_seconds)
    return final


def prune(db_path: str | Path, *, keep: int = KEEP_SNAPSHOTS, grace_seconds: float = GRACE_SECONDS) -> list[Path]:
    """Remove old snapshots and leftovers of killed publications; returns what was removed.

    Keeps the newest `keep` snapshots and, whatever their age, the current one and any
    younger than `grace_seconds` (a reader may have just read the pointer). Partial copies
    are removed once older than the grace period: by then their writer is long dead, or
    nothing would have taken that long.
    """
    folder = snapshots_dir(db_path)
    if not folder.is_dir():
        return []
    now = time.time()
    removed: list[Path] = []
    snapshots = list_snapshots(db_path)
    surplus = snapshots[: max(0, len(snapshots) - max(keep, 0))]
    for snap in surplus:
        if snap.current or now - snap.published_at < grace_seconds:
            continue
        snap.path.unlink(missing_ok=True)
        removed.append(snap.path)
    for entry in folder.iterdir():
        if PARTIAL_MARK in entry.name or entry.name.startswith(f".{POINTER}."):
            try:
                age = now - entry.stat().st_mtime
            except FileNotFoundError:
                continue
            if age >= grace_seconds:
                entry.unlink(missing_ok=True)
                removed.append(entry)
    return removed
