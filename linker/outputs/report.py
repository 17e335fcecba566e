"""The morning report: one self-contained folder per night, `reports/YYYY-MM-DD/`.

- `index.html` opens on a machine with no network: styles inline, pictures as inline SVG drawn
  here (no CDN, no script, no matplotlib). It holds the night's summary, what changed since
  the previous report, the ranked table of flagged clusters, and per flagged cluster its
  summary sentence, its network, its timeline (running total against the threshold) and its
  parcels; then a data-quality section (quarantine reasons with counts).
- `clusters.csv`: every cluster, ranked, in the columns of CONTRACT.md section 3.
- `report.json`: the same facts for other systems.

The report is a pure function of the published snapshot it reads, the baseline it compares
with (the run behind the previous night's report) and the date, so re-running a night writes
the same bytes. Parcel fields are untrusted input: the template autoescapes, and the SVG
renderers escape every label they draw.

"New tonight" means: from files loaded after the baseline run (file ids grow with each load).
"""

from __future__ import annotations

import csv
import html
import io
import json
import math
import os
import shutil
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import networkx as nx
from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup

from linker import store
from linker.casework.watchlist import WatchItem, find_hits

CLUSTER_COLUMNS = (
    "cluster_id", "rank", "score", "flagged", "commodity", "est_controlled_kg", "threshold_kg",
    "parcels", "senders", "receivers", "first_seen", "last_seen", "summary",
)
MAX_DETAILED_CLUSTERS = 50
MAX_LOOKALIKES_LISTED = 25
MAX_PARCELS_LISTED = 200
MAX_GRAPH_NODES = 120
LAYOUT_SEED = 7
TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class Baseline:
    """What tonight is compared with: the run behind the previous report."""

    run_id: str
    report_date: str
    max_file_id: int


# ---------------------------------------------------------------- gathering the facts


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict]:
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def _jsonable(value):
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _clean(rows: list[dict]) -> list[dict]:
    return [{k: _jsonable(v) for k, v in r.items()} for r in rows]


def _columns(con, table: str) -> set[str]:
    """Column names of a table (one catalogue query; information_schema per column is slow)."""
    return {r[0] for r in con.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND schema_name = 'main'", [table]).fetchall()}


def _cluster_select(con) -> str:
    have = _columns(con, "clusters")
    # The contract's columns, plus the scoring stage's readable commodity name where it has one.
    present = [c for c in (*CLUSTER_COLUMNS, "commodity_label", "retail") if c in have]
    return ", ".join(present)


def night_summary(con, baseline: Baseline | None) -> dict:
    """Counts for the files loaded since the baseline, and for the store as a whole."""
    after = baseline.max_file_id if baseline else 0
    night = con.execute(
        """SELECT count(*), coalesce(sum(rows_read), 0), coalesce(sum(rows_loaded), 0),
                  coalesce(sum(rows_quarantined), 0), coalesce(sum(rows_duplicate), 0)
           FROM files WHERE file_id > ?""",
        [after],
    ).fetchone()
    st = store.status(con)
    mode = None
    if store.table_exists(con, "analysis_state"):
        found = con.execute("SELECT mode FROM analysis_state").fetchall()
        mode = found[0][0] if found else None
    return {
        "analysis": mode,  # "incremental", "full", or None for a store analysed before it was recorded
        "files_loaded": int(night[0]),
        "rows_read": int(night[1]),
        "parcels_loaded": int(night[2]),
        "rows_quarantined": int(night[3]),
        "rows_duplicate": int(night[4]),
        "parcels_total": st.parcels,
        "quarantined_total": st.quarantined,
        "clusters_total": st.clusters or 0,
        "flagged_total": st.flagged_clusters or 0,
    }


def clusters_table(con) -> list[dict]:
    if not store.table_exists(con, "clusters"):
        return []
    order = "rank" if "rank" in _columns(con, "clusters") else "cluster_id"
    return _clean(_rows(con, f"SELECT {_cluster_select(con)} FROM clusters ORDER BY {order}, cluster_id"))


def _lineage_since_baseline(con) -> str:
    """The lineage events of the runs after the one named `$baseline`, in run order (`run_seq`;
    run ids are times to the second and two runs of one second sort by chance). A baseline run
    the store does not know counts as before every run."""
    if not store.table_exists(con, "cluster_lineage"):
        return "SELECT NULL::VARCHAR AS cluster_id, NULL::VARCHAR AS event, NULL::VARCHAR AS other_cluster_id WHERE false"
    if not store.column_exists(con, "cluster_lineage", "run_seq"):  # a copy made before run_seq
        return "SELECT cluster_id, event, other_cluster_id FROM cluster_lineage WHERE run_id > $baseline"
    known = ["(SELECT max(run_seq) FROM cluster_lineage WHERE run_id = $baseline)"]
    if store.table_exists(con, "runs") and store.column_exists(con, "runs", "run_seq"):
        known.insert(0, "(SELECT max(run_seq) FROM runs WHERE run_id = $baseline)")
    return (
        "SELECT cluster_id, event, other_cluster_id FROM cluster_lineage "
        f"WHERE run_seq > coalesce({', '.join(known)}, 0)"
    )


def changes_since(con, baseline: Baseline | None) -> dict:
    """New flagged clusters, clusters that grew, crossed their threshold or stopped being flagged.

    Compares `clusters` with the baseline's rows in `run_clusters` (recorded at each nightly
    run, so the comparison survives the pruning of old snapshots). Without a baseline every
    flagged cluster is new.
    """
    if not store.table_exists(con, "clusters"):
        return {"new_flagged": [], "crossed_threshold": [], "grew": [], "no_longer_flagged": []}
    if baseline is None or not store.table_exists(con, "run_clusters"):
        new = _clean(_rows(con, "SELECT cluster_id, rank, score, parcels, est_controlled_kg, threshold_kg, summary FROM clusters WHERE flagged ORDER BY rank"))
        return {"new_flagged": new, "crossed_threshold": [], "grew": [], "no_longer_flagged": []}
    # Each query below sees the baseline's clusters under one name, and the lineage events
    # (score.assign_cluster_ids: cluster_id is the new id, other_cluster_id the old one) of the
    # runs since the baseline.
    lineage = _lineage_since_baseline(con)
    base = f"WITH baseline_clusters AS (SELECT * FROM run_clusters WHERE run_id = $baseline), lin AS ({lineage}) "
    params = {"baseline": baseline.run_id}
    new_flagged = _rows(
        con,
        base + """SELECT c.cluster_id, c.rank, c.score, c.parcels, c.est_controlled_kg, c.threshold_kg, c.summary,
                  (SELECT string_agg(DISTINCT other_cluster_id, ', ' ORDER BY other_cluster_id) FROM lin
                   WHERE lin.cluster_id = c.cluster_id AND event = 'split') AS split_from
           FROM clusters c ANTI JOIN baseline_clusters b USING (cluster_id)
           WHERE c.flagged ORDER BY c.rank""",
        params,
    )
    crossed = _rows(
        con,
        base + """SELECT c.cluster_id, c.rank, c.score, b.est_controlled_kg AS kg_before, c.est_controlled_kg AS kg_now,
                  c.threshold_kg, b.flagged AS flagged_before, c.summary
           FROM clusters c JOIN baseline_clusters b USING (cluster_id)
           WHERE c.flagged AND (NOT b.flagged
                 OR (c.est_controlled_kg >= c.threshold_kg AND coalesce(b.est_controlled_kg, 0) < b.threshold_kg))
           ORDER BY c.rank""",
        params,
    )
    grew = _rows(
        con,
        base + """SELECT c.cluster_id, c.rank, c.flagged, b.parcels AS parcels_before, c.parcels AS parcels_now,
                  c.parcels - b.parcels AS parcels_added, b.est_controlled_kg AS kg_before,
                  c.est_controlled_kg AS kg_now, c.threshold_kg
           FROM clusters c JOIN baseline_clusters b USING (cluster_id)
           WHERE c.parcels > b.parcels AND (c.flagged OR b.flagged)
           ORDER BY c.rank""",
        params,
    )
    dropped = _rows(
        con,
        base + """SELECT b.cluster_id, b.rank AS rank_before, b.score AS score_before, c.cluster_id IS NOT NULL AS still_present,
                  (SELECT string_agg(DISTINCT lin.cluster_id, ', ' ORDER BY lin.cluster_id) FROM lin
                   WHERE lin.other_cluster_id = b.cluster_id AND event = 'merged') AS merged_into
           FROM baseline_clusters b LEFT JOIN clusters c USING (cluster_id)
           WHERE b.flagged AND NOT coalesce(c.flagged, false)
           ORDER BY b.rank""",
        params,
    )
    return {
        "new_flagged": _clean(new_flagged),
        "crossed_threshold": _clean(crossed),
        "grew": _clean(grew),
        "no_longer_flagged": _clean(dropped),
    }


# A quarantine reason names the offending value ("declared_weight_kg -1 is negative",
# "dest_country 'XX' is not ..."); counting needs the kind of problem without the value.
# A row with several problems ("a; b") counts once under each.
PROBLEM_OF_REASON = """
    regexp_replace(regexp_replace(regexp_replace(regexp_replace(trim(problem),
        '^duplicate parcel_id .* with different content.*$', 'duplicate parcel_id + carrier with different content in one file'),
        '^parcel_id .* already loaded with different content.*$', 'parcel_id + carrier already loaded with different content'),
        '^([a-z_]+) [^ ]+ is negative$', '\\1 is negative'),
        '''[^'']*''', '''...''', 'g')
"""


def quarantine_reasons(con, baseline: Baseline | None) -> dict:
    """Quarantined rows by kind of problem, tonight's and all-time, each with its first example."""
    after = baseline.max_file_id if baseline else 0

    def by_problem(where: str, params: list) -> list[dict]:
        return _rows(
            con,
            f"""WITH problems AS (
                    SELECT unnest(string_split(reason, '; ')) AS problem, source_file, source_line
                    FROM quarantine {where})
                SELECT {PROBLEM_OF_REASON} AS reason, count(*) AS rows,
                       arg_min(problem || ' (' || source_file || coalesce(' line ' || source_line, '') || ')',
                               (source_file, coalesce(source_line, 0))) AS example
                FROM problems GROUP BY 1 ORDER BY rows DESC, reason""",
            params,
        )

    return {"tonight": by_problem("WHERE file_id > ?", [after]), "all_time": by_problem("", [])}


def cluster_parcels(con, cluster_id: str, after_file_id: int, limit: int) -> tuple[list[dict], int]:
    """The cluster's parcels in time order (at most `limit`), each marked new or not, and the total count."""
    total = con.execute("SELECT count(*) FROM parcel_clusters WHERE cluster_id = ?", [cluster_id]).fetchone()[0]
    rows = _rows(
        con,
        """SELECT p.parcel_id, p.carrier, p.accepted_at, p.sender_name, p.receiver_name, p.dest_country,
                  p.declared_description, p.hs_code, p.declared_weight_kg, p.gross_weight_kg,
                  p.declared_value, p.currency, p.file_id > ? AS new_tonight
           FROM parcel_clusters pc JOIN parcels p USING (parcel_seq)
           WHERE pc.cluster_id = ?
           ORDER BY p.accepted_at, p.parcel_id, p.carrier
           LIMIT ?""",
        [after_file_id, cluster_id, limit],
    )
    return _clean(rows), int(total)


def cluster_timeline(con, cluster_id: str) -> list[tuple[datetime, float]]:
    """(accepted_at, kg) per parcel in time order: the cluster's controlled-goods estimate per
    parcel where the scoring stage provides one, else the weight shipped (gross if weighed)."""
    per_parcel = "coalesce(p.gross_weight_kg, p.declared_weight_kg)"
    if "est_controlled_kg" in _columns(con, "parcel_clusters"):
        per_parcel = "coalesce(pc.est_controlled_kg, 0)"
    return con.execute(
        f"""SELECT p.accepted_at, {per_parcel} AS kg
            FROM parcel_clusters pc JOIN parcels p USING (parcel_seq)
            WHERE pc.cluster_id = ?
            ORDER BY p.accepted_at, p.parcel_id, p.carrier""",
        [cluster_id],
    ).fetchall()


def cluster_signals(con, cluster_id: str) -> list[dict]:
    if not store.table_exists(con, "cluster_signals"):
        return []
    order = "contribution DESC NULLS LAST, " if "contribution" in _columns(con, "cluster_signals") else ""
    return _clean(_rows(con, f"SELECT * EXCLUDE (cluster_id) FROM cluster_signals WHERE cluster_id = ? ORDER BY {order}signal", [cluster_id]))


# ---------------------------------------------------------------- the network picture


def fallback_cluster_graph(con, cluster_id: str) -> nx.Graph:
    """The people and identifiers behind a cluster, from the raw parcel fields: senders and
    receivers linked by the parcels between them, and each to the phones, accounts, ID numbers
    and receiving addresses they used. Used when `linker.graph.cluster_graph` is not available."""
    g = nx.Graph()
    rows = con.execute(
        """SELECT p.sender_name, p.sender_phone, p.payer_account, p.sender_id_number,
                  p.receiver_name, p.receiver_phone, p.receiver_address
           FROM parcel_clusters pc JOIN parcels p USING (parcel_seq)
           WHERE pc.cluster_id = ? ORDER BY p.parcel_seq""",
        [cluster_id],
    ).fetchall()
    for s_name, s_phone, account, id_no, r_name, r_phone, r_addr in rows:
        s, r = ("sender", s_name), ("receiver", r_name)
        g.add_node(s, kind="sender", label=s_name)
        g.add_node(r, kind="receiver", label=r_name)
        g.add_edge(s, r)
        for owner, kind, value in ((s, "phone", s_phone), (s, "account", account), (s, "id_number", id_no),
                                   (r, "phone", r_phone), (r, "address", r_addr)):
            if value:
                g.add_node((kind, value), kind=kind, label=value)
                g.add_edge(owner, (kind, value))
    return g


def network_graph(con, cluster_id: str) -> tuple[nx.Graph, str]:
    """The cluster's network and where it came from (the graph stage, or the raw-field fallback)."""
    try:
        from linker.stages.graph import cluster_graph
    except ImportError:
        return fallback_cluster_graph(con, cluster_id), "parcel fields"
    try:
        return cluster_graph(con, cluster_id), "linker.graph"
    except Exception:  # noqa: BLE001 - a picture must never cost the whole report
        return fallback_cluster_graph(con, cluster_id), "parcel fields"


NODE_COLOURS = {
    "sender": "#1f77b4", "receiver": "#d62728", "entity": "#1f77b4", "party": "#1f77b4",
    "phone": "#2ca02c", "account": "#ff7f0e", "id_number": "#9467bd", "address": "#8c564b",
    "parcel": "#7f7f7f",
}


def _esc(text) -> str:
    return html.escape(str(text), quote=True)


def _short(text, n: int = 22) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


def render_network_svg(g: nx.Graph, *, width: int = 640, height: int = 420, seed: int = LAYOUT_SEED) -> str:
    """Draw a graph as an inline SVG: nodes coloured by their `kind`, labelled by `label`.

    Layout: networkx's spring layout (Fruchterman-Reingold) with a fixed seed, on nodes
    sorted by their string form so the same graph always gets the same picture. Graphs over
    MAX_GRAPH_NODES nodes are cut to their best-connected nodes (the caption says so).
    """
    if g.number_of_nodes() == 0:
        return ""
    shown = g
    if g.number_of_nodes() > MAX_GRAPH_NODES:
        keep = sorted(g.nodes, key=lambda n: (-g.degree(n), str(n)))[:MAX_GRAPH_NODES]
        shown = g.subgraph(keep)
    h = nx.Graph()
    h.add_nodes_from(sorted(shown.nodes(data=True), key=lambda nd: str(nd[0])))
    h.add_edges_from(sorted(shown.edges(), key=lambda e: (str(e[0]), str(e[1]))))
    # 50 iterations instead of the default 150: the picture settles long before, at a third of the cost.
    pos = nx.spring_layout(h, seed=seed, iterations=50) if h.number_of_nodes() > 1 else {n: (0.0, 0.0) for n in h}
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    pad = 40
    span_x = (max(xs) - min(xs)) or 1.0
    span_y = (max(ys) - min(ys)) or 1.0

    def at(n):
        x, y = pos[n]
        return pad + (x - min(xs)) / span_x * (width - 2 * pad), pad + (y - min(ys)) / span_y * (height - 2 * pad)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" class="network">']
    for a, b in h.edges():
        (x1, y1), (x2, y2) = at(a), at(b)
        out.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="#bbb" stroke-width="1"/>')
    label_all = h.number_of_nodes() <= 40
    for n, data in h.nodes(data=True):
        x, y = at(n)
        kind = str(data.get("kind") or data.get("type") or "party")
        label = data.get("label") or data.get("name") or (n[1] if isinstance(n, tuple) and len(n) == 2 else n)
        colour = NODE_COLOURS.get(kind, "#17becf")
        r = 4 + min(8, 1.5 * math.sqrt(g.degree(n)))
        out.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{colour}"><title>{_esc(kind)}: {_esc(label)}</title></circle>'
        )
        if label_all or g.degree(n) >= 3:
            out.append(f'<text x="{x + r + 2:.1f}" y="{y + 4:.1f}" font-size="10">{_esc(_short(label))}</text>')
    out.append("</svg>")
    return "".join(out)


def render_timeline_svg(points: list[tuple[datetime, float]], threshold_kg: float | None, *, width: int = 640, height: int = 220) -> str:
    """The running total of kg over time as a step line, with the threshold as a dashed line.

    Each parcel adds its kg at its acceptance time; the point where the line crosses the
    threshold is marked, so an investigator sees when the operation became reportable.
    """
    points = [(t, float(kg or 0.0)) for t, kg in points if t is not None]
    threshold_kg = float(threshold_kg) if threshold_kg is not None else None
    if not points:
        return ""
    totals, running = [], 0.0
    for t, kg in points:
        running += kg
        totals.append((t, running))
    t0, t1 = totals[0][0].timestamp(), totals[-1][0].timestamp()
    span_t = (t1 - t0) or 86400.0
    top = max(running, threshold_kg or 0.0) * 1.1 or 1.0
    left, right, up, down = 56, 16, 16, 32

    def x(t):
        return left + (t.timestamp() - t0) / span_t * (width - left - right)

    def y(v):
        return height - down - v / top * (height - up - down)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" class="timeline">']
    out.append(f'<line x1="{left}" y1="{y(0):.1f}" x2="{width - right}" y2="{y(0):.1f}" stroke="#444"/>')
    out.append(f'<line x1="{left}" y1="{up}" x2="{left}" y2="{y(0):.1f}" stroke="#444"/>')
    for frac in (0.0, 0.5, 1.0):
        v = top / 1.1 * frac
        out.append(f'<text x="{left - 4}" y="{y(v) + 4:.1f}" font-size="10" text-anchor="end">{v:,.1f}</text>')
    out.append(f'<text x="{left}" y="{height - 8}" font-size="10">{_esc(totals[0][0].date().isoformat())}</text>')
    out.append(f'<text x="{width - right}" y="{height - 8}" font-size="10" text-anchor="end">{_esc(totals[-1][0].date().isoformat())}</text>')
    path = [f"M{x(totals[0][0]):.1f},{y(0):.1f}"]
    prev = 0.0
    for t, v in totals:
        path.append(f"L{x(t):.1f},{y(prev):.1f}L{x(t):.1f},{y(v):.1f}")
        prev = v
    out.append(f'<path d="{"".join(path)}" fill="none" stroke="#1f77b4" stroke-width="2"/>')
    if threshold_kg:
        out.append(
            f'<line x1="{left}" y1="{y(threshold_kg):.1f}" x2="{width - right}" y2="{y(threshold_kg):.1f}" stroke="#d62728" stroke-dasharray="6,4"/>'
            f'<text x="{width - right}" y="{y(threshold_kg) - 4:.1f}" font-size="10" text-anchor="end" fill="#d62728">threshold {threshold_kg:,.1f} kg</text>'
        )
        crossing = next((t for t, v in totals if v >= threshold_kg), None)
        if crossing is not None:
            out.append(
                f'<circle cx="{x(crossing):.1f}" cy="{y(threshold_kg):.1f}" r="4" fill="#d62728"><title>threshold reached {_esc(crossing.isoformat())}</title></circle>'
            )
    out.append("</svg>")
    return "".join(out)


# ---------------------------------------------------------------- the report as a whole


def gather(
    con: duckdb.DuckDBPyConnection,
    *,
    report_date: str,
    run_id: str | None,
    baseline: Baseline | None,
    watch_items: list[WatchItem],
    max_detailed: int = MAX_DETAILED_CLUSTERS,
) -> dict:
    """Every fact the report shows, as plain data (the JSON file is this, minus the pictures)."""
    after = baseline.max_file_id if baseline else 0
    clusters = clusters_table(con)
    flagged = [c for c in clusters if c.get("flagged")]
    hits = find_hits(con, watch_items, f"file_id > {int(after)}")
    details = []
    have_parcel_clusters = store.table_exists(con, "parcel_clusters")
    for c in flagged[:max_detailed]:
        parcels, total = cluster_parcels(con, c["cluster_id"], after, MAX_PARCELS_LISTED) if have_parcel_clusters else ([], 0)
        details.append(
            {
                "cluster": c,
                "signals": cluster_signals(con, c["cluster_id"]),
                "parcels": parcels,
                "parcels_total": total,
                "new_parcels": sum(1 for p in parcels if p["new_tonight"]),
            }
        )
    return {
        "report_date": report_date,
        "run_id": run_id,
        "baseline": None if baseline is None else {"run_id": baseline.run_id, "report_date": baseline.report_date},
        "summary": night_summary(con, baseline),
        "changes": changes_since(con, baseline),
        "watch_hits": hits,
        "watchlist_size": len(watch_items),
        "flagged": flagged,
        # unflagged clusters that look like honest trade, with the reason in their summary, so
        # an investigator sees what was set aside and why (and can still open it)
        "lookalikes": [c for c in clusters if c.get("retail") and not c.get("flagged")][:MAX_LOOKALIKES_LISTED],
        "lookalikes_total": sum(1 for c in clusters if c.get("retail") and not c.get("flagged")),
        "details": details,
        "quality": quarantine_reasons(con, baseline),
    }


def _environment() -> Environment:
    # Autoescape everything: parcel fields (names, descriptions) come from outside.
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True, trim_blocks=True, lstrip_blocks=True)
    env.filters["kg"] = lambda v: "" if v is None else f"{float(v):,.1f}"
    env.filters["num"] = lambda v: "" if v is None else (f"{v:,}" if isinstance(v, int) else f"{float(v):,.2f}")
    return env


def network_graphs(con, cluster_ids: list[str]) -> dict[str, tuple[nx.Graph, str]]:
    """`network_graph` of several clusters, read in one pass where the graph stage allows."""
    try:
        from linker.stages.graph import cluster_graphs

        return {cid: (g, "linker.graph") for cid, g in cluster_graphs(con, cluster_ids).items()}
    except Exception:  # noqa: BLE001 - a picture must never cost the whole report
        return {cid: network_graph(con, cid) for cid in cluster_ids}


def render_html(con, facts: dict) -> str:
    pictures = {}
    graphs = network_graphs(con, [d["cluster"]["cluster_id"] for d in facts["details"]])
    for d in facts["details"]:
        cid = d["cluster"]["cluster_id"]
        g, source = graphs[cid]
        pictures[cid] = {
            "network": Markup(render_network_svg(g)),
            "network_nodes": g.number_of_nodes(),
            "network_source": source,
            "timeline": Markup(render_timeline_svg(cluster_timeline(con, cid), d["cluster"].get("threshold_kg"))),
        }
    return _environment().get_template("report.html.j2").render(facts=facts, pictures=pictures, max_graph_nodes=MAX_GRAPH_NODES)


def clusters_csv(clusters: list[dict]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CLUSTER_COLUMNS)
    for c in clusters:
        row = []
        for col in CLUSTER_COLUMNS:
            v = c.get(col)
            row.append("true" if v is True else "false" if v is False else "" if v is None else v)
        writer.writerow(row)
    return buf.getvalue()


def _write(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


def write_report(
    snapshot: str | Path,
    reports_dir: str | Path,
    *,
    report_date: str,
    run_id: str | None,
    baseline: Baseline | None,
    watch_items: list[WatchItem] = (),
    unreadable_files: list[str] = (),
) -> Path:
    """Write `reports_dir/<report_date>/` from a published snapshot; returns the folder.

    The folder is built beside its final place and swapped in, so a reader (or a kill) never
    meets a half-written report; a re-run of the same night replaces it, never adds a second.
    """
    con = store.open_snapshot(snapshot)
    try:
        facts = gather(con, report_date=report_date, run_id=run_id, baseline=baseline, watch_items=list(watch_items))
        facts["unreadable_files"] = sorted(unreadable_files)
        page = render_html(con, facts)
        clusters = clusters_table(con)
    finally:
        con.close()
    reports = Path(reports_dir)
    reports.mkdir(parents=True, exist_ok=True)
    final = reports / report_date
    building = reports / f".{report_date}.building-{os.getpid()}"
    if building.exists():
        shutil.rmtree(building)
    building.mkdir()
    _write(building / "index.html", page)
    _write(building / "clusters.csv", clusters_csv(clusters))
    _write(building / "report.json", json.dumps(facts, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n")
    old = reports / f".{report_date}.old-{os.getpid()}"
    if final.exists():
        os.replace(final, old)
    os.replace(building, final)
    if old.exists():
        shutil.rmtree(old)
    for leftover in reports.glob(f".{report_date}.*"):  # from killed earlier attempts
        shutil.rmtree(leftover, ignore_errors=True)
    return final
