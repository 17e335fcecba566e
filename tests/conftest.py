"""Shared fixtures: real DuckDB stores in temporary folders and parcel files written to disk."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import pytest

from linker import store
from linker.store import COLUMN_NAMES


def parcel(**overrides) -> dict:
    """One valid parcel record as it would arrive in a file (all text)."""
    row = {
        "parcel_id": "EE123456785CN",
        "carrier": "EMS",
        "accepted_at": "2026-03-01T10:00:00+08:00",
        "origin_country": "CN",
        "dest_country": "KZ",
        "sender_name": "张伟",
        "sender_phone": "+86 138-0013-8000",
        "sender_id_number": "",
        "sender_address": "北京市朝阳区建国路88号",
        "receiver_name": "Ivan Petrov",
        "receiver_phone": "+7 701 234 5678",
        "receiver_address": "Abay Ave 10, Suite 4521, Almaty",
        "payer_account": "WX-88231",
        "declared_description": "nickel powder",
        "hs_code": "7504.00",
        "declared_weight_kg": "0.8",
        "gross_weight_kg": "0.9",
        "declared_value": "12",
        "currency": "USD",
        "category": "merchandise",
        "declared_origin": "CN",
        "acceptance_point": "BJ-0042",
    }
    row.update(overrides)
    return row


def write_csv(path: Path, rows: list[dict], columns: list[str] | None = None) -> Path:
    columns = columns or list(rows[0].keys() if rows else COLUMN_NAMES)
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "wt", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "wt", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps({k: (v if v != "" else None) for k, v in row.items()}, ensure_ascii=False) + "\n")
    return path


def write_parquet(path: Path, rows: list[dict]) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({k: [r[k] if r[k] != "" else None for r in rows] for k in rows[0]})
    pq.write_table(table, path)
    return path


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "store.duckdb"


@pytest.fixture
def con(db_path: Path):
    connection = store.connect(db_path)
    yield connection
    connection.close()
