"""Incremental update of the link graph: after a night's parcels and the re-resolution they
cause, `update_graph` leaves the same graph (by kind and key) as a fresh `build_graph`, and
detection finds the same groups on it.

The store is made with the real stages (ingest, normalise, resolve, signals). Day one holds a
ring, four strangers sharing one phone (the hub limit is set to four parties), one person seen
as two parties (same name, two phones, two addresses, two accounts), and noise. The night brings
pairs of parcels of controlled goods sharing an account first (their parcel_seqs land on old node
ids), the ring's next
parcels, a fifth stranger on the shared phone (it becomes a hub), a parcel that ties the two
halves of the person together (one party is merged away), a newcomer with two parcels (new
keys), and more noise.
"""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from linker.stages import detect, graph, normalise, resolve, signals
from linker import store
from linker.settings.catalogue import load_catalogue
from linker.stages.ingest import ingest_paths
from tests.conftest import parcel, write_csv
from tests.test_score import T0, noise_rows, ring_rows

CONFIG = {"max_entities": {"phone": 4}}
SHARED_PHONE = "+8657188886666"


def sender(pid: str, name: str, phone: str, address: str, account: str, *, hour: int, description: str = "books") -> dict:
    return parcel(parcel_id=pid, carrier="EMS", accepted_at=(T0 + timedelta(hours=hour)).isoformat(), sender_name=name,
                  sender_phone=phone, sender_id_number="", sender_address=address, receiver_name=f"Receiver {pid}",
                  receiver_phone="", receiver_address=f"{hour + 7} Elm St, Springfield {pid}", payer_account=account,
                  declared_description=description, hs_code="4901", dest_country="US", acceptance_point=f"AP-{pid}")


def day_one() -> list[dict]:
    rows = ring_rows("RING", n=12)
    for i, name in enumerate(["Qian Wei", "Sun Hao", "Feng Yu", "Jiang Tao"]):
        rows.append(sender(f"HUB{i}", name, "0571-88886666", f"杭州市上城区{i + 1}号", f"HACC{i}", hour=i))
    rows += [sender(f"ZA{i}", "Zhou Min", "13811112222", "成都市武侯区科华路7号", "ZACC-A", hour=10 + i) for i in range(2)]
    rows += [sender(f"ZB{i}", "Zhou Min", "13933334444", "西安市雁塔区长安路9号", "ZACC-B", hour=20 + i) for i in range(2)]
    return rows + noise_rows(30)


def the_night() -> list[dict]:
    rows = [sender(f"PAIR{i}", f"Pair Sender {i}", f"1370000{i:04d}", f"天津市和平区{i}号", f"PACC{i // 2}", hour=30 + i,
                   description="nickel powder") for i in range(8)]
    rows += ring_rows("MORE", n=12, start=T0 + timedelta(days=20))
    rows.append(sender("HUB9", "Tang Lin", "0571-88886666", "杭州市上城区99号", "HACC9", hour=40))
    rows.append(sender("ZC0", "Zhou Min", "13811112222", "西安市雁塔区长安路9号", "ZACC-B", hour=41))
    rows += [sender(f"NEW{i}", "Ma Lin", "13655556666", "武汉市江汉区解放大道5号", "MACC", hour=50 + i) for i in range(2)]
    return rows + noise_rows(60)[30:]


def analyse(con: duckdb.DuckDBPyConnection) -> None:
    normalise.build_party_mentions(con)
    resolve.resolve_entities(con)


@pytest.fixture(scope="module")
def night_db(tmp_path_factory) -> Path:
    """A store after the night: graph as built on day one, mentions and entities re-resolved
    with the night's parcels, `_changed_parcels` as the resolver would report it, and the day-one
    state kept in `day_one_mentions` and `day_one_nodes` for the tests to compare with."""
    d = tmp_path_factory.mktemp("night")
    db = d / "store.duckdb"
    con = store.connect(db)
    try:
        ingest_paths(con, [write_csv(d / "day1.csv", day_one())])
        analyse(con)
        graph.build_graph(con, CONFIG)
        con.execute("CREATE TABLE day_one_mentions AS SELECT mention_id, parcel_seq, entity_id FROM party_mentions")
        con.execute("CREATE TABLE day_one_nodes AS SELECT * FROM graph_nodes")
        ingest_paths(con, [write_csv(d / "night.csv", the_night())])
        analyse(con)
        signals.compute_parcel_signals(con, load_catalogue())
        con.execute(
            """
            CREATE TABLE _changed_parcels AS
            SELECT DISTINCT m.parcel_seq FROM party_mentions m LEFT JOIN day_one_mentions o USING (mention_id)
            WHERE o.mention_id IS NULL OR o.entity_id IS DISTINCT FROM m.entity_id
            """
        )
    finally:
        con.close()
    return db


@pytest.fixture
def con(night_db, tmp_path):
    db = tmp_path / "store.duckdb"
    shutil.copy(night_db, db)
    con = store.connect(db)
    yield con
    con.close()


def nodes(con, prefix: str = "") -> list[tuple]:
    return con.execute(f"SELECT kind, key, entities, parcels, weight, hub FROM {prefix}graph_nodes ORDER BY ALL").fetchall()


def edges(con, prefix: str = "") -> list[tuple]:
    return con.execute(
        f"""SELECT e.parcel_seq, n.kind, n.key, e.weight
            FROM {prefix}graph_edges e JOIN {prefix}graph_nodes n USING (node_id) ORDER BY ALL"""
    ).fetchall()


def uses(con, prefix: str = "") -> list[tuple]:
    return con.execute(f"SELECT parcel_seq, entity_id, name_key, kind, key FROM {prefix}graph_uses ORDER BY ALL").fetchall()


def test_an_updated_graph_equals_a_fresh_build(con):
    graph.update_graph(con, CONFIG)
    graph.build_graph(con, CONFIG, prefix="fresh_")
    assert uses(con) == uses(con, "fresh_")
    assert nodes(con) == nodes(con, "fresh_")
    assert edges(con) == edges(con, "fresh_")
    assert con.execute("SELECT count(*) = count(DISTINCT node_id) FROM graph_nodes").fetchall()[0][0]


def test_old_parcels_whose_party_changed_are_part_of_the_night(con):
    """The scenario re-resolves old mentions: without them in the change set the update would
    miss the merged party, so the equality above depends on handling them."""
    old_changed = con.execute(
        "SELECT count(*) FROM _changed_parcels WHERE parcel_seq IN (SELECT parcel_seq FROM day_one_mentions)"
    ).fetchall()[0][0]
    assert old_changed > 0
    con.execute("DELETE FROM _changed_parcels WHERE parcel_seq IN (SELECT parcel_seq FROM day_one_mentions)")
    graph.update_graph(con, CONFIG)
    graph.build_graph(con, CONFIG, prefix="fresh_")
    assert nodes(con) != nodes(con, "fresh_")


def test_a_phone_that_passes_the_hub_limit_overnight_loses_its_edges(con):
    before = con.execute("SELECT hub, node_id FROM day_one_nodes WHERE kind = 'phone' AND key = ?", [SHARED_PHONE]).fetchall()
    assert before[0][0] is False
    assert con.execute("SELECT count(*) FROM graph_edges WHERE node_id = ?", [before[0][1]]).fetchall()[0][0] == 4
    graph.update_graph(con, CONFIG)
    after = con.execute("SELECT hub, node_id, entities FROM graph_nodes WHERE kind = 'phone' AND key = ?", [SHARED_PHONE]).fetchall()
    assert after == [(True, before[0][1], 5)]
    assert con.execute("SELECT count(*) FROM graph_edges WHERE node_id = ?", [before[0][1]]).fetchall()[0][0] == 0


def zhou_min_parties(con, mentions: str) -> list[int]:
    return [r[0] for r in con.execute(
        f"""SELECT DISTINCT m.entity_id FROM {mentions} m JOIN parcels p USING (parcel_seq)
            WHERE p.parcel_id LIKE 'Z%' AND m.mention_id % 2 = 0 ORDER BY 1"""
    ).fetchall()]


def test_a_party_merged_into_another_overnight_leaves_the_graph(con):
    day_one_parties = zhou_min_parties(con, "day_one_mentions")
    assert len(day_one_parties) == 2 and zhou_min_parties(con, "party_mentions") == day_one_parties[:1]
    gone = str(day_one_parties[1])
    gone_id = con.execute("SELECT node_id FROM day_one_nodes WHERE kind = 'party' AND key = ?", [gone]).fetchall()[0][0]
    graph.update_graph(con, CONFIG)
    assert con.execute("SELECT count(*) FROM graph_nodes WHERE kind = 'party' AND key = ?", [gone]).fetchall()[0][0] == 0
    assert con.execute("SELECT count(*) FROM graph_edges WHERE node_id = ?", [gone_id]).fetchall()[0][0] == 0
    assert con.execute("SELECT parcels FROM graph_nodes WHERE kind = 'party' AND key = ?",
                       [str(day_one_parties[0])]).fetchall()[0][0] == 5


def test_known_keys_keep_their_ids_and_new_keys_get_ids_above_every_node_and_parcel(con):
    top = con.execute("SELECT greatest((SELECT max(node_id) FROM day_one_nodes), (SELECT max(parcel_seq) FROM parcels))").fetchall()[0][0]
    graph.update_graph(con, CONFIG)
    kept = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE n.node_id <> o.node_id) FROM graph_nodes n JOIN day_one_nodes o USING (kind, key)"
    ).fetchall()[0]
    assert kept[0] > 0 and kept[1] == 0
    new_ids = [r[0] for r in con.execute(
        "SELECT node_id FROM graph_nodes n ANTI JOIN day_one_nodes o USING (kind, key) ORDER BY node_id").fetchall()]
    assert new_ids and min(new_ids) > top


def groups(con, prefix: str = "") -> list[tuple]:
    return con.execute(f"SELECT parcel_seq, group_key, component_key, community_split, seed FROM {prefix}parcel_groups ORDER BY ALL").fetchall()


def test_detection_on_an_updated_graph_finds_the_groups_of_a_fresh_build(con):
    # Seeds of the night carry the parcel_seq of an old identifier that links the ring:
    # detection must not take them for that identifier and glue their pair to the ring.
    collisions = con.execute(
        """SELECT count(*) FROM parcels p JOIN parcel_goods g USING (parcel_seq)
           JOIN graph_edges e ON e.node_id = p.parcel_seq JOIN day_one_nodes n USING (node_id)
           JOIN parcels ring ON ring.parcel_seq = e.parcel_seq
           WHERE p.parcel_id LIKE 'PAIR%' AND ring.parcel_id LIKE 'RING%' AND n.kind IN ('account', 'address')"""
    ).fetchall()[0][0]
    assert collisions > 0
    graph.update_graph(con, CONFIG)
    detect.detect_groups(con, CONFIG)
    graph.build_graph(con, CONFIG, prefix="fresh_")
    detect.detect_groups(con, CONFIG, prefix="fresh_")
    assert groups(con) == groups(con, "fresh_")
    pairs = con.execute(
        """SELECT count(DISTINCT g.group_key), count(*) FROM parcel_groups g
           WHERE g.group_key IN (SELECT g2.group_key FROM parcel_groups g2 JOIN parcels p USING (parcel_seq)
                                 WHERE p.parcel_id LIKE 'PAIR%')"""
    ).fetchall()[0]
    assert pairs == (4, 8)


def test_detection_with_a_large_component_split_by_leiden_matches_a_fresh_build(con):
    config = CONFIG | {"max_component_parcels": 5}
    graph.update_graph(con, config)
    report = detect.detect_groups(con, config)
    graph.build_graph(con, config, prefix="fresh_")
    detect.detect_groups(con, config, prefix="fresh_")
    assert report.large_components > 0
    assert groups(con) == groups(con, "fresh_")


def test_the_update_is_part_of_the_callers_transaction(con):
    before = (uses(con), nodes(con), edges(con))
    con.execute("BEGIN")
    graph.update_graph(con, CONFIG)
    assert nodes(con) != before[1]
    con.execute("ROLLBACK")
    assert (uses(con), nodes(con), edges(con)) == before


def test_a_night_without_changes_leaves_the_graph_as_it_was(con):
    before = con.execute("SELECT * FROM graph_nodes ORDER BY node_id").fetchall(), edges(con)
    con.execute("DELETE FROM _changed_parcels")
    counts = graph.update_graph(con, CONFIG)
    assert counts["touched_keys"] == 0
    assert (con.execute("SELECT * FROM graph_nodes ORDER BY node_id").fetchall(), edges(con)) == before


def test_an_update_without_a_built_graph_says_what_to_do(tmp_path):
    con = store.connect(tmp_path / "empty.duckdb")
    con.execute("CREATE TABLE _changed_parcels (parcel_seq BIGINT)")
    with pytest.raises(RuntimeError, match="build_graph first"):
        graph.update_graph(con)


def test_detection_can_stage_its_groups_while_reading_the_graph_updated_in_place(con):
    graph.update_graph(con, CONFIG)
    detect.detect_groups(con, CONFIG)
    detect.detect_groups(con, CONFIG, prefix="stage_", graph_prefix="")
    assert groups(con, "stage_") == groups(con) != []


def test_two_nights_in_a_row_give_the_graph_of_a_fresh_build(con, tmp_path):
    graph.update_graph(con, CONFIG)
    first_night_top = con.execute("SELECT max(node_id) FROM graph_nodes").fetchall()[0][0]
    con.execute("CREATE TABLE night_one_mentions AS SELECT mention_id, entity_id FROM party_mentions")
    second = ring_rows("LAST", n=6, start=T0 + timedelta(days=40))
    second += [sender(f"NEW{i}", "Ma Lin", "13655556666", "武汉市江汉区解放大道5号", "MACC", hour=60 + i) for i in range(2, 4)]
    second += [sender(f"TWO{i}", "Gao Yan", "13522223333", "长沙市岳麓区麓山路8号", "GACC", hour=70 + i) for i in range(2)]
    ingest_paths(con, [write_csv(tmp_path / "second.csv", second)])
    analyse(con)
    con.execute(
        """CREATE OR REPLACE TABLE _changed_parcels AS
           SELECT DISTINCT m.parcel_seq FROM party_mentions m LEFT JOIN night_one_mentions o USING (mention_id)
           WHERE o.mention_id IS NULL OR o.entity_id IS DISTINCT FROM m.entity_id"""
    )
    graph.update_graph(con, CONFIG)
    graph.build_graph(con, CONFIG, prefix="fresh_")
    assert nodes(con) == nodes(con, "fresh_")
    assert edges(con) == edges(con, "fresh_")
    assert con.execute("SELECT min(node_id) FROM graph_nodes WHERE kind = 'account' AND key = 'GACC'").fetchall()[0][0] > first_night_top
