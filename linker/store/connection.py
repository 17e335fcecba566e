"""Opening the store: the working DuckDB file, or a published snapshot of it for reading.

DuckDB allows one writing process or many read-only ones. A second writer gets a clear
`StoreBusy` error rather than DuckDB's lock message. Every connection works in UTC.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from linker.errors import LinkerError, one_line
from linker.store import schema

DEFAULT_DB = "linker.duckdb"


class StoreError(LinkerError):
    """A problem with the store that the user can act on; its message is one sentence."""


class StoreBusy(StoreError):
    pass


def default_db_path() -> Path:
    return Path(os.environ.get("LINKER_DB") or DEFAULT_DB)


# The default budget, and what a run adds to it per parcel of the history beyond
# DEFAULT_MEMORY_GB / MEMORY_GB_PER_MILLION million parcels, up to MAX_MEMORY_SHARE of the
# machine's memory (bench/scale.py at 10M parcels: 2GB -> 8GB made `linker run` 2,163 s ->
# 1,554 s, spill 47.6 GB -> 33.0 GB, peak 3.75 GB -> 9.65 GB; at 1M a bigger budget gains
# nothing measurable).
DEFAULT_MEMORY_GB = 2.0
MEMORY_GB_PER_MILLION = 0.8
MAX_MEMORY_SHARE = 0.4


def _machine_memory_gb() -> float:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        return 0.0


def memory_limit(parcels: int | None = None) -> str:
    """DuckDB's buffer budget: LINKER_MEMORY_LIMIT when the operator set it; else 2GB, so a
    big load spills to disk instead of growing with the file. For a run over `parcels`
    parcels the default grows with the history (0.8 GB per million parcels) but never beyond
    40% of the machine's memory: at 10M parcels, 8GB."""
    if os.environ.get("LINKER_MEMORY_LIMIT"):
        return os.environ["LINKER_MEMORY_LIMIT"]
    gb = DEFAULT_MEMORY_GB
    if parcels:
        gb = max(gb, min(MEMORY_GB_PER_MILLION * parcels / 1e6, MAX_MEMORY_SHARE * _machine_memory_gb()))
    return f"{round(gb * 1000)}MB"  # DuckDB: 1MB = 1000 kB


def connect(db_path: str | Path | None = None, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the store, creating the file and schema if needed (unless read_only)."""
    path = Path(db_path) if db_path else default_db_path()
    if read_only and not path.exists():
        raise StoreError(f"no store at {path}: load parcels first with `linker ingest FILE --db {path}`")
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    con = _open(path, read_only, "the store ")
    con.execute(f"SET memory_limit = '{memory_limit()}'")
    if not read_only:
        temp_dir = path.with_name(path.name + ".tmp")
        con.execute(f"SET temp_directory = '{temp_dir.as_posix()}'")
        con.execute(schema.LOAD_DDL)
        schema.migrate(con)
    return con


def open_snapshot(path: str | Path, *, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """Open a published snapshot (or any copy of the store a reader must not lock for writing),
    read-only unless told otherwise, without creating or migrating anything. A file another
    process holds for writing raises StoreBusy."""
    return _open(Path(path), read_only)


def _open(path: Path, read_only: bool, what: str = "") -> duckdb.DuckDBPyConnection:
    """duckdb.connect in UTC, its lock and IO errors said in one sentence."""
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise StoreBusy(f"the store {path} is in use by another writing process; try again when it has finished") from None
        raise StoreError(f"cannot open {what}{path}: {one_line(exc)}") from None
    con.execute("SET TimeZone = 'UTC'")
    return con
