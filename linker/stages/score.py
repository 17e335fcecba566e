"""Scoring of clusters: which groups of linked parcels look like a smuggling operation, and why.

Input: the groups of detection (`parcel_groups`, linker.stages.detect), the parcels, their party mentions, their goods
signals (`parcel_signals`) and per-parcel estimate of controlled kg. A group becomes a
*cluster* when it has at least `clusters.min_parcels` parcels and at least one of them carries
a goods signal; ordinary groups without any goods signal are not clusters (they would only
bury the queue).

Each cluster gets one strength (0..1) per signal, with a line of evidence:

- quantity: controlled kg of its main commodity in the worst rolling window (the catalogue's
  window for that commodity) against the threshold; 1 at the threshold.
- declaration: how strongly its parcels' declarations look false (covers, heading mismatch,
  value anomalies, concealment, false origin), averaged over its goods-carrying seeds.
- split: the splitting signature - many parcels each far below the threshold, of similar or
  just-under-round weights, converging on few receivers. A shop's hundreds of small parcels
  go to hundreds of customers, so they do not show it.
- identity_churn: many people (distinct parties, phones or ID numbers, not spellings) behind one
  account, phone or address (recruited intermediaries).
- channel_switching: several carriers and acceptance points.
- routing: transit countries, false origin, forwarding warehouses.
- recency: how recent the last parcel is.

score = 100 * weighted mean of the strengths (weights in scoring.toml). A cluster is flagged
when its score and its quantity ratio reach the `[flag]` minimums with enough parcels in the
worst window, its declarations look false (correctly declared goods are no evasion, however
many kilograms a licensed exporter ships), it is no retail pattern (`_retail`: a shop's many
one-off buyers in many countries with declarations that fit the goods), and it shows a pattern
of evasion: the splitting signature or identity churn where its parcels converge on few
receivers, a declaration that is demonstrably false (a weight gap, a contradicting heading),
a disguised origin on most goods parcels, or a re-export route (`_reexport`) - since a cover
name alone is also what shops selling real nickel powder write. A cover's kilograms count
against the threshold for unidentified goods where the commodity guessed from the cover has a
looser one; a cluster that names a commodity may count its unidentified goods as it (the
two readings of `_main_candidates`).

Then linker.stages.summary ranks the clusters and writes the sentence that says why each
matters, and linker.stages.lineage gives them stable ids: it matches the new clusters to the
last run's by shared parcels (mutual best match holding a majority of either side), keeps ids
of continuing operations, gives new ones the next `C-000123`, and records merges and splits in
`cluster_lineage`.
"""

from __future__ import annotations

import duckdb

from linker.settings.scoring import CLUSTER_SIGNALS
from linker.store.sql import string_list

def score_groups(con: duckdb.DuckDBPyConnection, config: dict, *, prefix: str = "", graph_prefix: str | None = None) -> int:
    """Score the groups in `{prefix}parcel_groups`; write `{prefix}cluster_scores` (one row per
    cluster, keyed by group_key). Hubs come from `{graph_prefix}graph_nodes` (default: `prefix`;
    an incremental run updates the graph in place, so it passes ""). Reads `parcel_goods`, `parcel_signals` and
    `catalogue_commodities` (signals.py). Returns the number of clusters."""
    sig, flag = config["signals"], config["flag"]
    con.execute(_members_sql(prefix, sig))
    # Groups worth considering: enough parcels and some goods signal.
    con.execute(_candidates_sql(int(config["clusters"]["min_parcels"])))
    con.execute("DELETE FROM _members WHERE group_key NOT IN (SELECT group_key FROM _candidates)")
    # The commodity a cluster is scored as, one of two readings, whichever reaches the larger share
    # of its threshold in the worst window:
    # - the commodity with the most estimated kg, on its own parcels (unidentified goods against
    #   the `unknown` threshold);
    # - the identified commodity with the most kg, with the cluster's unidentified goods counted
    #   as it (`fold`): an operation ships one material under several declarations - tungsten
    #   declared under its own heading on some parcels and as "ferrite magnets" or iron powder on
    #   others - and the parcels that name it tell what the others hide.
    # The commodity it is shown as: the scored one, or, where that is unidentified, the best
    # supported commodity the parcels' own signals point at (most kg, then most parcels), since
    # "nickel powder" is a cover for rare earths even when its kg are held against the stricter
    # threshold for unidentified goods; `unknown` only where nothing points anywhere.
    con.execute(_main_candidates_sql())
    _worst_windows(con)
    con.execute(_main_commodity_sql())
    con.execute("DELETE FROM _worst_window WHERE (group_key, fold) NOT IN (SELECT group_key, fold FROM _main_commodity)")
    _reexport(con)
    _retail(con, config["retail"], float(flag["strong_declaration"]), float(flag["min_origin_share"]),
            float(sig["origin_min_strength"]))
    gp = prefix if graph_prefix is None else graph_prefix
    con.execute(f"CREATE OR REPLACE TEMP TABLE _hub_keys AS SELECT kind, key FROM {gp}graph_nodes WHERE hub")
    _churn(con)
    con.execute(_forwarders_sql(int(sig["forwarder_min_units"])))
    newest = con.execute("SELECT max(accepted_at) FROM parcels").fetchall()[0][0]
    # The per-cluster figures first, as a table: inside a transaction (a nightly run) one
    # query with them as a CTE took 3 s for 5,300 clusters, against 0.1-0.15 s this way.
    con.execute(f"CREATE OR REPLACE TEMP TABLE _base AS {_base_sql(config['signals'])}")
    con.execute(_cluster_scores_sql(prefix, config), {"newest": newest})
    _round_doubles(con, f"{prefix}cluster_scores")
    con.execute(_flag_sql(prefix, flag))
    return int(con.execute(f"SELECT count(*) FROM {prefix}cluster_scores").fetchall()[0][0])


def _members_sql(prefix: str, sig: dict) -> str:
    """`_members`: one row per grouped parcel with what scoring needs. est_kg/commodity come
    from the per-parcel estimate of signals.py; decl and routing are the strongest parcel
    signals of those kinds."""
    return f"""
        CREATE OR REPLACE TEMP TABLE _members AS
        WITH sigs AS (
            SELECT parcel_seq,
                   max(strength) FILTER (WHERE signal IN (SELECT unnest({string_list(sig['declaration_signals'])}))) AS decl,
                   max(strength) FILTER (WHERE signal IN (SELECT unnest({string_list(sig['routing_signals'])}))) AS routing,
                   max(strength) FILTER (WHERE signal = 'false_origin') AS false_origin,
                   -- a declaration shown false by the parcel itself: a weight gap, a heading that
                   -- contradicts the description, a named controlled metal priced far below its
                   -- price. Cover goods priced above bulk are not among them: a 100 g retail pack
                   -- of nickel powder costs more per kg than a drum.
                   greatest(max(strength) FILTER (WHERE signal IN ('concealment', 'heading_mismatch')),
                            max(strength) FILTER (WHERE signal = 'value_per_kg_anomaly'
                                                   AND parcel_seq IN (SELECT parcel_seq FROM parcel_signals WHERE signal = 'controlled_match'))) AS shown_false,
                   -- the commodity the parcel's own signals point at, where its goods are unidentified
                   arg_max(commodity, (strength, commodity)) FILTER (WHERE commodity IS NOT NULL AND commodity <> 'unknown') AS hint,
                   count(*) AS n_signals
            FROM parcel_signals WHERE strength > 0 GROUP BY parcel_seq
        )
        SELECT g.parcel_seq, g.group_key, g.component_key, p.parcel_id, p.carrier, p.accepted_at,
               p.acceptance_point, p.dest_country, p.declared_weight_kg, p.declared_description,
               -- A cover says the declaration is false, not what is inside: the commodity that
               -- signals.py guesses from it is only the catalogue's association, so a cover's kg
               -- are held against the threshold for unidentified goods where the guess's is looser
               -- (terbium under "ferrite magnets" is still terbium, not 50 kg of magnets).
               CASE WHEN e.basis LIKE 'cover%' AND k.threshold_kg > u.threshold_kg THEN 'unknown'
                    ELSE coalesce(e.commodity, 'unknown') END AS commodity,
               coalesce(e.est_controlled_kg, 0) AS est_kg, g.seed,
               CASE WHEN e.commodity IS NOT NULL AND e.commodity <> 'unknown' THEN e.commodity ELSE s.hint END AS hint,
               p.origin_country,
               coalesce(s.decl, 0) AS decl, coalesce(s.routing, 0) AS routing, coalesce(s.false_origin, 0) AS false_origin,
               coalesce(s.shown_false, 0) AS shown_false,
               coalesce(s.n_signals, 0) AS n_signals,
               ms.entity_id AS sender_entity, ms.name_key AS sender_name,
               mr.entity_id AS receiver_entity, mr.name_key AS receiver_name,
               mr.address_key AS receiver_address_key, mr.address_unit AS receiver_unit
        FROM {prefix}parcel_groups g
        JOIN parcels p USING (parcel_seq)
        LEFT JOIN parcel_goods e USING (parcel_seq)
        LEFT JOIN catalogue_commodities k ON k.commodity = e.commodity
        LEFT JOIN (SELECT threshold_kg FROM catalogue_commodities WHERE commodity = 'unknown') u ON true
        LEFT JOIN sigs s USING (parcel_seq)
        LEFT JOIN party_mentions ms ON ms.mention_id = g.parcel_seq * 2
        LEFT JOIN party_mentions mr ON mr.mention_id = g.parcel_seq * 2 + 1
        """


def _candidates_sql(min_parcels: int) -> str:
    return f"""
        CREATE OR REPLACE TEMP TABLE _candidates AS
        SELECT group_key FROM _members GROUP BY group_key
        HAVING count(*) >= {min_parcels} AND (max(est_kg) > 0 OR max(n_signals) > 0)
        """


def _main_candidates_sql() -> str:
    """`_main_candidates`: per group, the two readings of its commodity (see score_groups)."""
    return """
        CREATE OR REPLACE TEMP TABLE _main_candidates AS
        WITH kg AS (SELECT group_key, commodity, sum(est_kg) AS kg FROM _members GROUP BY ALL)
        SELECT group_key, arg_max(commodity, (kg, commodity)) AS commodity, false AS fold FROM kg GROUP BY group_key
        UNION ALL
        SELECT group_key, arg_max(commodity, (kg, commodity)) FILTER (WHERE commodity <> 'unknown' AND kg > 0), true
        FROM kg GROUP BY group_key
        HAVING count(*) FILTER (WHERE commodity <> 'unknown' AND kg > 0) > 0
           AND count(*) FILTER (WHERE commodity = 'unknown' AND kg > 0) > 0
        """


def _main_commodity_sql() -> str:
    """`_main_commodity`: the reading that reaches the larger share of its threshold in the worst
    window (`scored`), and the commodity shown (`shown_commodity`)."""
    return """
        CREATE OR REPLACE TEMP TABLE _main_commodity AS
        WITH scored AS (
            SELECT c.group_key,
                   -- rounded, so that float noise of two sums over other partitions decides no tie
                   arg_max(c.commodity, (round(coalesce(w.window_kg, 0) / k.threshold_kg, 9), NOT c.fold)) AS commodity,
                   arg_max(c.fold, (round(coalesce(w.window_kg, 0) / k.threshold_kg, 9), NOT c.fold)) AS fold
            FROM _main_candidates c JOIN catalogue_commodities k USING (commodity)
            LEFT JOIN _worst_window w USING (group_key, fold)
            GROUP BY c.group_key
        ), hinted AS (
            SELECT group_key, arg_max(hint, (kg, n, hint)) AS hint
            FROM (SELECT group_key, hint, sum(est_kg) AS kg, count(*) AS n FROM _members
                  WHERE hint IS NOT NULL GROUP BY ALL)
            GROUP BY group_key
        )
        SELECT s.group_key, s.commodity, s.fold,
               CASE WHEN s.commodity = 'unknown' THEN coalesce(h.hint, 'unknown') ELSE s.commodity END AS shown_commodity
        FROM scored s LEFT JOIN hinted h USING (group_key)
        """


def _forwarders_sql(min_units: int) -> str:
    """`_forwarders`: receiving addresses with at least `min_units` distinct units (warehouses)."""
    return f"""
        CREATE OR REPLACE TEMP TABLE _forwarders AS
        SELECT address_key FROM party_mentions
        WHERE role = 'receiver' AND address_key IS NOT NULL AND address_unit IS NOT NULL
        GROUP BY address_key HAVING count(DISTINCT address_unit) >= {int(min_units)}
        """


# A parcel of the commodity a cluster is scored as (or unidentified goods counted as it).
_MAIN = "(m.commodity = c.commodity OR (c.fold AND m.commodity = 'unknown'))"


def _cluster_scores_sql(prefix: str, config: dict) -> str:
    """`{prefix}cluster_scores`: per cluster its figures (`_base`, written by `_base_sql`), one
    strength per signal (`_strengths_sql`), the score and the evasion. `$newest` is the newest
    parcel's time."""
    weights, flag = config["weights"], config["flag"]
    return f"""
        CREATE OR REPLACE TABLE {prefix}cluster_scores AS
        WITH base AS (SELECT * FROM _base),
        strengths AS (
{_strengths_sql(config["signals"])}
        )
        SELECT *,
               100 * ({' + '.join(f'{float(weights[s])} * s_{s}' for s in CLUSTER_SIGNALS)}) / {sum(float(weights[s]) for s in CLUSTER_SIGNALS)} AS score,
               -- evasion: the strongest pattern that tells an operation from trade - the splitting
               -- signature, identity churn, a demonstrably false declaration, goods whose origin is
               -- disguised on most parcels (false origin, relabelling), or a re-export route
               -- (many people behind one account is a shop's staff as much as recruits, unless the
               -- parcels converge on few receivers)
               greatest(CASE WHEN converging THEN s_split ELSE 0 END, CASE WHEN converging THEN s_identity_churn ELSE 0 END,
                        CASE WHEN s_declaration >= {float(flag['strong_declaration'])} THEN s_declaration ELSE 0 END,
                        CASE WHEN coalesce(origin_share, 0) >= {float(flag['min_origin_share'])} THEN origin_share ELSE 0 END,
                        CASE WHEN reexport THEN 1.0 ELSE 0 END) AS evasion
        FROM strengths
        """


def _base_sql(sig: dict) -> str:
    """Per cluster: its size, parties, channels, span, kilograms, mean declaration anomaly,
    routing shares and the figures of the splitting signature (over the parcels of its main
    commodity)."""
    small = float(sig["split_small_fraction"])
    margin = float(sig["split_round_margin"])
    return f"""
            SELECT m.group_key, min(m.component_key) AS component_key,
                   count(*) AS parcels,
                   count(DISTINCT m.sender_entity) AS senders,
                   count(DISTINCT m.receiver_entity) AS receivers,
                   count(DISTINCT m.sender_name) AS sender_names,
                   count(DISTINCT m.carrier) AS carriers,
                   count(DISTINCT m.acceptance_point) AS acceptance_points,
                   count(DISTINCT m.dest_country) AS dest_countries,
                   mode(m.dest_country ORDER BY m.dest_country) AS dest_country,
                   min(m.accepted_at) AS first_seen, max(m.accepted_at) AS last_seen,
                   sum(m.est_kg) FILTER (WHERE {_MAIN}) AS commodity_kg,
                   sum(m.declared_weight_kg) AS declared_kg,
                   -- declaration: mean anomaly over the goods-carrying seeds (parcels attached
                   -- as context have no goods signal by definition and would only dilute it)
                   avg(m.decl) FILTER (WHERE m.seed) AS declaration,
                   avg(m.routing) AS transit_share,
                   avg(CASE WHEN m.false_origin >= {float(sig['origin_min_strength'])} THEN 1 ELSE 0 END) FILTER (WHERE m.seed) AS origin_share,
                   avg(CASE WHEN m.receiver_address_key IN (SELECT address_key FROM _forwarders) THEN 1 ELSE 0 END) AS forwarder_share,
                   count(DISTINCT m.receiver_address_key || '#' || coalesce(m.receiver_unit, '')) AS receiver_addresses,
                   -- split signature, over the parcels of the main commodity
                   count(*) FILTER (WHERE {_MAIN} AND m.est_kg > 0) AS goods_parcels,
                   avg(CASE WHEN m.est_kg <= {small} * k.threshold_kg THEN 1 ELSE 0 END)
                       FILTER (WHERE {_MAIN} AND m.est_kg > 0) AS small_share,
                   coalesce(stddev_pop(m.declared_weight_kg) FILTER (WHERE {_MAIN} AND m.est_kg > 0)
                       / nullif(avg(m.declared_weight_kg) FILTER (WHERE {_MAIN} AND m.est_kg > 0), 0), 1) AS weight_cv,
                   avg(CASE WHEN ceil(m.declared_weight_kg) - m.declared_weight_kg > 0
                             AND ceil(m.declared_weight_kg) - m.declared_weight_kg <= {margin} * ceil(m.declared_weight_kg)
                            THEN 1 ELSE 0 END)
                       FILTER (WHERE {_MAIN} AND m.est_kg > 0) AS round_under_share,
                   count(DISTINCT m.receiver_entity) FILTER (WHERE {_MAIN} AND m.est_kg > 0) AS goods_receivers
            FROM _members m JOIN _main_commodity c USING (group_key) JOIN catalogue_commodities k ON k.commodity = c.commodity
            GROUP BY m.group_key"""


def _strengths_sql(sig: dict) -> str:
    """Per cluster: one strength per signal in 0..1 (`s_<signal>`), with the figures behind them."""
    small = float(sig["split_small_fraction"])
    return f"""
            SELECT b.*, {small} AS split_small_fraction, c.commodity AS scored_commodity, c.shown_commodity AS commodity,
                   ks.label AS commodity_label, k.label AS scored_label, k.threshold_kg, k.window_days,
                   rt.retail, rt.buyers, rt.one_off_buyers, rt.buyer_countries, rt.top_receiver_share, rt.false_share,
                   rt.retail_goods, coalesce(rt.converging, true) AS converging, coalesce(rx.reexport, false) AS reexport, rx.reexport_via,
                   coalesce(w.window_kg, 0) AS est_controlled_kg, w.window_parcels, w.window_start, w.window_end,
                   coalesce(w.window_kg, 0) / k.threshold_kg AS ratio,
                   least(1.0, coalesce(w.window_kg, 0) / k.threshold_kg) AS s_quantity,
                   coalesce(b.declaration, 0) AS s_declaration,
                   CASE WHEN b.goods_parcels >= {int(sig['split_min_parcels'])} THEN
                       coalesce(b.small_share, 0)
                       * (0.5 + 0.5 * greatest(greatest(0.0, 1 - b.weight_cv), coalesce(b.round_under_share, 0)))
                       * (1 - (b.goods_receivers - 1) / greatest(b.goods_parcels - 1, 1))
                   ELSE 0 END AS s_split,
                   least(1.0, (coalesce(h.max_names, 1) - 1) / {float(sig['churn_full_names']) - 1}) AS s_identity_churn,
                   h.max_names, h.churn_kind, h.churn_phones, h.churn_ids,
                   0.7 * least(1.0, (b.carriers - 1) / {float(sig['channel_full_carriers']) - 1})
                     + 0.3 * least(1.0, greatest(b.acceptance_points - 1, 0) / {float(sig['channel_full_points']) - 1}) AS s_channel_switching,
                   greatest(b.transit_share, b.forwarder_share, CASE WHEN rx.reexport THEN 1.0 ELSE 0.0 END) AS s_routing,
                   pow(0.5, greatest(0, date_diff('second', b.last_seen, $newest::TIMESTAMP)) / 86400.0
                       / {float(sig['recency_half_life_days'])}) AS s_recency
            FROM base b
            JOIN _main_commodity c USING (group_key)
            JOIN catalogue_commodities k ON k.commodity = c.commodity
            JOIN catalogue_commodities ks ON ks.commodity = c.shown_commodity
            LEFT JOIN _worst_window w USING (group_key)
            LEFT JOIN _churn_max h USING (group_key)
            LEFT JOIN _retail rt USING (group_key)
            LEFT JOIN _reexport rx USING (group_key)"""


def _round_doubles(con: duckdb.DuckDBPyConnection, table: str) -> None:
    # Sums and averages over a cluster's parcels come out of parallel aggregation in no fixed
    # order, so their last bits vary between runs; an average of a few simple values often
    # sits exactly on a rounding boundary (0.225), where that noise decides between "0.22"
    # and "0.23" in an evidence line or a rank. Round every figure to 9 decimals once, here,
    # so that every later decision and text sees the same numbers.
    doubles = [r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? AND data_type = 'DOUBLE'",
        [table],
    ).fetchall()]
    if doubles:
        con.execute(f"UPDATE {table} SET " + ", ".join(f'"{c}" = round("{c}", 9)' for c in doubles))


def _flag_sql(prefix: str, flag: dict) -> str:
    """The flag rule of the module docstring, as a column of `{prefix}cluster_scores`."""
    return f"""
        ALTER TABLE {prefix}cluster_scores ADD COLUMN flagged BOOLEAN;
        UPDATE {prefix}cluster_scores SET flagged = score >= {float(flag['min_score'])}
            AND ratio >= {float(flag['min_ratio'])} AND coalesce(window_parcels, 0) >= {int(flag['min_window_parcels'])}
            AND s_declaration >= {float(flag['min_declaration'])}
            AND evasion >= {float(flag['min_evasion'])}
            AND NOT coalesce(retail, false);
        """


def _worst_windows(con: duckdb.DuckDBPyConnection) -> None:
    """`_worst_window`: per cluster and reading of its commodity (`_main_candidates`), the rolling
    window of the commodity's length holding the most estimated kg of it, with its parcel count
    and span. A window starts at a parcel and runs window_days forward; one query per distinct
    window length, since a SQL RANGE frame needs a constant length."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _worst_window (group_key BIGINT, fold BOOLEAN, window_kg DOUBLE, window_parcels BIGINT, "
        "window_start TIMESTAMP, window_end TIMESTAMP)"
    )
    windows = [r[0] for r in con.execute(
        "SELECT DISTINCT k.window_days FROM _main_candidates c JOIN catalogue_commodities k USING (commodity) ORDER BY 1"
    ).fetchall()]
    for days in windows:
        span = f"INTERVAL {int(days) * 86400 - 1} SECOND"
        con.execute(
            f"""
            INSERT INTO _worst_window
            SELECT group_key, fold, arg_max(kg, (kg, -epoch(accepted_at))), arg_max(n, (kg, -epoch(accepted_at))),
                   arg_max(accepted_at, (kg, -epoch(accepted_at))), arg_max(until, (kg, -epoch(accepted_at)))
            FROM (
                SELECT m.group_key, c.fold, m.accepted_at,
                       sum(m.est_kg) OVER w AS kg, count(*) OVER w AS n, max(m.accepted_at) OVER w AS until
                FROM _members m JOIN _main_candidates c USING (group_key) JOIN catalogue_commodities k ON k.commodity = c.commodity
                WHERE (m.commodity = c.commodity OR (c.fold AND m.commodity = 'unknown')) AND m.est_kg > 0 AND k.window_days = {int(days)}
                WINDOW w AS (PARTITION BY m.group_key, c.fold ORDER BY m.accepted_at
                             RANGE BETWEEN CURRENT ROW AND {span} FOLLOWING)
            )
            GROUP BY group_key, fold
            """
        )


def _retail(con: duckdb.DuckDBPyConnection, cfg: dict, strong_declaration: float, min_origin_share: float,
            origin_min_strength: float) -> None:
    """`_retail`: per cluster, the shape of its trade, and whether it is a shop's (`retail`).

    A web shop of fridge magnets, jewellery or alloy parts posts hundreds of small parcels under
    its name's many spellings and its staff's names, from one account or warehouse - the same
    convergence on the sending side that an operation shows - but to hundreds of buyers who each
    buy once or twice, in many countries, with declarations that fit the goods. An operation is
    the opposite on the receiving side: few receivers who recur (DOMAIN.md). So a cluster is a
    retail pattern when, over its goods-carrying parcels:
    - at least `min_buyers` distinct receivers, and at least `min_one_off_share` of the parcels
      go to receivers who got at most `one_off_max_parcels` of them;
    - no receiver holds more than `max_top_receiver_share` of the parcels;
    - they go to at least `min_countries` countries;
    - at most `max_false_share` of them carry a demonstrably false declaration (a weight gap,
      a heading that contradicts the description, a price far off; strength >= the flag's
      strong_declaration): a shop's goods are what it says they are.
    Such a cluster stays in the queue unflagged, with the reason in its summary.

    `converging`: the goods parcels go to at most `converge_min_receivers` receivers, or to no
    more receivers than `converge_max_receiver_share` of the parcels, receivers counted as
    resolved parties or as receiving addresses (with their unit), whichever are fewer. Identity churn and the
    splitting signature count as evasion only then: many names behind one account are a shop's
    staff and spellings as much as an organiser's recruits, and many small parcels are a shop's
    trade as much as a split consignment; what tells them apart is where the parcels go."""
    one_off = int(cfg["one_off_max_parcels"])
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE _retail AS
        WITH per_receiver AS (
            SELECT group_key, receiver_entity, count(*) AS n FROM _members WHERE seed GROUP BY ALL
        ), receivers AS (
            SELECT group_key, count(*) AS buyers, count(*) FILTER (WHERE n <= {one_off}) AS one_off_buyers,
                   sum(n) FILTER (WHERE n <= {one_off}) / sum(n) AS one_off_share, max(n) / sum(n) AS top_receiver_share
            FROM per_receiver GROUP BY group_key
        ), goods AS (
            SELECT group_key, count(DISTINCT dest_country) AS buyer_countries,
                   avg(CASE WHEN shown_false >= {float(strong_declaration)} THEN 1 ELSE 0 END) AS false_share,
                   avg(CASE WHEN false_origin >= {float(origin_min_strength)} THEN 1 ELSE 0 END) AS origin_share,
                   count(*) AS seed_parcels,
                   -- receivers counted the least divided way, parties or places: a receiver whose
                   -- name is written many ways is still one address (or suite)
                   -- (a customer code of four digits or more is the place on its own: "#US67381" and
                   -- "Suite 67381" at one warehouse are one customer, however the street is written)
                   least(count(DISTINCT receiver_entity),
                         count(DISTINCT {receiving_point_sql('receiver_address_key', 'receiver_unit', 'parcel_seq')})) AS receiving_points,
                   mode(lower(trim(declared_description)) ORDER BY lower(trim(declared_description))) AS retail_goods
            FROM _members WHERE seed GROUP BY group_key
        )
        SELECT r.group_key, r.buyers, r.one_off_buyers, coalesce(r.one_off_share, 0) AS one_off_share,
               r.top_receiver_share, g.buyer_countries, g.false_share, g.retail_goods,
               -- the receiving side converges (few receivers for the parcels), as an operation's does
               g.receiving_points <= greatest({int(cfg['converge_min_receivers'])}, {float(cfg['converge_max_receiver_share'])} * g.seed_parcels) AS converging,
               r.buyers >= {int(cfg['min_buyers'])}
               AND coalesce(r.one_off_share, 0) >= {float(cfg['min_one_off_share'])}
               AND r.top_receiver_share <= {float(cfg['max_top_receiver_share'])}
               AND g.buyer_countries >= {int(cfg['min_countries'])}
               AND g.false_share <= {float(cfg['max_false_share'])}
               -- a disguised origin or a re-export route is no shop's habit
               AND coalesce(g.origin_share, 0) < {float(min_origin_share)}
               AND r.group_key NOT IN (SELECT group_key FROM _reexport) AS retail
        FROM receivers r JOIN goods g USING (group_key)
        """
    )


def _reexport(con: duckdb.DuckDBPyConnection) -> None:
    """`_reexport`: clusters holding a re-export route - a party that received parcels in a
    country and sent parcels on from that same country (the destination of one leg is the
    origin of a later one). Transshipment through a third country looks exactly so where both
    legs are in the data; resolution is role-blind, so the consignee and the onward sender are
    one party when their names and contacts agree. The onward leg must carry goods and leave
    within 90 days of the first leg's arrival."""
    # The home country is where most parcels are posted: a party there who receives from abroad
    # and posts abroad is a resident, not a transit point; nor is one who sends goods back.
    home = con.execute("SELECT mode(origin_country ORDER BY origin_country) FROM parcels").fetchall()[0][0]
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _reexport AS
        SELECT a.group_key, true AS reexport, min(a.dest_country) AS reexport_via
        FROM _members a
        JOIN _members b ON b.group_key = a.group_key AND b.sender_entity = a.receiver_entity
                       AND b.origin_country = a.dest_country AND b.accepted_at >= a.accepted_at
                       AND b.accepted_at <= a.accepted_at + INTERVAL 90 DAY
        -- the onward leg carries goods; goods arrived and left again within a quarter
        WHERE a.dest_country <> a.origin_country AND b.parcel_seq <> a.parcel_seq AND b.est_kg > 0
          AND a.dest_country IS DISTINCT FROM $home AND b.dest_country <> a.origin_country
        GROUP BY a.group_key
        """,
        {"home": home},
    )


def receiving_point_sql(address_key: str, unit: str, row_id: str) -> str:
    """SQL for where a parcel is received: a customer code of four digits or more on its own
    (a forwarding warehouse's customer, however the street and the code's prefix are written:
    "#US67381", "Suite 67381"), else the address with its unit; a parcel without an address
    is its own point (missing data makes no convergence)."""
    from linker.stages.detect import customer_code_sql

    digits = f"regexp_replace(coalesce({unit}, ''), '[^0-9]', '', 'g')"
    return (f"CASE WHEN length({digits}) >= 4 THEN '#' || {customer_code_sql(unit)} "
            f"WHEN {address_key} IS NULL OR {address_key} = '' THEN 'parcel:' || CAST({row_id} AS VARCHAR) "
            f"ELSE {address_key} || '#' || coalesce({unit}, '') END")


def _churn(con: duckdb.DuckDBPyConnection) -> None:
    """`_churn_max`: per cluster, the non-hub identifier behind the most distinct people (the most
    of its distinct resolved parties, phones and ID numbers: a second spelling is no second person),
    with the phones and ID numbers behind it. Sender accounts, phones, ID numbers and addresses
    are counted against sender names; receiver phones and addresses against receiver names."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _churn_max AS
        WITH uses AS (
            SELECT m.group_key, pm.role, k.kind, k.key, pm.entity_id, pm.name_key, pm.phone_e164, pm.id_number_norm
            FROM _members m
            JOIN party_mentions pm ON pm.parcel_seq = m.parcel_seq
            CROSS JOIN LATERAL (
                SELECT * FROM (VALUES
                    ('account', pm.account_norm),
                    ('phone', pm.phone_e164),
                    ('id_number', pm.id_number_norm),
                    ('address', pm.address_key || '#' || coalesce(pm.address_unit, ''))
                ) AS v(kind, key)
            ) k
            WHERE k.key IS NOT NULL AND k.key <> ''
        ),
        per_identifier AS (
            SELECT group_key, role, kind, key,
                   -- people, not spellings: a name written three ways with one phone is one
                   -- person; recruits each bring their own phone and ID number, even where
                   -- resolution merged them because they share the account
                   greatest(count(DISTINCT entity_id), count(DISTINCT phone_e164), count(DISTINCT id_number_norm), 1) AS names,
                   count(DISTINCT phone_e164) AS phones,
                   count(DISTINCT id_number_norm) AS ids
            FROM uses ANTI JOIN _hub_keys USING (kind, key) GROUP BY ALL
        )
        SELECT group_key,
               -- (role, kind, key) is unique within a cluster, so ties cannot pick rows at random
               arg_max(names, (names, phones + ids, kind, role, key)) AS max_names,
               arg_max(role || ' ' || kind, (names, phones + ids, kind, role, key)) AS churn_kind,
               arg_max(phones, (names, phones + ids, kind, role, key)) AS churn_phones,
               arg_max(ids, (names, phones + ids, kind, role, key)) AS churn_ids
        FROM per_identifier
        GROUP BY group_key
        """
    )
