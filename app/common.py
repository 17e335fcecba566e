"""What every dashboard page shares: the store it reads, the logged-in user, the audit log,
cached reads and small display helpers.

The analysis data is opened read-only: the newest published snapshot when there is one
(looked up again on every page load, so a new nightly snapshot shows on the next click), else
the store itself. A snapshot never changes, so its connection and query results are cached by
(path, mtime); the store itself is opened per page load and closed, so that the dashboard does
not hold DuckDB's file lock against a run that wants to write.
"""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import duckdb
import pandas as pd
import streamlit as st

from app import data
from linker.casework import cases
from linker.outputs import clusters as read
from linker.outputs import network
from linker import store
from linker.casework.cases import User


def db_path() -> Path:
    """The store: `-- --db PATH` after the script on the streamlit command line, else $LINKER_DB."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--db")
    known, _ = parser.parse_known_args(sys.argv[1:])
    return Path(known.db or os.environ.get("LINKER_DB") or store.DEFAULT_DB).resolve()


def cases_path() -> Path:
    return cases.cases_db_path(db_path())


def current_user() -> User | None:
    return st.session_state.get("user")


def audit(action: str, target: str | None = None, detail: str | None = None) -> None:
    user = current_user()
    cases.audit(cases_path(), user.name if user else "-", action, target, detail)


def source() -> data.Source:
    return data.analysis_source(db_path())


@st.cache_resource(max_entries=2, show_spinner=False)
def _snapshot_connection(path: str, mtime: float) -> duckdb.DuckDBPyConnection:
    return data.open_source(data.Source(Path(path), True))


@contextmanager
def analysis(src: data.Source | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection for this page load (a cursor of a cached one for snapshots)."""
    src = src or source()
    if src.is_snapshot:
        cur = _snapshot_connection(*src.version).cursor()
        try:
            yield cur
        finally:
            cur.close()
    else:
        con = data.open_source(src)
        try:
            yield con
        finally:
            con.close()


def _src(version: tuple, is_snapshot: bool) -> data.Source:
    return data.Source(Path(version[0]), is_snapshot)


# Cached reads: keyed by the file's version (data.Source.version), so a new snapshot is a cache
# miss; no time limit (a snapshot never changes), the least recently used go first.
# The queue is kept as one shared frame (cache_resource), not copied out on every call as
# cache_data does: at 10M parcels it has 55,000 clusters and unpickling it took most of a
# second on each page that reads it. Pages read it and copy before changing anything.
@st.cache_resource(max_entries=8, show_spinner=False)
def cached_queue(version: tuple, is_snapshot: bool, include_unflagged: bool) -> pd.DataFrame:
    with analysis(_src(version, is_snapshot)) as con:
        return data.queue(con, include_unflagged)


@st.cache_data(max_entries=64, show_spinner=False)
def cached_cluster(version: tuple, is_snapshot: bool, cluster_id: str) -> dict | None:
    """Everything the cluster page shows, read in one go."""
    with analysis(_src(version, is_snapshot)) as con:
        row = read.cluster_row(con, cluster_id)
        if row is None:
            return None
        parcels = read.cluster_parcels(con, cluster_id)
        mentions = read.cluster_mentions(con, cluster_id)
        return {
            "row": row,
            "signals": read.cluster_signals(con, cluster_id),
            "parcels": parcels,
            "mentions": mentions,
            "links": read.link_explanations(con, cluster_id),
            "households": read.cluster_households(con, cluster_id),
            "entities": read.cluster_entities(con, cluster_id),
        }


# The most nodes the cluster page draws (the busiest are kept).
CLUSTER_MAX_NODES = 600


@st.cache_data(max_entries=64, show_spinner=False)
def cached_network(version: tuple, is_snapshot: bool, cluster_id: str, max_nodes: int):
    """(graph, positions, nodes left out) for the cluster; the busiest nodes are kept when the
    network is larger than max_nodes, so the picture stays usable."""
    found = cached_cluster(version, is_snapshot, cluster_id)
    g, dropped = network.trim(network.cluster_network(found["mentions"]), max_nodes)
    return g, network.layout(g), dropped


def warm(limit: int = data.WARM_CLUSTERS) -> dict:
    """Fill the caches for the current snapshot: the queue (both views), the first `limit`
    flagged clusters' pages and networks and one search, so that the first visit after a start, or after a
    nightly published a new snapshot, reads from memory like later ones. Run by app.server in
    the server process, outside any page; returns what it read."""
    import time

    started = time.perf_counter()
    src = source()
    queue = cached_queue(src.version, src.is_snapshot, True)
    cached_queue(src.version, src.is_snapshot, False)
    top = list(queue.loc[queue["flagged"], "cluster_id"][:limit])
    for cluster_id in top:
        cached_network(src.version, src.is_snapshot, cluster_id, CLUSTER_MAX_NODES)
    from linker.outputs import timeline  # noqa: F401 - plotly's import, paid here and not by the first page

    # One search (for a party of the top cluster): the first search after a start otherwise
    # pays for reading the search tables and the normalisers' word lists (0.9 s against 0.15 s
    # for the next one at 1M parcels).
    if top:
        with analysis(src) as con:
            name = data.warm_search_text(con, top[0])
            if name:
                data.search(con, name)

    return {"snapshot": src.path.name, "clusters": len(top), "seconds": round(time.perf_counter() - started, 2)}


def status_of(cluster_ids) -> dict[str, cases.Case]:
    every = cases.all_cases(cases_path())
    return {cid: every.get(cid) or cases.Case(cid, "new", None, None, None) for cid in cluster_ids}


# A table whose rows open something: clicking any cell selects that cell (a click on a cell
# of a row-selection table only focuses it), the checkbox at the left selects the row.
OPEN_ON_CLICK = ["single-row", "single-cell"]


def clicked_row(event) -> int | None:
    """The position of the row picked in a table shown with `selection_mode=OPEN_ON_CLICK`:
    the selected row, else the row of the selected cell; None when nothing is picked."""
    selection = getattr(event, "selection", None)
    if not selection:
        return None
    rows = selection.get("rows") or []
    if rows:
        return int(rows[0])
    cells = selection.get("cells") or []
    return int(cells[0][0]) if cells else None


def open_cluster(cluster_id: str) -> None:
    """Go to the cluster page for one cluster."""
    st.session_state["cluster_id"] = cluster_id
    st.switch_page("views/cluster.py", query_params={"cluster": cluster_id})


def fmt_kg(value) -> str:
    if value is None or pd.isna(value):
        return "-"
    return f"{value:,.1f} kg" if value >= 10 else f"{value:,.2f} kg"


def show_store_problem(exc: Exception) -> None:
    st.error(str(exc))
    st.stop()


def score_column(src: data.Source | None = None):
    """The score as a bar, on the scale the score stage uses (0-1 or 0-100)."""
    src = src or source()
    top = data.score_scale(cached_queue(src.version, src.is_snapshot, True)["score"])
    return st.column_config.ProgressColumn("Score", min_value=0.0, max_value=top, format="%.2f" if top == 1 else "%.1f")
