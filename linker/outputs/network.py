"""A cluster's network - the people and identifiers behind its parcels - built once and drawn
one way, as inline SVG for the report and the evidence pack and as an interactive figure for
the dashboard.

Nodes are resolved parties (`entity`), phones, payment accounts, addresses and acceptance
points; each parcel is an edge from its sender's party to its receiver's, and ties each party
to the phone, account, address and outlet written on it. An edge's `parcels` lists the parcel
ids behind it, so a thick edge is a repeated pattern. Node ids are `kind:value`; every node
carries `kind`, `label` and `parcels` (how many of the cluster's parcels use it).

The drawing - positions (a seeded spring layout), colours (`PALETTE`), node sizes, edge widths,
which labels are shown - is decided here for every picture, so the dashboard, the morning
report and the evidence pack show the same network the same way.
"""

from __future__ import annotations

import html
import math

import networkx as nx
import pandas as pd

NODE_KINDS = ("entity", "phone", "account", "address", "acceptance_point")
PALETTE = {
    "entity": "#1f6feb",
    "phone": "#2da44e",
    "account": "#d1242f",
    "address": "#9a6700",
    "acceptance_point": "#8250df",
}
OTHER_COLOUR = "#57606a"  # a node of a kind outside NODE_KINDS
EDGE_COLOUR = "rgba(140,149,159,0.55)"
LABEL_ALL_UP_TO = 60  # nodes; a larger network is labelled on hover only
LABEL_CHARS = 28
LAYOUT_SEED = 7


def _blank(value) -> bool:
    """None, NaN, NA or empty text: nothing written."""
    if value is None:
        return True
    if isinstance(value, str):
        return value == ""
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def cluster_network(mentions: pd.DataFrame) -> nx.Graph:
    """The cluster's network from its party mentions (`clusters.cluster_mentions`)."""
    g = nx.Graph()

    def node(kind: str, value, label: str | None = None) -> str | None:
        if _blank(value):
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
        party = int(m.entity_id) if not _blank(m.entity_id) else m.name_raw  # raw fields: no resolution yet
        ent = node("entity", party, m.name_raw)
        if ent is None:
            continue
        g.nodes[ent]["parcels"].add(m.parcel_id)
        g.nodes[ent].setdefault("names", set()).add(m.name_raw)
        by_parcel.setdefault(m.parcel_id, {})[m.role] = ent
        for kind, value in (("phone", m.phone_e164 or m.phone_raw), ("account", m.account_norm),
                            ("address", m.address_key or m.address_raw)):
            n = node(kind, value, m.address_raw if kind == "address" else None)
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


def trim(g: nx.Graph, max_nodes: int) -> tuple[nx.Graph, int]:
    """The network cut to its `max_nodes` most used nodes (most parcels, then by id), so a
    picture stays readable; and how many nodes were left out."""
    if g.number_of_nodes() <= max_nodes:
        return g, 0
    keep = sorted(g.nodes, key=lambda n: (-g.nodes[n].get("parcels", 1), str(n)))[:max_nodes]
    return g.subgraph(keep).copy(), g.number_of_nodes() - max_nodes


def layout(g: nx.Graph, seed: int = LAYOUT_SEED) -> dict:
    """Deterministic force-directed positions in [0, 1] x [0, 1] (networkx's spring layout,
    Fruchterman-Reingold, with a fixed seed: the same network always gets the same picture)."""
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


# ---------------------------------------------------------------- how a network is drawn


def colour(kind: str) -> str:
    return PALETTE.get(kind, OTHER_COLOUR)


def node_size(parcels: int) -> float:
    """A node's diameter in pixels: it grows with the parcels that use it, up to 40 of them."""
    return 10 + min(parcels, 40) ** 0.5 * 3


def edge_width(parcels: int) -> int:
    """An edge's width: one parcel, a few, or a repeated pattern (five or more)."""
    return 1 if parcels == 1 else 2 if parcels < 5 else 4


def label_of(data: dict) -> str:
    return str(data.get("label", ""))[:LABEL_CHARS]


def _parcels_of(data: dict) -> int:
    parcels = data.get("parcels", 1)
    return len(parcels) if isinstance(parcels, (list, set)) else int(parcels)


def network_svg(g: nx.Graph, pos: dict | None = None, *, width: int = 900, height: int = 620) -> str:
    """The network as an inline SVG (no script, nothing fetched): the report's and the evidence
    pack's picture. Every label is escaped (parcel fields are untrusted input); a node's and an
    edge's full text is in its tooltip."""
    if g.number_of_nodes() == 0:
        return ""
    pos = layout(g) if pos is None else pos
    pad = 40

    def at(n) -> tuple[float, float]:
        return pad + pos[n][0] * (width - 2 * pad), pad + pos[n][1] * (height - 2 * pad)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
             'class="network" aria-label="network">']
    for a, b, d in g.edges(data=True):
        (x1, y1), (x2, y2) = at(a), at(b)
        n = _parcels_of(d)
        parts.append(
            f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="#8c959f" stroke-opacity="0.6" '
            f'stroke-width="{edge_width(n)}"><title>{n} parcels</title></line>'
        )
    show_labels = g.number_of_nodes() <= LABEL_ALL_UP_TO
    for node, d in g.nodes(data=True):
        x, y = at(node)
        r = node_size(_parcels_of(d)) / 2
        kind = str(d.get("kind", ""))
        title = html.escape(f"{kind.replace('_', ' ')}: {d.get('label', '')} ({_parcels_of(d)} parcels)", quote=True)
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" fill="{colour(kind)}"><title>{title}</title></circle>')
        if show_labels:
            parts.append(f'<text x="{x + r + 2:.1f}" y="{y + 4:.1f}" font-size="11" fill="#24292f">'
                         f'{html.escape(label_of(d), quote=True)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def legend_html() -> str:
    """What the colours mean, for a page that shows network_svg."""
    return "".join(f'<span><i style="background:{c}"></i>{k.replace("_", " ")}</span>' for k, c in PALETTE.items())


def network_figure(g: nx.Graph, pos: dict, *, height: int = 520):
    """The network as an interactive plotly figure (the dashboard's): the same positions,
    colours, sizes and labels as network_svg; a node's id travels as its `customdata`, so a
    click on it can be answered."""
    import plotly.graph_objects as go

    fig = go.Figure()
    edge_groups: dict[int, tuple[list, list]] = {}
    for a, b, d in g.edges(data=True):
        xs, ys = edge_groups.setdefault(edge_width(_parcels_of(d)), ([], []))
        xs += [pos[a][0], pos[b][0], None]
        ys += [pos[a][1], pos[b][1], None]
    for width, (xs, ys) in sorted(edge_groups.items()):
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line=dict(width=width, color=EDGE_COLOUR),
                                 hoverinfo="skip", showlegend=False))
    label_all = g.number_of_nodes() <= LABEL_ALL_UP_TO
    for kind in NODE_KINDS:
        nodes = [n for n, d in g.nodes(data=True) if d["kind"] == kind]
        if not nodes:
            continue
        fig.add_trace(go.Scatter(
            x=[pos[n][0] for n in nodes], y=[pos[n][1] for n in nodes],
            mode="markers+text" if label_all else "markers",
            text=[label_of(g.nodes[n]) for n in nodes], textposition="top center", textfont=dict(size=10),
            marker=dict(size=[node_size(g.nodes[n]["parcels"]) for n in nodes], color=colour(kind),
                        line=dict(width=1, color="white")),
            customdata=nodes, name=kind.replace("_", " "),
            hovertemplate="%{customdata}<br>%{text}<extra></extra>",
        ))
    fig.update_layout(
        height=height, margin=dict(l=0, r=0, t=10, b=0), clickmode="event+select", dragmode="pan",
        xaxis=dict(visible=False), yaxis=dict(visible=False), plot_bgcolor="white",
        legend=dict(orientation="h", yanchor="bottom", y=1.0, x=0),
    )
    return fig
