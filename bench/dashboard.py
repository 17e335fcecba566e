"""How fast the dashboard's queue and cluster pages render, through the real server.

Builds (once, cached under --work) a synthetic store of N parcels with the real commands
(`linker synth`, `ingest`, `run`), starts `linker serve` on it, logs in with Debian's Chromium
through Playwright and times, for each page, the interval from the click in the sidebar to the
moment the page's content is visible and Streamlit reports the script finished. Every page:
the queue (its first visit is the log-in: from pressing "Log in", once the log-in page has
finished loading; the seconds to the log-in form and to a log-in page fully loaded are printed
too), a cluster, the cases and the audit log from the
sidebar, a search for a party's name (from pressing Search to its results), other clusters
from the cluster page's picker (`cluster_from_picker`: the next ones down the queue, which the
server read ahead at its start; `cluster_not_warmed`: flagged clusters below that top, whose
reads are cold), and `login`: more log-ins after those pages, each in a fresh browser context
(--logins, a new person on the running server). The pages are timed once the server has said it warmed its caches (as people
log in to a server started before them); the time that took is printed too. Prints, per page, the first visit, the median, the 95th
percentile and the maximum, and the 95th percentile over every page load.

    .venv/bin/python bench/dashboard.py --parcels 1000000          # target: p95 <= 1 s per page
    .venv/bin/python bench/dashboard.py --parcels 200000 --repeat 5
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

LINKER = [sys.executable, "-m", "linker"]
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PASSWORD = "bench password"


def build(work: Path, parcels: int, seed: int) -> Path:
    db = work / f"dash_{parcels}_{seed}.duckdb"
    if db.exists():
        return db
    data = work / f"dash_{parcels}_{seed}.parquet"
    for step, cmd in (("synth", ["synth", "--parcels", str(parcels), "--out", str(data), "--seed", str(seed)]),
                      ("ingest", ["ingest", str(data), "--db", str(db)]),
                      ("run", ["run", "--db", str(db)])):
        started = time.perf_counter()
        subprocess.run(LINKER + cmd, check=True, stdout=subprocess.DEVNULL)
        print(f"{step}: {time.perf_counter() - started:.1f} s", flush=True)
    subprocess.run(LINKER + ["users", "add", "bench", "--role", "investigator", "--password-stdin", "--db", str(db)],
                   input=PASSWORD + "\n", text=True, check=True, stdout=subprocess.DEVNULL)
    return db


def wait_port(port: int, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit("the dashboard did not start")
            time.sleep(0.3)


def wait_warm(log_path: Path, seconds: float = 600) -> str:
    """Wait until the server says it filled its caches (app.server); the line it logged. A
    server is started before people log in, so the first visits are timed after its warm-up."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for line in log_path.read_text(errors="replace").splitlines():
            if "caches warmed" in line:
                return line.split("caches warmed", 1)[1].strip()
        time.sleep(0.3)
    raise SystemExit(f"the dashboard did not warm its caches within {seconds:.0f} s (see {log_path})")


def settle(page) -> None:
    """Wait until Streamlit's 'running' indicator is gone (the script run has finished)."""
    page.wait_for_timeout(150)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " || document.querySelector('[data-testid=\"stStatusWidget\"]').innerText.trim() === ''",
        timeout=120_000,
    )


def time_page(page, link: str, ready_selector: str) -> float:
    started = time.perf_counter()
    page.get_by_role("link", name=link, exact=True).click()
    page.locator(ready_selector).first.wait_for(timeout=120_000)
    settle(page)
    return time.perf_counter() - started


def time_other_cluster(page, cluster_id: str) -> float:
    """Open another cluster from the cluster page's picker."""
    started = time.perf_counter()
    page.keyboard.press("Escape")
    box = page.locator("[data-testid='stSelectbox'] input").first
    box.click()
    box.fill(cluster_id)
    page.get_by_role("option", name=f" {cluster_id} ").first.click()
    page.get_by_role("heading", name=f"Cluster {cluster_id}").wait_for(timeout=120_000)
    settle(page)
    return time.perf_counter() - started


def time_search(page, text: str) -> float:
    """Search for a name from the search page's form, until its results are shown."""
    page.get_by_role("link", name="Search", exact=True).click()
    box = page.get_by_label("Name, phone, account, ID number, address or parcel id")
    box.wait_for(timeout=120_000)
    settle(page)
    box.fill(text)
    started = time.perf_counter()
    page.get_by_test_id("stBaseButton-primaryFormSubmit").click()  # not a table toolbar's "Search"
    page.get_by_role("heading", name="Clusters", exact=False).first.wait_for(timeout=120_000)
    settle(page)
    return time.perf_counter() - started


def log_in(page) -> float:
    """Log in from the loaded log-in page; seconds from pressing the button until the queue's
    table is drawn and the script run has ended."""
    page.get_by_label("User name").fill("bench")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    started = time.perf_counter()
    page.get_by_role("button", name="Log in").click()
    page.locator("[data-testid='stDataFrame']").first.wait_for(timeout=120_000)
    settle(page)
    return time.perf_counter() - started


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--parcels", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--logins", type=int, default=5, help="log-ins timed after the pages, each in a fresh browser context")
    ap.add_argument("--work", type=Path, default=Path("bench/out"))
    ap.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    db = build(args.work, args.parcels, args.seed)

    import duckdb
    from playwright.sync_api import sync_playwright

    from app.data import PICKER_CLUSTERS, WARM_CLUSTERS
    from linker.store import snapshot

    con = duckdb.connect(str(snapshot.latest(db) or db), read_only=True)
    flagged = [r[0] for r in con.execute("SELECT cluster_id FROM clusters WHERE flagged ORDER BY rank").fetchall()]
    # clusters the server did not read ahead: flagged ones below the warmed top, down to the
    # bottom of what the picker offers, spread evenly
    beyond = flagged[WARM_CLUSTERS:PICKER_CLUSTERS]
    beyond = beyond[:: max(1, len(beyond) // args.repeat)][: args.repeat]
    names = [r[0] for r in con.execute(
        """SELECT e.best_name FROM cluster_page_entities e JOIN clusters c USING (cluster_id)
           WHERE c.flagged AND e.best_name IS NOT NULL ORDER BY c.rank, e.parcels DESC, e.entity_id LIMIT ?""",
        [args.repeat]).fetchall()]
    con.close()

    log_path = args.work / f"dashboard_server_{args.parcels}.log"
    started_server = time.perf_counter()
    with open(log_path, "w") as log:
        server = subprocess.Popen(LINKER + ["serve", "--db", str(db), "--port", str(args.port), "--address", "127.0.0.1"],
                                  stdout=log, stderr=subprocess.STDOUT)
    results: dict[str, list[float]] = {"login": [], "queue": [], "cluster": [], "cluster_from_picker": [], "cluster_not_warmed": [],
                                       "search": [], "cases": [], "audit": []}
    try:
        wait_port(args.port)
        listening = time.perf_counter() - started_server
        warmed = wait_warm(log_path)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium, args=ARGS)
            page = browser.new_page(viewport={"width": 1500, "height": 1200})
            started = time.perf_counter()
            page.goto(f"http://127.0.0.1:{args.port}/")
            page.get_by_label("User name").wait_for(timeout=120_000)
            login_form = time.perf_counter() - started
            # (the log-in page also has the browser load the code of the next pages' elements:
            # a person takes longer to type than that, so the log-in is timed once it is done)
            page.wait_for_load_state("networkidle")
            settle(page)
            login_loaded = time.perf_counter() - started
            results["queue"].append(log_in(page))  # the first visit: log-in to the queue
            for i in range(args.repeat):
                results["cluster"].append(time_page(page, "Cluster", ".cluster-summary"))
                results["queue"].append(time_page(page, "Queue", "[data-testid='stDataFrame']"))
                results["cases"].append(time_page(page, "Cases & watch list", "h1"))
                results["audit"].append(time_page(page, "Audit log", "[data-testid='stDataFrame']"))
                if i < len(names):
                    results["search"].append(time_search(page, names[i]))
            page.screenshot(path=str(args.work / f"dashboard_queue_{args.parcels}.png"))
            time_page(page, "Cluster", ".cluster-summary")
            try:
                for cluster_id in flagged[1 : args.repeat + 1]:
                    results["cluster_from_picker"].append(time_other_cluster(page, cluster_id))
                for cluster_id in beyond:
                    results["cluster_not_warmed"].append(time_other_cluster(page, cluster_id))
            finally:
                page.screenshot(path=str(args.work / f"dashboard_cluster_{args.parcels}.png"))
            # more log-ins, each in a browser context of its own (a new person on the same
            # server): the first one alone is one sample
            for _ in range(args.logins):
                context = browser.new_context(viewport={"width": 1500, "height": 1200})
                fresh = context.new_page()
                fresh.goto(f"http://127.0.0.1:{args.port}/")
                fresh.get_by_label("User name").wait_for(timeout=120_000)
                fresh.wait_for_load_state("networkidle")
                settle(fresh)
                results["login"].append(log_in(fresh))
                context.close()
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=20)
    summary: dict = {"parcels": args.parcels, "server_listening_s": round(listening, 1),
                     "login_form_s": round(login_form, 2), "login_page_loaded_s": round(login_loaded, 2),
                     "caches_warmed": warmed, "warmed_clusters": WARM_CLUSTERS}
    every = []
    for name, times in results.items():
        if not times:
            continue
        every += times
        summary[name] = {"n": len(times), "first_s": round(times[0], 2), "p50_s": round(statistics.median(times), 2),
                         "p95_s": round(percentile(times, 0.95), 2), "max_s": round(max(times), 2)}
    summary["all_pages"] = {"n": len(every), "p95_s": round(percentile(every, 0.95), 2), "max_s": round(max(every), 2)}
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
