"""Start the investigators' dashboard: Streamlit, headless, on the app in `app/main.py`, through
`app.server`, which also fills the dashboard's caches for the current snapshot as soon as the
server is up (and again after each new snapshot), so that the first visit is not the slow one.

The store path reaches the app both as a script argument (`-- --db PATH`) and through
`LINKER_DB`, so the app finds it however Streamlit was started. The dashboard only ever
reads the analysis data (the latest published snapshot, else the store read-only); it
writes only to the cases file beside the store.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from linker import store
from linker.casework.cases import cases_db_path, list_users

DEFAULT_PORT = 8501


def app_path() -> Path:
    """The Streamlit entry script, found next to this package (editable or installed)."""
    import app

    return Path(app.__file__).resolve().parent / "main.py"


def command(db_path: str | Path, port: int = DEFAULT_PORT, address: str | None = None) -> list[str]:
    """The `streamlit run` command line for the dashboard on the store at `db_path`."""
    cmd = [
        sys.executable, "-m", "app.server", "run", str(app_path()),
        "--server.headless", "true",
        "--server.port", str(int(port)),
        "--server.fileWatcherType", "none",
        "--server.runOnSave", "false",
        "--browser.gatherUsageStats", "false",
        "--client.toolbarMode", "minimal",
        "--theme.base", "light",
    ]
    if address:
        cmd += ["--server.address", address]
    return cmd + ["--", "--db", str(Path(db_path).resolve())]


def check_ready(db_path: str | Path) -> list[str]:
    """Problems that would make the dashboard useless, as sentences; warnings, not errors,
    except a missing store."""
    db = Path(db_path)
    if not db.exists():
        raise store.StoreError(f"no store at {db}: load parcels with `linker ingest FILE --db {db}` and `linker run` first")
    warnings = []
    if not list_users(cases_db_path(db)):
        warnings.append(
            f"no dashboard users yet: create one with `linker users add NAME --role investigator --db {db}`"
        )
    return warnings


def start(db_path: str | Path, port: int = DEFAULT_PORT, address: str | None = None, **popen) -> subprocess.Popen:
    """Start the server as a child process and return it (used by `serve`, tests and benchmarks)."""
    env = dict(os.environ, LINKER_DB=str(Path(db_path).resolve()), PYTHONUNBUFFERED="1")
    env.setdefault("STREAMLIT_BROWSER_GATHER_USAGE_STATS", "false")
    return subprocess.Popen(command(db_path, port, address), env=env, **popen)
