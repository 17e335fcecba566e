"""End to end: `linker serve` on a synthetic store, driven by Debian's Chromium through Playwright.

Playwright's own browser download does not work here, so the system Chromium is used
(`apt-get install chromium`); the test is skipped with a reason when it is missing.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from linker.casework import cases

CHROMIUM = os.environ.get("LINKER_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LINKER = [sys.executable, "-m", "linker"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (apt-get install chromium)"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A synthetic store built with the real commands, a user, and `linker serve` on it."""
    folder = tmp_path_factory.mktemp("browser")
    db = folder / "store.duckdb"
    for cmd in (["synth", "--parcels", "400", "--out", str(folder / "parcels.csv"), "--seed", "5"],
                ["ingest", str(folder / "parcels.csv"), "--db", str(db)],
                ["run", "--db", str(db)]):
        subprocess.run(LINKER + cmd, check=True, capture_output=True, timeout=300)
    subprocess.run(LINKER + ["users", "add", "ana", "--role", "investigator", "--password-stdin", "--db", str(db)],
                   input="correct horse\n", text=True, check=True, capture_output=True)
    port = free_port()
    log = open(folder / "server.log", "w")
    proc = subprocess.Popen(LINKER + ["serve", "--db", str(db), "--port", str(port), "--address", "127.0.0.1"],
                            stdout=subprocess.PIPE, stderr=log, text=True,
                            env=dict(os.environ, LINKER_DASHBOARD_CHECK_SECONDS="1"))
    try:
        assert f"http://127.0.0.1:{port}" in proc.stdout.readline()
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the dashboard did not start listening within 60 s"
                time.sleep(0.3)
        yield f"http://127.0.0.1:{port}", db, folder
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def log_in(page, url: str, password: str) -> None:
    page.goto(url)
    page.get_by_label("User name").fill("ana")
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Log in").click()


def test_log_in_open_the_top_cluster_and_see_summary_and_network(served, browser):
    url, db, folder = served
    page = browser.new_page(viewport={"width": 1500, "height": 2000})
    log_in(page, url, "correct horse")
    page.get_by_role("heading", name="Queue").wait_for(timeout=30_000)
    page.get_by_role("link", name="Cluster").click()
    summary = page.locator(".cluster-summary")
    summary.wait_for(timeout=30_000)
    assert "parcels" in summary.inner_text()
    network = page.locator(".js-plotly-plot").first
    network.wait_for(timeout=30_000)
    assert page.locator(".js-plotly-plot .scatterlayer .point").count() > 2
    shot = folder / "cluster.png"
    page.screenshot(path=str(shot))
    print(f"screenshot of the cluster page: {shot}")
    assert shot.stat().st_size > 10_000
    views = cases.audit_log(cases.cases_db_path(db), action="view_cluster")
    assert views and views[0]["user"] == "ana"


def test_the_log_in_page_shows_the_form_only_while_it_loads_the_next_pages_code(served, browser):
    url, _, _ = served
    page = browser.new_page()
    page.goto(url)
    page.get_by_label("User name").wait_for(timeout=30_000)
    page.wait_for_load_state("networkidle")
    # the elements drawn for their code are in the page, hidden, and out of reach of the keyboard
    preload = page.locator(".st-key-preload_widgets")
    page.locator(".st-key-preload_widgets [data-testid='stDataFrame']").wait_for(state="attached", timeout=30_000)
    box = preload.bounding_box()  # one pixel high until its style applies, then not shown at all
    assert box is None or box["height"] <= 1
    preload.wait_for(state="hidden", timeout=30_000)
    assert page.locator("[data-testid='stDataFrame']").count() == 1  # its table is the only one
    buttons = page.get_by_role("button").all_inner_texts()
    assert "Log in" in buttons and not [b for b in buttons if "preload" in b]
    assert page.locator("input:visible").count() == 2  # user name and password


def test_wrong_password_is_refused_in_the_browser(served, browser):
    url, _, _ = served
    page = browser.new_page()
    log_in(page, url, "wrong horse")
    page.get_by_text("not recognised").wait_for(timeout=30_000)
    assert page.get_by_role("heading", name="Queue").count() == 0


def test_search_with_sql_in_it_finds_nothing_and_breaks_nothing(served, browser):
    url, _, _ = served
    page = browser.new_page()
    log_in(page, url, "correct horse")
    page.get_by_role("link", name="Search").click()
    page.get_by_label("Name, phone").fill("'; DROP TABLE parcels; --")
    page.get_by_test_id("stBaseButton-primaryFormSubmit").click()  # not a table toolbar's "Search"
    page.get_by_text("Nothing found").wait_for(timeout=30_000)
    page.get_by_role("link", name="Queue").click()
    page.get_by_role("heading", name="Queue").wait_for(timeout=30_000)
    page.get_by_text("clusters shown").wait_for(timeout=30_000)


def test_a_click_on_a_row_of_the_queue_opens_that_cluster(served, browser):
    url, _, _ = served
    page = browser.new_page(viewport={"width": 1500, "height": 1400})
    log_in(page, url, "correct horse")
    page.get_by_text("clusters shown").wait_for(timeout=30_000)
    table = page.locator('[data-testid="stDataFrame"]').first
    table.wait_for(timeout=30_000)
    box = table.bounding_box()
    # The second data row (below the header row), well right of the selection checkboxes: a
    # plain click on the row, as an investigator makes it.
    page.mouse.click(box["x"] + 420, box["y"] + 35 + 35 + 17)
    heading = page.get_by_role("heading", name="Cluster C-")
    heading.wait_for(timeout=30_000)
    assert "Cluster C-" in heading.inner_text()


def test_the_dashboard_fetches_nothing_from_outside_the_server(served, browser):
    url, _, _ = served
    page = browser.new_page(viewport={"width": 1500, "height": 1400})
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    log_in(page, url, "correct horse")
    page.get_by_text("clusters shown").wait_for(timeout=30_000)
    page.get_by_role("link", name="Cluster").click()
    page.locator(".js-plotly-plot").first.wait_for(timeout=30_000)
    page.get_by_role("link", name="Search").click()
    page.get_by_label("Name, phone").fill("Zhang")
    page.get_by_test_id("stBaseButton-primaryFormSubmit").click()  # not a table toolbar's "Search"
    page.get_by_text("Read as").wait_for(timeout=30_000)
    page.get_by_role("link", name="Cases & watch list").click()
    page.get_by_role("heading", name="Watch list", exact=True).wait_for(timeout=30_000)
    page.wait_for_timeout(1500)  # the favicon and late fonts are asked for after the first render
    outside = sorted({u for u in requested
                      if urlsplit(u).scheme not in ("data", "blob") and urlsplit(u).hostname not in ("127.0.0.1", "localhost")})
    assert requested and outside == []


def _warmed(folder, snapshot_name: str, seconds: float = 90) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = [line for line in (folder / "server.log").read_text().splitlines()
                 if f"caches warmed for {snapshot_name}" in line]
        if found:
            return found[0]
        time.sleep(0.3)
    raise AssertionError(f"the server did not warm its caches for {snapshot_name}:\n" + (folder / "server.log").read_text()[-2000:])


def test_the_server_warms_its_caches_at_start_and_again_for_a_new_snapshot(served):
    from linker.store import snapshot

    _, db, folder = served
    first = snapshot.latest(db).name
    line = _warmed(folder, first)
    assert " clusters in " in line and not line.split(": ", 1)[1].startswith("0 clusters")
    subprocess.run(LINKER + ["run", "--db", str(db), "--full"], check=True, capture_output=True, timeout=300)
    second = snapshot.latest(db).name
    assert second != first
    _warmed(folder, second)
