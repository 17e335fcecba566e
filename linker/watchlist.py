"""Watch-list hits: values investigators marked (names, phones, accounts, addresses, ID numbers)
that turn up in tonight's new parcels.

The watch list lives in the investigators' cases file (`linker.cases`), each value stored with
its canonical form (`value_norm`, made by `linker.cases.normalise_value`). Matching compares
canonical forms: the parcel side is put through the very same function, so "+86 138 0013 8000"
on a parcel meets "008613800138000" on the list. To keep that Python work small, only the
*distinct* raw values of the new parcels are normalised (a night of 100k parcels has far fewer
distinct phones and names than parcels); the join itself runs in DuckDB.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

# Which parcel columns each kind of watched value is compared with, and in what role.
FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    "name": (("sender_name", "sender"), ("receiver_name", "receiver")),
    "phone": (("sender_phone", "sender"), ("receiver_phone", "receiver")),
    "account": (("payer_account", "payer"),),
    "address": (("sender_address", "sender"), ("receiver_address", "receiver")),
    "id_number": (("sender_id_number", "sender"),),
}


@dataclass(frozen=True)
class WatchItem:
    kind: str
    value: str
    value_norm: str
    added_by: str | None = None
    note: str | None = None


def cases_path(db_path: str | Path) -> Path:
    from linker.cases import cases_db_path

    return cases_db_path(db_path)


def normalise_value(kind: str, value: str) -> str:
    from linker.cases import normalise_value as norm

    return norm(kind, value)


def load_watchlist(db_path: str | Path) -> list[WatchItem]:
    """The watch list of the store at `db_path`; empty when there is no cases file yet.

    Never creates the cases file: a nightly job on a store nobody has opened the dashboard
    for has nothing to watch.
    """
    path = cases_path(db_path)
    if not path.is_file():
        return []
    from linker.cases import watchlist

    return [
        WatchItem(r["kind"], r["value"], r["value_norm"] or normalise_value(r["kind"], r["value"]), r.get("added_by"), r.get("note"))
        for r in watchlist(path)
        if r["kind"] in FIELDS
    ]


def find_hits(con: duckdb.DuckDBPyConnection, items: list[WatchItem], new_parcels_where: str) -> list[dict]:
    """Every (watched value, new parcel, field) where the parcel's value has the watched canonical form.

    `new_parcels_where` is a SQL condition on `parcels` selecting tonight's parcels (for
    example `file_id > 12`). Returns dicts sorted by kind, value, parcel.
    """
    if not items:
        return []
    wanted: dict[tuple[str, str], WatchItem] = {(i.kind, i.value_norm): i for i in items}
    kinds = sorted({i.kind for i in items})
    rows: list[tuple[str, str, str]] = []  # (column, raw value, kind) whose canonical form is watched
    for kind in kinds:
        for column, _role in FIELDS[kind]:
            distinct = con.execute(
                f"SELECT DISTINCT {column} FROM parcels WHERE ({new_parcels_where}) AND {column} IS NOT NULL"
            ).fetchall()
            for (raw,) in distinct:
                if (kind, normalise_value(kind, raw)) in wanted:
                    rows.append((column, raw, kind))
    if not rows:
        return []
    has_clusters = bool(
        con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'parcel_clusters'").fetchone()[0]
    )
    cluster_of = (
        "(SELECT any_value(pc.cluster_id) FROM parcel_clusters pc WHERE pc.parcel_seq = parcels.parcel_seq)"
        if has_clusters
        else "NULL"
    )
    hits: list[dict] = []
    for column, raw, kind in rows:
        item = wanted[(kind, normalise_value(kind, raw))]
        role = dict(FIELDS[kind])[column]
        for parcel_id, carrier, accepted_at, cluster_id in con.execute(
            f"SELECT parcel_id, carrier, accepted_at, {cluster_of} FROM parcels WHERE ({new_parcels_where}) AND {column} = ? ORDER BY accepted_at, parcel_id, carrier",
            [raw],
        ).fetchall():
            hits.append(
                {
                    "kind": kind,
                    "watched_value": item.value,
                    "note": item.note,
                    "parcel_id": parcel_id,
                    "carrier": carrier,
                    "accepted_at": accepted_at.isoformat() if accepted_at else None,
                    "role": role,
                    "field": column,
                    "value_on_parcel": raw,
                    "cluster_id": cluster_id,
                }
            )
    hits.sort(key=lambda h: (h["kind"], h["watched_value"], h["accepted_at"] or "", h["parcel_id"], h["carrier"], h["field"]))
    return hits
