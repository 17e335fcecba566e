"""The link graph and detection: suspicious parcels joined through strong shared identifiers (union-find),
hubs and acceptance points cut, Leiden inside large components, context parcels attached."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from linker.settings.scoring import DEFAULT_GRAPH_CONFIG
from linker.stages import detect, graph
from linker import store


def test_components_equal_networkx_on_random_graphs():
    rng = np.random.default_rng(3)
    for _ in range(20):
        n = int(rng.integers(2, 300))
        m = int(rng.integers(0, 2 * n))
        src, dst = rng.integers(0, n, m), rng.integers(0, n, m)
        labels = detect.connected_components(n, src, dst)
        g = nx.Graph()
        g.add_nodes_from(range(n))
        g.add_edges_from(zip(src.tolist(), dst.tolist()))
        for comp in nx.connected_components(g):
            assert {int(labels[v]) for v in comp} == {min(comp)}


def test_components_do_not_depend_on_edge_order():
    rng = np.random.default_rng(4)
    src, dst = rng.integers(0, 500, 700), rng.integers(0, 500, 700)
    order = rng.permutation(700)
    assert np.array_equal(detect.connected_components(500, src, dst), detect.connected_components(500, dst[order], src[order]))


def mention(seq: int, role: str, entity: int, *, phone=None, id_number=None, account=None, address=None, unit=None, name=None):
    return (seq * 2 + (role == "receiver"), seq, f"P{seq}", "EMS", role, name or f"name {entity}", entity,
            phone, id_number, account, address, unit)


def make_store(tmp_path, mentions, *, acceptance_point=None, goods=None, confidence=0.4):
    """A store with `parcels` rows for the mentioned parcels, a hand-made `party_mentions` and
    `parcel_goods` (cover goods) for the parcels in `goods` (default: every mentioned parcel)."""
    con = store.connect(tmp_path / "g.duckdb")
    con.execute(
        """INSERT INTO parcels (parcel_seq, parcel_id, carrier, accepted_at, origin_country, dest_country, sender_name,
           sender_address, receiver_name, receiver_address, declared_description, declared_weight_kg, currency,
           acceptance_point, file_id, source_line)
           SELECT s, 'P' || s, 'EMS', TIMESTAMP '2025-05-01' + to_days(CAST(s % 30 AS INTEGER)), 'CN', 'KZ', 's', 'a', 'r', 'b',
                  'goods', 1.0, 'USD', ?, 1, s
           FROM (SELECT DISTINCT unnest(?::BIGINT[]) AS s)""",
        [acceptance_point, [m[1] for m in mentions]],
    )
    con.execute(
        """CREATE TABLE party_mentions (mention_id BIGINT, parcel_seq BIGINT, parcel_id VARCHAR, carrier VARCHAR,
           role VARCHAR, name_key VARCHAR, entity_id BIGINT, phone_e164 VARCHAR, id_number_norm VARCHAR,
           account_norm VARCHAR, address_key VARCHAR, address_unit VARCHAR)"""
    )
    con.execute("BEGIN")
    con.executemany("INSERT INTO party_mentions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", mentions)
    con.execute("COMMIT")
    goods = sorted({m[1] for m in mentions}) if goods is None else list(goods)
    con.execute(
        """CREATE TABLE parcel_goods AS
           SELECT s AS parcel_seq, 'unknown' AS commodity, 0.5 AS est_controlled_kg, 'cover' AS basis,
                  ?::DOUBLE AS confidence, 'described as cover goods' AS evidence
           FROM (SELECT unnest(?::BIGINT[]) AS s)""",
        [confidence, goods],
    )
    return con


def groups_of(con) -> dict[int, int]:
    return dict(con.execute("SELECT parcel_seq, group_key FROM parcel_groups").fetchall())


def test_a_phone_shared_by_two_parties_links_their_parcels(tmp_path):
    mentions = [mention(0, "sender", 100, phone="+8613800000001"), mention(0, "receiver", 200),
                mention(1, "sender", 101, phone="+8613800000001"), mention(1, "receiver", 201),
                mention(2, "sender", 102), mention(2, "receiver", 202)]
    con = make_store(tmp_path, mentions)
    graph.build_graph(con)
    detect.detect_groups(con)
    assert groups_of(con) == {0: 0, 1: 0}


def test_an_outlet_phone_used_by_many_parties_is_a_hub_and_links_no_one(tmp_path):
    cap = DEFAULT_GRAPH_CONFIG["max_entities"]["phone"]
    mentions = []
    for s in range(cap + 5):
        mentions += [mention(s, "sender", 1000 + s, phone="+861066666666"), mention(s, "receiver", 5000 + s)]
    con = make_store(tmp_path, mentions)
    counts = graph.build_graph(con)
    detect.detect_groups(con)
    assert counts["hub_nodes"] == 1
    assert groups_of(con) == {}


def test_a_forwarding_warehouse_does_not_merge_its_customers_but_one_suite_does(tmp_path):
    mentions = []
    for s in range(40):  # 40 strangers, 40 suites of one warehouse
        mentions += [mention(s, "sender", 1000 + s), mention(s, "receiver", 5000 + s, address="12 tole bi st almaty", unit=str(100 + s))]
    for s in range(40, 44):  # four parcels from four names to one suite
        mentions += [mention(s, "sender", 1000 + s), mention(s, "receiver", 6000 + s, address="12 tole bi st almaty", unit="881")]
    con = make_store(tmp_path, mentions)
    graph.build_graph(con)
    detect.detect_groups(con)
    assert groups_of(con) == {40: 40, 41: 40, 42: 40, 43: 40}


def test_edges_weigh_less_the_more_parties_share_an_identifier(tmp_path):
    mentions = [mention(0, "sender", 1, account="A"), mention(1, "sender", 1, account="A"),
                mention(2, "sender", 2, account="B"), mention(3, "sender", 3, account="B"), mention(4, "sender", 4, account="B")]
    con = make_store(tmp_path, mentions)
    graph.build_graph(con)
    w = dict(con.execute("SELECT key, weight FROM graph_nodes WHERE kind = 'account'").fetchall())
    assert w["A"] > w["B"] > 0


def seeds_of(con) -> dict[int, bool]:
    return dict(con.execute("SELECT parcel_seq, seed FROM parcel_groups").fetchall())


def test_ordinary_parcels_do_not_chain_two_suspicious_ones(tmp_path):
    # 0 (goods) -phone- 1 (no goods) -account- 2 (goods): no strong tie between 0 and 2 themselves.
    mentions = [mention(0, "sender", 100, phone="+8613800000001"), mention(1, "sender", 101, phone="+8613800000001", account="A"),
                mention(2, "sender", 102, account="A")]
    con = make_store(tmp_path, mentions, goods=[0, 2])
    graph.build_graph(con)
    detect.detect_groups(con)
    assert groups_of(con) == {}


def test_a_parcel_without_goods_joins_the_group_whose_suite_it_shares(tmp_path):
    mentions = []
    for s in range(5):  # four cover parcels and one declared as something the catalogue does not know
        mentions += [mention(s, "sender", 100 + s), mention(s, "receiver", 900, address="12 tole bi st almaty", unit="881")]
    con = make_store(tmp_path, mentions, goods=[0, 1, 2, 3])
    graph.build_graph(con)
    report = detect.detect_groups(con)
    assert groups_of(con) == {s: 0 for s in range(5)}
    assert seeds_of(con) == {0: True, 1: True, 2: True, 3: True, 4: False}
    assert report.attached_parcels == 1


def test_a_busy_phone_with_a_few_odd_parcels_attaches_none_of_its_ordinary_ones(tmp_path):
    mentions = [mention(s, "sender", 100, phone="+8613800000009") for s in range(10)]
    con = make_store(tmp_path, mentions, goods=[3, 7])
    graph.build_graph(con)
    detect.detect_groups(con)
    assert groups_of(con) == {3: 3, 7: 3}


def test_a_shared_acceptance_point_links_no_one(tmp_path):
    mentions = [mention(s, "sender", 100 + s) for s in range(3)]
    con = make_store(tmp_path, mentions, acceptance_point="BJ-0001")
    counts = graph.build_graph(con, {"max_entities": {"acceptance_point": 10}})
    detect.detect_groups(con, {"max_entities": {"acceptance_point": 10}})
    assert counts["hub_nodes"] == 0
    assert groups_of(con) == {}


def test_parcels_below_the_seed_confidence_are_no_seeds(tmp_path):
    mentions = [mention(0, "sender", 100, phone="+8613800000001"), mention(1, "sender", 101, phone="+8613800000001")]
    con = make_store(tmp_path, mentions, confidence=0.1)
    graph.build_graph(con)
    detect.detect_groups(con, {"seed_min_confidence": 0.2})
    assert groups_of(con) == {}


def two_communities_with_a_bridge():
    """Two dense groups of 30 parcels (each sharing one account among 3 parties), joined by one
    parcel whose sender uses both accounts."""
    mentions = []
    for s in range(30):
        mentions += [mention(s, "sender", 100 + s % 3, account="ACC-A"), mention(s, "receiver", 900, address="x", unit="1")]
    for s in range(30, 60):
        mentions += [mention(s, "sender", 200 + s % 3, account="ACC-B"), mention(s, "receiver", 901, address="y", unit="2")]
    mentions += [mention(60, "sender", 100, account="ACC-A"), mention(60, "receiver", 901, address="y", unit="2")]
    return mentions


def test_leiden_splits_a_component_too_large_to_be_one_operation(tmp_path):
    con = make_store(tmp_path, two_communities_with_a_bridge())
    config = {"max_component_parcels": 40}
    graph.build_graph(con, config)
    report = detect.detect_groups(con, config)
    groups = groups_of(con)
    assert report.large_components == 1
    assert len(set(groups.values())) == 2
    assert len({groups[s] for s in range(30)}) == 1 and len({groups[s] for s in range(30, 60)}) == 1
    assert groups[0] != groups[30]


def test_a_component_below_the_size_limit_is_taken_whole(tmp_path):
    con = make_store(tmp_path, two_communities_with_a_bridge())
    graph.build_graph(con, {"max_component_parcels": 400})
    detect.detect_groups(con, {"max_component_parcels": 400})
    assert set(groups_of(con).values()) == {0}


def test_detection_is_deterministic(tmp_path):
    results = []
    for i in range(2):
        (tmp_path / str(i)).mkdir()
        con = make_store(tmp_path / str(i), two_communities_with_a_bridge())
        graph.build_graph(con, {"max_component_parcels": 10})
        detect.detect_groups(con, {"max_component_parcels": 10})
        results.append(sorted(groups_of(con).items()))
        con.close()
    assert results[0] == results[1]


def test_cluster_graph_shows_parcels_parties_and_shared_identifiers(tmp_path):
    con = make_store(tmp_path, two_communities_with_a_bridge()[:60])
    con.execute("CREATE TABLE parcel_clusters AS SELECT parcel_seq, parcel_id, carrier, 'C-000001' AS cluster_id FROM parcels WHERE parcel_seq < 30")
    con.execute("CREATE TABLE entities (entity_id BIGINT, best_name VARCHAR)")
    graph.build_graph(con)
    g = graph.cluster_graph(con, "C-000001")
    kinds = {data["kind"] for _, data in g.nodes(data=True)}
    assert {"parcel", "party", "account", "address"} <= kinds
    assert sum(1 for n in g if n[0] == "parcel") == 30
    assert nx.is_connected(g)
    assert g.degree(("account", "ACC-A")) == 30


def test_cluster_graph_of_an_unknown_cluster_is_empty(tmp_path):
    con = make_store(tmp_path, two_communities_with_a_bridge())
    con.execute("CREATE TABLE parcel_clusters (parcel_seq BIGINT, parcel_id VARCHAR, carrier VARCHAR, cluster_id VARCHAR)")
    graph.build_graph(con)
    assert graph.cluster_graph(con, "C-999999").number_of_nodes() == 0


@pytest.mark.parametrize("kind", ["account", "id_number"])
def test_sender_only_identifiers_ignore_receiver_rows(tmp_path, kind):
    kw = {kind: "SAME"}
    mentions = [mention(0, "receiver", 1, **kw), mention(1, "receiver", 2, **kw)]
    con = make_store(tmp_path, mentions)
    graph.build_graph(con)
    detect.detect_groups(con)
    assert groups_of(con) == {}
