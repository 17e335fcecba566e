"""A small analysed store for the dashboard tests, written to the table contracts of
docs/ARCHITECTURE.md: parcels loaded through the real load schema, and the analysis tables as
the later stages write them. Small and hand-made so each test can say exactly what it expects.

Ring A: five names of one organiser (hanzi and pinyin of 张伟, 李娜 ...) paying from one account,
posting "ferrous alloy" to one forwarding-warehouse suite, 14 parcels over four carriers; above
its 5 kg dysprosium threshold. Ring B: gallium "metal samples", flagged, smaller. Cluster C: an
ordinary online shop, not flagged. Plus unclustered background parcels.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from linker.stages import pages as page_tables, search
from linker.stages import normalise, resolve
from linker import store

RING_A = "C-7f3a91"
RING_B = "C-22b0c4"
SHOP_C = "C-90e1d7"
RING_A_ACCOUNT = "6222021234567890"

_A_SENDERS = [
    ("张伟", "zhang wei", "+8613800138000", "110101199001011234"),
    ("Zhang Wei", "zhang wei", "+8613800138000", "110101199001011234"),
    ("ZHANG Wei", "zhang wei", "+8613800138001", None),
    ("李娜", "li na", "+8613900139000", "110101199202022345"),
    ("Li Na", "li na", "+8613900139000", "110101199202022345"),
]


def _parcels() -> list[dict]:
    rows = []
    start = datetime(2026, 10, 1, 9, 0)
    carriers = ["SF", "EMS", "JD", "China Post"]
    for i in range(14):
        name, _, phone, idn = _A_SENDERS[i % len(_A_SENDERS)]
        rows.append(
            dict(
                parcel_id=f"EE{100000 + i:06d}{i % 10}CN",
                carrier=carriers[i % 4],
                accepted_at=start + timedelta(days=i * 2, hours=i),
                origin_country="CN",
                dest_country="US",
                sender_name=name,
                sender_phone=phone.replace("+86", "") if i % 2 else phone,
                sender_id_number=idn,
                sender_address="深圳市南山区科技园路1号" if i % 3 else "1 Keji Yuan Rd, Nanshan, Shenzhen",
                receiver_name="Global Fwd Inc",
                receiver_phone="+12015550100",
                receiver_address="100 Main St Suite 4471, Newark NJ 07102",
                payer_account=RING_A_ACCOUNT,
                declared_description="ferrous alloy" if i % 2 else "铁合金 sample",
                hs_code="720299",
                declared_weight_kg=0.45 + (i % 4) * 0.1,
                gross_weight_kg=0.55 + (i % 4) * 0.1,
                declared_value=12.0,
                currency="USD",
                category="sample",
                declared_origin="CN",
                acceptance_point="SZ-NS-017",
                cluster=RING_A,
            )
        )
    for i in range(5):
        rows.append(
            dict(
                parcel_id=f"SF{200000 + i}",
                carrier="SF",
                accepted_at=datetime(2026, 10, 20, 10) + timedelta(days=i),
                origin_country="CN",
                dest_country="NL",
                sender_name="王芳" if i % 2 else "Wang Fang",
                sender_phone="008613700137000",
                sender_id_number=None,
                sender_address="东莞市长安镇振安路8号",
                receiver_name="Metals Lab BV",
                receiver_phone=None,
                receiver_address="Kanaalweg 12, 3526 KL Utrecht",
                payer_account="wx:ab12cd34",
                declared_description="metal sample",
                hs_code="811292",
                declared_weight_kg=0.3,
                gross_weight_kg=0.9,
                declared_value=5.0,
                currency="USD",
                category="sample",
                declared_origin=None,
                acceptance_point="DG-CA-003",
                cluster=RING_B,
            )
        )
    for i in range(8):
        rows.append(
            dict(
                parcel_id=f"JD{300000 + i}",
                carrier="JD",
                accepted_at=datetime(2026, 10, 5, 14) + timedelta(days=i),
                origin_country="CN",
                dest_country="DE",
                sender_name="Shenzhen Happy Toys Co., Ltd.",
                sender_phone="0755-26881234",
                sender_id_number=None,
                sender_address="Bao'an District, Shenzhen",
                receiver_name=f"Customer {i}",
                receiver_phone=None,
                receiver_address=f"Hauptstr. {i + 1}, Berlin",
                payer_account="shop-acct-1",
                declared_description="plastic toys",
                hs_code="9503",
                declared_weight_kg=1.2,
                gross_weight_kg=1.3,
                declared_value=30.0,
                currency="EUR",
                category="merchandise",
                declared_origin="CN",
                acceptance_point="SZ-BA-001",
                cluster=SHOP_C,
            )
        )
    for i in range(6):
        rows.append(
            dict(
                parcel_id=f"BG{400000 + i}",
                carrier="EMS",
                accepted_at=datetime(2026, 10, 3) + timedelta(days=i),
                origin_country="CN",
                dest_country="JP",
                sender_name=f"Person {i}",
                sender_phone=None,
                sender_id_number=None,
                sender_address=f"Road {i}, Beijing",
                receiver_name=f"Receiver {i}",
                receiver_phone=None,
                receiver_address=f"{i} Chome, Tokyo",
                payer_account=None,
                declared_description="books",
                hs_code="4901",
                declared_weight_kg=0.8,
                gross_weight_kg=None,
                declared_value=None,
                currency="USD",
                category="gift",
                declared_origin=None,
                acceptance_point=None,
                cluster=None,
            )
        )
    return rows


def build_store(db_path: Path, pages: bool = True) -> Path:
    """Write the fixture store at db_path and return it; with `pages`, the page and search
    tables too, as `linker run` writes them (the readers fall back to the live queries
    without them)."""
    con = store.connect(db_path)
    rows = _parcels()
    con.execute(
        "INSERT INTO files VALUES (1, 'fixture.csv', 'sha-fixture', 'csv', 1, TIMESTAMP '2026-11-01', ?, ?, 0, 0)",
        [len(rows), len(rows)],
    )
    cols = [c for c, _ in store.CONTRACT_COLUMNS]
    for seq, r in enumerate(rows, start=1):
        con.execute(
            f"INSERT INTO parcels (parcel_seq, {', '.join(cols)}, extra, file_id, source_line) "
            f"VALUES (?, {', '.join('?' for _ in cols)}, NULL, 1, ?)",
            [seq, *[r[c] for c in cols], seq + 1],
        )
        r["parcel_seq"] = seq

    # party mentions, entities and links through the real normalise and resolve stages
    normalise.build_party_mentions(con)
    resolve.resolve_entities(con)

    con.execute("CREATE TABLE parcel_signals (parcel_seq BIGINT, signal VARCHAR, commodity VARCHAR, strength DOUBLE, evidence VARCHAR)")
    for r in rows:
        if r["cluster"] == RING_A:
            con.execute("INSERT INTO parcel_signals VALUES (?, 'cover_description', 'dysprosium', 0.8, ?)", [r["parcel_seq"], f"'{r['declared_description']}' is a typical cover for dysprosium (HS 7202)"])
        if r["cluster"] == RING_B:
            con.execute("INSERT INTO parcel_signals VALUES (?, 'weight_gap', 'gallium', 0.6, 'gross 0.9 kg vs declared 0.3 kg')", [r["parcel_seq"]])
    con.execute("CREATE TABLE parcel_clusters (parcel_seq BIGINT, parcel_id VARCHAR, carrier VARCHAR, cluster_id VARCHAR)")
    con.executemany(
        "INSERT INTO parcel_clusters VALUES (?, ?, ?, ?)",
        [[r["parcel_seq"], r["parcel_id"], r["carrier"], r["cluster"]] for r in rows if r["cluster"]],
    )
    con.execute(
        """CREATE TABLE clusters (cluster_id VARCHAR, rank INTEGER, score DOUBLE, flagged BOOLEAN, commodity VARCHAR,
        est_controlled_kg DOUBLE, threshold_kg DOUBLE, parcels INTEGER, senders INTEGER, receivers INTEGER,
        first_seen TIMESTAMP, last_seen TIMESTAMP, summary VARCHAR)"""
    )
    con.execute(
        """INSERT INTO clusters SELECT pc.cluster_id, 0, 0, false, NULL, sum(p.declared_weight_kg), NULL,
        count(*), count(DISTINCT s.entity_id), count(DISTINCT rc.entity_id), min(p.accepted_at), max(p.accepted_at), ''
        FROM parcel_clusters pc JOIN parcels p USING (parcel_seq)
        JOIN party_mentions s ON s.parcel_seq = p.parcel_seq AND s.role = 'sender'
        JOIN party_mentions rc ON rc.parcel_seq = p.parcel_seq AND rc.role = 'receiver' GROUP BY pc.cluster_id"""
    )
    con.execute(
        f"""UPDATE clusters SET rank = 1, score = 0.92, flagged = true, commodity = 'dysprosium', threshold_kg = 5.0,
        summary = '14 parcels of ''ferrous alloy'' from 5 names paid from one account reached one forwarding suite; about 8.9 kg of dysprosium against a 5 kg threshold.'
        WHERE cluster_id = '{RING_A}'"""
    )
    con.execute(
        f"""UPDATE clusters SET rank = 2, score = 0.64, flagged = true, commodity = 'gallium', threshold_kg = 2.0,
        summary = '5 metal samples weighing three times their declared weight went to one lab from one sender.'
        WHERE cluster_id = '{RING_B}'"""
    )
    con.execute(
        f"""UPDATE clusters SET rank = 3, score = 0.05, flagged = false, commodity = NULL, est_controlled_kg = 0,
        summary = 'An online shop sending toys to many customers.' WHERE cluster_id = '{SHOP_C}'"""
    )
    con.execute("CREATE TABLE cluster_signals (cluster_id VARCHAR, signal VARCHAR, strength DOUBLE, weight DOUBLE, contribution DOUBLE, evidence VARCHAR)")
    con.executemany(
        "INSERT INTO cluster_signals VALUES (?, ?, ?, ?, ?, ?)",
        [
            [RING_A, "shared_account", 0.95, 0.3, 0.285, "one payer account for 5 sender names"],
            [RING_A, "cover_description", 0.8, 0.25, 0.2, "14 of 14 parcels declared as ferrous alloy / 铁合金"],
            [RING_A, "over_threshold", 1.0, 0.3, 0.3, "8.9 kg against 5 kg in 30 days"],
            [RING_B, "weight_gap", 0.6, 0.4, 0.24, "gross weight 3x declared on 5 of 5 parcels"],
        ],
    )
    con.execute(
        "CREATE TABLE cluster_lineage (run_id VARCHAR, cluster_id VARCHAR, event VARCHAR, other_cluster_id VARCHAR,"
        " shared_parcels BIGINT, parcels BIGINT, other_parcels BIGINT)"
    )
    con.executemany(
        "INSERT INTO cluster_lineage VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            ["r1", RING_A, "new", None, None, None, None],
            ["r2", RING_A, "continued", RING_A, 9, 14, 9],
            ["r2", RING_B, "new", None, None, None, None],
            ["r2", SHOP_C, "continued", SHOP_C, 8, 8, 8],
        ],
    )
    con.execute("CREATE TABLE runs (run_id VARCHAR, kind VARCHAR, status VARCHAR, started_at TIMESTAMP, finished_at TIMESTAMP, counts JSON, error VARCHAR)")
    con.execute(
        "INSERT INTO runs VALUES ('r1', 'run', 'ok', TIMESTAMP '2026-11-20 02:00', TIMESTAMP '2026-11-20 02:05', '{}', NULL),"
        " ('r2', 'run', 'ok', TIMESTAMP '2026-11-21 02:00', TIMESTAMP '2026-11-21 02:06', '{}', NULL)"
    )
    if pages:
        page_tables.write_pages(con)
        search.write_index(con)
    con.close()
    return db_path


_shared: dict[str, Path] = {}


def shared_store(tmp_path_factory) -> Path:
    """One fixture store per test session, for tests that only read it (building costs seconds)."""
    if "db" not in _shared:
        _shared["db"] = build_store(tmp_path_factory.mktemp("dashboard_store") / "store.duckdb")
    return _shared["db"]
