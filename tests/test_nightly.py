"""The nightly job: incremental nights, idempotent re-runs, one copy at a time, survives kills,
and never blocks or confuses a reader."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from linker.store import snapshot
from linker.nightly import NightlyBusy, NightlyError, nightly_lock, run_nightly
from linker.pipeline.runs import list_runs
from tests.nightly_support import standin_analysis, write_night

ROOT = Path(__file__).resolve().parent.parent
LINKER = str(Path(sys.executable).with_name("linker"))


@pytest.fixture
def night(tmp_path):
    """Run one night with the stand-in analysis; returns a function (date, **kw) -> result."""
    db, incoming, reports = tmp_path / "store.duckdb", tmp_path / "incoming", tmp_path / "reports"
    incoming.mkdir()

    def run(day: str, **kw):
        return run_nightly(db, incoming, reports, report_date=day, analyse=kw.pop("analyse", standin_analysis), **kw)

    run.db, run.incoming, run.reports = db, incoming, reports
    return run


def parcels_in(path: Path) -> int:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("SELECT count(*) FROM parcels").fetchone()[0]
    finally:
        con.close()


def wait_for(path: Path, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} did not appear within {timeout}s")
        time.sleep(0.05)


def start_paused_night(night, day: str, marker: Path, release: Path) -> subprocess.Popen:
    """A real nightly process that stops inside its analysis (after touching `marker`) until `release` exists."""
    return subprocess.Popen(
        [sys.executable, "-m", "tests.nightly_support", str(night.db), str(night.incoming), str(night.reports), day, str(marker), str(release)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def test_two_nights_in_a_row_load_only_new_files_and_report_what_changed(night):
    write_night(night.incoming, 1, ring_parcels=5, noise=4)
    first = night("2026-03-01")
    write_night(night.incoming, 2, ring_parcels=3, noise=4, new_ring_parcels=4)
    second = night("2026-03-02")

    assert (first.counts["rows_loaded"], second.counts["rows_loaded"]) == (9, 11)
    assert second.counts["files_already_loaded"] == 1
    assert parcels_in(snapshot.latest(night.db)) == 20
    facts = json.loads((second.report_dir / "report.json").read_text())
    assert facts["baseline"]["report_date"] == "2026-03-01"
    assert facts["summary"]["parcels_loaded"] == 11
    assert [c["parcels_added"] for c in facts["changes"]["grew"]] == [3]
    assert len(facts["changes"]["new_flagged"]) == 1
    assert [r["status"] for r in list_runs(night.db)[0]] == ["ok", "ok"]


def test_rerunning_the_same_night_writes_the_same_report_and_no_second_one(night):
    write_night(night.incoming, 1)
    night("2026-03-01")
    write_night(night.incoming, 2, new_ring_parcels=4)
    first = night("2026-03-02")
    before = {p.name: p.read_bytes() for p in first.report_dir.iterdir()}
    again = night("2026-03-02")

    assert not again.analysed and again.snapshot == first.snapshot
    assert {p.name: p.read_bytes() for p in again.report_dir.iterdir()} == before
    assert sorted(p.name for p in night.reports.iterdir()) == ["2026-03-01", "2026-03-02"]


def test_a_night_without_new_files_keeps_the_current_snapshot(night):
    write_night(night.incoming, 1)
    first = night("2026-03-01")
    second = night("2026-03-02")
    assert not second.analysed and snapshot.latest(night.db) == first.snapshot
    facts = json.loads((second.report_dir / "report.json").read_text())
    assert facts["summary"]["parcels_loaded"] == 0 and facts["changes"]["new_flagged"] == []


def test_force_analyses_again_even_without_new_files(night):
    write_night(night.incoming, 1)
    first = night("2026-03-01")
    forced = night("2026-03-01", force=True)
    assert forced.analysed and forced.snapshot != first.snapshot


def test_a_second_start_while_one_runs_exits_75_with_a_clear_message_and_changes_nothing(night, tmp_path):
    write_night(night.incoming, 1)
    marker = tmp_path / "in-analysis"
    release = tmp_path / "release"
    first = start_paused_night(night, "2026-03-01", marker, release)
    try:
        wait_for(marker)
        second = subprocess.run(
            [LINKER, "nightly", "--incoming", str(night.incoming), "--reports", str(night.reports), "--db", str(night.db), "--date", "2026-03-01"],
            capture_output=True, text=True, timeout=60,
        )
        assert second.returncode == 75
        assert "another nightly job is already running" in second.stderr
        assert len(second.stderr.strip().splitlines()) == 1
    finally:
        release.touch()
        out, errs = first.communicate(timeout=180)
    assert first.returncode == 0, errs
    assert [r["status"] for r in list_runs(night.db)[0]] == ["ok"]


def test_the_lock_is_refused_in_process_too(tmp_path):
    with nightly_lock(tmp_path / "s.duckdb"):
        with pytest.raises(NightlyBusy):
            with nightly_lock(tmp_path / "s.duckdb"):
                pass


def test_a_job_killed_mid_run_leaves_the_previous_snapshot_and_the_next_run_succeeds(night, tmp_path):
    write_night(night.incoming, 1)
    good = night("2026-03-01")
    write_night(night.incoming, 2, new_ring_parcels=4)
    marker = tmp_path / "in-analysis"
    victim = start_paused_night(night, "2026-03-02", marker, tmp_path / "never")
    try:
        wait_for(marker)
        # While the job holds the store, the history is still readable (from the snapshot).
        during = subprocess.run([LINKER, "runs", "--json", "--db", str(night.db)], capture_output=True, text=True, timeout=120)
        assert during.returncode == 0, during.stderr
        assert len(json.loads(during.stdout)) == 1
    finally:
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)
    assert victim.returncode == -signal.SIGKILL

    assert snapshot.latest(night.db) == good.snapshot
    assert parcels_in(good.snapshot) == 11
    assert not (night.reports / "2026-03-02").exists()
    after = night("2026-03-02")
    assert after.analysed and parcels_in(after.snapshot) == 26
    statuses = {r["status"] for r in list_runs(night.db)[0]}
    assert statuses == {"ok", "abandoned"}


def test_a_failed_analysis_exits_with_an_error_and_keeps_the_previous_results(night):
    write_night(night.incoming, 1)
    good = night("2026-03-01")
    report_before = (good.report_dir / "index.html").read_bytes()
    write_night(night.incoming, 2)

    def broken(con, run_id):
        raise RuntimeError("resolve ran out of memory")

    with pytest.raises(NightlyError, match="previous results kept: resolve ran out of memory"):
        night("2026-03-02", analyse=broken)
    assert snapshot.latest(night.db) == good.snapshot
    assert (good.report_dir / "index.html").read_bytes() == report_before
    failed = list_runs(night.db)[0][0]
    assert failed["status"] == "failed" and failed["error"] == "resolve ran out of memory"


READER = r"""
import sys, time, duckdb
from pathlib import Path
from linker.store import snapshot
db, stop, log = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
held = duckdb.connect(str(snapshot.latest(db)), read_only=True)   # open for the whole run
with open(log, "w") as out:
    while not stop.exists():
        con = duckdb.connect(str(snapshot.latest(db)), read_only=True)  # a fresh page load
        fresh = con.execute("SELECT count(*) FROM parcels").fetchone()[0]
        con.close()
        kept = held.execute("SELECT count(*) FROM parcels").fetchone()[0]
        out.write(f"{fresh} {kept}\n"); out.flush()
        time.sleep(0.02)
"""


def test_a_reader_open_during_the_run_sees_the_old_results_then_the_new_ones(night, tmp_path):
    write_night(night.incoming, 1)
    night("2026-03-01")
    write_night(night.incoming, 2, new_ring_parcels=4)
    stop, log = tmp_path / "stop", tmp_path / "reads.log"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(night.db), str(stop), str(log)], cwd=ROOT,
                              stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not (log.exists() and log.read_text().count("\n") >= 3):
            assert time.monotonic() < deadline and reader.poll() is None, "reader did not start"
            time.sleep(0.05)
        night("2026-03-02")
        seen = log.read_text().count("\n")
        while log.read_text().count("\n") < seen + 3:
            time.sleep(0.05)
    finally:
        stop.touch()
        _, errs = reader.communicate(timeout=30)
    assert reader.returncode == 0, errs
    reads = [tuple(map(int, line.split())) for line in log.read_text().splitlines()]
    fresh = [f for f, _ in reads]
    assert set(fresh) == {11, 26}
    assert fresh == sorted(fresh)  # old results until the switch, new ones after, never back
    assert {kept for _, kept in reads} == {11}


def test_nightly_refuses_a_missing_incoming_folder_in_one_line(tmp_path):
    result = subprocess.run(
        [LINKER, "nightly", "--incoming", str(tmp_path / "nope"), "--reports", str(tmp_path / "r"), "--db", str(tmp_path / "s.duckdb")],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.strip() == f"error: the incoming folder {tmp_path / 'nope'} does not exist"


def test_linker_runs_lists_the_history_as_json(night):
    write_night(night.incoming, 1)
    night("2026-03-01")
    result = subprocess.run([LINKER, "runs", "--json", "--db", str(night.db)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    (run,) = json.loads(result.stdout)
    assert run["kind"] == "nightly" and run["status"] == "ok"
    assert run["counts"]["rows_loaded"] == 11 and run["finished_at"] >= run["started_at"]


# ---------------------------------------------------------------- docs/SCHEDULING.md, run as written

DOC = ROOT / "docs" / "SCHEDULING.md"
DOC_HOME = "/srv/parcel-linker"


def doc_blocks(lang: str) -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    return [block.split("\n", 1)[1] for block in text.split("```")[1::2] if block.startswith(lang + "\n")]


def as_installed_here(command: str, home: Path) -> str:
    """The doc's command with its installation paths pointed at this checkout and a temp folder."""
    return command.replace(f"{DOC_HOME}/.venv/bin/linker", LINKER).replace(DOC_HOME, str(home))


def test_the_scheduling_doc_declares_a_oneshot_service_and_a_persistent_timer():
    service, timer = doc_blocks("ini")
    assert "Type=oneshot" in service.splitlines()
    assert "Persistent=true" in timer.splitlines()


def test_the_cron_line_and_the_systemd_command_of_the_doc_run_the_nightly_job(tmp_path):
    (cron_line,) = [line for line in doc_blocks("cron")[0].splitlines() if line.strip() and not line.startswith("#")]
    cron_command = cron_line.split(None, 5)[5]
    (exec_start,) = [line.split("=", 1)[1] for line in doc_blocks("ini")[0].splitlines() if line.startswith("ExecStart=")]
    assert exec_start in cron_command  # one command, two schedulers
    write_night(tmp_path / "incoming", 1)

    by_cron = subprocess.run(["/bin/sh", "-c", as_installed_here(cron_command, tmp_path)], timeout=300)
    by_systemd = subprocess.run(as_installed_here(exec_start, tmp_path).split(), cwd=tmp_path, timeout=300,
                                capture_output=True, text=True)

    assert by_cron.returncode == 0, (tmp_path / "nightly.log").read_text()
    assert by_systemd.returncode == 0, by_systemd.stderr
    reports = list((tmp_path / "reports").iterdir())
    assert [r.name for r in reports] == [time.strftime("%Y-%m-%d")]
    assert (reports[0] / "index.html").is_file() and (reports[0] / "clusters.csv").is_file()
    runs = list_runs(tmp_path / "linker.duckdb")[0]
    assert [(r["status"], r["counts"]["analysed"]) for r in runs] == [("ok", False), ("ok", True)]


def test_an_unreadable_file_does_not_stop_the_night_and_is_named_in_the_report(night):
    write_night(night.incoming, 1)
    (night.incoming / "broken.parquet").write_bytes(b"not a parquet file")
    result = night("2026-03-01")
    facts = json.loads((result.report_dir / "report.json").read_text())
    assert result.counts["rows_loaded"] == 11
    assert len(facts["unreadable_files"]) == 1 and "broken.parquet" in facts["unreadable_files"][0]
    assert "broken.parquet" in (result.report_dir / "index.html").read_text()


# Kills land wherever the job happens to be (start-up, ingest, analysis, publication, report);
# whatever the moment, the invariants below must hold.
@pytest.mark.parametrize("delay_s", [1.5, 2.5])
def test_a_kill_at_any_moment_leaves_a_complete_snapshot_and_report_or_the_previous_ones(night, delay_s):
    write_night(night.incoming, 1)
    night("2026-03-01")
    write_night(night.incoming, 2, new_ring_parcels=4)
    job = subprocess.Popen([sys.executable, "-m", "tests.nightly_support", str(night.db), str(night.incoming),
                            str(night.reports), "2026-03-02"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay_s)
    job.send_signal(signal.SIGKILL)
    job.wait(timeout=30)

    assert parcels_in(snapshot.latest(night.db)) in (11, 26)
    tonight = night.reports / "2026-03-02"
    assert not tonight.exists() or {p.name for p in tonight.iterdir()} == {"index.html", "clusters.csv", "report.json"}
    after = night("2026-03-02")
    assert parcels_in(after.snapshot) == 26 and snapshot.latest(night.db) == after.snapshot


def test_the_snapshot_records_its_own_run_as_finished_and_the_dashboard_names_it_as_the_last_run(night, monkeypatch):
    import bcrypt
    from streamlit.testing.v1 import AppTest

    from app import data
    from linker.casework import cases

    write_night(night.incoming, 1)
    night("2026-03-01")
    write_night(night.incoming, 2)
    result = night("2026-03-02")
    con = duckdb.connect(str(result.snapshot), read_only=True)
    try:
        status, finished = con.execute("SELECT status, finished_at FROM runs WHERE run_id = ?", [result.run_id]).fetchone()
        last = data.last_runs(con)[0]["run_id"]
    finally:
        con.close()
    assert (status, finished is not None, last) == ("ok", True, result.run_id)

    cases.add_user(cases.cases_db_path(night.db), "ana", "investigator", bcrypt.hashpw(b"correct horse", bcrypt.gensalt(4)).decode())
    monkeypatch.setenv("LINKER_DB", str(night.db))
    at = AppTest.from_file(str(ROOT / "app" / "main.py"), default_timeout=60)
    at.run()
    at.text_input(key="login_name").input("ana")
    at.text_input(key="login_password").input("correct horse")
    at.button[0].click().run()
    captions = [c.value for c in at.caption]
    assert f"Reading snapshot `{result.run_id}`" in captions
    assert any(c.startswith(f"Last run {result.run_id} finished") for c in captions)
