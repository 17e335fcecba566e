"""The evidence pack: everything known about one cluster, handed over as a file.

The pack (`evidence_pack`) is a zip holding one self-contained HTML page (summary, signal
breakdown, network picture and timeline as inline SVG, parcels, why names were merged; no
script, no CDN, no external font) plus CSV files of the parcels, signals and links, so that it
opens on an air-gapped machine and can be attached to a case file as it is.

It reads the cluster through linker.outputs.clusters and draws it with linker.outputs.network
and linker.outputs.timeline, as the dashboard's cluster page does: what an investigator saw on
screen is what goes into the file.
"""

from __future__ import annotations

import csv
import html
import io
import math
import zipfile
from datetime import datetime, timezone

import duckdb
import pandas as pd

from linker import store
from linker.outputs import clusters as read
from linker.outputs import network, timeline


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


def pack_page(con: duckdb.DuckDBPyConnection, cluster_id: str, *, exported_by: str = "", source: str = "") -> str:
    """The cluster as one self-contained HTML page (inline CSS and SVG, no script)."""
    row = read.cluster_row(con, cluster_id)
    if row is None:
        raise store.StoreError(f"no cluster {cluster_id!r} in this store")
    parcels = read.cluster_parcels(con, cluster_id)
    signals = read.cluster_signals(con, cluster_id)
    links = read.link_explanations(con, cluster_id)
    homes = read.cluster_households(con, cluster_id)
    g = network.cluster_network(read.cluster_mentions(con, cluster_id))
    points, labels = timeline.points_of(timeline.running_total(parcels, row.get("est_controlled_kg")))
    threshold = None if _blank(row.get("threshold_kg")) else row.get("threshold_kg")
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
    links_view = links.assign(evidence=links["evidence"].map(read.explain_evidence)) if not links.empty else links
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Cluster {esc(cluster_id)}</title><style>{CSS}</style></head>
<body>
<h1>Cluster {esc(cluster_id)}</h1>
<p class="summary">{esc(str(row.get('summary') or ''))}</p>
<div class="facts">{''.join(f'<div>{esc(k)}<b>{esc(str(v))}</b></div>' for k, v in facts)}</div>
<h2>Why it was flagged</h2>{_table(signals)}
<h2>Network ({g.number_of_nodes()} nodes, {g.number_of_edges()} links)</h2>
<p class="legend">{network.legend_html()}</p>{network.network_svg(g)}
<h2>Timeline: running estimate against the threshold</h2>{timeline.timeline_svg(points, threshold, labels=labels, kg_format="g") or "<p>No parcels.</p>"}
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
    page = pack_page(con, cluster_id, exported_by=exported_by, source=source)
    parcels = read.cluster_parcels(con, cluster_id).drop(columns=["parcel_seq"])
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr(f"{cluster_id}.html", page)
        z.writestr(f"{cluster_id}_parcels.csv", _csv(parcels))
        z.writestr(f"{cluster_id}_signals.csv", _csv(read.cluster_signals(con, cluster_id)))
        z.writestr(f"{cluster_id}_links.csv", _csv(read.link_explanations(con, cluster_id)))
    return buf.getvalue()
