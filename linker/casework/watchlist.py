"""Watch-list hits: values investigators marked (names, phones, accounts, addresses, ID numbers)
that turn up in tonight's new parcels.

The watch list lives in the investigators' cases file (`linker.casework.cases`), each value stored
with its canonical form (`value_norm`, made by `cases.normalise_value`). Matching compares
canonical forms: the parcel side is put through the very same function, so "+86 138 0013 8000"
on a parcel meets "008613800138000" on the list. To keep that Python work small, only the
*distinct* raw values of the new parcels are normalised (a night of 100k parcels has far fewer
distinct phones and names than parcels); the join itself runs in DuckDB.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb

from linker.casework.cases import cases_db_path, has_anything_to_match, normalise_value, watchlist

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


def load_watchlist(db_path: str | Path) -> list[WatchItem]:
    """The watch list of the store at `db_path`; empty when there is no cases file yet.

    Never creates the cases file: a nightly job on a store nobody has opened the dashboard
    for has nothing to watch.
    """
    path = cases_db_path(db_path)
    if not path.is_file():
        return []
    items = [
        WatchItem(r["kind"], r["value"], r["value_norm"] or normalise_value(r["kind"], r["value"]), r.get("added_by"), r.get("note"))
        for r in watchlist(path)
        if r["kind"] in FIELDS
    ]
    # Entries added before empty values were refused would match every parcel lacking the field.
    return [i for i in items if has_anything_to_match(i.value_norm)]


def find_hits(con: duckdb.DuckDBPyConnection, items: list[WatchItem], new_parcels_where: str) -> list[dict]:
    """Every (watched value, new parcel, field) where the parcel's value has the watched canonical form.

    `new_parcels_where` is a SQL condition on `parcels` selecting tonight's parcels (for
    example `file_id > 12`). Uses the normalised `party_mentions` of the pipeline when present
    (one join in DuckDB); otherwise normalises the distinct raw values of the new parcels.
    Returns dicts sorted by kind, value, parcel.
    """
    if not items:
        return []
    has_clusters = bool(
        con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'parcel_clusters' AND schema_name = 'main'").fetchone()[0]
    )
    cluster_of = (
        "(SELECT any_value(pc.cluster_id) FROM parcel_clusters pc WHERE pc.parcel_seq = parcels.parcel_seq)"
        if has_clusters
        else "NULL"
    )
    hits = _mention_hits(con, items, new_parcels_where, cluster_of)
    if hits is None:
        hits = _raw_hits(con, items, new_parcels_where, cluster_of)
    hits.sort(key=lambda h: (h["kind"], h["watched_value"], h["accepted_at"] or "", h["parcel_id"], h["carrier"], h["field"]))
    return hits


def _raw_hits(con: duckdb.DuckDBPyConnection, items: list[WatchItem], new_parcels_where: str, cluster_of: str) -> list[dict]:
    """Hits found by putting the distinct raw values of the new parcels through the watch list's
    own normaliser (before the pipeline has ever run)."""
    wanted: dict[tuple[str, str], WatchItem] = {(i.kind, i.value_norm): i for i in items}
    rows: list[tuple[str, str, str]] = []  # (column, raw value, kind) whose canonical form is watched
    for kind in sorted({i.kind for i in items}):
        for column, _role in FIELDS[kind]:
            distinct = con.execute(
                f"SELECT DISTINCT {column} FROM parcels WHERE ({new_parcels_where}) AND {column} IS NOT NULL"
            ).fetchall()
            for (raw,) in distinct:
                if (kind, normalise_value(kind, raw)) in wanted:
                    rows.append((column, raw, kind))
    hits: list[dict] = []
    for column, raw, kind in rows:
        item = wanted[(kind, normalise_value(kind, raw))]
        role = dict(FIELDS[kind])[column]
        for parcel_id, carrier, accepted_at, cluster_id in con.execute(
            f"SELECT parcel_id, carrier, accepted_at, {cluster_of} FROM parcels WHERE ({new_parcels_where}) AND {column} = ?",
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
    return hits


# Where the normalise stage has already put each kind of value in canonical form. It knows the
# parcel's country, so a national phone number on a parcel ("138 0013 8000") is matched too.
MENTION_MATCH = {
    "name": "pm.name_key = w.value_norm OR pm.name_norm = w.value_norm",
    "phone": "pm.phone_e164 = w.value_norm",
    "account": "pm.account_norm = w.value_norm",
    "id_number": "pm.id_number_norm = w.value_norm",
    "address": "pm.address_key = w.value_norm OR pm.address_norm = w.value_norm"
               " OR pm.address_key || ' unit ' || pm.address_unit = w.value_norm",
}


def _mention_hits(con: duckdb.DuckDBPyConnection, items: list[WatchItem], new_parcels_where: str, cluster_of: str) -> list[dict] | None:
    """Hits found through `party_mentions` (one set-based join); None when the pipeline has not run."""
    present = {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = 'party_mentions' AND schema_name = 'main'"
        ).fetchall()
    }
    if not {"parcel_seq", "role", "name_key", "phone_e164", "account_norm", "address_key"} <= present:
        return None
    watch = [[i.kind, i.value, i.value_norm, i.note] for i in items]
    match = " OR ".join(f"(w.kind = '{kind}' AND ({cond}))" for kind, cond in MENTION_MATCH.items()
                        if kind != "id_number" or "id_number_norm" in present)
    rows = con.execute(
        f"""WITH w AS (SELECT u.w[1] AS kind, u.w[2] AS value, u.w[3] AS value_norm, u.w[4] AS note
                       FROM (SELECT unnest(?::VARCHAR[][]) AS w) u),
                 news AS (SELECT parcel_seq, parcel_id, carrier, accepted_at, sender_name, receiver_name, sender_phone,
                                 receiver_phone, payer_account, sender_id_number, sender_address, receiver_address
                          FROM parcels WHERE {new_parcels_where})
            SELECT DISTINCT w.kind, w.value, w.note, parcels.parcel_id, parcels.carrier, parcels.accepted_at,
                   CASE WHEN w.kind = 'account' THEN 'payer' ELSE pm.role END AS role,
                   CASE w.kind WHEN 'name' THEN pm.role || '_name' WHEN 'phone' THEN pm.role || '_phone'
                        WHEN 'account' THEN 'payer_account' WHEN 'id_number' THEN 'sender_id_number'
                        ELSE pm.role || '_address' END AS field,
                   CASE w.kind WHEN 'name' THEN pm.name_raw WHEN 'phone' THEN pm.phone_raw
                        WHEN 'address' THEN pm.address_raw WHEN 'account' THEN parcels.payer_account
                        ELSE parcels.sender_id_number END AS value_on_parcel,
                   {cluster_of} AS cluster_id
            FROM news AS parcels JOIN party_mentions pm USING (parcel_seq) JOIN w ON ({match})""",
        [watch],
    ).fetchall()
    return [
        {"kind": k, "watched_value": v, "note": note, "parcel_id": pid, "carrier": car,
         "accepted_at": at.isoformat() if at else None, "role": role, "field": field,
         "value_on_parcel": raw, "cluster_id": cid}
        for k, v, note, pid, car, at, role, field, raw, cid in rows
    ]
