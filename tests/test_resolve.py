"""Entity resolution of party mentions: who is one party, who is not, and why."""

from __future__ import annotations

import json

import pytest

from linker import store
from linker.stages.ingest import ingest_paths
from linker.stages.normalise import build_party_mentions
from linker.stages.resolve import ResolutionError, resolve_entities
from tests.conftest import parcel, write_csv


def _resolved(tmp_path, rows, name="s.duckdb"):
    con = store.connect(tmp_path / name)
    ingest_paths(con, [write_csv(tmp_path / f"{name}.csv", rows)])
    build_party_mentions(con)
    resolve_entities(con)
    return con


def _senders(con) -> dict[str, int]:
    return dict(con.execute("SELECT parcel_id, entity_id FROM party_mentions WHERE role = 'sender'").fetchall())


def _receivers(con) -> dict[str, int]:
    return dict(con.execute("SELECT parcel_id, entity_id FROM party_mentions WHERE role = 'receiver'").fetchall())


def _filler(i: int) -> dict:
    """Unrelated traffic, so that frequencies mean something."""
    return parcel(parcel_id=f"F{i:03d}", sender_name=f"Sender{i} Person{i % 7}", sender_phone=f"+86 139{i:08d}",
                  sender_address=f"{i} Renmin Road, Hangzhou", sender_id_number="", payer_account=f"ACCT{i:05d}",
                  receiver_name=f"Receiver{i} Other", receiver_phone=f"+7 701 {i:07d}",
                  receiver_address=f"{i} Lenin Street, Almaty")


FILLER = [_filler(i) for i in range(30)]


def test_one_person_written_in_hanzi_pinyin_and_other_phone_forms_is_one_entity(tmp_path):
    rows = FILLER + [
        parcel(parcel_id="P1", sender_name="张伟", sender_phone="13800138000", sender_address="北京市朝阳区建国路88号"),
        parcel(parcel_id="P2", sender_name="ZHANG Wei", sender_phone="+86 138-0013-8000",
               sender_address="88 Jianguo Rd, Chaoyang District, Beijing"),
        parcel(parcel_id="P3", sender_name="Wei Zhang", sender_phone="008613800138000",
               sender_address="88 Jianguo Road, Chaoyang, Beijing"),
    ]
    senders = _senders(_resolved(tmp_path, rows))
    assert senders["P1"] == senders["P2"] == senders["P3"]


def test_entity_id_is_the_smallest_mention_id_of_the_entity(tmp_path):
    rows = FILLER + [parcel(parcel_id="P1"), parcel(parcel_id="P2", sender_name="ZHANG Wei")]
    con = _resolved(tmp_path, rows)
    bad = con.execute(
        "SELECT count(*) FROM (SELECT entity_id, min(mention_id) AS m FROM party_mentions GROUP BY 1) WHERE entity_id <> m"
    ).fetchall()[0][0]
    assert bad == 0


def test_walk_in_customers_sharing_an_outlet_phone_and_account_stay_apart(tmp_path):
    names = ["李娜", "王芳", "刘洋", "陈静", "杨磊", "赵敏", "黄强", "周杰", "吴霞", "徐涛", "孙丽", "马超"]
    rows = FILLER + [
        parcel(parcel_id=f"O{i}", sender_name=n, sender_phone="+86 10 6512 3456", payer_account="OUTLET-PAY-1",
               sender_address=f"{i + 1} Xinhua Street, Beijing", sender_id_number="")
        for i, n in enumerate(names)
    ]
    senders = _senders(_resolved(tmp_path, rows))
    assert len({senders[f"O{i}"] for i in range(len(names))}) == len(names)


def test_customers_of_a_forwarding_warehouse_with_different_suites_stay_apart(tmp_path):
    names = ["John Smith", "Maria Garcia", "Ahmed Khan", "Olga Ivanova", "Kenji Sato", "Anna Muller"]
    rows = FILLER + [
        parcel(parcel_id=f"W{i}", receiver_name=n, receiver_phone="+1 302 555 0100",
               receiver_address=f"1200 Industrial Ave Suite {4500 + i}, Wilmington DE 19801")
        for i, n in enumerate(names)
    ]
    receivers = _receivers(_resolved(tmp_path, rows))
    assert len({receivers[f"W{i}"] for i in range(len(names))}) == len(names)


def test_one_customer_of_a_forwarding_warehouse_is_one_entity_across_suite_spellings(tmp_path):
    rows = FILLER + [
        parcel(parcel_id="W1", receiver_name="Olga Ivanova", receiver_address="1200 Industrial Ave Suite 4521, Wilmington DE"),
        parcel(parcel_id="W2", receiver_name="IVANOVA Olga", receiver_address="1200 Industrial Avenue #4521, Wilmington DE"),
    ]
    receivers = _receivers(_resolved(tmp_path, rows))
    assert receivers["W1"] == receivers["W2"]


def test_recruited_senders_paid_from_one_account_stay_apart(tmp_path):
    recruits = [("刘洋", "13911110001"), ("陈静", "13911110002"), ("杨磊", "13911110003")]
    rows = FILLER + [
        parcel(parcel_id=f"R{i}", sender_name=n, sender_phone=p, payer_account="ORGANISER-77",
               sender_address=f"{i + 10} Jiefang Road, Ganzhou")
        for i, (n, p) in enumerate(recruits)
    ]
    senders = _senders(_resolved(tmp_path, rows))
    assert len({senders[f"R{i}"] for i in range(3)}) == 3


def test_a_shop_writing_its_name_in_hanzi_and_english_is_one_entity_by_phone_account_and_address(tmp_path):
    rows = FILLER + [
        parcel(parcel_id="S1", sender_name="深圳华信电子商务有限公司", sender_phone="0755 6700 1526",
               payer_account="5102788572", sender_address="深圳市宝安区光明南街256号"),
        parcel(parcel_id="S2", sender_name="Huaxin E-commerce (Shenzhen) Co., Ltd.", sender_phone="+86 755 6700 1526",
               payer_account="5102788572", sender_address="深圳市宝安区光明南街256号"),
    ]
    senders = _senders(_resolved(tmp_path, rows))
    assert senders["S1"] == senders["S2"]


def test_namesakes_with_nothing_else_in_common_stay_apart(tmp_path):
    rows = FILLER + [
        parcel(parcel_id="N1", sender_name="张伟", sender_phone="13800000001", payer_account="A-1",
               sender_address="上海市浦东新区世纪大道100号"),
        parcel(parcel_id="N2", sender_name="张伟", sender_phone="13900000002", payer_account="B-2",
               sender_address="广州市天河区体育西路5号"),
    ]
    senders = _senders(_resolved(tmp_path, rows))
    assert senders["N1"] != senders["N2"]


def test_a_shared_id_number_ties_an_alias_to_its_organiser(tmp_path):
    rows = FILLER + [
        parcel(parcel_id="A1", sender_name="王建国", sender_id_number="360702198001011234"),
        parcel(parcel_id="A2", sender_name="李小龙", sender_id_number="360702198001011234", sender_phone="13700000007"),
    ]
    senders = _senders(_resolved(tmp_path, rows))
    assert senders["A1"] == senders["A2"]


def test_every_link_says_which_fields_agreed_and_how_strongly(tmp_path):
    rows = FILLER + [parcel(parcel_id="P1"), parcel(parcel_id="P2", sender_name="ZHANG Wei",
                                                    sender_address="88 Jianguo Rd, Chaoyang, Beijing, China")]
    con = _resolved(tmp_path, rows)
    evidence = [json.loads(e) for (e,) in con.execute("SELECT evidence FROM entity_links").fetchall()]
    assert evidence
    for e in evidence:
        assert {"name", "phone", "id_number", "account", "address"} <= e.keys()
        assert {"level", "weight"} <= e["name"].keys()


def test_entities_hold_one_row_per_party_with_its_names_phones_and_counts(tmp_path):
    rows = FILLER + [parcel(parcel_id="P1"), parcel(parcel_id="P2", sender_name="ZHANG Wei")]
    con = _resolved(tmp_path, rows)
    entity = con.execute(
        "SELECT e.names, e.phones, e.mentions, e.parcels, e.roles FROM entities e JOIN party_mentions m USING (entity_id) "
        "WHERE m.parcel_id = 'P1' AND m.role = 'sender'"
    ).fetchall()[0]
    assert entity == (["ZHANG Wei", "张伟"], ["+8613800138000"], 2, 2, ["sender"])
    n_entities = con.execute("SELECT count(*) FROM entities").fetchall()[0][0]
    assert n_entities == con.execute("SELECT count(DISTINCT entity_id) FROM party_mentions").fetchall()[0][0]


def test_resolution_is_deterministic(tmp_path):
    rows = FILLER + [parcel(parcel_id="P1"), parcel(parcel_id="P2", sender_name="ZHANG Wei")]
    runs = []
    for name in ("a.duckdb", "b.duckdb"):
        con = _resolved(tmp_path, rows, name)
        runs.append((
            con.execute("SELECT parcel_id, role, entity_id FROM party_mentions ORDER BY ALL").fetchall(),
            con.execute("SELECT mention_id_l, mention_id_r, match_weight, evidence FROM entity_links ORDER BY ALL").fetchall(),
        ))
    assert runs[0] == runs[1]


def test_resolving_twice_gives_the_same_entities(tmp_path):
    con = _resolved(tmp_path, FILLER + [parcel(parcel_id="P1"), parcel(parcel_id="P2", sender_name="ZHANG Wei")])
    first = con.execute("SELECT mention_id, entity_id FROM party_mentions ORDER BY 1").fetchall()
    resolve_entities(con)
    assert con.execute("SELECT mention_id, entity_id FROM party_mentions ORDER BY 1").fetchall() == first


def test_resolving_before_normalisation_is_a_clear_error(tmp_path):
    con = store.connect(tmp_path / "s.duckdb")
    with pytest.raises(ResolutionError, match="normalisation"):
        resolve_entities(con)


def test_an_identifier_weighs_less_the_more_names_use_it():
    # u = u_base * dn: the chance that two different people hold one value grows with the number
    # of names on it, so agreement on it is weaker evidence (log2(m / (u_base * dn))).
    import math

    import duckdb

    from linker.settings.resolution import load_resolution
    from linker.stages.resolve import _tf_w

    cfg = load_resolution()
    level = cfg["fields"]["phone"]["exact"]
    one, four, many = duckdb.connect().execute(
        f"SELECT {_tf_w(level, 'a', cfg)}, {_tf_w(level, 'b', cfg)}, {_tf_w(level, 'c', cfg)} "
        "FROM (SELECT 1.0 AS a, 4.0 AS b, 100.0 AS c)"
    ).fetchall()[0]
    assert one == pytest.approx(math.log2(level["m"] / level["u_base"]))
    assert four == pytest.approx(one - 2.0)
    assert many == cfg["frequency"]["shared_weight"]


def test_a_phone_counts_people_not_spellings(tmp_path):
    rows = FILLER + [
        parcel(parcel_id="S1", sender_name="Zhang Weiming", sender_phone="+86 13700002222"),
        parcel(parcel_id="S2", sender_name="Zhang Weimin", sender_phone="+86 13700002222"),
        parcel(parcel_id="R1", sender_name="Petrov Ivan", sender_phone="+86 13700003333"),
        parcel(parcel_id="R2", sender_name="Sidorov Oleg", sender_phone="+86 13700003333"),
    ]
    con = _resolved(tmp_path, rows)
    dn = dict(con.execute(
        "SELECT value, dn FROM er_freq_state WHERE field = 'phone' AND value IN ('+8613700002222', '+8613700003333')"
    ).fetchall())
    assert dn == {"+8613700002222": 1.0, "+8613700003333": 2.0}


# --- households -----------------------------------------------------------------------------

HOME = "北京市朝阳区建国路88号3号楼2单元501室"


def _household_rows(tmp_path):
    return FILLER + [
        parcel(parcel_id="A1", sender_name="张伟", sender_phone="010 6512 3456", sender_address=HOME, payer_account="WX-1"),
        parcel(parcel_id="A2", sender_name="Zhang Wei", sender_phone="+86 10 6512 3456", sender_address=HOME,
               payer_account="WX-1"),
        parcel(parcel_id="B1", sender_name="李娜", sender_phone="010 6512 3456", sender_address=HOME, payer_account="WX-2"),
        parcel(parcel_id="B2", sender_name="LI Na", sender_phone="+86 10 6512 3456", sender_address=HOME,
               payer_account="WX-2"),
    ]


def test_two_people_at_one_flat_with_one_phone_stay_two_parties_of_one_household(tmp_path):
    con = _resolved(tmp_path, _household_rows(tmp_path))
    senders = _senders(con)
    assert senders["A1"] == senders["A2"] and senders["B1"] == senders["B2"]
    assert senders["A1"] != senders["B1"]  # one phone, one flat, two names: two people
    homes = dict(con.execute("SELECT entity_id, household_id FROM party_households").fetchall())
    assert homes[senders["A1"]] == homes[senders["B1"]] == min(senders["A1"], senders["B1"])


def test_the_graph_ties_a_household_by_a_household_node_and_the_cluster_page_data_names_it(tmp_path):
    from linker.outputs import clusters as read
    from linker.stages import graph

    con = _resolved(tmp_path, _household_rows(tmp_path))
    graph.build_graph(con)
    senders = _senders(con)
    node = con.execute("SELECT key, entities, parcels FROM graph_nodes WHERE kind = 'household'").fetchall()
    assert node == [(str(min(senders["A1"], senders["B1"])), 2, 4)]
    # the cluster page and the evidence pack read the same rows
    con.execute("CREATE TABLE parcel_clusters AS SELECT parcel_seq, parcel_id, carrier, 'C-1' AS cluster_id "
                "FROM parcels WHERE parcel_id IN ('A1', 'B1')")
    homes = read.cluster_households(con, "C-1")
    assert len(homes) == 1 and homes.iloc[0]["in_cluster"] == 2 and homes.iloc[0]["parties"] == 2
    members = set(homes.iloc[0]["members"].split(" · "))
    assert len(members) == 2 and members & {"张伟", "Zhang Wei"} and members & {"李娜", "LI Na"}


def test_one_person_under_two_names_with_one_phone_and_account_away_from_a_flat_is_still_one_party(tmp_path):
    # an organiser behind aliases: phone and payment account agree, addresses differ
    rows = FILLER + [
        parcel(parcel_id="X1", sender_name="Wang Lei", sender_phone="+86 13700001111", payer_account="ALIPAY-778",
               sender_address="12 Zhongshan Road, Dalian"),
        parcel(parcel_id="X2", sender_name="Chen Bo", sender_phone="+86 13700001111", payer_account="ALIPAY-778",
               sender_address="40 Jiefang Road, Shenyang"),
    ]
    senders = _senders(_resolved(tmp_path, rows))
    assert senders["X1"] == senders["X2"]


def test_at_a_forwarding_warehouse_the_customer_code_is_the_consignee_not_the_name_on_the_label(tmp_path):
    street = "Unit {code}, WH 5, 228 Oak St, Leeds LS1 1UR"
    customers = [parcel(parcel_id=f"C{i}", receiver_name=f"Customer{i} Person", receiver_phone="",
                        receiver_address=street.format(code=30000 + i)) for i in range(12)]
    rows = FILLER + customers + [
        # one consignee: her own name, and the warehouse's name, on labels with her code
        parcel(parcel_id="A1", receiver_name="Patricia Johnson", receiver_phone="",
               receiver_address=street.format(code=27657)),
        parcel(parcel_id="A2", receiver_name="Polaris Forwarding LLC", receiver_phone="",
               receiver_address="228 Oak Street, Unit 27657/5, Leeds LS1 1UR"),
        # two consignees of one name with two codes, and the warehouse's name on a third code
        parcel(parcel_id="B1", receiver_name="Lars de Boer", receiver_phone="", receiver_address=street.format(code=68036)),
        parcel(parcel_id="B2", receiver_name="DE BOER Lars", receiver_phone="", receiver_address=street.format(code=46759)),
        parcel(parcel_id="B3", receiver_name="Polaris Forwarding LLC", receiver_phone="",
               receiver_address=street.format(code=51515)),
    ]
    r = _receivers(_resolved(tmp_path, rows))
    assert r["A1"] == r["A2"]
    assert len({r["B1"], r["B2"], r["B3"], r["A2"]}) == 4


def test_a_customer_code_written_into_the_name_is_the_unit_where_the_address_has_none(tmp_path):
    street = "Prinsenlaan 117, Warehouse 2, 5911 AA Venlo"
    rows = FILLER + [parcel(parcel_id=f"N{i}", receiver_name=f"Klant{i} Persoon (NL{40000 + i})", receiver_phone="",
                            receiver_address=street) for i in range(12)] + [
        parcel(parcel_id="L1", receiver_name="Lotte de Vries (NL79080)", receiver_phone="", receiver_address=street),
        parcel(parcel_id="L2", receiver_name="Lotte de Vries", receiver_phone="",
               receiver_address="Prinsenlaan 117, Suite 79080, Warehouse 2, 5911 AA Venlo"),
        parcel(parcel_id="L3", receiver_name="Lotte de Vries NL12345", receiver_phone="", receiver_address=street),
    ]
    r = _receivers(_resolved(tmp_path, rows))
    assert r["L1"] == r["L2"] != r["L3"]


def test_a_hong_kong_or_singapore_consignee_in_hanzi_and_in_its_own_romanisation_is_one_party(tmp_path):
    # the same flat and phone; the latin labels spell the name in Cantonese (Hong Kong) or with
    # a Hokkien family name (Singapore), which pinyin never meets
    def to(pid, name, phone, address):
        return parcel(parcel_id=pid, receiver_name=name, receiver_phone=phone, receiver_address=address)
    hk, sg = "Flat 12, 22 Hennessy Road, Kowloon, Hong Kong", "Blk 865 Tampines Street 11 #48, Singapore 018956"
    rows = FILLER + [
        to("H1", "吳志強", "+852 9123 4567", "九龍軒尼詩道22號12室"), to("H2", "NG Chi-keung", "+852 9123 4567", hk),
        to("H3", "Ng Mei Ling", "+852 9123 4567", hk),  # another person of the flat
        to("S1", "陈丽华", "+65 9123 4567", sg), to("S2", "Tan Li Hua", "+65 9123 4567", sg),
    ]
    r = _receivers(_resolved(tmp_path, rows))
    assert r["H1"] == r["H2"] != r["H3"]
    assert r["S1"] == r["S2"]


def test_namesakes_at_the_same_number_of_two_streets_of_one_city_stay_apart(tmp_path):
    # token-set similarity rates "Calle de Serrano 44, 08001 Barcelona" close to "Calle de Alcala
    # 44, 08001 Barcelona" (all but one word in common); another street is at most a similar place
    def to(pid, address, phone=""):
        return parcel(parcel_id=pid, receiver_name="Lucia Martinez", receiver_phone=phone, receiver_address=address)
    rows = FILLER + [
        to("M1", "Calle de Serrano 44, 08001 Barcelona, Spain"), to("M2", "Calle de Alcala 44, 08001 Barcelona, Spain"),
        # the same woman with her place written without postcode and country is still one
        to("M3", "Calle de Serrano 44, Barcelona"),
    ]
    r = _receivers(_resolved(tmp_path, rows))
    assert r["M1"] != r["M2"]
    assert r["M1"] == r["M3"]
