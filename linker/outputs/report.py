"""The morning report: one self-contained folder per night, `reports/YYYY-MM-DD/`.

- `index.html` opens on a machine with no network: styles inline, pictures as inline SVG (no
  CDN, no script, no matplotlib), drawn by linker.outputs.network and linker.outputs.timeline
  as the dashboard and the evidence pack draw them. It holds the night's summary, what changed since
  the previous report, the ranked table of flagged clusters, and per flagged cluster its
  summary sentence, its network, its timeline (running total against the threshold) and its
  parcels; then a data-quality section (quarantine reasons with counts).
- `clusters.csv`: every cluster, ranked, in the columns of CONTRACT.md section 3, written by
  `linker export`'s writer (the same bytes as the exported file).
- `report.json`: the same facts for other systems.

The report is a pure function of the published snapshot it reads, the baseline it compares
with (the run behind the previous night's report) and the date, so re-running a night writes
the same bytes. Parcel fields are untrusted input: the template autoescapes, and the SVG
renderers escape every label they draw. What it reads of each cluster comes from the read model
shared with the evidence pack and the dashboard (linker.outputs.clusters).

"New tonight" means: from files loaded after the baseline run (file ids grow with each load).
"""

from __future__ import annotations

import json
import math
import os
import shutil
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup

from linker import store
from linker.casework.watchlist import WatchItem, find_hits
from linker.outputs import clusters as read
from linker.outputs import export, network, timeline

MAX_DETAILED_CLUSTERS = 50
MAX_LOOKALIKES_LISTED = 25
MAX_PARCELS_LISTED = 200
MAX_GRAPH_NODES = 120
TEMPLATES = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class Baseline:
    """What tonight is compared with: the run behind the previous report."""

    run_id: str
    report_date: str
    max_file_id: int


# ---------------------------------------------------------------- gathering the facts


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
    return _clean(read.clusters_table(con))


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
        new = _clean(read.rows(con, "SELECT cluster_id, rank, score, parcels, est_controlled_kg, threshold_kg, summary FROM clusters WHERE flagged ORDER BY rank"))
        return {"new_flagged": new, "crossed_threshold": [], "grew": [], "no_longer_flagged": []}
    # Each query below sees the baseline's clusters under one name, and the lineage events
    # (score.assign_cluster_ids: cluster_id is the new id, other_cluster_id the old one) of the
    # runs since the baseline.
    lineage = _lineage_since_baseline(con)
    base = f"WITH baseline_clusters AS (SELECT * FROM run_clusters WHERE run_id = $baseline), lin AS ({lineage}) "
    params = {"baseline": baseline.run_id}
    new_flagged = read.rows(
        con,
        base + """SELECT c.cluster_id, c.rank, c.score, c.parcels, c.est_controlled_kg, c.threshold_kg, c.summary,
                  (SELECT string_agg(DISTINCT other_cluster_id, ', ' ORDER BY other_cluster_id) FROM lin
                   WHERE lin.cluster_id = c.cluster_id AND event = 'split') AS split_from
           FROM clusters c ANTI JOIN baseline_clusters b USING (cluster_id)
           WHERE c.flagged ORDER BY c.rank""",
        params,
    )
    crossed = read.rows(
        con,
        base + """SELECT c.cluster_id, c.rank, c.score, b.est_controlled_kg AS kg_before, c.est_controlled_kg AS kg_now,
                  c.threshold_kg, b.flagged AS flagged_before, c.summary
           FROM clusters c JOIN baseline_clusters b USING (cluster_id)
           WHERE c.flagged AND (NOT b.flagged
                 OR (c.est_controlled_kg >= c.threshold_kg AND coalesce(b.est_controlled_kg, 0) < b.threshold_kg))
           ORDER BY c.rank""",
        params,
    )
    grew = read.rows(
        con,
        base + """SELECT c.cluster_id, c.rank, c.flagged, b.parcels AS parcels_before, c.parcels AS parcels_now,
                  c.parcels - b.parcels AS parcels_added, b.est_controlled_kg AS kg_before,
                  c.est_controlled_kg AS kg_now, c.threshold_kg
           FROM clusters c JOIN baseline_clusters b USING (cluster_id)
           WHERE c.parcels > b.parcels AND (c.flagged OR b.flagged)
           ORDER BY c.rank""",
        params,
    )
    dropped = read.rows(
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
        return read.rows(
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
    ids = [c["cluster_id"] for c in flagged[:max_detailed]]
    parcels_of = (read.cluster_parcel_rows_of(con, ids, after, MAX_PARCELS_LISTED)
                  if store.table_exists(con, "parcel_clusters") else {cid: ([], 0) for cid in ids})
    signals_of = read.cluster_signal_rows_of(con, ids)
    for c in flagged[:max_detailed]:
        parcels, total = parcels_of[c["cluster_id"]]
        parcels = _clean(parcels)
        details.append(
            {
                "cluster": c,
                "signals": _clean(signals_of[c["cluster_id"]]),
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


def pictures(cluster: dict, mentions, parcels) -> dict:
    """The cluster's network and timeline (from its mentions and parcels, as the read model gives
    them), drawn as the dashboard and the evidence pack draw them."""
    g, dropped = network.trim(network.cluster_network(mentions), MAX_GRAPH_NODES)
    points, labels = timeline.points_of(timeline.running_total(parcels, cluster.get("est_controlled_kg")))
    return {
        "network": Markup(network.network_svg(g)),
        "network_nodes": g.number_of_nodes() + dropped,
        "network_dropped": dropped,
        "timeline": Markup(timeline.timeline_svg(points, cluster.get("threshold_kg"), labels=labels)),
    }


def render_page(con, facts: dict) -> str:
    """The report's index.html from the facts of `gather`."""
    ids = [d["cluster"]["cluster_id"] for d in facts["details"]]
    mentions, parcels = read.cluster_mentions_of(con, ids), read.cluster_parcels_of(con, ids)
    drawn = {cid: pictures(d["cluster"], mentions[cid], parcels[cid]) for cid, d in zip(ids, facts["details"])}
    return _environment().get_template("report.html.j2").render(facts=facts, pictures=drawn,
                                                                legend=Markup(network.legend_html()))


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
    reports = Path(reports_dir)
    final = reports / report_date
    building = reports / f".{report_date}.building-{os.getpid()}"
    con = store.open_snapshot(snapshot)
    try:
        facts = gather(con, report_date=report_date, run_id=run_id, baseline=baseline, watch_items=list(watch_items))
        facts["unreadable_files"] = sorted(unreadable_files)
        page = render_page(con, facts)
        reports.mkdir(parents=True, exist_ok=True)
        if building.exists():
            shutil.rmtree(building)
        building.mkdir()
        _write(building / "index.html", page)
        export.write_result(con, "clusters.csv", building / "clusters.csv")  # the export's own writer
    finally:
        con.close()
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
