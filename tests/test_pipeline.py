"""`linker run` and `linker export`: stable ids, determinism, failure safety, the result files,
and detection of every typology on a small synthetic world."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from linker.pipeline import analysis as pipeline
from linker.pipeline import runs
from linker import store
from linker.outputs.export import export_results
from linker.stages.ingest import ingest_paths
from tests.conftest import write_csv
from tests.test_score import T0, noise_rows, ring_rows, shop_rows, warehouse_rows

from datetime import timedelta


def load(db: Path, rows: list[dict], name: str) -> None:
    path = write_csv(db.parent / f"{name}.csv", rows)
    con = store.connect(db)
    try:
        ingest_paths(con, [path])
    finally:
        con.close()


def query(db: Path, sql: str, params=None) -> list[tuple]:
    con = store.connect(db, read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def cluster_id_of(db: Path, parcel_id: str) -> str | None:
    rows = query(db, "SELECT cluster_id FROM parcel_clusters WHERE parcel_id = ?", [parcel_id])
    return rows[0][0] if rows else None


def relabel(rows: list[dict], surname: str) -> None:
    """Other recruits: other names, phones, ID numbers and home addresses."""
    for r in rows:
        k = int(r["sender_phone"][-1])
        r["sender_name"] = f"{surname} {['Oleg', 'Anna', 'Igor', 'Olga', 'Yuri', 'Vera'][k - 1]}"
        r["sender_phone"] = "137" + r["sender_phone"][3:]
        r["sender_id_number"] = "2201" + r["sender_id_number"][4:]
        r["sender_address"] = f"重庆市渝中区解放碑{k}{surname[:2]}号"


BASE = ring_rows("RING") + shop_rows(40) + noise_rows(120)

# The lineage of the run that ran last: by run order, never by run id (see ids_sorting_backwards).
LATEST_LINEAGE = "FROM cluster_lineage WHERE run_seq = (SELECT max(run_seq) FROM cluster_lineage)"


@pytest.fixture
def ids_sorting_backwards(monkeypatch):
    """Run ids as two runs started in the same second can get them: the later one sorts first
    (the random part of the id decides). Whatever picks "the latest run" must not be fooled."""
    ids = iter(f"20260301T020000Z-{tail}" for tail in ("ffffff", "cccccc", "999999", "666666", "333333", "000000"))
    monkeypatch.setattr(pipeline, "new_run_id", lambda now=None: next(ids))
    return ids


def test_the_latest_run_is_the_one_that_ran_last_even_when_its_id_sorts_first(tmp_path, ids_sorting_backwards):
    db = tmp_path / "s.duckdb"
    load(db, BASE, "base")
    first, second = pipeline.run(db).run_id, pipeline.run(db).run_id
    assert second < first
    con = store.connect(db, read_only=True)
    try:
        assert store.status(con).last_run["run_id"] == second
        assert {r[0] for r in con.execute(f"SELECT DISTINCT run_id {LATEST_LINEAGE}").fetchall()} == {second}
    finally:
        con.close()
    from linker.pipeline.runs import list_runs

    assert [r["run_id"] for r in list_runs(db)[0]] == [second, first]


def test_a_store_made_before_run_seq_numbers_its_runs_in_the_order_they_started(tmp_path):
    db = tmp_path / "s.duckdb"
    con = store.connect(db)
    con.execute("CREATE TABLE runs (run_id VARCHAR PRIMARY KEY, kind VARCHAR NOT NULL, status VARCHAR NOT NULL, "
                "started_at TIMESTAMP NOT NULL, finished_at TIMESTAMP, counts JSON, error VARCHAR)")
    con.execute("INSERT INTO runs (run_id, kind, status, started_at) VALUES "
                "('20260301T020000Z-ffffff', 'run', 'ok', TIMESTAMP '2026-03-01 02:00:00.1'), "
                "('20260301T020000Z-000000', 'run', 'ok', TIMESTAMP '2026-03-01 02:00:00.7')")
    con.execute("CREATE TABLE cluster_lineage (run_id VARCHAR, cluster_id VARCHAR, event VARCHAR, other_cluster_id VARCHAR, "
                "shared_parcels BIGINT, parcels BIGINT, other_parcels BIGINT)")
    con.execute("INSERT INTO cluster_lineage (run_id, cluster_id, event) VALUES "
                "('20260301T020000Z-ffffff', 'C-000001', 'new'), ('20260301T020000Z-000000', 'C-000001', 'continued')")
    con.close()
    con = store.connect(db)  # the migration runs on every writable open
    try:
        assert con.execute("SELECT run_id, run_seq FROM runs ORDER BY run_seq").fetchall() == [
            ("20260301T020000Z-ffffff", 1), ("20260301T020000Z-000000", 2)]
        assert con.execute("SELECT event, run_seq FROM cluster_lineage ORDER BY run_seq").fetchall() == [("new", 1), ("continued", 2)]
        assert runs.next_run_seq(con) == 3
    finally:
        con.close()


def test_ids_stay_the_same_when_the_same_data_is_run_again(tmp_path):
    db = tmp_path / "s.duckdb"
    load(db, BASE, "base")
    pipeline.run(db)
    first = query(db, "SELECT cluster_id, parcels, score FROM clusters ORDER BY cluster_id")
    pipeline.run(db)
    assert query(db, "SELECT cluster_id, parcels, score FROM clusters ORDER BY cluster_id") == first
    assert {r[0] for r in query(db, f"SELECT event {LATEST_LINEAGE}")} == {"continued"}


def test_a_growing_ring_keeps_its_id_and_a_new_ring_gets_a_new_one(tmp_path):
    db = tmp_path / "s.duckdb"
    load(db, BASE, "base")
    pipeline.run(db)
    ring_id = cluster_id_of(db, "RING00000")
    before = {r[0] for r in query(db, "SELECT cluster_id FROM clusters")}
    more = ring_rows("MORE", n=10, start=T0 + timedelta(days=20))  # same recruits, account and suite
    other = ring_rows("OTHR", n=20, account="WECHAT-OTHER-9", suite="17", start=T0 + timedelta(days=5))
    for r in other:
        r["receiver_address"] = "Bolshaya Sadovaya 5, Office 17, Moscow"
        r["receiver_name"] = "Pavel Orlov"
        r["receiver_phone"] = "+7 916 000 1122"
    relabel(other, "Ivanov")
    load(db, more + other, "night2")
    pipeline.run(db)
    assert cluster_id_of(db, "RING00000") == ring_id == cluster_id_of(db, "MORE00000")
    new_id = cluster_id_of(db, "OTHR00000")
    assert new_id is not None and new_id not in before
    assert new_id.startswith("C-") and len(new_id) == 8


def test_a_merge_is_recorded_in_the_lineage(tmp_path, ids_sorting_backwards):
    db = tmp_path / "s.duckdb"
    a = ring_rows("AAAA", n=12, account="ACC-A", suite="1")
    b = ring_rows("BBBB", n=12, account="ACC-B", suite="2", start=T0 + timedelta(days=3))
    relabel(b, "Sultanov")  # other recruits than a's, so that only the bridge below links the two
    for r in b:
        r["receiver_name"], r["receiver_phone"] = "Dana Sultan", "+7 701 555 0777"
    load(db, a + b + noise_rows(50), "base")
    pipeline.run(db)
    id_a, id_b = cluster_id_of(db, "AAAA00000"), cluster_id_of(db, "BBBB00000")
    assert id_a and id_b and id_a != id_b
    bridge = ring_rows("BRDG", n=8, account="ACC-A", suite="2", start=T0 + timedelta(days=8))
    load(db, bridge, "bridge")
    pipeline.run(db)
    merged = cluster_id_of(db, "AAAA00000")
    assert merged == cluster_id_of(db, "BBBB00000")
    events = query(db, f"SELECT event, cluster_id, other_cluster_id {LATEST_LINEAGE}")
    assert ("merged", merged, ({id_a, id_b} - {merged}).pop()) in events


def test_the_report_after_a_merge_says_into_which_even_when_tonights_id_sorts_before_the_baselines(tmp_path, monkeypatch):
    from linker import nightly

    ids = iter(["20260301T020000Z-ffffff", "20260301T020000Z-000000"])  # two nights started in one second
    monkeypatch.setattr(nightly, "new_run_id", lambda now=None: next(ids))
    db, incoming, reports = tmp_path / "s.duckdb", tmp_path / "incoming", tmp_path / "reports"
    incoming.mkdir()
    a = ring_rows("AAAA", n=12, account="ACC-A", suite="1")
    b = ring_rows("BBBB", n=12, account="ACC-B", suite="2", start=T0 + timedelta(days=3))
    relabel(b, "Sultanov")
    for r in b:
        r["receiver_name"], r["receiver_phone"] = "Dana Sultan", "+7 701 555 0777"
    write_csv(incoming / "n1.csv", a + b + noise_rows(50))
    nightly.run_nightly(db, incoming, reports, report_date="2026-03-01")
    id_a, id_b = cluster_id_of(db, "AAAA00000"), cluster_id_of(db, "BBBB00000")
    write_csv(incoming / "n2.csv", ring_rows("BRDG", n=8, account="ACC-A", suite="2", start=T0 + timedelta(days=8)))
    second = nightly.run_nightly(db, incoming, reports, report_date="2026-03-02")
    merged = cluster_id_of(db, "AAAA00000")
    gone = ({id_a, id_b} - {merged}).pop()
    changes = json.loads((second.report_dir / "report.json").read_text())["changes"]
    assert [(c["cluster_id"], c["merged_into"]) for c in changes["no_longer_flagged"]] == [(gone, merged)]


def test_the_same_input_gives_the_same_results(tmp_path):
    results = []
    for name in ("one", "two"):
        db = tmp_path / name / "s.duckdb"
        db.parent.mkdir()
        load(db, BASE + warehouse_rows(40), "base")
        pipeline.run(db)
        results.append((
            query(db, "SELECT * EXCLUDE (run_id) FROM clusters ORDER BY rank"),
            query(db, "SELECT * FROM parcel_clusters ORDER BY parcel_seq"),
            query(db, "SELECT * FROM cluster_signals ORDER BY cluster_id, signal"),
        ))
    assert results[0] == results[1]


def test_a_failed_run_keeps_the_previous_results_and_records_the_failure(tmp_path):
    db = tmp_path / "s.duckdb"
    load(db, BASE, "base")
    pipeline.run(db)
    clusters = query(db, "SELECT * FROM clusters ORDER BY rank")
    members = query(db, "SELECT * FROM parcel_clusters ORDER BY parcel_seq")
    from linker.settings.scoring import load_scoring

    broken = load_scoring()
    del broken["weights"]["quantity"]  # the score stage cannot weigh its signals
    with pytest.raises(pipeline.PipelineError, match="score stage failed"):
        pipeline.run(db, config=broken)
    assert query(db, "SELECT * FROM clusters ORDER BY rank") == clusters
    assert query(db, "SELECT * FROM parcel_clusters ORDER BY parcel_seq") == members
    status, error = query(db, "SELECT status, error FROM runs ORDER BY run_seq DESC LIMIT 1")[0]
    assert status == "failed" and "score stage failed" in error
    assert not query(db, "SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'stage_%'")


def test_a_run_is_recorded_with_counts_and_stage_timings(tmp_path):
    db = tmp_path / "s.duckdb"
    load(db, BASE, "base")
    result = pipeline.run(db)
    kind, status, counts = query(db, "SELECT kind, status, counts FROM runs WHERE run_id = ?", [result.run_id])[0]
    counts = json.loads(counts)
    assert (kind, status) == ("run", "ok")
    assert counts["parcels"] == len(BASE) and counts["clusters"] >= 2
    assert set(counts["seconds"]) == set(pipeline.STAGES)


def test_a_run_publishes_its_results_as_the_snapshot_the_dashboard_reads(tmp_path):
    from linker.store import snapshot

    db = tmp_path / "s.duckdb"
    load(db, BASE, "base")
    assert snapshot.latest(db) is None
    result = pipeline.run(db)
    published = snapshot.latest(db)
    assert published is not None and result.run_id in published.name
    assert query(published, "SELECT count(*) FROM clusters") == query(db, "SELECT count(*) FROM clusters")


def test_an_empty_store_is_refused_in_one_sentence(tmp_path):
    db = tmp_path / "s.duckdb"
    store.connect(db).close()
    with pytest.raises(pipeline.PipelineError, match="no parcels"):
        pipeline.run(db)


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("export")
    db = tmp / "s.duckdb"
    load(db, BASE, "base")
    pipeline.run(db)
    con = store.connect(db, read_only=True)
    try:
        export_results(con, tmp / "out")
    finally:
        con.close()
    return tmp / "out"


def read(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_export_writes_the_contract_columns(exported):
    def header(name):
        with open(exported / name, encoding="utf-8") as fh:
            return fh.readline().strip().split(",")

    assert header("parcel_clusters.csv") == ["parcel_id", "carrier", "cluster_id"]
    assert header("clusters.csv") == ["cluster_id", "rank", "score", "flagged", "commodity", "est_controlled_kg",
                                      "threshold_kg", "parcels", "senders", "receivers", "first_seen", "last_seen", "summary"]
    assert header("party_entities.csv") == ["parcel_id", "carrier", "role", "entity_id"]
    assert sorted(p.name for p in exported.iterdir()) == ["clusters.csv", "parcel_clusters.csv", "party_entities.csv"]


def test_exported_clusters_are_ranked_with_true_false_flags(exported):
    rows = read(exported / "clusters.csv")
    assert [int(r["rank"]) for r in rows] == list(range(1, len(rows) + 1))
    assert {r["flagged"] for r in rows} == {"true", "false"}
    assert rows[0]["flagged"] == "true"


def test_exported_parcels_agree_with_cluster_sizes(exported):
    clusters = {r["cluster_id"]: int(r["parcels"]) for r in read(exported / "clusters.csv")}
    members = read(exported / "parcel_clusters.csv")
    sizes: dict[str, int] = {}
    for r in members:
        sizes[r["cluster_id"]] = sizes.get(r["cluster_id"], 0) + 1
    assert sizes == clusters
    assert len({(r["parcel_id"], r["carrier"]) for r in members}) == len(members)  # at most one cluster per parcel


def test_every_parcel_has_a_sender_and_a_receiver_entity(exported):
    rows = read(exported / "party_entities.csv")
    assert len(rows) == 2 * len(BASE)
    assert {r["role"] for r in rows} == {"sender", "receiver"}


def test_export_before_any_run_says_so(tmp_path):
    db = tmp_path / "s.duckdb"
    store.connect(db).close()
    proc = subprocess.run([sys.executable, "-m", "linker", "export", "--out", str(tmp_path / "o"), "--db", str(db)],
                          capture_output=True, text=True)
    assert proc.returncode == 1
    assert proc.stderr.strip().count("\n") == 0 and "linker run" in proc.stderr


def test_linker_run_command_ends_with_the_top_clusters(tmp_path):
    db = tmp_path / "s.duckdb"
    load(db, BASE, "base")
    proc = subprocess.run([sys.executable, "-m", "linker", "run", "--db", str(db)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "top clusters" in proc.stdout and "C-000001" in proc.stdout


# --- every typology on a small synthetic world -------------------------------------------------

TYPOLOGIES = ("splitting", "recruited_senders", "channel_switching", "concealment", "false_origin")


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    synth = pytest.importorskip("linker.synth")
    tmp = tmp_path_factory.mktemp("synth")
    world = synth.generate(6_000, seed=5)
    world.parcels.write_parquet(tmp / "parcels.parquet")
    db = tmp / "s.duckdb"
    con = store.connect(db)
    ingest_paths(con, [tmp / "parcels.parquet"])
    con.close()
    pipeline.run(db)
    con = store.connect(db, read_only=True)
    con.register("truth", world.truth.to_arrow())
    yield con
    con.close()


def ring_found(con, ring_id: str) -> bool:
    """One flagged cluster holds at least half the ring, and the ring is at least half of it."""
    return bool(con.execute(
        """
        WITH ring AS (SELECT parcel_id, carrier FROM truth WHERE ring_id = ?),
        shared AS (SELECT pc.cluster_id, count(*) AS k FROM ring JOIN parcel_clusters pc USING (parcel_id, carrier)
                   JOIN clusters c USING (cluster_id) WHERE c.flagged GROUP BY pc.cluster_id)
        SELECT count(*) FROM shared s JOIN clusters c USING (cluster_id)
        WHERE 2 * s.k >= (SELECT count(*) FROM ring) AND 2 * s.k >= c.parcels
        """,
        [ring_id],
    ).fetchall()[0][0])


@pytest.mark.parametrize("typology", TYPOLOGIES)
def test_every_ring_of_each_typology_is_found(synthetic, typology):
    rings = [r[0] for r in synthetic.execute("SELECT DISTINCT ring_id FROM truth WHERE typology = ?", [typology]).fetchall()]
    assert rings, f"the world has no {typology} ring"
    missed = [r for r in rings if not ring_found(synthetic, r)]
    assert not missed


def test_no_legitimate_lookalike_is_flagged(synthetic):
    flagged_lookalikes = synthetic.execute(
        """
        SELECT pc.cluster_id FROM parcel_clusters pc JOIN clusters c USING (cluster_id)
        JOIN truth t USING (parcel_id, carrier) WHERE c.flagged
        GROUP BY pc.cluster_id
        HAVING 2 * count(*) FILTER (WHERE t.actor_kind IN ('shop', 'exporter', 'forwarder_customer', 'outlet_customer')) > count(*)
        """
    ).fetchall()
    assert flagged_lookalikes == []


def test_the_memory_budget_grows_with_a_big_history_within_the_machine(monkeypatch):
    from linker.store import connection

    monkeypatch.delenv("LINKER_MEMORY_LIMIT", raising=False)
    monkeypatch.setattr(connection, "_machine_memory_gb", lambda: 24.0)
    assert connection.memory_limit() == "2000MB"
    assert connection.memory_limit(1_000_000) == "2000MB"  # the default up to 2.5M parcels
    assert connection.memory_limit(10_000_000) == "8000MB"
    assert connection.memory_limit(100_000_000) == f"{round(0.4 * 24 * 1000)}MB"  # 40% of the machine
    monkeypatch.setattr(connection, "_machine_memory_gb", lambda: 4.0)
    assert connection.memory_limit(10_000_000) == "2000MB"  # a small machine keeps the default
    monkeypatch.setenv("LINKER_MEMORY_LIMIT", "3GB")
    assert connection.memory_limit(10_000_000) == "3GB"  # the operator's word wins
