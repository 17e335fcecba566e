"""The dashboard's reads: search across identifiers, the queue, and the snapshot it opens."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from app import data
from linker.outputs import clusters as read
from linker.stages import pages, search
from linker.store import snapshot
from tests.app_fixture import RING_A, RING_A_ACCOUNT, RING_B, SHOP_C, build_store, shared_store


@pytest.fixture(scope="module")
def store_path(tmp_path_factory):
    return shared_store(tmp_path_factory)


@pytest.fixture
def con(store_path):
    con = duckdb.connect(str(store_path), read_only=True)
    yield con
    con.close()


def clusters_found(con, text: str) -> list[str]:
    return list(data.search(con, text).clusters["cluster_id"])


@pytest.mark.parametrize("text", ["张伟", "Zhang Wei", "wei zhang", "ZHANG  Wei", "Zhang Wie"])
def test_name_in_hanzi_pinyin_any_order_or_with_a_typo_finds_the_ring(con, text):
    assert RING_A in clusters_found(con, text)


@pytest.mark.parametrize("text", ["+86 138-0013-8000", "13800138000", "008613800138000", "138 0013 8000", "86-13800138000"])
def test_phone_in_any_format_finds_the_ring(con, text):
    assert clusters_found(con, text) == [RING_A]


def test_account_written_with_spaces_finds_the_ring(con):
    spaced = " ".join(RING_A_ACCOUNT[i : i + 4] for i in range(0, len(RING_A_ACCOUNT), 4))
    result = data.search(con, spaced)
    assert list(result.clusters["cluster_id"]) == [RING_A]
    assert any("account" in m for m in result.entities["matched_on"])


def test_id_number_finds_the_ring(con):
    assert clusters_found(con, "110101199001011234") == [RING_A]


def test_address_finds_the_forwarding_suite(con):
    assert RING_A in clusters_found(con, "100 Main Street Suite 4471")


def test_the_warm_up_search_is_for_a_party_of_the_cluster_and_finds_it(con):
    name = data.warm_search_text(con, RING_A)
    assert name and RING_A in clusters_found(con, name)
    assert data.warm_search_text(con, "C-no-such-cluster") is None


def test_parcel_id_finds_its_cluster_case_insensitively(con):
    assert clusters_found(con, "sf200003") == [RING_B]


def test_sql_in_the_search_text_finds_nothing_and_changes_nothing(con):
    before = con.execute("SELECT count(*) FROM parcels").fetchone()[0]
    for text in ["'; DROP TABLE parcels; --", "x' OR '1'='1", "%", "_", "\\' UNION SELECT * FROM parcels --"]:
        assert data.search(con, text).empty
    assert con.execute("SELECT count(*) FROM parcels").fetchone()[0] == before


def test_unrelated_text_finds_nothing(con):
    assert data.search(con, "Nobody Anywhere").empty


def test_queue_is_flagged_clusters_in_rank_order_with_their_carriers(con):
    q = data.queue(con)
    assert list(q["cluster_id"]) == [RING_A, RING_B]
    assert list(q.loc[0, "carriers"]) == ["China Post", "EMS", "JD", "SF"]
    assert SHOP_C in set(data.queue(con, include_unflagged=True)["cluster_id"])


def _cluster_reads(con) -> dict:
    """Everything the cluster page, the evidence pack and the queue read, for every cluster."""
    ids = [r[0] for r in con.execute("SELECT cluster_id FROM clusters ORDER BY cluster_id").fetchall()]
    found = {"queue": data.queue(con, include_unflagged=True),
             "report parcels": pd.concat(read.cluster_parcels_of(con, ids)),
             "report mentions": pd.concat(read.cluster_mentions_of(con, ids))}
    for cid in ids:
        for name, reader in (("parcels", read.cluster_parcels), ("mentions", read.cluster_mentions),
                             ("links", read.link_explanations), ("households", read.cluster_households),
                             ("entities", read.cluster_entities)):
            found[f"{name} of {cid}"] = reader(con, cid)
    return found


def test_the_page_tables_a_run_writes_read_as_the_queries_over_parcels_and_mentions_do(tmp_path):
    db = build_store(tmp_path / "s.duckdb", pages=False)
    con = duckdb.connect(str(db))
    try:
        assert not pages.has_pages(con)
        live = _cluster_reads(con)
        assert len(live["links of " + RING_A]) and len(live["entities of " + RING_A]) and len(live["parcels of " + RING_B])
        pages.write_pages(con)
        assert pages.has_pages(con)
        paged = _cluster_reads(con)
        # one cluster id reads the row groups of that cluster only: the table is in cluster order
        ordered = con.execute("SELECT cluster_id FROM cluster_page_parcels").fetchall()
        assert ordered == sorted(ordered)
    finally:
        con.close()
    assert live.keys() == paged.keys()
    for name in live:
        pd.testing.assert_frame_equal(live[name].reset_index(drop=True), paged[name].reset_index(drop=True),
                                      check_dtype=False, obj=name)


SEARCHES = ["张伟", "Zhang Wei", "wei zhang", "Zhang Wie", "+86 138-0013-8000", "13800138000", "6222 0212 3456 7890",
            "110101199001011234", "100 Main Street Suite 4471", "sf200003", "Kanaalweg 12 Utrecht", "Metals Lab",
            "Nobody Anywhere", "x' OR '1'='1"]


def test_search_reads_the_search_and_page_tables_as_it_reads_the_mentions(tmp_path, monkeypatch):
    db = build_store(tmp_path / "s.duckdb", pages=False)
    con = duckdb.connect(str(db))
    try:
        assert search.relations(con)["search_names"] != "search_names"
        live = {q: data.search(con, q) for q in SEARCHES}
        search.write_index(con)
        pages.write_pages(con)  # each party's clusters come from the page tables then
        assert search.relations(con)["search_names"] == "search_names"
        indexed = {q: data.search(con, q) for q in SEARCHES}
        # the addresses read through the word postings, and scanned when no word is rare enough
        assert data._address_prefilter(con, search.relations(con), ["kanaalweg", "12"])[1]
        assert data._address_prefilter(con, search.relations(con), ["aalweg", "12", "35"])[1]  # ends, is, begins
        assert data._address_prefilter(con, search.relations(con), ["kanaal", "12"])[1] == []  # 'kanaal' ends no word
        monkeypatch.setattr(data, "ADDRESS_INDEX_MAX", 0)
        assert data._address_prefilter(con, search.relations(con), ["kanaalweg", "12"])[1] is None
        scanned = {q: data.search(con, q) for q in SEARCHES}
    finally:
        con.close()
    assert sum(not r.empty for r in live.values()) >= 10
    for q in SEARCHES:
        for part in ("entities", "clusters", "parcels"):
            pd.testing.assert_frame_equal(getattr(live[q], part), getattr(indexed[q], part), obj=f"{part} of {q!r}")
            pd.testing.assert_frame_equal(getattr(live[q], part), getattr(scanned[q], part), obj=f"{part} of {q!r} (scan)")


def test_change_marks_say_new_or_how_much_a_cluster_grew():
    assert data.change_mark("new", 5, None) == "new"
    assert data.change_mark("grew", 14, 9) == "+5 parcels"
    assert data.change_mark("same", 8, 8) == ""


def test_dashboard_reads_the_latest_snapshot_once_one_is_published(tmp_path):
    store_path = build_store(tmp_path / "store.duckdb")
    assert data.analysis_source(store_path) == data.Source(store_path, False)
    published = snapshot.publish(store_path, "run-1")
    source = data.analysis_source(store_path)
    assert source.is_snapshot and source.path == published
    con = data.open_source(source)
    with pytest.raises(duckdb.Error):
        con.execute("CREATE TABLE written_by_dashboard (x INT)")
    con.close()


# ---------------------------------------------------------------- spelling tolerance, on a store built by the real stages

SPELLED = {
    "EE000000001CN": ("Jan Kowalski", "Bergstraße 1295, 8001 Zürich"),
    "EE000000002CN": ("Anna Müller", "Müllerstraße 5, 10115 Berlin"),
    "EE000000003CN": ("José Núñez", "Muellerweg 7, 3000 Bern"),
    "EE000000004CN": ("Pavel Orlov", "Rue de l'Église 4, 1204 Genève"),
}


@pytest.fixture(scope="module")
def spelled(tmp_path_factory):
    from linker.pipeline import analysis as pipeline
    from linker import store
    from linker.stages.ingest import ingest_paths
    from tests.conftest import parcel, write_csv

    folder = tmp_path_factory.mktemp("spelled")
    rows = [parcel(parcel_id=pid, sender_name=name, receiver_address=address) for pid, (name, address) in SPELLED.items()]
    con = store.connect(folder / "s.duckdb")
    ingest_paths(con, [write_csv(folder / "p.csv", rows)])
    pipeline.analyse(con)
    yield con
    con.close()


def parcels_found(con, text: str) -> set[str]:
    return set(data.search(con, text).parcels["parcel_id"]) if not data.search(con, text).empty else set()


@pytest.mark.parametrize("text", ["Kowalsky", "Kovalski", "kowalska", "Jan Kowalsky", "KOWALSKI Jan", "Mueller", "Anna Mueller", "Nunes"])
def test_a_name_with_one_or_two_typos_or_an_umlaut_written_out_finds_the_party(spelled, text):
    found = data.search(spelled, text)
    assert any(m.startswith("name") for ms in found.entities["matched_on"] for m in ms)
    assert parcels_found(spelled, text) & {"EE000000001CN", "EE000000002CN", "EE000000003CN"}


@pytest.mark.parametrize("text, parcel_id", [
    ("Bergstrasse 1295", "EE000000001CN"),
    ("BERGSTRASSE 1295", "EE000000001CN"),
    ("1295 Bergstraße", "EE000000001CN"),
    ("Zuerich", "EE000000001CN"),
    ("Muellerstrasse 5", "EE000000002CN"),
    ("Mullerstrasse 5", "EE000000002CN"),
    ("MÜLLERSTRASSE 5", "EE000000002CN"),
    ("Müllerweg 7", "EE000000003CN"),
    ("Mullerweg 7", "EE000000003CN"),
    ("rue de l'eglise 4, geneve", "EE000000004CN"),
])
def test_an_address_is_found_whatever_the_spelling_of_ss_umlauts_accents_case_and_word_order(spelled, text, parcel_id):
    assert parcel_id in parcels_found(spelled, text)


@pytest.mark.parametrize("text", ["Kowalczyk", "Bergweg 1295", "Orlova Street"])
def test_a_different_name_or_address_is_not_found(spelled, text):
    assert not parcels_found(spelled, text) & {"EE000000001CN", "EE000000004CN"}
