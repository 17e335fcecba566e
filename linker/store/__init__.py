"""The parcel store: one DuckDB file holding the loaded parcels and everything derived from them.

`from linker import store` gives its public surface; behind it:

- `connection`: `connect` (the working store, created and migrated as needed) and
  `open_snapshot` (a published copy, read-only), the errors;
- `tables`: the names and column lists of shared tables (CONTRACT.md sections 1 and 3), and
  whether a table or column exists;
- `schema`: every declared table's DDL, and the migrations of older stores;
- `sql`: quoting and scripts;
- `snapshot`: publishing checked copies for readers;
- `status`: what the store holds.

Modules inside this package import each other directly, never this facade.
"""

from linker.store.connection import DEFAULT_DB, StoreBusy, StoreError, connect, default_db_path, memory_limit, open_snapshot
from linker.store.schema import ensure_run_seq, newest_first
from linker.store.status import StoreStatus, status
from linker.store.tables import (
    CLUSTER_COLUMNS,
    COLUMN_NAMES,
    CONTRACT_COLUMNS,
    REQUIRED_COLUMNS,
    column_exists,
    columns,
    table_exists,
)

__all__ = [
    "CLUSTER_COLUMNS", "COLUMN_NAMES", "CONTRACT_COLUMNS", "DEFAULT_DB", "REQUIRED_COLUMNS", "StoreBusy", "StoreError",
    "StoreStatus", "column_exists", "columns", "connect", "default_db_path", "ensure_run_seq", "memory_limit",
    "newest_first", "open_snapshot", "status", "table_exists",
]
