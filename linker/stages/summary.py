"""Cluster summaries: the rank of each cluster, the one sentence that says why it matters, one
line of evidence per signal, and the result tables users read.

From the scores (`cluster_scores`, linker.stages.score) and the stable ids
(`_cluster_ids`, linker.stages.lineage) it writes `clusters`, `cluster_signals` and
`parcel_clusters` (under the run's staging prefix).
"""

from __future__ import annotations

import math

import duckdb
import pyarrow as pa

from linker.settings.scoring import CLUSTER_SIGNALS


def rank_and_summarise(con: duckdb.DuckDBPyConnection, *, prefix: str = "") -> list[dict]:
    """The rows of `{prefix}cluster_scores` ranked (flagged first, then by score, kilograms and
    group), each with its `rank`, `dest_name`, `span_days` and `summary`; also written as
    `_ranked_t(group_key, rank, summary)`, the order new cluster ids are issued in."""
    # What the suspicious parcels say they are: the two commonest descriptions among those
    # whose declaration looks false.
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _declared_as AS
        SELECT group_key, string_agg(descr, ' or ' ORDER BY n DESC, descr) AS declared_as
        FROM (
            SELECT group_key, lower(declared_description) AS descr, count(*) AS n,
                   row_number() OVER (PARTITION BY group_key ORDER BY count(*) DESC, lower(declared_description)) AS r
            FROM _members WHERE decl >= 0.2 GROUP BY group_key, lower(declared_description)
        ) WHERE r <= 2 GROUP BY group_key
        """
    )
    cur = con.execute(
        f"""
        SELECT s.*, d.declared_as,
               date_diff('second', s.first_seen, s.last_seen) / 86400.0 AS span_days
        FROM {prefix}cluster_scores s LEFT JOIN _declared_as d USING (group_key)
        ORDER BY s.flagged DESC, s.score DESC, s.est_controlled_kg DESC, s.group_key
        """
    )
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, r)) for r in cur.fetchall()]
    for rank, row in enumerate(rows, start=1):
        row["rank"] = rank
        row["dest_name"] = _country_name(row.get("dest_country"))
        row["span_days"] = math.ceil(row["span_days"] or 0)
        row["summary"] = summarise(row)
    ranked = pa.table({
        "group_key": pa.array([r["group_key"] for r in rows], pa.int64()),
        "rank": pa.array([r["rank"] for r in rows], pa.int64()),
        "summary": pa.array([r["summary"] for r in rows], pa.string()),
    })
    con.register("_ranked", ranked)
    con.execute("CREATE OR REPLACE TEMP TABLE _ranked_t AS SELECT * FROM _ranked")
    con.unregister("_ranked")
    return rows


def write_clusters(con: duckdb.DuckDBPyConnection, config: dict, run_id: str, rows: list[dict], *,
                   prefix: str = "") -> None:
    """`{prefix}clusters`, `{prefix}parcel_clusters` and `{prefix}cluster_signals` from the
    scores, the ranked rows of rank_and_summarise and the ids in `_cluster_ids`."""
    weights = config["weights"]

    con.execute(
        f"""
        CREATE OR REPLACE TABLE {prefix}clusters AS
        SELECT i.cluster_id, r.rank, round(s.score, 2) AS score, s.flagged, s.commodity,
               round(s.est_controlled_kg, 3) AS est_controlled_kg, s.threshold_kg, s.parcels, s.senders,
               s.receivers, s.first_seen, s.last_seen, r.summary,
               round(s.ratio, 3) AS ratio, round(s.evasion, 3) AS evasion, s.commodity_label, s.window_days,
               s.window_start, s.window_end, s.window_parcels, s.sender_names, s.carriers, s.acceptance_points,
               s.dest_country, round(s.declared_kg, 3) AS declared_kg, i.status AS id_status,
               coalesce(s.retail, false) AS retail, s.scored_commodity,
               s.group_key, s.component_key, '{run_id}' AS run_id
        FROM {prefix}cluster_scores s JOIN _ranked_t r USING (group_key) JOIN _cluster_ids i USING (group_key)
        ORDER BY r.rank
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TABLE {prefix}parcel_clusters AS
        SELECT m.parcel_seq, m.parcel_id, m.carrier, i.cluster_id, m.commodity,
               m.est_kg AS est_controlled_kg
        FROM _members m JOIN _cluster_ids i USING (group_key)
        ORDER BY m.parcel_seq
        """
    )
    ids = dict(con.execute("SELECT group_key, cluster_id FROM _cluster_ids").fetchall())
    signal_rows = []
    for row in rows:
        evidence = _evidence(row)
        for name in CLUSTER_SIGNALS:
            strength = float(row[f"s_{name}"] or 0.0)
            weight = float(weights[name])
            signal_rows.append((ids[row["group_key"]], name, round(strength, 4), weight,
                                round(100 * weight * strength / sum(float(weights[s]) for s in CLUSTER_SIGNALS), 3), evidence[name]))
    # One Arrow table, not executemany: a row-by-row insert costs milliseconds per row.
    columns = list(zip(*signal_rows)) if signal_rows else [[]] * 6
    signals_arrow = pa.table({
        "cluster_id": pa.array(columns[0], pa.string()), "signal": pa.array(columns[1], pa.string()),
        "strength": pa.array(columns[2], pa.float64()), "weight": pa.array(columns[3], pa.float64()),
        "contribution": pa.array(columns[4], pa.float64()), "evidence": pa.array(columns[5], pa.string()),
    })
    con.register("_signals_arrow", signals_arrow)
    con.execute(f"CREATE OR REPLACE TABLE {prefix}cluster_signals AS SELECT * FROM _signals_arrow")
    con.unregister("_signals_arrow")


IDENTIFIER_WORDS = {
    "account": "one payment account",
    "phone": "one phone",
    "id_number": "one ID number",
    "address": "one address",
}


def summarise(row: dict) -> str:
    """One sentence an investigator can read, from a row of cluster_scores.

    >>> summarise(dict(parcels=23, sender_names=6, churn_kind="sender account", max_names=6,
    ...     est_controlled_kg=11.4, declared_as="nickel powder or ferro-alloy", carriers=3,
    ...     span_days=19, forwarder_share=1.0, receiver_addresses=1, dest_name="Kazakhstan",
    ...     ratio=2.28, window_days=30, commodity_label="dysprosium", flagged=True, s_declaration=0.8,
    ...     receivers=1, s_split=0.0))
    '23 parcels from 6 sender names sharing one payment account, 11.4 kg declared as nickel powder or ferro-alloy, 3 carriers in 19 days, to one forwarding address in Kazakhstan: 2.3x the 30-day dysprosium threshold'
    """
    parts = []
    who = f"{row['parcels']} parcels from {row['sender_names']} sender name{'s' if row['sender_names'] != 1 else ''}"
    churn_kind = row.get("churn_kind") or ""
    if (row.get("max_names") or 1) >= 2 and churn_kind:
        role, kind = churn_kind.split(" ", 1)
        word = IDENTIFIER_WORDS.get(kind, "one identifier")
        if role != "sender":
            who += f", {row['max_names']} receiver names at {word}"
        elif row["sender_names"] >= 2:
            who += f" sharing {word}"
        else:  # one name, but several people's phones or ID numbers behind it
            who += f", {row['max_names']} people's phones or ID numbers behind {word}"
    parts.append(who)
    kg = f"{row['est_controlled_kg']:.1f} kg"
    if row.get("declared_as") and (row.get("s_declaration") or 0) >= 0.2:
        parts.append(f"{kg} declared as {row['declared_as']}")
    else:
        parts.append(f"{kg} of {row['commodity_label']}")
    carriers = row["carriers"]
    parts.append(f"{carriers} carrier{'s' if carriers != 1 else ''} in {max(1, int(row['span_days']))} day{'s' if int(row['span_days']) > 1 else ''}")
    if (row.get("forwarder_share") or 0) >= 0.5 and row.get("receiver_addresses") == 1:
        parts.append(f"to one forwarding address in {row['dest_name']}")
    elif row.get("receiver_addresses") == 1:
        parts.append(f"to one address in {row['dest_name']}")
    elif row.get("receivers") == 1:
        addresses = row.get("receiver_addresses") or 0
        parts.append(f"to one receiver at {addresses} addresses" if addresses > 1 else "to one receiver")
    elif row.get("receivers"):
        parts.append(f"to {row['receivers']} receivers")
    if row.get("reexport") and row.get("reexport_via"):
        parts.append(f"re-exported onward from {_country_name(row['reexport_via'])}")
    scored_label = row.get("scored_label") or row["commodity_label"]
    if scored_label != row["commodity_label"]:
        # held against the threshold for unidentified goods; the signals point at a commodity
        threshold = f"the {row['window_days']}-day threshold for {scored_label} (signals point to {row['commodity_label']})"
    else:
        threshold = f"the {row['window_days']}-day {row['commodity_label']} threshold"
    sentence = ", ".join(parts) + f": {row['ratio']:.1f}x {threshold}"
    if row.get("retail") and not row.get("flagged"):
        countries = row.get("buyer_countries") or 0
        goods = f" of '{row['retail_goods']}'" if row.get("retail_goods") else ""
        return (f"Not flagged, retail pattern: {row.get('one_off_buyers') or 0} one-off buyers in {countries} "
                f"countr{'ies' if countries != 1 else 'y'}, {row['parcels']} parcels{goods} declared consistently "
                f"with their weight and price ({row['ratio']:.1f}x {threshold})")
    if not row.get("flagged"):
        sentence += "; not flagged: declarations look consistent" if (row.get("s_declaration") or 0) < 0.2 else "; not flagged"
    return sentence


def _country_name(code: str | None) -> str:
    if not code:
        return "an unknown country"
    try:
        import pycountry

        country = pycountry.countries.get(alpha_2=code)
        return getattr(country, "common_name", None) or country.name if country else code
    except Exception:  # noqa: BLE001 - a name is a nicety; the code will do
        return code


def _evidence(row: dict) -> dict[str, str]:
    """One line of evidence per signal, for cluster_signals and the dashboard."""
    ws = row["window_start"].date().isoformat() if row.get("window_start") else "-"
    we = row["window_end"].date().isoformat() if row.get("window_end") else "-"
    return {
        "quantity": f"{row['est_controlled_kg']:.2f} kg of {row['commodity_label']} in {row.get('window_parcels') or 0} parcels "
        f"from {ws} to {we}, against {row['threshold_kg']:g} kg per {row['window_days']} days ({row['ratio']:.2f}x)",
        "declaration": f"mean declaration anomaly {row['s_declaration']:.2f} over the parcels with goods"
        + (f"; declared as {row['declared_as']}" if row.get("declared_as") else ""),
        "split": f"{row['goods_parcels']} parcels of {row['commodity_label']}, {100 * (row['small_share'] or 0):.0f}% each under "
        f"{row['split_small_fraction']:g} of the threshold, weight variation {row['weight_cv']:.2f}, {100 * (row['round_under_share'] or 0):.0f}% just under "
        f"a round weight, to {row['goods_receivers']} receiver{'s' if row['goods_receivers'] != 1 else ''}",
        "identity_churn": f"{row.get('max_names') or 1} names, {row.get('churn_phones') or 0} phones and {row.get('churn_ids') or 0} ID numbers "
        f"behind one {(row.get('churn_kind') or 'identifier').replace('_', ' ')}",
        "channel_switching": f"{row['carriers']} carriers, {row['acceptance_points']} acceptance points",
        "routing": f"{100 * (row['transit_share'] or 0):.0f}% transit/origin signal, {100 * (row['forwarder_share'] or 0):.0f}% to forwarding warehouses"
        + (f", {100 * (row.get('origin_share') or 0):.0f}% with a disguised origin" if row.get("origin_share") else "")
        + (f", re-exported from {row['reexport_via']}" if row.get("reexport") else ""),
        "recency": f"last parcel {row['last_seen']:%Y-%m-%d}",
    }
