"""Helpers for the nightly, report and scheduling tests: nights of parcel files on disk, a small
analysis that fills the clusters tables per docs/ARCHITECTURE.md, and a script entry point so a
test can run (and kill) a real nightly process.

Run as a script: python -m tests.nightly_support DB INCOMING REPORTS DATE [MARKER RELEASE]
(with MARKER, the analysis touches that file and then waits until RELEASE exists, at most two
minutes, so a test can act while the job is known to be mid-run).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from tests.conftest import parcel, write_csv

RING_ADDRESS = "Abay Ave 10, Suite 4521, Almaty"


def night_rows(night: int, ring_parcels: int, noise: int, *, new_ring_parcels: int = 0) -> list[dict]:
    """One night's parcels: some for the ring (one receiving suite), some ordinary ones."""
    rows = []
    day = f"2026-03-{night:02d}"
    for i in range(ring_parcels):
        rows.append(parcel(parcel_id=f"R{night:02d}{i:04d}CN", accepted_at=f"{day}T{8 + i % 10:02d}:00:00+08:00",
                           sender_name=f"Sender {night}-{i}", receiver_address=RING_ADDRESS,
                           declared_weight_kg="0.8", gross_weight_kg="0.9"))
    for i in range(new_ring_parcels):
        rows.append(parcel(parcel_id=f"N{night:02d}{i:04d}CN", accepted_at=f"{day}T12:00:00+08:00",
                           sender_name=f"Recruit {i}", receiver_name="Oleg Sidorov",
                           receiver_address="Tole Bi 5, Box 88, Almaty", payer_account="CARD-5521",
                           declared_weight_kg="0.9", gross_weight_kg="1.0"))
    for i in range(noise):
        rows.append(parcel(parcel_id=f"X{night:02d}{i:04d}CN", accepted_at=f"{day}T15:00:00+08:00",
                           sender_name=f"Shop {i}", receiver_name=f"Customer {night}-{i}",
                           receiver_address=f"Street {night}-{i}, Berlin", dest_country="DE",
                           payer_account=f"ACC-{night}-{i}", declared_description="tea",
                           hs_code="0902", declared_weight_kg="0.3", gross_weight_kg="0.35"))
    return rows


def write_night(incoming: Path, night: int, ring_parcels: int = 5, noise: int = 6, **kw) -> Path:
    incoming.mkdir(parents=True, exist_ok=True)
    return write_csv(incoming / f"night-{night:02d}.csv", night_rows(night, ring_parcels, noise, **kw))


THRESHOLD_KG = 3.0  # written into SQL as a DOUBLE literal below


def standin_analysis(con, run_id: str | None = None) -> None:
    """A stand-in for `linker run` with the same output tables: parcels sharing a receiving
    address form a cluster, flagged when their weight reaches THRESHOLD_KG."""
    con.execute(
        """CREATE OR REPLACE TABLE parcel_clusters AS
           SELECT parcel_seq, parcel_id, carrier, 'C-' || left(md5(receiver_address), 8) AS cluster_id
           FROM parcels
           QUALIFY count(*) OVER (PARTITION BY receiver_address) >= 2"""
    )
    con.execute(
        f"""CREATE OR REPLACE TABLE clusters AS
           WITH agg AS (
             SELECT pc.cluster_id, count(*) AS parcels, count(DISTINCT p.sender_name) AS senders,
                    count(DISTINCT p.receiver_name) AS receivers, min(p.accepted_at) AS first_seen,
                    max(p.accepted_at) AS last_seen, sum(p.declared_weight_kg) AS est_controlled_kg
             FROM parcel_clusters pc JOIN parcels p USING (parcel_seq) GROUP BY pc.cluster_id)
           SELECT cluster_id, CAST(row_number() OVER (ORDER BY est_controlled_kg DESC, cluster_id) AS INTEGER) AS rank,
                  est_controlled_kg / {THRESHOLD_KG}::DOUBLE AS score, est_controlled_kg >= {THRESHOLD_KG}::DOUBLE AS flagged,
                  'dysprosium' AS commodity, est_controlled_kg, {THRESHOLD_KG}::DOUBLE AS threshold_kg, parcels, senders,
                  receivers, first_seen, last_seen,
                  parcels || ' parcels to one address, ' || round(est_controlled_kg, 1) || ' kg' AS summary
           FROM agg"""
    )
    con.execute(
        """CREATE OR REPLACE TABLE cluster_signals AS
           SELECT cluster_id, 'shared_receiver_address' AS signal, 1.0 AS strength, 1.0 AS weight,
                  score AS contribution, 'one receiving address' AS evidence FROM clusters"""
    )


def _main(argv: list[str]) -> None:
    from linker.nightly import run_nightly

    db, incoming, reports, day = argv[:4]
    marker, release = (Path(argv[4]), Path(argv[5])) if len(argv) > 5 else (None, None)

    def analysis(con, run_id):
        standin_analysis(con, run_id)
        if marker is not None:
            marker.touch()
            deadline = time.monotonic() + 120
            while not release.exists() and time.monotonic() < deadline:
                time.sleep(0.05)

    print(run_nightly(db, incoming, reports, report_date=day, analyse=analysis).describe())


if __name__ == "__main__":
    _main(sys.argv[1:])
