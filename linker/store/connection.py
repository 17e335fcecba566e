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


def memory_limit() -> str:
    """DuckDB's buffer budget. Bounded by default so a big load spills to disk instead of
    growing with the file; operators raise it with LINKER_MEMORY_LIMIT."""
    return os.environ.get("LINKER_MEMORY_LIMIT", "2GB")


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
