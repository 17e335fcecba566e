"""The morning report: self-contained, escaped, and saying what changed, what to look at and why."""

from __future__ import annotations

import csv
import json
import re
from datetime import datetime, timedelta

import networkx as nx
import pytest

from linker.store import snapshot
from linker import store
from linker.casework.cases import User, cases_db_path, watch_add
from linker.stages.ingest import ingest_paths
from linker.outputs.network import network_svg
from linker.outputs.report import Baseline, write_report
from linker.outputs.timeline import timeline_svg
from linker.store.tables import CLUSTER_COLUMNS
from linker.casework.watchlist import load_watchlist
from tests.conftest import parcel, write_csv
from tests.nightly_support import night_rows, standin_analysis

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """A store with one flagged ring (one sender named with markup), two quarantined rows, published."""
    tmp = tmp_path_factory.mktemp("report")
    db = tmp / "store.duckdb"
    rows = night_rows(1, ring_parcels=5, noise=4)
    rows[0]["sender_name"] = HOSTILE
    rows[1]["receiver_phone"] = "8 701 555 0101"
    rows += [parcel(parcel_id="BAD1", declared_weight_kg="-1"), parcel(parcel_id="BAD2", declared_weight_kg="-2")]
    write_csv(tmp / "night1.csv", rows)
    con = store.connect(db)
    ingest_paths(con, [tmp / "night1.csv"])
    standin_analysis(con)
    con.close()
    snap = snapshot.publish(db, "run-1")
    watch_add(cases_db_path(db), User("ana", "investigator"), "account", "wx 88231", "paid for the March parcels")
    report = write_report(snap, tmp / "reports", report_date="2026-03-01", run_id="run-1", baseline=None,
                          watch_items=load_watchlist(db))
    return db, report


def html_of(published) -> str:
    return (published[1] / "index.html").read_text(encoding="utf-8")


def facts_of(published) -> dict:
    return json.loads((published[1] / "report.json").read_text(encoding="utf-8"))


def test_the_page_loads_nothing_from_outside_itself(published):
    page = html_of(published)
    assert not re.search(r"<script|<link|<iframe|<[^>]+\ssrc\s*=|url\(|@import", page, re.I)
    # The only http(s) text is the SVG namespace, which browsers never fetch.
    assert set(re.findall(r"https?://[^\s\"'<>]+", page)) == {"http://www.w3.org/2000/svg"}
    assert all(h.startswith("#") for h in re.findall(r'href="([^"]*)"', page))


def test_parcel_fields_are_escaped_not_executed(published):
    page = html_of(published)
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page or "&lt;script&gt;alert(&quot;x&quot;)" in page


def test_the_summary_counts_tonights_parcels_quarantine_and_flagged_clusters(published):
    summary = facts_of(published)["summary"]
    assert (summary["parcels_loaded"], summary["rows_quarantined"], summary["flagged_total"]) == (9, 2, 1)


def test_quarantine_reasons_are_listed_with_their_counts(published):
    tonight = facts_of(published)["quality"]["tonight"]
    assert [(q["reason"], q["rows"]) for q in tonight] == [("declared_weight_kg is negative", 2)]
    assert "declared_weight_kg is negative" in html_of(published)


def test_without_a_previous_report_every_flagged_cluster_is_new(published):
    facts = facts_of(published)
    assert [c["cluster_id"] for c in facts["changes"]["new_flagged"]] == [c["cluster_id"] for c in facts["flagged"]]


def test_a_watched_account_written_differently_is_found_on_tonights_parcels(published):
    hits = facts_of(published)["watch_hits"]
    assert {h["value_on_parcel"] for h in hits} == {"WX-88231"}
    assert len({h["parcel_id"] for h in hits}) == 5
    assert all(h["cluster_id"] for h in hits)


def test_each_flagged_cluster_has_its_sentence_network_timeline_and_parcels(published):
    page = html_of(published)
    (detail,) = facts_of(published)["details"]
    section = page[page.index(f'id="c-{detail["cluster"]["cluster_id"]}"'):]
    assert detail["cluster"]["summary"] in section
    assert 'class="network"' in section and 'class="timeline"' in section
    assert detail["parcels_total"] == 5 and all(p["parcel_id"] in section for p in detail["parcels"])


def test_clusters_csv_has_the_contract_columns_riskiest_first(published):
    with open(published[1] / "clusters.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert tuple(rows[0].keys()) == CLUSTER_COLUMNS
    assert [int(r["rank"]) for r in rows] == sorted(int(r["rank"]) for r in rows)
    assert rows[0]["flagged"] == "true"


def test_what_changed_compares_with_the_baseline_run(tmp_path):
    db = tmp_path / "s.duckdb"
    write_csv(tmp_path / "n1.csv", night_rows(1, ring_parcels=3, noise=2))
    write_csv(tmp_path / "n2.csv", night_rows(2, ring_parcels=2, noise=2, new_ring_parcels=4))
    con = store.connect(db)
    ingest_paths(con, [tmp_path / "n1.csv"])
    standin_analysis(con)  # 3 parcels x 0.8 kg: below the 3 kg threshold, not flagged
    from linker.nightly import record_run_clusters
    from linker.store.schema import create_run_history

    create_run_history(con)
    record_run_clusters(con, "run-1")
    ingest_paths(con, [tmp_path / "n2.csv"])
    standin_analysis(con)
    con.close()
    snap = snapshot.publish(db, "run-2")
    report = write_report(snap, tmp_path / "r", report_date="2026-03-02", run_id="run-2",
                          baseline=Baseline("run-1", "2026-03-01", 1))
    changes = json.loads((report / "report.json").read_text())["changes"]
    assert [(c["kg_before"], c["kg_now"]) for c in changes["crossed_threshold"]] == [(pytest.approx(2.4), pytest.approx(4.0))]
    assert len(changes["new_flagged"]) == 1 and changes["no_longer_flagged"] == []


def test_the_timeline_marks_where_the_running_total_reaches_the_threshold():
    t0 = datetime(2026, 3, 1)
    svg = timeline_svg([(t0 + timedelta(days=i), 1.0) for i in range(5)], 3.0)
    assert "threshold 3.0 kg" in svg
    assert re.search(r"<title>threshold reached 2026-03-03T00:00:00</title>", svg)


def test_the_network_picture_is_the_same_every_time_and_escapes_labels():
    g = nx.Graph()
    g.add_node("a", kind="party", label='<b onclick="x">Zhang</b>')
    g.add_node("p", kind="phone", label="+8613800138000")
    g.add_edge("a", "p")
    first, second = network_svg(g), network_svg(g)
    assert first == second
    assert "<b onclick" not in first and "&lt;b onclick=&quot;x&quot;&gt;" in first


def test_with_the_pipelines_mentions_a_watched_phone_is_found_where_the_parcel_wrote_it_nationally(tmp_path):
    from linker.stages.normalise import build_party_mentions
    from linker.casework.watchlist import WatchItem, find_hits, normalise_value

    rows = night_rows(1, ring_parcels=2, noise=1)
    rows[1]["receiver_phone"] = "8 701 555 0101"  # Kazakh national form, receiver in KZ
    write_csv(tmp_path / "n.csv", rows)
    con = store.connect(tmp_path / "s.duckdb")
    ingest_paths(con, [tmp_path / "n.csv"])
    build_party_mentions(con)
    hits = find_hits(con, [WatchItem("phone", "+7 701 555 0101", normalise_value("phone", "+7 701 555 0101"))], "file_id > 0")
    con.close()
    assert [(h["parcel_id"], h["field"], h["value_on_parcel"]) for h in hits] == [(rows[1]["parcel_id"], "receiver_phone", "8 701 555 0101")]


def test_a_flagged_cluster_that_merged_into_another_says_into_which(tmp_path):
    from linker.store.schema import create_run_history
    from linker.store.schema import LINEAGE_DDL

    db = tmp_path / "s.duckdb"
    write_csv(tmp_path / "n1.csv", night_rows(1, ring_parcels=5, noise=2))
    con = store.connect(db)
    ingest_paths(con, [tmp_path / "n1.csv"])
    standin_analysis(con)
    create_run_history(con)
    survivor = con.execute("SELECT cluster_id FROM clusters WHERE flagged").fetchone()[0]
    # Last night a second flagged cluster existed; tonight's run folded it into the survivor.
    con.execute("INSERT INTO run_clusters (run_id, cluster_id, rank, score, flagged, parcels) VALUES ('run-1', 'C-OLD', 1, 2.0, true, 4)")
    con.execute(LINEAGE_DDL.format(name="cluster_lineage"))
    con.execute("INSERT INTO cluster_lineage VALUES ('run-2', ?, 'merged', 'C-OLD', 4, 9, 4)", [survivor])
    con.close()
    report = write_report(snapshot.publish(db, "run-2"), tmp_path / "r", report_date="2026-03-02", run_id="run-2",
                          baseline=Baseline("run-1", "2026-03-01", 0))
    (gone,) = json.loads((report / "report.json").read_text())["changes"]["no_longer_flagged"]
    assert (gone["cluster_id"], gone["still_present"], gone["merged_into"]) == ("C-OLD", False, survivor)
    assert f"merged into {survivor}" in (report / "index.html").read_text()
