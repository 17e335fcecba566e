"""Honest look-alikes stay out of the flagged queue; disguised origin is caught (issue 12).

Each case is a small hand-made world written as CSV, loaded by `linker ingest`'s library
function and analysed by the whole pipeline, so the rules are checked on what the real
upstream stages make of the records. The shapes follow DOMAIN.md: a shop's many one-off buyers
against an operation's few recurring receivers; a forwarding warehouse's customers as strangers
told apart by their customer code; relabelled origin and re-export routes.
"""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

import pytest

from linker import store
from tests.conftest import parcel
from tests.test_score import SURNAMES, T0, analyse, cluster_of, noise_rows, ring_rows

COUNTRIES = ["US", "DE", "FR", "GB", "JP", "KR", "AU", "CA", "NL", "ES", "IT", "PL"]
FIRST = ["Anna", "John", "Maria", "Peter", "Lena", "Tom", "Sara", "Paul", "Eva", "Mark", "Nina", "Olga"]
LAST = ["Smith", "Muller", "Rossi", "Kowalski", "Tanaka", "Kim", "Brown", "Martin", "Novak", "Garcia"]
# One web shop written as a shop writes itself: its name in hanzi and English, short and long,
# and its staff's names; one payment account behind all of them.
SHOP_NAMES = ["杭州顺发磁性玩具有限公司", "顺发磁性玩具", "顺发玩具店", "HANGZHOU SHUNFA MAGNETIC TOY CO., LIMITED",
              "Hangzhou Shunfa Magnetic Toy Co Ltd", "Shunfa Toys", "SHUNFA TOY STORE", "Shunfa Magnetic",
              "王丽", "Li Ming", "陈静", "Zhou Tao", "Hangzhou Shunfa Trading", "顺发贸易"]
LAB_SUPPLY_NAMES = ["宁波金源实验材料有限公司", "金源实验材料", "NINGBO JINYUAN LAB MATERIALS CO., LTD.", "Jinyuan Lab Supply",
                    "Ningbo Jinyuan", "刘强", "Zhang Hui", "金源材料店"]


def buyers(n: int, prefix: str, start: int = 0) -> list[dict]:
    """n different buyers abroad, each with their own name, phone and address."""
    out = []
    for k in range(start, start + n):
        country = COUNTRIES[k % len(COUNTRIES)]
        out.append(dict(receiver_name=f"{FIRST[k % 12]} {LAST[(k // 12) % 10]} {prefix}{k}",
                        receiver_phone=f"+1 202 {500 + ord(prefix[0]) % 400:03d} {k:04d}" if country == "US" else "",
                        receiver_address=f"{k + 1} {prefix} Street, Town {k}", dest_country=country))
    return out


def retail_rows(prefix: str, n: int, description: str, hs_code: str, usd_per_kg: float, kg: float = 0.5,
                names: list[str] = SHOP_NAMES) -> list[dict]:
    """A web shop: one account and warehouse, many spellings of its name, a different buyer every time."""
    rng = random.Random(prefix)
    rows = []
    for k, buyer in enumerate(buyers(n, prefix)):
        w = kg * (0.6 + 0.8 * rng.random())
        rows.append(parcel(
            parcel_id=f"{prefix}{k:05d}", carrier=["YunExpress", "Cainiao", "EMS"][k % 3],
            accepted_at=(T0 + timedelta(hours=k * 7)).isoformat(), sender_name=names[k % len(names)],
            sender_phone=f"0571-8888 {len(prefix) * 1111 + ord(prefix[0]):04d}" if k % 2 else "", sender_id_number="",
            sender_address=f"杭州市余杭区仓前街道文一西路{ord(prefix[0])}号" if k % 3 else f"{ord(prefix[0])} Wenyi West Rd, Yuhang, Hangzhou",
            payer_account=f"ALIPAY-{prefix}-001", declared_description=description, hs_code=hs_code,
            declared_weight_kg=f"{w:.2f}", gross_weight_kg=f"{w + 0.15:.2f}", declared_value=f"{w * usd_per_kg:.2f}",
            acceptance_point="HZ-0007", **buyer))
    return rows


@pytest.fixture(scope="module")
def shops_db(tmp_path_factory) -> Path:
    rows = (retail_rows("TOY", 300, "Magnetic building tiles 35pcs", "8505.19", 30.0)
            + retail_rows("NIP", 150, "nickel powder 99.5% 500g", "7504.00", 35.0, names=LAB_SUPPLY_NAMES)
            + ring_rows("RING") + noise_rows())
    return analyse(tmp_path_factory.mktemp("shops"), rows)


def flagged_parcels(db: Path, prefix: str) -> int:
    con = store.connect(db, read_only=True)
    try:
        return con.execute(
            "SELECT count(*) FROM parcel_clusters p JOIN clusters c USING (cluster_id) WHERE c.flagged AND p.parcel_id LIKE ?",
            [prefix + "%"],
        ).fetchall()[0][0]
    finally:
        con.close()


def test_a_magnet_toy_shop_under_many_names_is_never_flagged(shops_db):
    assert flagged_parcels(shops_db, "TOY") == 0


def test_fridge_magnets_and_tiles_make_no_controlled_kg(shops_db):
    # a finished magnet article declared under 8505.19 is no cover for magnet material
    assert cluster_of(shops_db, "TOY00000") is None


def test_an_honest_seller_of_cover_goods_is_shown_unflagged_with_its_retail_reason(shops_db):
    shop = cluster_of(shops_db, "NIP00001")
    assert shop is not None and not shop["flagged"] and shop["retail"]
    assert shop["summary"].startswith("Not flagged, retail pattern: ")
    assert "one-off buyers in 12 countries" in shop["summary"]
    assert flagged_parcels(shops_db, "NIP") == 0


def test_the_ring_beside_the_shops_is_still_flagged(shops_db):
    ring = cluster_of(shops_db, "RING00000")
    assert ring["flagged"] and not ring["retail"] and ring["parcels"] == 24


def test_a_small_shop_whose_staff_share_its_account_is_not_flagged(tmp_path):
    # too few buyers for the retail pattern, but its parcels go to a different buyer each
    # time: several names behind one account are its staff, not recruits of an organiser
    rows = retail_rows("SMALL", 14, "nickel powder 99.5% 500g", "7504.00", 35.0, kg=1.2, names=LAB_SUPPLY_NAMES)
    for k, row in enumerate(rows):  # the staff post with their own phones and ID cards
        row["sender_phone"], row["sender_id_number"] = f"1380013{k % 4:04d}", f"33020119900101{k % 4:04d}"
    shop = cluster_of(analyse(tmp_path, rows + noise_rows(50)), "SMALL00001")
    assert shop is not None and shop["ratio"] >= 0.5 and not shop["flagged"]


def test_honest_retail_packs_priced_above_bulk_are_no_false_declaration(tmp_path):
    # 100 g packs of lab-grade nickel powder at 600 USD/kg: far above the bulk price, as retail packs are
    rows = retail_rows("PACK", 60, "nickel powder 99.99% 100g", "7504.00", 600.0, kg=0.1, names=LAB_SUPPLY_NAMES)
    rows += retail_rows("PACKB", 60, "nickel powder 1kg", "7504.00", 60.0, kg=1.0, names=LAB_SUPPLY_NAMES)
    shop = cluster_of(analyse(tmp_path, rows + noise_rows(50)), "PACK00001")
    assert shop is not None and shop["retail"] and not shop["flagged"]


def warehouse_customers(n: int = 6) -> list[dict]:
    """Strangers at the ring's forwarding warehouse: other suites, other names, the same desk phone."""
    return [parcel(
        parcel_id=f"CUST{k:04d}", carrier="EMS", accepted_at=(T0 + timedelta(days=k * 2)).isoformat(),
        sender_name=f"Sender {k}", sender_phone=f"1371234{k:04d}", sender_id_number=f"X{k:09d}",
        sender_address=f"成都市武侯区{k}号", receiver_name=f"Customer {LAST[k % 10]} {k}", receiver_phone="+7 727 300 0000",
        receiver_address=f"Forwarding Hub, 12 Tole Bi St, Suite {2000 + k}, Almaty", payer_account=f"PAY-{k}",
        declared_description="cotton t-shirts", hs_code="6109", declared_weight_kg="0.6", gross_weight_kg="0.7",
        declared_value="15", acceptance_point=f"CD-{k}", dest_country="KZ") for k in range(n)]


def test_a_ring_at_a_forwarding_warehouse_does_not_swallow_the_other_customers(tmp_path):
    ring = ring_rows("RING")
    for row in ring:  # the ring writes the warehouse desk's phone, as the other customers do
        row["receiver_phone"] = "+7 727 300 0000"
    db = analyse(tmp_path, ring + warehouse_customers() + noise_rows(50))
    cluster = cluster_of(db, "RING00000")
    assert cluster["flagged"] and cluster["parcels"] == 24
    assert all(cluster_of(db, f"CUST{k:04d}") is None for k in range(6))


def test_two_rings_writing_a_warehouse_without_their_codes_are_not_joined_by_it(tmp_path):
    # Two operations ship to two customers of one forwarding warehouse; some labels leave out
    # the customer code and write only the warehouse's own number ("Warehouse 3"). That address
    # belongs to the warehouse and all its customers: it must not make the two one operation.
    rows = []
    for prefix, suite, n_recruit in (("WA", "4410", 0), ("WB", "5521", 1)):
        ring = ring_rows(prefix, suite=suite, account=f"ALIPAY-{prefix}")
        for k, row in enumerate(ring):
            row["sender_name"] = f"{SURNAMES[(k + 5 * n_recruit) % 10]} {prefix} {k % 6}"
            row["sender_phone"] = f"139{n_recruit}00{k % 6:05d}"
            row["sender_id_number"] = f"{n_recruit}{k % 6:017d}"
            row["sender_address"] = f"赣州市章贡区{prefix}路{k % 6 + 1}号"
            row["receiver_name"] = ("Aibek Nurlanov", "Dmitry Orlov")[n_recruit]
            row["receiver_phone"] = f"+7 701 555 00{n_recruit + 10}"
            if k % 3 == 0:
                row["receiver_address"] = "Forwarding Hub, 12 Tole Bi St, Warehouse 3, Almaty"
        rows += ring
    db = analyse(tmp_path, rows + warehouse_customers() + noise_rows(50))
    a, b = cluster_of(db, "WA00000"), cluster_of(db, "WB00000")
    assert a["flagged"] and b["flagged"]
    assert a["cluster_id"] != b["cluster_id"] and a["parcels"] == b["parcels"] == 24


def test_unidentified_goods_of_a_cluster_count_as_the_commodity_its_other_parcels_name(tmp_path):
    # mostly "ferrous alloy" (a cover for several commodities: unidentified) and some "nickel
    # powder" (a cover for rare earths): one operation, one material, shown and scored as rare
    # earths with every parcel's kg
    rows = ring_rows("MIX", n=24, description="ferrous alloy", hs_code="7202")
    for row in rows[::3]:
        row["declared_description"], row["hs_code"] = "nickel powder", "7504"
    cluster = cluster_of(analyse(tmp_path, rows + noise_rows(50)), "MIX00000")
    assert cluster["flagged"]
    assert cluster["commodity"] == "rare_earths" and cluster["scored_commodity"] == "rare_earths"
    assert cluster["est_controlled_kg"] > 8 * 0.5  # more than the nickel-powder parcels alone


def test_a_cluster_of_unidentified_goods_is_shown_as_the_commodity_its_signals_point_at(tmp_path):
    # "ferrite magnets" hide NdFeB as far as the catalogue knows, but their kg are held against the
    # stricter threshold of unidentified goods: scored as unknown, shown as what the signals say
    cluster = cluster_of(analyse(tmp_path, ring_rows("FER", n=24, description="ferrite magnets", hs_code="8505.19")
                                 + noise_rows(50)), "FER00000")
    assert cluster["flagged"]
    assert cluster["commodity"] == "ndfeb_magnets" and cluster["scored_commodity"] == "unknown"
    assert "signals point to NdFeB" in cluster["summary"]


def test_relabelled_material_of_false_origin_is_flagged(tmp_path):
    # a few large parcels (no splitting signature) from one sender to a trading firm in a
    # transit country: powder "not of Chinese origin", declared as Malaysian
    rows = [parcel(
        parcel_id=f"FO{k:04d}", carrier="DHL", accepted_at=(T0 + timedelta(days=k * 3)).isoformat(),
        sender_name="Xu Gang", sender_phone="13700001111", sender_id_number="", sender_address="赣州市章贡区红旗大道8号",
        receiver_name="Tashkent Metals Trading LLP", receiver_phone="+7 727 311 2233", receiver_address="Dostyk Ave 48, Almaty",
        payer_account="WX-XUGANG", declared_description="metal powder, not of Chinese origin", hs_code="8112.99",
        declared_weight_kg="2.4", gross_weight_kg="2.6", declared_value="60", declared_origin="MY",
        acceptance_point="GZ-0001", dest_country="KZ") for k in range(6)]
    cluster = cluster_of(analyse(tmp_path, rows + noise_rows(50)), "FO0000")
    assert cluster is not None and cluster["flagged"]
    assert cluster["signals"]["declaration"] >= 0.8


def reexport_rows() -> list[dict]:
    """CN -> KZ to one consignee, who posts the same goods on from KZ to Germany."""
    first = ring_rows("LEG1", n=12)
    onward = [parcel(
        parcel_id=f"LEG2{k:05d}", carrier="DHL", accepted_at=(T0 + timedelta(days=12 + k)).isoformat(),
        origin_country="KZ", dest_country="DE", sender_name="Aibek Nurlanov", sender_phone="+7 701 555 0001",
        sender_id_number="", sender_address="Forwarding Hub, 12 Tole Bi St, Suite 881, Almaty",
        receiver_name="Hans Becker", receiver_phone="+49 151 2345 6789", receiver_address="Industriestr. 4, Hanau",
        payer_account="", declared_description="nickel powder", hs_code="7504", declared_weight_kg="0.9",
        gross_weight_kg="1.0", declared_value="20", declared_origin="KZ", acceptance_point="ALA-01") for k in range(6)]
    return first + onward + noise_rows(50)


def test_a_re_export_route_through_a_transit_country_is_seen(tmp_path):
    db = analyse(tmp_path, reexport_rows())
    cluster = cluster_of(db, "LEG100000")
    assert cluster["flagged"]
    assert cluster_of(db, "LEG200000")["cluster_id"] == cluster["cluster_id"]
    assert "re-exported onward from Kazakhstan" in cluster["summary"]
    assert cluster["signals"]["routing"] == 1.0


def logged_in_dashboard(db: Path, user: str, monkeypatch):
    """The real dashboard (Streamlit AppTest) on `db`, logged in as a new investigator `user`."""
    import bcrypt
    from streamlit.testing.v1 import AppTest

    from linker.casework import cases

    cases.add_user(cases.cases_db_path(db), user, "investigator", bcrypt.hashpw(b"pw", bcrypt.gensalt(4)).decode())
    monkeypatch.setenv("LINKER_DB", str(db))
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app" / "main.py"), default_timeout=60)
    at.run()
    at.text_input(key="login_name").input(user)
    at.text_input(key="login_password").input("pw")
    at.button[0].click().run()
    return at


def test_the_cluster_page_shows_a_cluster_posted_from_two_countries(tmp_path, monkeypatch):
    db = analyse(tmp_path, reexport_rows())
    at = logged_in_dashboard(db, "ana", monkeypatch)
    at.session_state["cluster_id"] = cluster_of(db, "LEG100000")["cluster_id"]
    at.switch_page("views/cluster.py").run()
    assert not at.exception
    assert any("countries: CN, DE, KZ" in str(c.value) for c in at.caption)


def test_the_morning_report_lists_set_aside_lookalikes_with_their_reason(shops_db):
    from linker.outputs import report

    con = store.connect(shops_db, read_only=True)
    try:
        facts = report.gather(con, report_date="2026-03-30", run_id=None, baseline=None, watch_items=[])
        html = report.render_page(con, facts)
    finally:
        con.close()
    assert facts["lookalikes_total"] >= 1
    assert all(not c["flagged"] and c["summary"].startswith("Not flagged, retail pattern") for c in facts["lookalikes"])
    assert "Set aside as honest trade" in html and "one-off buyers in 12 countries" in html


def test_one_shared_number_does_not_make_a_strangers_parcel_part_of_a_ring(tmp_path):
    # a parcel with no goods signal whose only tie to the ring is one recruit's ID number (a
    # typo, a reused or colliding number): not context of the operation
    stranger = parcel(
        parcel_id="STRANGER01", carrier="JD", accepted_at=(T0 + timedelta(days=3)).isoformat(),
        sender_name="Huang Xiaoyu", sender_phone="13512345678", sender_id_number="110101199001011234",
        sender_address="重庆市渝中区解放碑路77号", receiver_name="Maria Rossi", receiver_phone="+39 333 123 4567",
        receiver_address="Via Roma 5, Milano", payer_account="UNION-77881", declared_description="clothes",
        hs_code="6109", declared_weight_kg="0.5", gross_weight_kg="0.6", declared_value="20",
        acceptance_point="CQ-0003", dest_country="IT")
    db = analyse(tmp_path, ring_rows("RING") + [stranger] + noise_rows(50))
    assert cluster_of(db, "RING00000")["parcels"] == 24
    assert cluster_of(db, "STRANGER01") is None


def test_small_parcels_fanning_out_to_many_receivers_are_no_splitting_signature(tmp_path):
    # one seller, a dozen small parcels of real nickel powder in a month, seven different buyers:
    # splitting converges on few receivers, trade fans out
    rows = retail_rows("FAN", 12, "nickel powder 500g", "7504.00", 35.0, kg=0.45, names=["Ningbo Jinyuan Lab Supply"])
    for k, row in enumerate(rows):  # seven buyers, some of them twice
        row.update(buyers(7, "FAN")[k % 7])
        row["accepted_at"] = (T0 + timedelta(days=2 * k)).isoformat()
    cluster = cluster_of(analyse(tmp_path, rows + noise_rows(50)), "FAN00000")
    assert cluster is not None and cluster["ratio"] >= 0.5 and not cluster["flagged"]


def test_a_ring_writing_many_receiver_names_at_one_suite_still_converges(tmp_path):
    # the receiving side converges on one suite even where its names do not resolve to one party
    names = ["Aibek Nurlanov", "Dana Seitkali", "Timur Bekov", "Aruzhan Omarova", "Yerlan Abenov",
             "Madina Kassym", "Nurlan Zhaksy", "Saule Iskakova"]
    rows = ring_rows("MANY", n=12, weight=0.9)
    for k, row in enumerate(rows):
        row["receiver_name"], row["receiver_phone"] = names[k % len(names)], ""
    cluster = cluster_of(analyse(tmp_path, rows + noise_rows(50)), "MANY00000")
    assert cluster["receivers"] > 6 and cluster["flagged"]


def test_the_queue_shows_a_set_aside_shop_with_its_reason_when_unflagged_clusters_are_included(shops_db, monkeypatch):
    at = logged_in_dashboard(shops_db, "ana2", monkeypatch)
    assert not any(s.startswith("Not flagged, retail") for s in at.dataframe[0].value["summary"])
    at.toggle[0].set_value(True).run()
    assert not at.exception
    assert any(s.startswith("Not flagged, retail pattern: 150 one-off buyers") for s in at.dataframe[0].value["summary"])


def test_a_customer_code_written_with_and_without_its_prefix_is_one_receiving_point(tmp_path):
    # one warehouse customer, its code written "#US67381", "Suite 67381", "c/o customer US-67381",
    # ..., under several names: the ring still converges on one receiving point
    forms = ["8175 Washington Road #US67381, Chicago, IL 60601", "8175 Washington Rd Suite 67381, Chicago, IL 60601, United States",
             "8175 Washington Road c/o customer US-67381, Chicago, IL 60601", "8175 Washington Road Ste. 67381, Chicago",
             "8175 Washington Rd, Customer code US67381, Chicago IL, USA", "Unit 67381, 8175 Washington Road, Chicago, Illinois",
             "8175 Washington Road PMB 67381 Chicago 60601 United States of America", "8175 Washington Rd. #67381, Chicago"]
    names = ["Amit Kumar", "Dana Seitkali", "Timur Bekov", "Eurasia Express LLC", "Yerlan Abenov", "Madina Kassym",
             "Nurlan Zhaksy", "Saule Iskakova"]
    rows = ring_rows("CODE", n=12, weight=0.9)
    for k, row in enumerate(rows):
        row.update(receiver_name=names[k % len(names)], receiver_phone="", receiver_address=forms[(k * 3) % len(forms)],
                   dest_country="US")
    cluster = cluster_of(analyse(tmp_path, rows + noise_rows(50)), "CODE00000")
    assert cluster["flagged"]


def test_a_shop_shaped_cluster_with_a_disguised_origin_is_no_retail_pattern(tmp_path):
    rows = retail_rows("ORIG", 60, "alloy powder, not of Chinese origin", "8112.99", 35.0, names=LAB_SUPPLY_NAMES)
    shop = cluster_of(analyse(tmp_path, rows + noise_rows(50)), "ORIG00001")
    assert shop is not None and not shop["retail"]
