"""Cluster scoring: each signal on a small hand-made world, flagging, summaries.

The world is written as a CSV, loaded with `linker ingest`'s library function and analysed by the
whole pipeline, so every signal is checked on what the real upstream stages produce.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from linker.pipeline import analysis as pipeline
from linker import store
from linker.stages.ingest import ingest_paths
from tests.conftest import parcel, write_csv

T0 = datetime(2026, 3, 1, 9, 0)

RECRUITS = [
    ("Li Na", "13900000001", "110101199001011234", "上海市浦东新区世纪大道1号"),
    ("王芳", "13900000002", "110101199001021234", "上海市黄浦区南京东路2号"),
    ("Chen Jie", "13900000003", "110101199001031234", "杭州市西湖区文三路3号"),
    ("刘洋", "13900000004", "110101199001041234", "苏州市姑苏区人民路4号"),
    ("Zhao Lei", "13900000005", "110101199001051234", "南京市鼓楼区中山路5号"),
    ("孙丽", "13900000006", "110101199001061234", "宁波市海曙区中山西路6号"),
]


def ring_rows(prefix: str, n: int = 24, *, carriers=("EMS", "SF", "DHL"), recruits=6, description="nickel powder",
              hs_code="7504", weight=0.47, start=T0, account="ALIPAY-RING-0001", suite="881") -> list[dict]:
    """Recruited senders sharing one account, a cover description, to one forwarding suite."""
    rng = random.Random(prefix)
    rows = []
    for k in range(n):
        name, phone, idn, addr = RECRUITS[k % recruits]
        rows.append(parcel(
            parcel_id=f"{prefix}{k:05d}", carrier=carriers[k % len(carriers)],
            accepted_at=(start + timedelta(days=k * 0.8)).isoformat(), sender_name=name, sender_phone=phone,
            sender_id_number=idn, sender_address=addr, receiver_name="Aibek Nurlanov", receiver_phone="+7 701 555 0001",
            receiver_address=f"Forwarding Hub, 12 Tole Bi St, Suite {suite}, Almaty", payer_account=account,
            declared_description=description, hs_code=hs_code, declared_weight_kg=f"{weight + rng.random() * 0.02:.3f}",
            gross_weight_kg=f"{weight + 0.08:.2f}", declared_value="9", acceptance_point=f"SH-{k % 4:04d}", dest_country="KZ",
        ))
    return rows


def shop_rows(n: int = 60) -> list[dict]:
    """An online shop: one sender, correctly declared magnets, one carrier, a different customer each time."""
    return [parcel(
        parcel_id=f"SHOP{k:05d}", carrier="SF", accepted_at=(T0 + timedelta(hours=k * 6)).isoformat(),
        sender_name="Shenzhen Magnet Store Co., Ltd.", sender_phone="0755-88880000", sender_id_number="",
        sender_address="深圳市南山区科技园路100号", receiver_name=f"Customer {k}", receiver_phone=f"+49 151 {1000000 + k}",
        receiver_address=f"Hauptstrasse {k + 1}, Berlin", payer_account="SHOP-ACC-1", dest_country="DE",
        declared_description="NdFeB magnet", hs_code="8505.11", declared_weight_kg="0.3", gross_weight_kg="0.35",
        declared_value="60", acceptance_point="SZ-0001") for k in range(n)]


SURNAMES = ["Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou"]
GIVEN = ["Wei", "Fang", "Min", "Jing", "Lei", "Qiang", "Yan", "Jun", "Tao", "Ming"]


def warehouse_rows(n: int = 80) -> list[dict]:
    """Strangers sharing an outlet phone and one forwarding warehouse (each their own suite)."""
    return [parcel(
        parcel_id=f"WH{k:05d}", carrier="EMS", accepted_at=(T0 + timedelta(hours=k * 5)).isoformat(),
        sender_name=f"{SURNAMES[k % 10]} {GIVEN[k // 10 % 10]}{GIVEN[(k + 3) % 10].lower()}", sender_phone="010-66666666", sender_id_number=f"ID{k:08d}",
        sender_address=f"北京市海淀区{k}号", receiver_name=f"Buyer {k}", receiver_phone="",
        receiver_address=f"Forwarding Hub, 12 Tole Bi St, Suite {100 + k}, Almaty", payer_account=f"ACC-{k}",
        declared_description="nickel powder", hs_code="7504", declared_weight_kg="0.4", gross_weight_kg="0.5",
        declared_value="12", acceptance_point="BJ-0100", dest_country="KZ") for k in range(n)]


def noise_rows(n: int = 200) -> list[dict]:
    rng = random.Random(1)
    return [parcel(
        parcel_id=f"N{k:06d}", carrier=rng.choice(["EMS", "SF", "JD"]), accepted_at=(T0 + timedelta(hours=k)).isoformat(),
        sender_name=f"Noise Sender {k}", sender_phone=f"138{k:08d}", sender_id_number=f"N{k:09d}",
        sender_address=f"广州市天河区{k}路", receiver_name=f"Noise Receiver {k}", receiver_phone="",
        receiver_address=f"{k} Main St, Springfield", payer_account=f"NACC{k}", dest_country="US",
        declared_description=rng.choice(["books", "toys", "shoes"]), hs_code="4901", declared_weight_kg="0.5",
        gross_weight_kg="0.6", declared_value="10", acceptance_point=f"GZ-{k}") for k in range(n)]


def analyse(tmp_path: Path, rows: list[dict], name: str = "store") -> Path:
    db = tmp_path / f"{name}.duckdb"
    path = write_csv(tmp_path / f"{name}.csv", rows)
    con = store.connect(db)
    try:
        ingest_paths(con, [path])
    finally:
        con.close()
    pipeline.run(db)
    return db


def cluster_of(db: Path, parcel_id: str) -> dict | None:
    con = store.connect(db, read_only=True)
    try:
        cur = con.execute(
            "SELECT c.* FROM clusters c JOIN parcel_clusters p USING (cluster_id) WHERE p.parcel_id = ?", [parcel_id]
        )
        row = cur.fetchall()
        if not row:
            return None
        names = [d[0] for d in cur.description]
        out = dict(zip(names, row[0]))
        out["signals"] = dict(con.execute(
            "SELECT signal, strength FROM cluster_signals WHERE cluster_id = ?", [out["cluster_id"]]
        ).fetchall())
        return out
    finally:
        con.close()


@pytest.fixture(scope="module")
def world_db(tmp_path_factory) -> Path:
    rows = ring_rows("RING") + shop_rows() + warehouse_rows() + noise_rows()
    return analyse(tmp_path_factory.mktemp("world"), rows)


def test_a_ring_of_recruited_senders_is_flagged(world_db):
    ring = cluster_of(world_db, "RING00000")
    assert ring["flagged"] and ring["parcels"] == 24


def test_quantity_is_the_worst_window_against_the_threshold(world_db):
    ring = cluster_of(world_db, "RING00000")
    assert ring["est_controlled_kg"] > ring["threshold_kg"]
    assert ring["ratio"] == pytest.approx(ring["est_controlled_kg"] / ring["threshold_kg"], rel=1e-3)
    assert ring["signals"]["quantity"] == 1.0


def test_identity_churn_counts_names_behind_one_account(world_db):
    assert cluster_of(world_db, "RING00000")["signals"]["identity_churn"] == 1.0
    assert cluster_of(world_db, "SHOP00000")["signals"]["identity_churn"] == 0.0


def test_split_signature_needs_converging_parcels(world_db):
    assert cluster_of(world_db, "RING00000")["signals"]["split"] > 0.8
    assert cluster_of(world_db, "SHOP00000")["signals"]["split"] < 0.1


def test_channel_switching_counts_carriers_and_outlets(world_db):
    assert cluster_of(world_db, "RING00000")["signals"]["channel_switching"] > 0.9
    assert cluster_of(world_db, "SHOP00000")["signals"]["channel_switching"] == 0.0


def test_routing_sees_the_forwarding_warehouse(world_db):
    assert cluster_of(world_db, "RING00000")["signals"]["routing"] > 0.5


def test_declaration_anomaly_of_a_cover_description(world_db):
    assert cluster_of(world_db, "RING00000")["signals"]["declaration"] > 0.2
    assert cluster_of(world_db, "SHOP00000")["signals"]["declaration"] == 0.0


def test_a_shop_with_correct_declarations_is_a_cluster_but_not_flagged(world_db):
    shop = cluster_of(world_db, "SHOP00000")
    assert shop is not None and not shop["flagged"]
    assert "not flagged" in shop["summary"]


def test_an_outlet_phone_and_a_warehouse_do_not_glue_strangers(world_db):
    assert all(cluster_of(world_db, f"WH{k:05d}") is None for k in range(0, 80, 7))


def test_ordinary_parcels_without_goods_are_no_cluster(world_db):
    assert cluster_of(world_db, "N000000") is None


def test_summary_says_why_in_one_sentence(world_db):
    summary = cluster_of(world_db, "RING00000")["summary"]
    assert summary.startswith("24 parcels from 6 sender names sharing one payment account")
    assert "declared as nickel powder" in summary and "3 carriers" in summary and "Kazakhstan" in summary
    assert "\n" not in summary


def test_flagged_clusters_rank_first(world_db):
    con = store.connect(world_db, read_only=True)
    flags = [r[0] for r in con.execute("SELECT flagged FROM clusters ORDER BY rank").fetchall()]
    con.close()
    assert flags == sorted(flags, reverse=True)


def test_cluster_signals_contributions_add_up_to_the_score(world_db):
    con = store.connect(world_db, read_only=True)
    rows = con.execute(
        "SELECT c.score, sum(s.contribution) FROM clusters c JOIN cluster_signals s USING (cluster_id) GROUP BY c.cluster_id, c.score"
    ).fetchall()
    con.close()
    for score, total in rows:
        assert total == pytest.approx(score, abs=0.05)


def test_a_ring_below_half_the_threshold_is_not_flagged(tmp_path):
    db = analyse(tmp_path, ring_rows("SMALL", n=4) + noise_rows(50))
    small = cluster_of(db, "SMALL00000")
    assert small is not None and small["ratio"] < 0.5 and not small["flagged"]
