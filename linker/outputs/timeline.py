"""A cluster's timeline: the running estimate of controlled kilograms against the threshold,
computed once and drawn one way - as inline SVG for the report and the evidence pack, as an
interactive figure for the dashboard - so an investigator sees when the operation became
reportable, wherever they look.
"""

from __future__ import annotations

import html
import math
from datetime import datetime

import pandas as pd

LINE_COLOUR = "#1f6feb"
THRESHOLD_COLOUR = "#d1242f"
AXIS_COLOUR = "#57606a"


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


def points_of(frame: pd.DataFrame) -> tuple[list[tuple[datetime, float]], list[str]]:
    """A running_total frame as the (accepted_at, kg) of each parcel, and each parcel's id."""
    times = [t.to_pydatetime() if hasattr(t, "to_pydatetime") else t for t in pd.to_datetime(frame["accepted_at"])]
    return list(zip(times, frame["est_kg"].astype(float))), [str(p) for p in frame["parcel_id"]]


def timeline_svg(points: list[tuple[datetime, float]], threshold_kg: float | None, *, labels: list[str] | None = None,
                 kg_format: str = ",.1f", width: int = 900, height: int = 280) -> str:
    """The running total of kg over time as a step line, with the threshold as a dashed line.

    Each parcel adds its kg at its acceptance time and is a dot (titled with `labels[i]`, its
    parcel); the point where the line reaches the threshold is marked, so an investigator sees
    when the operation became reportable. `kg_format` writes the threshold as the rest of the
    document writes kilograms. Empty (no picture) when there are no parcels."""
    given = [(t, float(kg or 0.0), (labels[i] if labels else "")) for i, (t, kg) in enumerate(points) if t is not None]
    threshold = float(threshold_kg) if threshold_kg is not None and not _nan(threshold_kg) else None
    if not given:
        return ""
    totals, running = [], 0.0
    for t, kg, label in given:
        running += kg
        totals.append((t, running, label))
    t0, t1 = totals[0][0].timestamp(), totals[-1][0].timestamp()
    top = max(running, threshold or 0.0) * 1.1 or 1.0
    left, right, up, down = 60, 20, 20, 40

    def x(t: datetime) -> float:
        return left + (0.5 if t1 == t0 else (t.timestamp() - t0) / (t1 - t0)) * (width - left - right)

    def y(v: float) -> float:
        return height - down - v / top * (height - up - down)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
             'class="timeline" aria-label="timeline">',
             f'<line x1="{left}" y1="{height - down}" x2="{width - right}" y2="{height - down}" stroke="{AXIS_COLOUR}"/>',
             f'<line x1="{left}" y1="{up}" x2="{left}" y2="{height - down}" stroke="{AXIS_COLOUR}"/>']
    for frac in (0.0, 0.5, 1.0):
        v = top / 1.1 * frac
        parts.append(f'<text x="{left - 6}" y="{y(v) + 4:.1f}" font-size="11" text-anchor="end">{v:,.1f} kg</text>')
    parts.append(f'<text x="{left}" y="{height - 12}" font-size="11">{totals[0][0]:%Y-%m-%d}</text>')
    parts.append(f'<text x="{width - right}" y="{height - 12}" font-size="11" text-anchor="end">{totals[-1][0]:%Y-%m-%d}</text>')
    if threshold:
        parts.append(
            f'<line x1="{left}" y1="{y(threshold):.1f}" x2="{width - right}" y2="{y(threshold):.1f}" stroke="{THRESHOLD_COLOUR}" stroke-dasharray="6 4"/>'
            f'<text x="{width - right}" y="{y(threshold) - 5:.1f}" font-size="11" fill="{THRESHOLD_COLOUR}" text-anchor="end">'
            f'threshold {format(threshold, kg_format)} kg</text>'
        )
    steps, previous = [], 0.0
    for t, v, _ in totals:
        steps.append(f"{x(t):.1f},{y(previous):.1f} {x(t):.1f},{y(v):.1f}")
        previous = v
    parts.append(f'<polyline fill="none" stroke="{LINE_COLOUR}" stroke-width="2" points="{" ".join(steps)}"/>')
    for t, v, label in totals:
        title = html.escape(f"{label}: {v:.2f} kg" if label else f"{t.isoformat()}: {v:.2f} kg", quote=True)
        parts.append(f'<circle cx="{x(t):.1f}" cy="{y(v):.1f}" r="3" fill="{LINE_COLOUR}"><title>{title}</title></circle>')
    if threshold:
        crossing = next((t for t, v, _ in totals if v >= threshold), None)
        if crossing is not None:
            parts.append(
                f'<circle cx="{x(crossing):.1f}" cy="{y(threshold):.1f}" r="4" fill="{THRESHOLD_COLOUR}">'
                f'<title>threshold reached {html.escape(crossing.isoformat())}</title></circle>'
            )
    parts.append("</svg>")
    return "".join(parts)


def _nan(value) -> bool:
    return isinstance(value, float) and math.isnan(value)


def timeline_figure(frame: pd.DataFrame, threshold_kg: float | None, *, height: int = 300):
    """The running total as an interactive plotly figure (the dashboard's): the same line and
    threshold as timeline_svg, each parcel a point by carrier with its description on hover."""
    import plotly.graph_objects as go

    fig = go.Figure()
    fig.add_trace(go.Scatter(x=frame["accepted_at"], y=frame["running_kg"], mode="lines", line_shape="hv",
                             line=dict(color=LINE_COLOUR, width=2), name="running estimate", hoverinfo="skip"))
    for carrier, part in frame.groupby("carrier", sort=True):
        fig.add_trace(go.Scatter(
            x=part["accepted_at"], y=part["running_kg"], mode="markers", name=str(carrier), marker=dict(size=8),
            customdata=part[["parcel_id", "declared_description", "declared_weight_kg"]].values,
            hovertemplate="%{customdata[0]}<br>%{customdata[1]}<br>declared %{customdata[2]} kg<br>running %{y:.2f} kg<extra>%{fullData.name}</extra>",
        ))
    if threshold_kg and not pd.isna(threshold_kg):
        fig.add_hline(y=threshold_kg, line_dash="dash", line_color=THRESHOLD_COLOUR, annotation_text=f"threshold {threshold_kg:g} kg",
                      annotation_position="top left")
    fig.update_layout(height=height, margin=dict(l=0, r=0, t=20, b=0), yaxis_title="estimated controlled kg",
                      legend=dict(orientation="h", y=1.12, x=0))
    return fig
