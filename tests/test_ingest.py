"""Specification of `linker ingest`: CONTRACT.md section 1 and issue 2."""

from __future__ import annotations

import csv
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import linker.stages.ingest as ingest_module
from linker import store
from linker.stages.ingest import ingest_paths
from tests.conftest import parcel, write_csv, write_jsonl, write_parquet


def counts(con) -> tuple[int, int, int]:
    return tuple(con.execute("SELECT (SELECT count(*) FROM parcels), (SELECT count(*) FROM quarantine), (SELECT count(*) FROM files)").fetchone())


def quarantine_reasons(con) -> dict[int, str]:
    return dict(con.execute("SELECT source_line, reason FROM quarantine ORDER BY source_line").fetchall())


def run_cli(*args: str, env_db: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if env_db:
        env["LINKER_DB"] = str(env_db)
    return subprocess.run([sys.executable, "-m", "linker", *args], capture_output=True, text=True, env=env, timeout=120)


# ---------------------------------------------------------------------------------- loading


def test_valid_rows_are_loaded_typed_with_source_file_and_line(con, tmp_path):
    path = write_csv(tmp_path / "p.csv", [parcel(), parcel(parcel_id="EE123456786CN", declared_weight_kg="1.25")])
    report = ingest_paths(con, [path])
    assert (report.rows_loaded, report.rows_quarantined) == (2, 0)
    rows = con.execute("SELECT parcel_id, declared_weight_kg, hs_code, source_line, f.path FROM parcels JOIN files f USING (file_id) ORDER BY source_line").fetchall()
    assert rows == [("EE123456785CN", 0.8, "750400", 2, str(path.resolve())), ("EE123456786CN", 1.25, "750400", 3, str(path.resolve()))]


def test_timestamps_with_a_zone_become_utc_and_a_date_alone_is_midnight(con, tmp_path):
    rows = [
        parcel(parcel_id="A1", accepted_at="2026-03-01T10:00:00+08:00"),
        parcel(parcel_id="A2", accepted_at="2026-03-01T10:00:00Z"),
        parcel(parcel_id="A3", accepted_at="2026-03-01 10:00"),
        parcel(parcel_id="A4", accepted_at="2026-03-01"),
    ]
    ingest_paths(con, [write_csv(tmp_path / "p.csv", rows)])
    got = dict(con.execute("SELECT parcel_id, accepted_at FROM parcels").fetchall())
    assert got == {
        "A1": dt.datetime(2026, 3, 1, 2, 0),
        "A2": dt.datetime(2026, 3, 1, 10, 0),
        "A3": dt.datetime(2026, 3, 1, 10, 0),
        "A4": dt.datetime(2026, 3, 1, 0, 0),
    }


def test_extra_columns_are_kept_but_not_required(con, tmp_path):
    row = parcel()
    row["customs_office"] = "Horgos"
    ingest_paths(con, [write_csv(tmp_path / "p.csv", [row])])
    assert con.execute("SELECT extra ->> '$.customs_office' FROM parcels").fetchone()[0] == "Horgos"


def test_optional_columns_may_be_absent_and_currency_defaults_to_usd(con, tmp_path):
    required_only = [c for c in store.REQUIRED_COLUMNS]
    ingest_paths(con, [write_csv(tmp_path / "p.csv", [parcel()], columns=required_only)])
    assert con.execute("SELECT currency, sender_phone, hs_code FROM parcels").fetchone() == ("USD", None, None)


def test_cn23_checkbox_wording_is_accepted_as_category(con, tmp_path):
    ingest_paths(con, [write_csv(tmp_path / "p.csv", [parcel(category="Sale of goods"), parcel(parcel_id="B", category="Commercial sample")])])
    assert sorted(r[0] for r in con.execute("SELECT category FROM parcels").fetchall()) == ["merchandise", "sample"]


# ------------------------------------------------------------------------------- quarantine


@pytest.mark.parametrize(
    "override, reason",
    [
        ({"sender_name": ""}, "missing sender_name"),
        ({"declared_weight_kg": "0,8"}, "declared_weight_kg '0,8' is not a number"),
        ({"declared_weight_kg": "-1"}, "declared_weight_kg -1 is negative"),
        ({"gross_weight_kg": "nan"}, "gross_weight_kg 'nan' is not a number"),
        ({"accepted_at": "yesterday"}, "accepted_at 'yesterday' is not an ISO 8601 date or timestamp"),
        ({"dest_country": "XX"}, "dest_country 'XX' is not an ISO 3166-1 alpha-2 country code"),
        ({"origin_country": "CHN"}, "origin_country 'CHN' is not an ISO 3166-1 alpha-2 country code"),
        ({"currency": "RMB"}, "currency 'RMB' is not an ISO 4217 code"),
        ({"hs_code": "75"}, "hs_code '75' is not 4 to 10 digits"),
        ({"hs_code": "7504x"}, "hs_code '7504x' is not 4 to 10 digits"),
        ({"category": "bribe"}, "category 'bribe' is not one of"),
    ],
)
def test_a_row_breaking_the_contract_is_quarantined_with_its_reason(con, tmp_path, override, reason):
    path = write_csv(tmp_path / "p.csv", [parcel(parcel_id="GOOD"), parcel(parcel_id="BAD", **override)])
    report = ingest_paths(con, [path])
    assert (report.rows_loaded, report.rows_quarantined) == (1, 1)
    line, got, raw, source = con.execute("SELECT source_line, reason, raw, source_file FROM quarantine").fetchone()
    assert line == 3 and reason in got and source == str(path.resolve())
    assert '"parcel_id":"BAD"' in raw


def test_every_problem_of_a_row_is_named_in_one_reason(con, tmp_path):
    path = write_csv(tmp_path / "p.csv", [parcel(sender_name="", dest_country="ZZ", declared_weight_kg="heavy")])
    ingest_paths(con, [path])
    reason = con.execute("SELECT reason FROM quarantine").fetchone()[0]
    assert "missing sender_name" in reason and "'ZZ'" in reason and "'heavy'" in reason


def test_a_record_with_the_wrong_number_of_fields_is_quarantined_with_its_line(con, tmp_path):
    path = write_csv(tmp_path / "p.csv", [parcel(parcel_id="P1"), parcel(parcel_id="P2"), parcel(parcel_id="P3")])
    lines = path.read_text(encoding="utf-8").splitlines()
    lines.insert(2, "only,three,fields")
    lines.insert(4, lines[3].replace("P2", "P9") + ",surplus")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = ingest_paths(con, [path])
    assert (report.rows_loaded, report.rows_quarantined) == (3, 2)
    assert quarantine_reasons(con) == {3: "fewer fields than the header has columns", 5: "more fields than the header has columns"}
    # The lines of the good records account for the rejected ones in between.
    assert dict(con.execute("SELECT parcel_id, source_line FROM parcels").fetchall()) == {"P1": 2, "P2": 4, "P3": 6}


def test_line_numbers_of_a_file_read_in_parallel_are_the_records_positions(con, tmp_path):
    # Big enough (about 25 MB) for DuckDB to split the file between threads; broken records and
    # quoted line breaks spread through it. The expected line of every record is counted
    # independently, by Python's csv module (header = record 1, a quoted line break is no new
    # record). The connection is set up the way that would scramble an unguarded numbering.
    con.execute("SET threads = 4")
    con.execute("SET preserve_insertion_order = false")
    rows = []
    for i in range(40_000):
        row = parcel(parcel_id=f"L{i:06d}", sender_address="Long Street " + "x" * 400)
        if i % 997 == 0:
            row["sender_address"] += "\nsecond line"
        if i % 1009 == 0:
            row["dest_country"] = "XX"
        rows.append(row)
    path = write_csv(tmp_path / "big.csv", rows)
    lines = path.read_text(encoding="utf-8").split("\n")
    for at in range(len(lines) - 1000, 1000, -1500):
        lines.insert(at, "only,three,fields")
    path.write_text("\n".join(lines), encoding="utf-8")
    expected, ragged = {}, set()
    with open(path, newline="", encoding="utf-8") as fh:
        for number, record in enumerate(csv.reader(fh), start=1):
            if len(record) == len(store.COLUMN_NAMES):
                expected[record[0]] = number
            else:
                ragged.add(number)
    ingest_paths(con, [path])
    got = dict(con.execute("SELECT parcel_id, source_line FROM parcels").fetchall())
    got |= dict(con.execute("SELECT parcel_id, source_line FROM quarantine WHERE parcel_id IS NOT NULL").fetchall())
    assert len(got) == 40_000 and got == {k: v for k, v in expected.items() if k != "parcel_id"}
    assert set(r[0] for r in con.execute("SELECT source_line FROM quarantine WHERE parcel_id IS NULL").fetchall()) == ragged
    assert len(ragged) > 20


def test_malformed_json_lines_are_quarantined_with_their_line(con, tmp_path):
    path = write_jsonl(tmp_path / "p.jsonl", [parcel(parcel_id="J1")])
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("\n{not json\n[1, 2]\n")
    report = ingest_paths(con, [path])
    assert (report.rows_loaded, report.rows_quarantined) == (1, 2)
    assert quarantine_reasons(con) == {3: "not valid JSON", 4: "a JSON array, not an object"}


# ------------------------------------------------------------------------------ duplicates


def test_loading_the_same_file_twice_changes_nothing(con, tmp_path):
    path = write_csv(tmp_path / "p.csv", [parcel(), parcel(parcel_id="BAD", dest_country="XX")])
    ingest_paths(con, [path])
    before = counts(con)
    report = ingest_paths(con, [path])
    assert counts(con) == before
    assert report.files_already_loaded == 1 and report.rows_loaded == 0


def test_the_same_content_under_another_name_is_already_loaded(con, tmp_path):
    path = write_csv(tmp_path / "p.csv", [parcel()])
    copy = tmp_path / "copy.csv"
    copy.write_bytes(path.read_bytes())
    ingest_paths(con, [path])
    assert ingest_paths(con, [copy]).files_already_loaded == 1


def test_an_identical_parcel_in_another_file_is_ignored(con, tmp_path):
    ingest_paths(con, [write_csv(tmp_path / "a.csv", [parcel(parcel_id="X1")])])
    report = ingest_paths(con, [write_csv(tmp_path / "b.csv", [parcel(parcel_id="X1"), parcel(parcel_id="X2")])])
    assert (report.rows_loaded, report.rows_duplicate, report.rows_quarantined) == (1, 1, 0)


def test_a_parcel_id_already_loaded_with_different_content_is_quarantined(con, tmp_path):
    first = write_csv(tmp_path / "a.csv", [parcel(parcel_id="X1")])
    ingest_paths(con, [first])
    report = ingest_paths(con, [write_csv(tmp_path / "b.csv", [parcel(parcel_id="X1", declared_weight_kg="9.9")])])
    assert report.rows_quarantined == 1
    reason = con.execute("SELECT reason FROM quarantine").fetchone()[0]
    assert "already loaded with different content" in reason and str(first.resolve()) in reason


def test_within_a_file_the_first_occurrence_wins_and_a_conflicting_repeat_is_quarantined(con, tmp_path):
    path = write_csv(tmp_path / "p.csv", [parcel(parcel_id="X1"), parcel(parcel_id="X1"), parcel(parcel_id="X1", declared_weight_kg="5")])
    report = ingest_paths(con, [path])
    assert (report.rows_loaded, report.rows_duplicate, report.rows_quarantined) == (1, 1, 1)
    assert "first at line 2" in quarantine_reasons(con)[4]


def test_the_same_parcel_id_at_two_carriers_is_two_parcels(con, tmp_path):
    report = ingest_paths(con, [write_csv(tmp_path / "p.csv", [parcel(carrier="EMS"), parcel(carrier="SF")])])
    assert report.rows_loaded == 2


# ------------------------------------------------------------------------------ atomicity


def test_a_load_that_fails_halfway_leaves_the_store_unchanged(con, tmp_path, monkeypatch):
    ingest_paths(con, [write_csv(tmp_path / "a.csv", [parcel(parcel_id="KEEP")])])
    before = counts(con)

    def fail_after_rows_were_written(*args, **kwargs):
        raise RuntimeError("disk went away")

    # The result object is built after parcels and quarantine rows are inserted, inside the
    # transaction: failing there is a failure halfway through the load.
    monkeypatch.setattr(ingest_module, "FileResult", fail_after_rows_were_written)
    with pytest.raises(RuntimeError):
        ingest_module.ingest_file(con, write_csv(tmp_path / "b.csv", [parcel(parcel_id="NEW"), parcel(parcel_id="BAD", dest_country="XX")]))
    assert counts(con) == before


def test_a_killed_load_leaves_the_store_either_unchanged_or_whole(tmp_path):
    db = tmp_path / "kill.duckdb"
    rows = [parcel(parcel_id=f"K{i:07d}", declared_weight_kg=str(0.1 + i % 50 / 10)) for i in range(120_000)]
    big = write_csv(tmp_path / "big.csv", rows)
    for delay in (0.6, 1.2, 1.8):
        proc = subprocess.Popen([sys.executable, "-m", "linker", "ingest", str(big), "--db", str(db)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        con = store.connect(db)
        parcels, quarantined, files = counts(con)
        con.close()
        assert (parcels, quarantined, files) in {(0, 0, 0), (120_000, 0, 1)}
    done = run_cli("ingest", str(big), "--db", str(db))
    assert done.returncode == 0
    con = store.connect(db, read_only=True)
    assert counts(con) == (120_000, 0, 1)
    con.close()


# ---------------------------------------------------------------------------------- formats


@pytest.mark.parametrize("name, writer", [("p.csv.gz", write_csv), ("p.parquet", write_parquet), ("p.jsonl", write_jsonl), ("p.jsonl.gz", write_jsonl)])
def test_every_format_loads_the_same_parcels_as_csv(tmp_path, name, writer):
    rows = [parcel(), parcel(parcel_id="EE123456786CN", sender_phone="", declared_value="", hs_code="8505 11")]
    as_csv = store.connect(tmp_path / "csv.duckdb")
    ingest_paths(as_csv, [write_csv(tmp_path / "p.csv", rows)])
    other = store.connect(tmp_path / "other.duckdb")
    ingest_paths(other, [writer(tmp_path / name, rows)])
    query = f"SELECT {', '.join(store.COLUMN_NAMES)} FROM parcels ORDER BY parcel_id"
    assert other.execute(query).fetchall() == as_csv.execute(query).fetchall()
    assert len(as_csv.execute(query).fetchall()) == 2


def test_the_same_parcels_in_another_format_are_all_duplicates(con, tmp_path):
    rows = [parcel(), parcel(parcel_id="EE123456786CN")]
    ingest_paths(con, [write_csv(tmp_path / "p.csv", rows)])
    report = ingest_paths(con, [write_parquet(tmp_path / "p.parquet", rows)])
    assert (report.rows_loaded, report.rows_duplicate, report.rows_quarantined) == (0, 2, 0)


# -------------------------------------------------------------------------- files refused


def test_a_file_in_another_encoding_is_refused_in_one_line(con, tmp_path):
    path = tmp_path / "gbk.csv"
    write_csv(tmp_path / "utf8.csv", [parcel(parcel_id=f"G{i}") for i in range(5)])
    path.write_bytes((tmp_path / "utf8.csv").read_text(encoding="utf-8").encode("gb18030"))
    report = ingest_paths(con, [path])
    assert report.rows_loaded == 0 and counts(con) == (0, 0, 0)
    assert len(report.problems) == 1 and "not UTF-8" in report.problems[0] and "\n" not in report.problems[0]


def test_a_file_missing_a_required_column_is_refused_naming_it(con, tmp_path):
    columns = [c for c in store.COLUMN_NAMES if c != "receiver_address"]
    report = ingest_paths(con, [write_csv(tmp_path / "p.csv", [parcel()], columns=columns)])
    assert report.problems == [f"{(tmp_path / 'p.csv').resolve()}: missing required column receiver_address"]


@pytest.mark.parametrize("content", ["", None])
def test_an_empty_file_is_refused(con, tmp_path, content):
    path = tmp_path / "p.csv"
    if content is None:
        write_csv(path, [], columns=list(store.COLUMN_NAMES))  # header only
    else:
        path.write_text(content)
    report = ingest_paths(con, [path])
    assert len(report.problems) == 1 and ("empty file" in report.problems[0] or "no data rows" in report.problems[0])


def test_a_directory_with_mixed_formats_loads_each_and_names_what_it_cannot(con, tmp_path):
    folder = tmp_path / "incoming"
    (folder / "nested").mkdir(parents=True)
    write_csv(folder / "a.csv", [parcel(parcel_id="D1")])
    write_parquet(folder / "nested" / "b.parquet", [parcel(parcel_id="D2")])
    write_jsonl(folder / "c.jsonl.gz", [parcel(parcel_id="D3")])
    (folder / "readme.txt").write_text("not data")
    report = ingest_paths(con, [folder])
    assert report.files_loaded == 3 and report.rows_loaded == 3
    assert len(report.problems) == 1 and "readme.txt: not a parcel file" in report.problems[0]


# ----------------------------------------------------------------------------------- the CLI


def test_cli_reports_counts_and_exits_zero(tmp_path):
    path = write_csv(tmp_path / "p.csv", [parcel(), parcel(parcel_id="BAD", dest_country="XX")])
    result = run_cli("ingest", str(path), "--db", str(tmp_path / "s.duckdb"))
    assert result.returncode == 0, result.stderr
    assert "1 rows loaded, 1 quarantined" in result.stdout


def test_cli_exits_non_zero_with_one_line_only_when_nothing_could_be_read(tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    result = run_cli("ingest", str(empty), "--db", str(tmp_path / "s.duckdb"))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and "error: nothing could be read" in result.stderr
    good = write_csv(tmp_path / "p.csv", [parcel()])
    assert run_cli("ingest", str(empty), str(good), "--db", str(tmp_path / "s.duckdb")).returncode == 0


def test_cli_uses_linker_db_from_the_environment(tmp_path):
    db = tmp_path / "env.duckdb"
    assert run_cli("ingest", str(write_csv(tmp_path / "p.csv", [parcel()])), env_db=db).returncode == 0
    assert db.exists()


def test_status_json_reports_what_the_store_holds(tmp_path):
    db = tmp_path / "s.duckdb"
    run_cli("ingest", str(write_csv(tmp_path / "p.csv", [parcel(), parcel(parcel_id="BAD", dest_country="XX")])), "--db", str(db))
    import json

    result = run_cli("status", "--json", "--db", str(db))
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    assert {k: status[k] for k in ("parcels", "quarantined", "files")} == {"parcels": 1, "quarantined": 1, "files": 1}
    assert {"entities", "clusters", "flagged_clusters", "last_run"} <= status.keys()


def test_a_second_writer_gets_a_clear_error_instead_of_a_lock_message(tmp_path):
    db = tmp_path / "s.duckdb"
    holder = store.connect(db)
    try:
        result = run_cli("ingest", str(write_csv(tmp_path / "p.csv", [parcel()])), "--db", str(db))
    finally:
        holder.close()
    assert result.returncode != 0
    assert "in use by another writing process" in result.stderr and "Traceback" not in result.stderr
