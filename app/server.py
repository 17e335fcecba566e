"""The dashboard server that `linker serve` starts: Streamlit's own command line, plus a thread
that warms the dashboard's caches (app.common.warm) as soon as the server is up and again
whenever a new snapshot is published, so that nobody's first visit pays for cold reads.

    python -m app.server run app/main.py --server.headless true -- --db store.duckdb

The arguments are those of `streamlit`; the caches the thread fills are the ones the pages
read (Streamlit keeps them per server process, keyed by function and arguments).
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time

log = logging.getLogger("parcel_linker.dashboard")

# How often the thread looks for a newer snapshot to warm the caches for (seconds).
CHECK_SECONDS_VARIABLE = "LINKER_DASHBOARD_CHECK_SECONDS"
CHECK_SECONDS = 20.0


def check_seconds() -> float:
    try:
        return max(0.5, float(os.environ.get(CHECK_SECONDS_VARIABLE, CHECK_SECONDS)))
    except ValueError:
        return CHECK_SECONDS


def _warm_forever(stop: threading.Event) -> None:
    from streamlit import runtime

    while not runtime.exists() and not stop.wait(0.2):
        pass
    from app import common

    warmed = None
    while not stop.is_set():
        try:
            version = common.source().version
            if version[:2] != warmed:
                done = common.warm()
                warmed = version[:2]
                log.info("caches warmed for %(snapshot)s: %(clusters)s clusters in %(seconds)s s", done)
        except Exception as exc:  # noqa: BLE001 - no store yet, a run writing it: try again later
            log.info("caches not warmed yet: %s", exc)
        stop.wait(check_seconds())


def main(argv: list[str] | None = None) -> int:
    from streamlit.web import cli

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    stop = threading.Event()
    threading.Thread(target=_warm_forever, args=(stop,), name="warm-caches", daemon=True).start()
    try:
        return cli.main(args=list(sys.argv[1:] if argv is None else argv), prog_name="streamlit", standalone_mode=True)
    finally:
        stop.set()


if __name__ == "__main__":
    sys.exit(main())
