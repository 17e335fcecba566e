"""How fast the dashboard's queue and cluster pages render, through the real server.

Builds (once, cached under --work) a synthetic store of N parcels with the real commands
(`linker synth`, `ingest`, `run`), starts `linker serve` on it, logs in with Debian's Chromium
through Playwright and times, for each page, the interval from the click in the sidebar to the
moment the page's content is visible and Streamlit reports the script finished. The first load
of each page (cold caches) is reported apart from the median and maximum of the next ones
(cached reads); `cluster_not_seen_before` opens other clusters from the page's picker, each
one's reads cold, which is what an investigator going down the queue waits for.

    .venv/bin/python bench/dashboard.py --parcels 1000000          # target: < 2 s per page
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
    """Open a cluster not seen before (cold reads) from the cluster page's picker."""
    started = time.perf_counter()
    page.keyboard.press("Escape")
    box = page.locator("[data-testid='stSelectbox'] input").first
    box.click()
    box.fill(cluster_id)
    page.get_by_role("option", name=f" {cluster_id} ").first.click()
    page.get_by_role("heading", name=f"Cluster {cluster_id}").wait_for(timeout=120_000)
    settle(page)
    return time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--parcels", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument("--work", type=Path, default=Path("bench/out"))
    ap.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    db = build(args.work, args.parcels, args.seed)

    from playwright.sync_api import sync_playwright

    server = subprocess.Popen(LINKER + ["serve", "--db", str(db), "--port", str(args.port), "--address", "127.0.0.1"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    results: dict[str, list[float]] = {"queue": [], "cluster": []}
    try:
        wait_port(args.port)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium, args=ARGS)
            page = browser.new_page(viewport={"width": 1500, "height": 1200})
            page.goto(f"http://127.0.0.1:{args.port}/")
            page.get_by_label("User name").fill("bench")
            page.get_by_label("Password", exact=True).fill(PASSWORD)
            started = time.perf_counter()
            page.get_by_role("button", name="Log in").click()
            page.locator("[data-testid='stDataFrame']").first.wait_for(timeout=120_000)
            settle(page)
            login_to_queue = time.perf_counter() - started
            for _ in range(args.repeat + 1):
                results["cluster"].append(time_page(page, "Cluster", ".cluster-summary"))
                results["queue"].append(time_page(page, "Queue", "[data-testid='stDataFrame']"))
            page.screenshot(path=str(args.work / f"dashboard_queue_{args.parcels}.png"))
            time_page(page, "Cluster", ".cluster-summary")
            import duckdb

            con = duckdb.connect(str(db), read_only=True)
            others = [r[0] for r in con.execute(
                "SELECT cluster_id FROM clusters WHERE flagged ORDER BY rank LIMIT ? OFFSET 1", [args.repeat]).fetchall()]
            con.close()
            try:
                results["cluster_not_seen_before"] = [float("nan")] + [time_other_cluster(page, c) for c in others]
            finally:
                page.screenshot(path=str(args.work / f"dashboard_cluster_{args.parcels}.png"))
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=20)
    summary = {"parcels": args.parcels, "login_to_queue_cold_s": round(login_to_queue, 2)}
    for name, times in results.items():
        rest = times[1:]
        summary[name] = {"first_s": round(times[0], 2), "then_median_s": round(statistics.median(rest), 2),
                         "then_max_s": round(max(rest), 2)}
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
