"""The evidence pack: one self-contained HTML page plus CSV, and the reads behind the cluster page."""

from __future__ import annotations

import csv
import io
import re
import zipfile

import duckdb
import pytest

from linker import store
from linker.outputs import clusters as read
from linker.outputs import evidence_pack, network
from linker.outputs.timeline import running_total
from tests.app_fixture import RING_A, shared_store


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    db = shared_store(tmp_path_factory)
    con = duckdb.connect(str(db), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="module")
def pack(con):
    return zipfile.ZipFile(io.BytesIO(evidence_pack.evidence_pack(con, RING_A, exported_by="ana")))


def test_pack_holds_the_page_and_csv_files(pack):
    assert sorted(pack.namelist()) == sorted(
        f"{RING_A}{suffix}" for suffix in (".html", "_parcels.csv", "_signals.csv", "_links.csv")
    )


def test_page_is_self_contained_with_no_script_and_nothing_fetched(pack):
    page = pack.read(f"{RING_A}.html").decode()
    assert "<script" not in page.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page, re.I)
    assert "@import" not in page and "url(" not in page


def test_page_shows_summary_network_timeline_and_who_exported_it(pack):
    page = pack.read(f"{RING_A}.html").decode()
    assert "ferrous alloy" in page and 'aria-label="network"' in page and 'aria-label="timeline"' in page
    assert "threshold 5 kg" in page and "by ana" in page


def test_parcels_csv_has_every_declared_field_of_every_parcel(pack):
    rows = list(csv.DictReader(io.StringIO(pack.read(f"{RING_A}_parcels.csv").decode())))
    assert len(rows) == 14
    assert set(store.COLUMN_NAMES) <= set(rows[0])


def test_network_joins_the_ring_through_its_one_account(con):
    g = network.cluster_network(read.cluster_mentions(con, RING_A))
    account = next(n for n, d in g.nodes(data=True) if d["kind"] == "account")
    assert g.nodes[account]["parcels"] == 14
    assert {g.nodes[n]["kind"] for n in g} == {"entity", "phone", "account", "address", "acceptance_point"}


def test_running_total_ends_at_the_clusters_estimate(con):
    row = read.cluster_row(con, RING_A)
    timeline = running_total(read.cluster_parcels(con, RING_A), row["est_controlled_kg"])
    assert timeline["running_kg"].iloc[-1] == pytest.approx(row["est_controlled_kg"])
    assert timeline["accepted_at"].is_monotonic_increasing


def test_merged_names_are_explained_in_words(con):
    links = read.link_explanations(con, RING_A)
    assert not links.empty
    assert "name exact" in read.explain_evidence(links["evidence"].iloc[0])


def test_unknown_cluster_is_one_clear_error(con):
    with pytest.raises(store.StoreError, match="no cluster"):
        evidence_pack.pack_page(con, "C-nope")
