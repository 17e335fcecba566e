"""Everything known about one cluster, and the evidence pack that hands it over.

The dashboard's cluster page and the exported pack read the same functions here, so what an
investigator saw on screen is what goes into the file. All reads are parameterised queries on
a read-only connection to the analysis store (or a snapshot of it).

The pack (`evidence_pack`) is a zip holding one self-contained HTML file (summary, signal
breakdown, network picture and timeline as inline SVG, parcels, why names were merged; no
script, no CDN, no external font) plus CSV files of the parcels, signals and links, so that it
opens on an air-gapped machine and can be attached to a case file as it is.
"""

from __future__ import annotations

import csv
import html
import io
import json
import math
import zipfile
from datetime import datetime, timezone

import duckdb
import networkx as nx
import pandas as pd

from linker import store

PARCEL_COLUMNS = [name for name, _ in store.CONTRACT_COLUMNS]
NODE_KINDS = ("entity", "phone", "account", "address", "acceptance_point")
NODE_COLOURS = {
    "entity": "#1f6feb",
    "phone": "#2da44e",
    "account": "#d1242f",
    "address": "#9a6700",
    "acceptance_point": "#8250df",
}


def has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return store.table_exists(con, name)


def columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    return {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? AND table_schema = 'main'", [table]
        ).fetchall()
    }


def cluster_row(con: duckdb.DuckDBPyConnection, cluster_id: str) -> dict | None:
    """The cluster's row of `clusters` as a dict, or None when no such cluster exists."""
    if not has_table(con, "clusters"):
        return None
    cur = con.execute("SELECT * FROM clusters WHERE cluster_id = ?", [cluster_id])
    row = cur.fetchone()
    if row is None:
        return None
    return dict(zip([d[0] for d in cur.description], row))


def cluster_signals(con: duckdb.DuckDBPyConnection, cluster_id: str) -> pd.DataFrame:
    """Which signals raised the cluster, how strongly, and the evidence; largest contribution first."""
    if not has_table(con, "cluster_signals"):
        return pd.DataFrame(columns=["signal", "strength", "weight", "contribution", "evidence"])
    return con.execute(
        "SELECT signal, strength, weight, contribution, evidence FROM cluster_signals "
        "WHERE cluster_id = ? ORDER BY contribution DESC NULLS LAST, signal",
        [cluster_id],
    ).df()


def cluster_parcels(con: duckdb.DuckDBPyConnection, cluster_id: str) -> pd.DataFrame:
    """Every parcel of the cluster with every declared field, in acceptance order, plus the
    goods signals each parcel raised (one line of text per parcel). The signals are gathered
    for the cluster's parcels only, not aggregated over the whole table."""
    fields = ", ".join(f"p.{c}" for c in PARCEL_COLUMNS)
    est = "pc.est_controlled_kg" if "est_controlled_kg" in columns(con, "parcel_clusters") else "NULL::DOUBLE"
    if has_table(con, "parcel_signals"):
        signals_cte = """, sig AS (
            SELECT s.parcel_seq, string_agg(s.signal || coalesce(' (' || s.commodity || ')', ''), '; ' ORDER BY s.signal, s.commodity) AS signals
            FROM parcel_signals s WHERE s.parcel_seq IN (SELECT parcel_seq FROM pc) GROUP BY s.parcel_seq)"""
        signals_join, signals_col = "LEFT JOIN sig ON sig.parcel_seq = pc.parcel_seq", "sig.signals"
    else:
        signals_cte, signals_join, signals_col = "", "", "NULL::VARCHAR"
    return con.execute(
        f"""WITH pc AS (SELECT * FROM parcel_clusters WHERE cluster_id = ?){signals_cte}
        SELECT p.parcel_seq, {fields}, {est} AS est_controlled_kg, {signals_col} AS signals
        FROM pc JOIN parcels p ON p.parcel_seq = pc.parcel_seq {signals_join}
        ORDER BY p.accepted_at, p.parcel_id""",
        [cluster_id],
    ).df()


def cluster_mentions(con: duckdb.DuckDBPyConnection, cluster_id: str) -> pd.DataFrame:
    """The party mentions (sender and receiver) of the cluster's parcels with their entity."""
    return con.execute(
        """SELECT m.mention_id, m.parcel_seq, m.parcel_id, m.role, m.name_raw, m.name_norm, m.phone_raw, m.phone_e164,
        m.account_norm, m.id_number_norm, m.address_raw, m.address_key, m.address_unit, m.country, m.entity_id,
        p.acceptance_point
        FROM parcel_clusters pc JOIN party_mentions m ON m.parcel_seq = pc.parcel_seq
        JOIN parcels p ON p.parcel_seq = pc.parcel_seq
        WHERE pc.cluster_id = ? ORDER BY m.mention_id""",
        [cluster_id],
    ).df()


def link_explanations(con: duckdb.DuckDBPyConnection, cluster_id: str, limit: int = 500) -> pd.DataFrame:
    """Why pairs of names in the cluster were judged the same party: the resolver's accepted
    links whose two ends both occur in the cluster, with the evidence it recorded, strongest
    first. Links join *profiles* (identical mentions, named by their smallest mention id);
    with no `profile_id` column each mention is its own profile."""
    if not has_table(con, "entity_links"):
        return pd.DataFrame(columns=["name_left", "name_right", "role", "match_probability", "match_weight", "evidence"])
    profile = "m.profile_id" if "profile_id" in columns(con, "party_mentions") else "m.mention_id"
    return con.execute(
        f"""WITH m AS (
            SELECT {profile} AS profile_id, any_value(m.name_raw ORDER BY m.mention_id) AS name_raw,
                   any_value(m.role ORDER BY m.mention_id) AS role, count(*) AS parcels
            FROM parcel_clusters pc JOIN party_mentions m ON m.parcel_seq = pc.parcel_seq
            WHERE pc.cluster_id = ? GROUP BY ALL)
        SELECT l.name_raw AS name_left, r.name_raw AS name_right, l.role,
               l.parcels AS parcels_left, r.parcels AS parcels_right,
               e.match_probability, e.match_weight, CAST(e.evidence AS VARCHAR) AS evidence
        FROM entity_links e JOIN m l ON l.profile_id = e.mention_id_l JOIN m r ON r.profile_id = e.mention_id_r
        ORDER BY e.match_probability DESC, e.mention_id_l, e.mention_id_r LIMIT ?""",
        [cluster_id, int(limit)],
    ).df()


def cluster_households(con: duckdb.DuckDBPyConnection, cluster_id: str) -> pd.DataFrame:
    """Households of the cluster's parties (resolve.write_households): people at one flat who
    share its phone or payment account but not a name, kept as separate parties. One row per
    household: its members' names, how many of them appear in this cluster, and the flat."""
    empty = pd.DataFrame(columns=["household_id", "members", "in_cluster", "parties", "flat"])
    if not has_table(con, "party_households"):
        return empty
    return con.execute(
        """WITH mine AS (
            SELECT DISTINCT m.entity_id FROM parcel_clusters pc JOIN party_mentions m ON m.parcel_seq = pc.parcel_seq
            WHERE pc.cluster_id = ? AND m.entity_id IS NOT NULL),
        homes AS (SELECT DISTINCT household_id FROM party_households SEMI JOIN mine USING (entity_id))
        SELECT h.household_id,
               string_agg(e.best_name, ' · ' ORDER BY e.entity_id) AS members,
               count(*) FILTER (WHERE h.entity_id IN (SELECT entity_id FROM mine)) AS in_cluster,
               count(*) AS parties,
               (SELECT any_value(m.address_raw ORDER BY m.mention_id) FROM party_mentions m
                WHERE m.entity_id = min(h.entity_id)) AS flat
        FROM party_households h JOIN homes USING (household_id) JOIN entities e USING (entity_id)
        GROUP BY h.household_id ORDER BY h.household_id""",
        [cluster_id],
    ).df()


def explain_evidence(evidence: str | None) -> str:
    """The resolver's evidence JSON as one readable line, e.g.
    "name exact (+8.6), account exact (+8.5), phone different (-2.7); compared because: account, name"."""
    if not evidence:
        return ""
    try:
        data = json.loads(evidence)
    except (TypeError, ValueError):
        return str(evidence)
    if not isinstance(data, dict):
        return "; ".join(map(str, data)) if isinstance(data, list) else str(data)
    fields, other = [], []
    for key, value in data.items():
        if isinstance(value, dict) and "level" in value:
            if value.get("level") in ("missing", None):
                continue
            weight = value.get("weight")
            fields.append((-(weight or 0), f"{key} {value['level']}" + (f" ({weight:+.1f})" if isinstance(weight, (int, float)) else "")))
        elif key == "blocked_by" and isinstance(value, list):
            other.append("compared because: " + ", ".join(map(str, value)))
        elif key != "prior":
            other.append(f"{key}: {value}")
    parts = [text for _, text in sorted(fields)]
    return ", ".join(parts) + ("; " + "; ".join(other) if other else "")


def entity_details(con: duckdb.DuckDBPyConnection, entity_ids: list[int]) -> pd.DataFrame:
    if not entity_ids or not has_table(con, "entities"):
        return pd.DataFrame()
    return con.execute(
        "SELECT * FROM entities WHERE entity_id IN (SELECT unnest(?::BIGINT[])) ORDER BY parcels DESC, entity_id",
        [list(map(int, entity_ids))],
    ).df()


def network(mentions: pd.DataFrame, parcels: pd.DataFrame) -> nx.Graph:
    """The cluster's network: nodes are entities, phones, accounts, addresses and acceptance
    points; each parcel is an edge from its sender entity to its receiver entity, and ties
    each party to the phone, account, address and outlet written on it. Edge attribute
    `parcels` lists the parcel ids behind the edge, so a thick edge is a repeated pattern.
    Node ids are `kind:value`; every node carries `kind`, `label` and `parcels` (count)."""
    g = nx.Graph()

    def node(kind: str, value, label: str | None = None) -> str | None:
        if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
            return None
        key = f"{kind}:{value}"
        if key not in g:
            g.add_node(key, kind=kind, label=label or str(value), parcels=set())
        return key

    def edge(a: str | None, b: str | None, parcel_id: str) -> None:
        if a is None or b is None or a == b:
            return
        if g.has_edge(a, b):
            g.edges[a, b]["parcels"].append(parcel_id)
        else:
            g.add_edge(a, b, parcels=[parcel_id])

    by_parcel: dict[str, dict[str, str]] = {}
    for m in mentions.itertuples(index=False):
        ent = node("entity", int(m.entity_id), m.name_raw)
        g.nodes[ent]["parcels"].add(m.parcel_id)
        names = g.nodes[ent].setdefault("names", set())
        names.add(m.name_raw)
        by_parcel.setdefault(m.parcel_id, {})[m.role] = ent
        for kind, value in (("phone", m.phone_e164 or m.phone_raw), ("account", m.account_norm), ("address", m.address_key or m.address_raw)):
            label = m.address_raw if kind == "address" else None
            n = node(kind, value, label)
            if n:
                g.nodes[n]["parcels"].add(m.parcel_id)
                edge(ent, n, m.parcel_id)
        if m.role == "sender":
            n = node("acceptance_point", m.acceptance_point)
            if n:
                g.nodes[n]["parcels"].add(m.parcel_id)
                edge(ent, n, m.parcel_id)
    for parcel_id, ends in by_parcel.items():
        edge(ends.get("sender"), ends.get("receiver"), parcel_id)
    for _, data in g.nodes(data=True):
        data["parcels"] = len(data["parcels"])
        if "names" in data:
            data["names"] = sorted(data["names"])
    return g


def layout(g: nx.Graph, seed: int = 7) -> dict[str, tuple[float, float]]:
    """Deterministic force-directed positions in [0, 1] x [0, 1]."""
    if g.number_of_nodes() == 0:
        return {}
    if g.number_of_nodes() == 1:
        return {next(iter(g.nodes)): (0.5, 0.5)}
    k = 1.5 / math.sqrt(g.number_of_nodes())
    pos = nx.spring_layout(g, seed=seed, k=k, iterations=60 if g.number_of_nodes() <= 600 else 30)
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    span_x = (max(xs) - min(xs)) or 1.0
    span_y = (max(ys) - min(ys)) or 1.0
    return {n: ((p[0] - min(xs)) / span_x, (p[1] - min(ys)) / span_y) for n, p in pos.items()}


def running_total(parcels: pd.DataFrame, est_kg: float | None) -> pd.DataFrame:
    """Parcels in acceptance order with the running estimate of controlled kg.

    Each parcel's own estimate (`parcel_clusters.est_controlled_kg`) is used where the score
    stage wrote one. Otherwise the cluster's estimate is spread over its parcels in proportion
    to each parcel's weight (the heavier of declared and gross, since concealment shows as
    extra gross weight), so the line ends at the figure the queue shows."""
    keep = ["parcel_id", "carrier", "accepted_at", "declared_weight_kg", "gross_weight_kg", "declared_description"]
    per_parcel = "est_controlled_kg" in parcels.columns and parcels["est_controlled_kg"].notna().any()
    frame = parcels[keep + (["est_controlled_kg"] if per_parcel else [])].copy()
    frame = frame.sort_values(["accepted_at", "parcel_id"]).reset_index(drop=True)
    if per_parcel:
        frame["est_kg"] = frame.pop("est_controlled_kg").fillna(0.0)
        frame["running_kg"] = frame["est_kg"].cumsum()
        return frame
    weight = frame[["declared_weight_kg", "gross_weight_kg"]].max(axis=1).fillna(0.0)
    total = float(weight.sum())
    if est_kg is None or (isinstance(est_kg, float) and math.isnan(est_kg)):
        est_kg = total
    share = weight / total if total > 0 else 1.0 / max(len(frame), 1)
    frame["est_kg"] = share * float(est_kg)
    frame["running_kg"] = frame["est_kg"].cumsum()
    return frame


# ---------------------------------------------------------------- the pack


def _svg_network(g: nx.Graph, pos: dict, width: int = 900, height: int = 620) -> str:
    pad = 40
    sx = lambda x: pad + x * (width - 2 * pad)  # noqa: E731
    sy = lambda y: pad + y * (height - 2 * pad)  # noqa: E731
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="network">']
    for a, b, d in g.edges(data=True):
        w = 1 + min(len(d["parcels"]), 8) * 0.5
        parts.append(
            f'<line x1="{sx(pos[a][0]):.1f}" y1="{sy(pos[a][1]):.1f}" x2="{sx(pos[b][0]):.1f}" y2="{sy(pos[b][1]):.1f}" '
            f'stroke="#8c959f" stroke-opacity="0.6" stroke-width="{w:.1f}"><title>{len(d["parcels"])} parcels</title></line>'
        )
    show_labels = g.number_of_nodes() <= 80
    for n, d in g.nodes(data=True):
        x, y = sx(pos[n][0]), sy(pos[n][1])
        r = 5 + min(d["parcels"], 30) ** 0.5 * 2
        label = html.escape(str(d["label"]))[:40]
        parts.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{NODE_COLOURS[d["kind"]]}"><title>{d["kind"]}: {label} ({d["parcels"]} parcels)</title></circle>'
        )
        if show_labels:
            parts.append(f'<text x="{x + r + 2:.1f}" y="{y + 4:.1f}" font-size="11" fill="#24292f">{label}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _svg_timeline(frame: pd.DataFrame, threshold: float | None, width: int = 900, height: int = 280) -> str:
    if frame.empty:
        return "<p>No parcels.</p>"
    pad_l, pad_r, pad_t, pad_b = 60, 20, 20, 40
    t = pd.to_datetime(frame["accepted_at"]).astype("int64") / 1e9
    t0, t1 = float(t.min()), float(t.max())
    top = max(float(frame["running_kg"].max()), float(threshold or 0)) * 1.1 or 1.0
    sx = lambda v: pad_l + (0.5 if t1 == t0 else (v - t0) / (t1 - t0)) * (width - pad_l - pad_r)  # noqa: E731
    sy = lambda v: height - pad_b - v / top * (height - pad_t - pad_b)  # noqa: E731
    points, prev = [], 0.0
    for ts, kg in zip(t, frame["running_kg"]):
        points.append(f"{sx(ts):.1f},{sy(prev):.1f}")
        points.append(f"{sx(ts):.1f},{sy(kg):.1f}")
        prev = kg
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="timeline">']
    parts.append(f'<line x1="{pad_l}" y1="{height - pad_b}" x2="{width - pad_r}" y2="{height - pad_b}" stroke="#57606a"/>')
    parts.append(f'<line x1="{pad_l}" y1="{pad_t}" x2="{pad_l}" y2="{height - pad_b}" stroke="#57606a"/>')
    for frac in (0, 0.5, 1):
        v = top * frac / 1.1
        parts.append(f'<text x="{pad_l - 6}" y="{sy(v) + 4:.1f}" font-size="11" text-anchor="end">{v:.1f} kg</text>')
    first, last = pd.to_datetime(frame["accepted_at"]).min(), pd.to_datetime(frame["accepted_at"]).max()
    parts.append(f'<text x="{pad_l}" y="{height - 12}" font-size="11">{first:%Y-%m-%d}</text>')
    parts.append(f'<text x="{width - pad_r}" y="{height - 12}" font-size="11" text-anchor="end">{last:%Y-%m-%d}</text>')
    if threshold:
        parts.append(
            f'<line x1="{pad_l}" y1="{sy(threshold):.1f}" x2="{width - pad_r}" y2="{sy(threshold):.1f}" stroke="#d1242f" stroke-dasharray="6 4"/>'
            f'<text x="{width - pad_r}" y="{sy(threshold) - 5:.1f}" font-size="11" fill="#d1242f" text-anchor="end">threshold {threshold:g} kg</text>'
        )
    parts.append(f'<polyline fill="none" stroke="#1f6feb" stroke-width="2" points="{" ".join(points)}"/>')
    for ts, kg, pid in zip(t, frame["running_kg"], frame["parcel_id"]):
        parts.append(f'<circle cx="{sx(ts):.1f}" cy="{sy(kg):.1f}" r="3" fill="#1f6feb"><title>{html.escape(str(pid))}: {kg:.2f} kg</title></circle>')
    parts.append("</svg>")
    return "".join(parts)


def _table(frame: pd.DataFrame) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = []
    for row in frame.itertuples(index=False):
        cells = "".join(f"<td>{'' if _blank(v) else html.escape(str(v))}</td>" for v in row)
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _blank(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NaT


CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem auto;max-width:1200px;color:#24292f;padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #d0d7de;padding-bottom:.3rem}
.summary{font-size:1.1rem;background:#f6f8fa;border-left:4px solid #d1242f;padding:.8rem 1rem}
.facts{display:flex;flex-wrap:wrap;gap:1.5rem;margin:1rem 0}.facts div{min-width:8rem}.facts b{display:block;font-size:1.2rem}
table{border-collapse:collapse;font-size:.8rem;width:100%}th,td{border:1px solid #d0d7de;padding:.25rem .4rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}.legend span{display:inline-block;margin-right:1rem}.legend i{display:inline-block;width:.8rem;height:.8rem;border-radius:50%;margin-right:.3rem;vertical-align:middle}
footer{margin-top:2rem;font-size:.8rem;color:#57606a}
"""


def render_html(con: duckdb.DuckDBPyConnection, cluster_id: str, *, exported_by: str = "", source: str = "") -> str:
    """The cluster as one self-contained HTML page (inline CSS and SVG, no script)."""
    row = cluster_row(con, cluster_id)
    if row is None:
        raise store.StoreError(f"no cluster {cluster_id!r} in this store")
    parcels = cluster_parcels(con, cluster_id)
    mentions = cluster_mentions(con, cluster_id)
    signals = cluster_signals(con, cluster_id)
    links = link_explanations(con, cluster_id)
    homes = cluster_households(con, cluster_id)
    g = network(mentions, parcels)
    timeline = running_total(parcels, row.get("est_controlled_kg"))
    esc = html.escape
    facts = [
        ("score", f"{row.get('score', 0) or 0:.2f}"),
        ("rank", row.get("rank")),
        ("commodity", row.get("commodity") or "-"),
        ("est. controlled kg", f"{row.get('est_controlled_kg') or 0:.2f}"),
        ("threshold kg", "-" if _blank(row.get("threshold_kg")) else f"{row.get('threshold_kg'):g}"),
        ("parcels", row.get("parcels")),
        ("senders", row.get("senders")),
        ("receivers", row.get("receivers")),
        ("first seen", row.get("first_seen")),
        ("last seen", row.get("last_seen")),
    ]
    legend = "".join(f'<span><i style="background:{c}"></i>{k.replace("_", " ")}</span>' for k, c in NODE_COLOURS.items())
    links_view = links.assign(evidence=links["evidence"].map(explain_evidence)) if not links.empty else links
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Cluster {esc(cluster_id)}</title><style>{CSS}</style></head>
<body>
<h1>Cluster {esc(cluster_id)}</h1>
<p class="summary">{esc(str(row.get('summary') or ''))}</p>
<div class="facts">{''.join(f'<div>{esc(k)}<b>{esc(str(v))}</b></div>' for k, v in facts)}</div>
<h2>Why it was flagged</h2>{_table(signals)}
<h2>Network ({g.number_of_nodes()} nodes, {g.number_of_edges()} links)</h2>
<p class="legend">{legend}</p>{_svg_network(g, layout(g))}
<h2>Timeline: running estimate against the threshold</h2>{_svg_timeline(timeline, row.get('threshold_kg') if not _blank(row.get('threshold_kg')) else None)}
<h2>Why names were judged the same party</h2>{_table(links_view) if not links_view.empty else '<p>No merged names in this cluster.</p>'}
<h2>Households: people at one flat sharing its phone or account, kept as separate parties</h2>{_table(homes.drop(columns=['household_id'])) if not homes.empty else '<p>No household among the parties of this cluster.</p>'}
<h2>Parcels ({len(parcels)})</h2>{_table(parcels.drop(columns=['parcel_seq']))}
<footer>Exported {esc(stamp)}{' by ' + esc(exported_by) if exported_by else ''}{' from ' + esc(source) if source else ''} by parcel-linker.
Scores and estimates are leads for an investigator, not findings.</footer>
</body></html>
"""


def _csv(frame: pd.DataFrame) -> bytes:
    buf = io.StringIO()
    frame.to_csv(buf, index=False, quoting=csv.QUOTE_MINIMAL)
    return buf.getvalue().encode("utf-8")


def evidence_pack(con: duckdb.DuckDBPyConnection, cluster_id: str, *, exported_by: str = "", source: str = "") -> bytes:
    """A zip with `<cluster>.html` (self-contained), `<cluster>_parcels.csv` (every declared
    field), `<cluster>_signals.csv` and `<cluster>_links.csv`."""
    page = render_html(con, cluster_id, exported_by=exported_by, source=source)
    parcels = cluster_parcels(con, cluster_id).drop(columns=["parcel_seq"])
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr(f"{cluster_id}.html", page)
        z.writestr(f"{cluster_id}_parcels.csv", _csv(parcels))
        z.writestr(f"{cluster_id}_signals.csv", _csv(cluster_signals(con, cluster_id)))
        z.writestr(f"{cluster_id}_links.csv", _csv(link_explanations(con, cluster_id)))
    return buf.getvalue()
