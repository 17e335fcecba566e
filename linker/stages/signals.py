"""Goods signals per parcel: what each declaration says about controlled goods, with evidence.

Reads `parcels` and the controlled-items catalogue (linker/settings/catalogue.py) and writes

- `parcel_signals(parcel_seq, signal, commodity, strength, evidence)`: one row per signal that
  fires on a parcel (a parcel naming two commodities has two `controlled_match` rows);
- `parcel_goods(parcel_seq, commodity, est_controlled_kg, basis, confidence, evidence)`: one row
  per parcel that probably carries controlled goods, with the commodity and the kilograms the
  cluster scoring sums against the commodity's threshold;
- `catalogue_commodities`: the catalogue's commodities with thresholds and prices (plus an
  `unknown` row), so later stages can join on them in SQL.

The signals (strengths in 0..1 and every threshold come from the catalogue's `[signals]`):

- controlled_match: the description names a controlled commodity (by name in any language, a
  chemical formula, a bare element symbol beside a purity or material word, or a name with a
  typo), or, naming none, the declared heading is a controlled heading.
- cover_description: the description (or, failing that, the heading) is a known cover for
  controlled goods ("nickel powder", 铁合金, 7202 ...), and names nothing controlled.
- heading_mismatch: a named controlled commodity declared under a heading foreign to it
  (strongest under one of its cover headings), or cover goods declared under a controlled heading.
- value_per_kg_anomaly: declared USD per kg far below the reference price of the named
  commodity, or far above the price of the cover goods described (priced like a controlled metal).
- concealment: weighed gross weight above what the declared net weight and a packaging allowance
  explain; graded by the unexplained mass relative to the declared parcel.
- false_origin: declared origin differs from the posting country (stronger with goods signals).
- transshipment: a parcel with probable controlled goods goes to a known transit country.

How it runs: everything is set work in DuckDB. The catalogue's terms are registered as small
tables; the distinct descriptions are folded (NFC, full-width to ASCII) and split into tokens
once; names and symbols are joined to the tokens on their first token and checked as whole-word
phrases; Chinese names are matched as substrings; typo tolerance compares each distinct token
with each single-word name (rapidfuzz, Damerau-Levenshtein) once, not each parcel. Parcels then
join to their description's matches and to the headings their hs_code starts with. The stage
tables are temporary (`sig_*`) and dropped at the end.
"""

from __future__ import annotations

import logging
import re
import time

import duckdb
import pyarrow as pa
from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

from linker.settings.catalogue import UNKNOWN, Catalogue
from linker.store.sql import literal

log = logging.getLogger(__name__)

# The goods signals of one parcel (the signals of a cluster are settings.scoring.CLUSTER_SIGNALS).
PARCEL_SIGNALS = (
    "controlled_match",
    "cover_description",
    "heading_mismatch",
    "value_per_kg_anomaly",
    "concealment",
    "false_origin",
    "transshipment",
)

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# Full-width ASCII (U+FF01..U+FF5E) and the ideographic space fold to ASCII, so that
# "Ｄｙ２Ｏ３" is Dy2O3; DuckDB has NFC but not NFKC.
_FULLWIDTH = "".join(chr(c) for c in range(0xFF01, 0xFF5F)) + "\u3000"
_ASCII = "".join(chr(c) for c in range(0x21, 0x7F)) + " "


def _lit(value) -> str:
    """A SQL literal for a value taken from the validated catalogue."""
    return literal(value) if isinstance(value, str) else f"{float(value)!r}::DOUBLE"


def compute_parcel_signals(con: duckdb.DuckDBPyConnection, catalogue: Catalogue, *, after_seq: int | None = None) -> int:
    """(Re)create `parcel_signals`, `parcel_goods` and `catalogue_commodities` from `parcels`.

    Returns the number of rows of `parcel_signals`. Deterministic for the same parcels and
    catalogue. Safe to run again: the three tables are replaced. With `after_seq`, only the
    parcels with a higher parcel_seq (loaded since) are read and their rows appended: every
    signal is a property of one parcel, so the tables end as a full run would leave them.
    """
    started = time.perf_counter()
    s = catalogue.signals
    _register_catalogue(con, catalogue)
    where = "TRUE" if after_seq is None else f"parcel_seq > {int(after_seq)}"
    con.execute(f"CREATE OR REPLACE TEMP VIEW sig_source AS SELECT * FROM parcels WHERE {where}")
    stages = [
        ("sig_term_keys", _term_keys_sql()),
        ("sig_descriptions", _descriptions_sql(s.symbol_context_pattern, s.relabel_pattern, s.relabel_material_pattern)),
        ("sig_desc_tokens", _desc_tokens_sql()),
    ]
    for name, sql in stages:
        _materialise(con, name, sql)
    _register_fuzzy_matches(con, catalogue)
    stages = [
        ("sig_desc_hits", _desc_hits_sql(s)),
        ("sig_article_desc", _article_desc_sql(catalogue.articles.pattern if catalogue.articles else None)),
        ("sig_article_headings", _article_headings_sql(catalogue.articles.headings if catalogue.articles else ())),
        ("sig_controlled_desc", _controlled_desc_sql()),
        ("sig_cover_desc", _cover_desc_sql()),
        ("sig_parcels", _parcels_sql()),
        ("sig_parcel_headings", _parcel_headings_sql()),
        ("sig_parcel_named", _parcel_named_sql()),
        ("sig_parcel_heading_only", _parcel_heading_only_sql()),
        ("sig_parcel_cover", _parcel_cover_sql(s)),
        ("sig_parcel_concealment", _parcel_concealment_sql(s)),
        ("sig_parcel_goods", _parcel_goods_sql()),
    ]
    for name, sql in stages:
        _materialise(con, name, sql)
    write = "CREATE OR REPLACE TABLE {} AS" if after_seq is None else "INSERT INTO {}"
    con.execute(f"{write.format('parcel_goods')} SELECT * FROM ({_final_goods_sql(s)}) ORDER BY parcel_seq")
    con.execute(
        f"{write.format('parcel_signals')} SELECT parcel_seq, signal, commodity, strength::DOUBLE AS strength, "
        f"evidence FROM ({_signals_sql(s)}) ORDER BY parcel_seq, signal, commodity NULLS FIRST, evidence"
    )
    con.execute(
        "CREATE OR REPLACE TABLE catalogue_commodities AS SELECT commodity, label, threshold_kg, window_days, "
        "price_usd_per_kg, generic, controlled_since FROM sig_commodities"
    )
    n = con.execute("SELECT count(*) FROM parcel_signals").fetchall()[0][0]
    _drop_stage_tables(con)
    con.execute("DROP VIEW IF EXISTS sig_source")
    log.info("parcel signals: %d rows in %.1fs", n, time.perf_counter() - started)
    return int(n)


def _materialise(con, name: str, sql: str) -> None:
    t = time.perf_counter()
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}")
    log.debug("%s in %.2fs", name, time.perf_counter() - t)


def _drop_stage_tables(con) -> None:
    names = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE temporary AND table_name LIKE 'sig\\_%' ESCAPE '\\'"
    ).fetchall()
    for (name,) in names:
        con.execute(f"DROP TABLE IF EXISTS temp.{name}")


# --- the catalogue as tables -------------------------------------------------------------------


def _register_catalogue(con, cat: Catalogue) -> None:
    """The catalogue as small temporary tables, and the text folding shared by terms and texts."""
    _register_macros(con)
    _create(con, "sig_terms", _terms_table(cat))
    _create(con, "sig_headings", _headings_table(cat))
    _create(con, "sig_commodities", _commodities_table(cat))
    _create(con, "sig_covers", _covers_table(cat))
    commodities = list(cat.commodities.values())
    pairs = [(k, c.id) for c in commodities for k in c.covers]
    _create(con, "sig_cover_of", pa.table({"cover": [p[0] for p in pairs], "commodity": [p[1] for p in pairs]},
                                          schema=pa.schema([("cover", pa.string()), ("commodity", pa.string())])))
    _create(con, "sig_rates", pa.table({"currency": list(cat.usd_per_unit), "usd": list(cat.usd_per_unit.values())},
                                       schema=pa.schema([("currency", pa.string()), ("usd", pa.float64())])))
    transit = [(c, country) for c in [*cat.commodities, UNKNOWN] for country in cat.transit_countries_for(c)]
    _create(con, "sig_transit", pa.table({"commodity": [t[0] for t in transit], "country": [t[1] for t in transit]},
                                         schema=pa.schema([("commodity", pa.string()), ("country", pa.string())])))
    # Which commodity goods hidden behind a cover are taken to be: the only commodity that uses
    # the cover; else a generic commodity (rare earths, unspecified) whose family holds all of
    # them (family: the commodities sharing a heading with it; nickel powder hides only rare
    # earths); else unknown (ferro-alloys hide rare earths, tungsten and molybdenum alike).
    _materialise(con, "sig_cover_attr", _COVER_ATTR_SQL)


def _register_macros(con) -> None:
    con.execute(
        # translate() is slow, so only texts that hold a full-width character go through it
        "CREATE OR REPLACE TEMP MACRO sig_fold(t) AS CASE WHEN regexp_matches(t, '[\\x{FF01}-\\x{FF5E}\\x{3000}]') "
        f"THEN translate(nfc_normalize(t), {_lit(_FULLWIDTH)}, {_lit(_ASCII)}) ELSE nfc_normalize(t) END"
    )
    # Tokens are runs of letters and digits; a run of Han characters is its own token, so that
    # "镝Dy2O3" gives 镝 and Dy2O3 (Chinese names are matched as substrings anyway).
    con.execute(
        r"""CREATE OR REPLACE TEMP MACRO sig_tokens(folded) AS
        list_filter(regexp_split_to_array(regexp_replace(folded, '(\p{Han}+)', ' \1 ', 'g'),
                                          '[^\p{L}\p{N}]+'), lambda x: x <> '')"""
    )
    # A list of names for evidence, shortened: "dysprosium, erbium, europium and 14 more".
    con.execute(
        "CREATE OR REPLACE TEMP MACRO sig_some(l) AS CASE WHEN len(l) > 4 "
        "THEN array_to_string(l[1:3], ', ') || ' and ' || (len(l) - 3) || ' more' ELSE array_to_string(l, ', ') END"
    )


def _terms_table(cat: Catalogue) -> pa.Table:
    """Every name, symbol and article word of the catalogue with its owner, match mode and strength."""
    s = cat.signals
    terms = {"owner_kind": [], "owner": [], "term": [], "lang": [], "mode": [], "strength": []}

    def add(kind, owner, term, lang, mode, strength):
        for key, value in zip(terms, (kind, owner, term, lang, mode, strength)):
            terms[key].append(value)

    for c in cat.commodities.values():
        cap = c.match_strength if c.match_strength is not None else 1.0
        for lang, names in c.names.items():
            for name in names:
                mode = "han" if _HAN.search(name) else "words"
                base = c.match_strength if c.match_strength is not None else s.name_match_strength
                add("commodity", c.id, name, lang, mode, base)
        for sym in c.symbols:
            add("commodity", c.id, sym, "symbol", "symbol", min(s.symbol_match_strength, cap))
        for sym in c.ambiguous_symbols:
            add("commodity", c.id, sym, "symbol", "ambiguous", min(s.ambiguous_symbol_strength, cap))
    for k in cat.covers.values():
        for lang, names in k.names.items():
            for name in names:
                add("cover", k.id, name, lang, "han" if _HAN.search(name) else "words", k.strength)
    if cat.articles is not None:
        for lang, names in cat.articles.names.items():
            for name in names:
                add("article", "article", name, lang, "han" if _HAN.search(name) else "words", 1.0)
    return pa.table(terms)


def _headings_table(cat: Catalogue) -> pa.Table:
    headings = {"owner_kind": [], "owner": [], "heading": []}
    for kind, items in (("commodity", cat.commodities.values()), ("cover", cat.covers.values())):
        for item in items:
            for h in item.headings:
                headings["owner_kind"].append(kind)
                headings["owner"].append(item.id)
                headings["heading"].append(h)
    return pa.table(headings, schema=pa.schema([("owner_kind", pa.string()), ("owner", pa.string()), ("heading", pa.string())]))


def _commodities_table(cat: Catalogue) -> pa.Table:
    """The commodities with thresholds and prices, plus the `unknown` row."""
    s = cat.signals
    commodities = list(cat.commodities.values())
    return pa.table(
        {
            "commodity": [c.id for c in commodities] + [UNKNOWN],
            "label": [c.label for c in commodities] + ["unidentified controlled goods"],
            "threshold_kg": [c.threshold_kg for c in commodities] + [s.unknown_threshold_kg],
            "window_days": [c.window_days for c in commodities] + [s.unknown_window_days],
            "price_usd_per_kg": [c.price_usd_per_kg for c in commodities] + [None],
            "generic": [c.generic for c in commodities] + [False],
            "controlled_since": [c.controlled_since for c in commodities] + [None],
            "articles_exempt": [c.articles_exempt for c in commodities] + [False],
        },
        schema=pa.schema(
            [("commodity", pa.string()), ("label", pa.string()), ("threshold_kg", pa.float64()),
             ("window_days", pa.int32()), ("price_usd_per_kg", pa.float64()), ("generic", pa.bool_()),
             ("controlled_since", pa.string()), ("articles_exempt", pa.bool_())]
        ),
    )


def _covers_table(cat: Catalogue) -> pa.Table:
    covers = list(cat.covers.values())
    return pa.table(
        {
            "cover": [k.id for k in covers],
            "label": [k.label for k in covers],
            "price_usd_per_kg": [k.price_usd_per_kg for k in covers],
            "strength": [k.strength for k in covers],
        },
        schema=pa.schema([("cover", pa.string()), ("label", pa.string()), ("price_usd_per_kg", pa.float64()), ("strength", pa.float64())]),
    )


_COVER_ATTR_SQL = """
        WITH cand AS (
            SELECT o.cover, o.commodity, c.label FROM sig_cover_of o JOIN sig_commodities c USING (commodity)
        ), family AS (
            SELECT DISTINCT g.owner AS generic, m.owner AS member
            FROM sig_headings g
            JOIN sig_commodities gc ON gc.commodity = g.owner AND gc.generic
            JOIN sig_headings m ON m.heading = g.heading AND m.owner_kind = 'commodity'
            WHERE g.owner_kind = 'commodity'
        ), generic_fit AS (
            SELECT c.cover, min(f.generic) AS generic FROM (
                SELECT c.cover, f.generic FROM cand c JOIN family f ON f.member = c.commodity
                GROUP BY c.cover, f.generic
                HAVING count(DISTINCT c.commodity) = (SELECT count(DISTINCT x.commodity) FROM cand x WHERE x.cover = c.cover)
            ) f JOIN cand c USING (cover) GROUP BY c.cover
        )
        SELECT c.cover,
               CASE WHEN count(DISTINCT c.commodity) = 1 THEN min(c.commodity)
                    ELSE coalesce(min(g.generic), 'unknown') END AS commodity,
               list_sort(list(c.label)) AS candidates
        FROM cand c LEFT JOIN generic_fit g USING (cover)
        GROUP BY c.cover
        """


def _create(con, name: str, table: pa.Table) -> None:
    con.register("sig_incoming", table)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM sig_incoming")
    finally:
        con.unregister("sig_incoming")


# --- stages: descriptions and what they name ---------------------------------------------------


def _term_keys_sql() -> str:
    """Each term in the form it is matched in.

    Word names and symbols become a lower-case phrase of tokens padded with spaces (' rare earth '),
    matched against the description's padded token string, so that only whole words match;
    ambiguous element symbols keep their case; Chinese names are matched as folded substrings.
    `first_token` lets the phrase match start from a hash join on one token.
    """
    return """
    SELECT *,
           CASE mode WHEN 'han' THEN sig_fold(term)
                     WHEN 'ambiguous' THEN ' ' || array_to_string(toks, ' ') || ' '
                     ELSE ' ' || lower(array_to_string(toks, ' ')) || ' ' END AS term_key,
           CASE mode WHEN 'ambiguous' THEN toks[1] ELSE lower(toks[1]) END AS first_token,
           len(toks) AS n_tokens
    FROM (SELECT *, sig_tokens(sig_fold(term)) AS toks FROM sig_terms)
    WHERE len(toks) > 0
    """


def _descriptions_sql(context_pattern: str, relabel_pattern: str | None = None, material_pattern: str | None = None) -> str:
    """Distinct descriptions, folded and tokenised once, with a flag for a chemical context
    (a purity, a grade or a material word) that lets a bare element symbol count, and the
    relabelling wording it carries, if any (`relabel`: the text as found)."""
    relabel = (f"nullif(regexp_extract(folded, {_lit(relabel_pattern)}, 0), '')" if relabel_pattern
               else "NULL::VARCHAR")
    material = (f"regexp_matches(folded, {_lit(material_pattern)})" if material_pattern
                else f"regexp_matches(folded, {_lit(context_pattern)}, 'i')")
    return f"""
    SELECT description, row_number() OVER (ORDER BY description) AS desc_id, folded, toks, {relabel} AS relabel,
           ' ' || array_to_string(toks, ' ') || ' ' AS tokens_case,
           ' ' || lower(array_to_string(toks, ' ')) || ' ' AS tokens_lower,
           regexp_matches(folded, {_lit(context_pattern)}, 'i') AS has_context,
           {material} AS names_material,
           regexp_matches(folded, '\\p{{Han}}') AS has_han
    FROM (
        SELECT description, folded, sig_tokens(folded) AS toks
        FROM (SELECT description, sig_fold(description) AS folded
              FROM (SELECT DISTINCT declared_description AS description FROM sig_source))
    )
    """


def _desc_tokens_sql() -> str:
    return """
    SELECT DISTINCT desc_id, token, lower(token) AS token_lower
    FROM (SELECT desc_id, unnest(toks) AS token FROM sig_descriptions)
    """


def _register_fuzzy_matches(con, cat: Catalogue) -> None:
    """Tokens that are a typo of a single-word name: `sig_fuzzy(token_lower, owner_kind, owner, term, edits)`.

    Each distinct token is compared once with each single-word name of at least
    `fuzzy_min_length` characters (Damerau-Levenshtein: insertions, deletions, substitutions and
    swaps), allowing `fuzzy_max_edits` edits, or `fuzzy_max_edits_long` for names of
    `fuzzy_long_length` or more. Tokens that are themselves a name, a digit run, Chinese, or on
    the `fuzzy_never` list (words a typo away from a name but meaning something else, such as
    iridium or Германия) are not compared. Python here loops over catalogue names, not parcels;
    rapidfuzz compares a name with all tokens in one call.
    """
    s = cat.signals
    lo = max(1, s.fuzzy_min_length - s.fuzzy_max_edits_long)
    names = con.execute(
        f"""SELECT DISTINCT owner_kind, owner, term, lower(toks[1]) FROM sig_term_keys
            WHERE mode = 'words' AND n_tokens = 1 AND length(toks[1]) >= {s.fuzzy_min_length}
              AND owner_kind <> 'article'
            ORDER BY ALL"""
    ).fetchall()
    never = sorted(set(s.fuzzy_never))
    tokens = [
        row[0]
        for row in con.execute(
            f"""SELECT DISTINCT token_lower FROM sig_desc_tokens
                WHERE length(token_lower) >= {lo}
                  AND NOT regexp_matches(token_lower, '^[0-9]+$|\\p{{Han}}')
                  AND token_lower NOT IN (SELECT first_token FROM sig_term_keys WHERE mode IN ('words', 'symbol'))
                  AND token_lower NOT IN (SELECT unnest(?::VARCHAR[]))
                ORDER BY 1""",
            [never],
        ).fetchall()
    ]
    rows = {"token_lower": [], "owner_kind": [], "owner": [], "term": [], "edits": []}
    for kind, owner, term, key in names:
        limit = s.fuzzy_max_edits_long if len(key) >= s.fuzzy_long_length else s.fuzzy_max_edits
        if limit <= 0:
            continue
        for token, edits, _ in process.extract(key, tokens, scorer=DamerauLevenshtein.distance, score_cutoff=limit, limit=None):
            if edits > 0:
                for col, value in zip(rows, (token, kind, owner, term, int(edits))):
                    rows[col].append(value)
    schema = pa.schema([("token_lower", pa.string()), ("owner_kind", pa.string()), ("owner", pa.string()),
                        ("term", pa.string()), ("edits", pa.int32())])
    _create(con, "sig_fuzzy", pa.table(rows, schema=schema))


def _desc_hits_sql(s) -> str:
    """Every (description, term) match, with how it matched and the text as found.

    Word names and symbols: a hash join of description tokens on the term's first token, then
    the whole padded phrase must occur. Ambiguous element symbols: the same, case-sensitive, and
    only in a description with a chemical context. Chinese names: substring of the folded
    description. Typos: the description has a token that `sig_fuzzy` maps to the name.
    """
    return f"""
    SELECT DISTINCT k.desc_id, t.owner_kind, t.owner, t.term,
           CASE t.mode WHEN 'symbol' THEN 'symbol' ELSE 'name' END AS how, t.term AS matched, t.strength
    FROM sig_desc_tokens k
    JOIN sig_term_keys t ON t.mode IN ('words', 'symbol') AND t.first_token = k.token_lower
    JOIN sig_descriptions d ON d.desc_id = k.desc_id
    WHERE t.n_tokens = 1 OR contains(d.tokens_lower, t.term_key)
    UNION ALL
    SELECT DISTINCT k.desc_id, t.owner_kind, t.owner, t.term, 'element symbol', t.term, t.strength
    FROM sig_desc_tokens k
    JOIN sig_term_keys t ON t.mode = 'ambiguous' AND t.first_token = k.token
    JOIN sig_descriptions d ON d.desc_id = k.desc_id
    WHERE d.has_context AND (t.n_tokens = 1 OR contains(d.tokens_case, t.term_key))
    UNION ALL
    SELECT d.desc_id, t.owner_kind, t.owner, t.term, 'name', t.term, t.strength
    FROM sig_descriptions d JOIN sig_term_keys t ON t.mode = 'han' AND contains(d.folded, t.term_key)
    WHERE d.has_han
    UNION ALL
    SELECT DISTINCT k.desc_id, f.owner_kind, f.owner, f.term, 'typo', k.token,
           CASE f.owner_kind WHEN 'commodity' THEN least(t.strength, {_lit(s.fuzzy_match_strength)}) ELSE t.strength END
    FROM sig_desc_tokens k
    JOIN sig_fuzzy f ON f.token_lower = k.token_lower
    JOIN sig_term_keys t ON t.owner_kind = f.owner_kind AND t.owner = f.owner AND t.term = f.term
    """


def _controlled_desc_sql() -> str:
    """Per description, the controlled commodities it names, each by its strongest match.

    The generic commodity (rare earths, unspecified) is dropped where a specific one is also
    named: "dysprosium, a rare earth" is dysprosium; "rare earth magnet" is the magnet.
    """
    return """
    WITH ranked AS (
        SELECT h.desc_id, h.owner AS commodity, h.how, h.matched, h.strength,
               row_number() OVER (PARTITION BY h.desc_id, h.owner
                                  ORDER BY h.strength DESC, h.how, h.matched) AS rn
        FROM sig_desc_hits h WHERE h.owner_kind = 'commodity'
    ), best AS (
        SELECT r.*, c.generic FROM ranked r JOIN sig_commodities c USING (commodity) WHERE rn = 1
    )
    SELECT desc_id, commodity, how, matched, strength FROM best b
    WHERE NOT (generic AND EXISTS (SELECT 1 FROM best o WHERE o.desc_id = b.desc_id AND NOT o.generic))
      -- a finished article is not the material it is made of (fridge magnets, diamond saw blades,
      -- germanium bracelets) unless the description also names a material form (an oxide, a
      -- powder, an ingot: "dysprosium oxide toy set" is dysprosium oxide)
      -- (a sold set of pieces alone does not hide a named metal: "镝 10粒", "gallium 1pc")
      AND NOT (b.desc_id IN (SELECT desc_id FROM sig_article_desc)
               AND (b.commodity IN (SELECT commodity FROM sig_commodities WHERE articles_exempt)
                    OR b.desc_id IN (SELECT a.desc_id FROM sig_article_desc a JOIN sig_descriptions d USING (desc_id)
                                     WHERE a.by_name AND NOT d.has_context)))
    """


def _article_desc_sql(pattern: str | None) -> str:
    """Descriptions of finished consumer articles (`[articles]` of the catalogue): a named
    article ("fridge magnets", 磁力片, "zinc alloy earrings"), or a sold set of pieces ("35pcs")
    where the description has no material word (powder, ingot, oxide, ...). Such goods are made
    of a material, not the material itself, so covers and `articles_exempt` commodities named in
    them do not count: a cover-word resemblance alone never makes controlled kg."""
    pieces = (f"UNION ALL SELECT desc_id, regexp_extract(folded, {_lit(pattern)}, 0), false FROM sig_descriptions "
              f"WHERE NOT has_context AND regexp_matches(folded, {_lit(pattern)})") if pattern else ""
    return f"""
    SELECT desc_id, min(matched) AS article, bool_or(by_name) AS by_name FROM (
        SELECT desc_id, matched, true AS by_name FROM sig_desc_hits WHERE owner_kind = 'article'
        {pieces}
    ) GROUP BY desc_id
    """


def _article_headings_sql(headings: tuple[str, ...]) -> str:
    """The cover headings a finished article is rightly declared under (`[articles] headings`)."""
    values = ", ".join(f"({_lit(h)})" for h in headings)
    return f"SELECT * FROM (VALUES {values}) AS t(heading)" if headings else "SELECT NULL::VARCHAR AS heading WHERE false"


def _cover_desc_sql() -> str:
    """Per description, the single strongest cover-goods name it uses."""
    return """
    SELECT desc_id, owner AS cover, matched, strength FROM (
        SELECT *, row_number() OVER (PARTITION BY desc_id ORDER BY strength DESC, length(matched) DESC, owner) AS rn
        FROM sig_desc_hits WHERE owner_kind = 'cover'
          AND desc_id NOT IN (SELECT desc_id FROM sig_article_desc)
    ) WHERE rn = 1
    """


# --- stages: parcels ---------------------------------------------------------------------------


def _parcels_sql() -> str:
    """The columns of `parcels` the signals use, with the declared value in USD per kg.

    A currency missing from the rate table leaves the value per kg unknown (no value signal)."""
    return """
    SELECT p.parcel_seq, d.desc_id,
           nullif(regexp_replace(coalesce(p.hs_code, ''), '[^0-9]', '', 'g'), '') AS hs,
           p.declared_weight_kg AS declared_kg, p.gross_weight_kg AS gross_kg,
           p.declared_value, upper(coalesce(nullif(trim(p.currency), ''), 'USD')) AS currency,
           CASE WHEN p.declared_weight_kg > 0 AND p.declared_value > 0
                THEN p.declared_value * r.usd / p.declared_weight_kg END AS usd_per_kg,
           upper(trim(p.origin_country)) AS origin, upper(trim(p.dest_country)) AS dest,
           nullif(upper(trim(p.declared_origin)), '') AS declared_origin
    FROM sig_source p
    JOIN sig_descriptions d ON d.description = p.declared_description
    LEFT JOIN sig_rates r ON r.currency = upper(coalesce(nullif(trim(p.currency), ''), 'USD'))
    """


def _parcel_headings_sql() -> str:
    """Every catalogue heading (controlled or cover) that a parcel's hs_code agrees with.

    `within`: the declared code starts with the heading (2846 declared as 28469019, a national
    extension): the goods are declared under that heading. Otherwise the declared code is a less
    precise form of it (2825 for 2825.60): consistent with the heading, so no mismatch, but not a
    claim to it (2825 also holds copper and lithium oxides), so it names no controlled or cover
    goods by itself. A declared code needs four digits (a heading) to agree with anything.
    Joined on the first four digits (a hash join), then checked as a prefix either way."""
    return """
    SELECT p.parcel_seq, h.owner_kind, h.owner, h.heading, starts_with(p.hs, h.heading) AS within
    FROM sig_parcels p
    JOIN sig_headings h ON left(h.heading, 4) = left(p.hs, 4)
                       AND (starts_with(p.hs, h.heading) OR starts_with(h.heading, p.hs))
    WHERE length(p.hs) >= 4
    """


def _parcel_named_sql() -> str:
    """Parcels × the controlled commodities their description names; whether the declared heading
    fits the commodity; and which commodity is primary (strongest match, then dearest)."""
    return """
    SELECT p.parcel_seq, n.commodity, n.how, n.matched, n.strength, p.hs,
           f.parcel_seq IS NOT NULL AS heading_fits, f.loose_of,
           c.label, c.price_usd_per_kg,
           row_number() OVER (PARTITION BY p.parcel_seq ORDER BY n.strength DESC, c.price_usd_per_kg DESC, n.commodity) = 1 AS is_primary
    FROM sig_parcels p
    JOIN sig_controlled_desc n USING (desc_id)
    JOIN sig_commodities c USING (commodity)
    -- loose_of: the headings a less precise declared code stands for, when none holds it exactly
    LEFT JOIN (
        SELECT parcel_seq, owner AS commodity,
               CASE WHEN NOT bool_or(within) THEN string_agg(heading, ', ' ORDER BY heading) END AS loose_of
        FROM sig_parcel_headings WHERE owner_kind = 'commodity' GROUP BY ALL
    ) f ON f.parcel_seq = p.parcel_seq AND f.commodity = n.commodity
    """


def _parcel_heading_only_sql() -> str:
    """Parcels that name nothing controlled but are declared under a controlled heading.

    The commodity is read from the longest matching heading: the only commodity with it; else the
    generic commodity if it has it (2846 is rare earths, unspecified); else unknown."""
    return """
    WITH h AS (
        SELECT ph.*, c.generic, c.label,
               length(ph.heading) = max(length(ph.heading)) OVER (PARTITION BY ph.parcel_seq) AS longest
        FROM sig_parcel_headings ph JOIN sig_commodities c ON c.commodity = ph.owner
        WHERE ph.owner_kind = 'commodity' AND ph.within
          AND ph.parcel_seq NOT IN (SELECT parcel_seq FROM sig_parcel_named)
          -- a finished article under a heading of articles (8505.11 magnets, whichever metal)
          AND NOT (ph.heading IN (SELECT h2.heading FROM sig_headings h2 JOIN sig_commodities c2 ON c2.commodity = h2.owner
                                  WHERE h2.owner_kind = 'commodity' AND c2.articles_exempt)
                   AND ph.parcel_seq IN (SELECT parcel_seq FROM sig_parcels WHERE desc_id IN (SELECT desc_id FROM sig_article_desc)))
    )
    SELECT parcel_seq, min(heading) AS heading,
           CASE WHEN count(DISTINCT owner) = 1 THEN min(owner)
                ELSE coalesce(min(owner) FILTER (WHERE generic), 'unknown') END AS commodity,
           list_sort(list_distinct(list(label))) AS candidates
    FROM h WHERE longest
    GROUP BY parcel_seq
    """


def _parcel_cover_sql(s) -> str:
    """Parcels that name nothing controlled but use a cover: by description, else by heading.

    A description that names a controlled commodity is not hiding it ("dysprosium iron alloy"),
    so it gets no cover signal; a wrong heading there is heading_mismatch's business."""
    return f"""
    WITH by_description AS (
        SELECT p.parcel_seq, d.cover, 'description' AS via, d.matched, d.strength
        FROM sig_parcels p JOIN sig_cover_desc d USING (desc_id)
    ), by_heading AS (
        SELECT parcel_seq, owner AS cover, 'heading' AS via, heading AS matched, NULL::DOUBLE AS strength,
               row_number() OVER (PARTITION BY parcel_seq ORDER BY length(heading) DESC, owner) AS rn
        FROM sig_parcel_headings WHERE owner_kind = 'cover' AND within
          -- a finished article under the heading that fits it (fridge magnets, 8505.19) is no cover;
          -- "spare parts" under a ferro-alloy heading still is
          AND NOT (heading IN (SELECT heading FROM sig_article_headings)
                   AND parcel_seq IN (SELECT parcel_seq FROM sig_parcels
                                      WHERE desc_id IN (SELECT desc_id FROM sig_article_desc)))
    )
    SELECT x.parcel_seq, x.cover, x.via, x.matched, coalesce(x.strength, {_lit(s.cover_heading_strength)}) AS strength,
           k.label, k.price_usd_per_kg, a.commodity, a.candidates
    FROM (
        SELECT * FROM by_description
        UNION ALL
        SELECT parcel_seq, cover, via, matched, strength FROM by_heading
        WHERE rn = 1 AND parcel_seq NOT IN (SELECT parcel_seq FROM by_description)
    ) x
    JOIN sig_covers k USING (cover)
    JOIN sig_cover_attr a USING (cover)
    WHERE x.parcel_seq NOT IN (SELECT parcel_seq FROM sig_parcel_named)
    """


def _parcel_concealment_sql(s) -> str:
    """Parcels whose weighed gross weight exceeds what the declared contents and packaging explain.

    The packaging allowance is a fixed part (envelope or small box) plus a part proportional to the
    declared weight (bigger boxes, filling, a rounded declaration):
        allowance = packaging_allowance_kg + packaging_allowance_ratio * declared
        hidden_kg = gross - declared - allowance
    A parcel gets a row when hidden_kg >= concealment_min_excess_kg (below that the gap is within
    the rounding of recorded weights). The evidence is the excess relative to the declared parcel,
    r = hidden_kg / (declared + packaging_small_max_kg): the heaviest ordinary packaging of a small
    parcel sits in the denominator so that for tiny items, where packaging outweighs the contents,
    the same grams count for less (and a declaration of 0 kg is not infinitely suspicious). The
    strength is the Hill curve r^2 / (r^2 + h^2), h = concealment_half_strength_ratio: about 0 just
    above the allowance (quadratic, since a little extra weight is what an unusual box or a rounded
    declaration gives anyway), 0.5 at r = h, near 1 when the hidden mass rivals the declared
    contents. Smooth in both weights: no ratio or size cut-off for a parcel to sit just under."""
    fixed = _lit(s.packaging_allowance_kg)
    return f"""
    SELECT parcel_seq, declared_kg, gross_kg, hidden_kg, allowance_kg,
           pow(r, 2) / (pow(r, 2) + {_lit(s.concealment_half_strength_ratio ** 2)}) AS strength
    FROM (
        SELECT *, hidden_kg / (declared_kg + {_lit(s.packaging_small_max_kg)}) AS r
        FROM (
            SELECT parcel_seq, declared_kg, gross_kg, allowance_kg, gross_kg - declared_kg - allowance_kg AS hidden_kg
            FROM (
                SELECT parcel_seq, greatest(declared_kg, 0) AS declared_kg, gross_kg,
                       {fixed} + {_lit(s.packaging_allowance_ratio)} * greatest(declared_kg, 0) AS allowance_kg
                FROM sig_parcels WHERE gross_kg IS NOT NULL AND declared_kg IS NOT NULL
            )
        )
        -- weights are recorded to the gram at best: no float noise at the edge
        WHERE round(hidden_kg, 6) >= {_lit(s.concealment_min_excess_kg)}
    )
    """


def _parcel_goods_sql() -> str:
    """Per parcel, what controlled goods it probably carries: the named primary commodity, else
    the commodity of its controlled heading, else of its cover, else unknown: goods relabelled
    (a material - powder, metal, oxide, ingot ... - whose description argues a non-Chinese
    origin; no finished article) or concealed (a weight gap only)."""
    return """
    SELECT p.parcel_seq, p.dest, p.declared_kg, p.usd_per_kg,
           n.commodity AS named, n.strength AS named_strength,
           h.commodity AS by_heading, h.heading,
           k.commodity AS by_cover, k.strength AS cover_strength,
           x.hidden_kg, x.strength AS concealment_strength,
           CASE WHEN d.relabel IS NOT NULL AND d.names_material
                     AND p.desc_id NOT IN (SELECT desc_id FROM sig_article_desc) THEN d.relabel END AS relabelled
    FROM sig_parcels p
    JOIN sig_descriptions d USING (desc_id)
    LEFT JOIN (SELECT * FROM sig_parcel_named WHERE is_primary) n USING (parcel_seq)
    LEFT JOIN sig_parcel_heading_only h USING (parcel_seq)
    LEFT JOIN sig_parcel_cover k USING (parcel_seq)
    LEFT JOIN sig_parcel_concealment x USING (parcel_seq)
    WHERE n.commodity IS NOT NULL OR h.commodity IS NOT NULL OR k.commodity IS NOT NULL OR x.hidden_kg IS NOT NULL
       OR (d.relabel IS NOT NULL AND d.names_material AND p.desc_id NOT IN (SELECT desc_id FROM sig_article_desc))
    """


def _final_goods_sql(s) -> str:
    """`parcel_goods`: the commodity and the kilograms the scoring sums for each parcel.

    basis: `declared` (the description names it), `heading` (a controlled heading, nothing
    named), `cover` (a cover description or heading), `concealed` (only the weight gap), with
    `+concealed` appended when a weight gap adds to one of the first three.
    est_controlled_kg: the declared net weight for the first three, plus the hidden weight of
    concealment. confidence: the strongest of the signals behind the attribution, so the scoring
    can weigh a parcel of "ordinary goods" (weak) below one of "Dy2O3" (strong).
    """
    return f"""
    SELECT parcel_seq,
           coalesce(named, by_heading, by_cover, 'unknown') AS commodity,
           CASE WHEN coalesce(named, by_heading, by_cover) IS NOT NULL THEN declared_kg + coalesce(hidden_kg, 0)
                WHEN relabelled IS NOT NULL THEN declared_kg + coalesce(hidden_kg, 0)
                ELSE hidden_kg END AS est_controlled_kg,
           CASE WHEN named IS NOT NULL THEN 'declared' WHEN by_heading IS NOT NULL THEN 'heading'
                WHEN by_cover IS NOT NULL THEN 'cover' WHEN relabelled IS NOT NULL THEN 'relabelled' ELSE 'concealed' END
           || CASE WHEN hidden_kg IS NOT NULL AND coalesce(named, by_heading, by_cover, relabelled) IS NOT NULL
                   THEN '+concealed' ELSE '' END AS basis,
           -- relabelled material is half as sure a seed as the wording is of a false declaration:
           -- it says the origin is hidden, not what the material is
           greatest(coalesce(named_strength, 0),
                    CASE WHEN by_heading IS NOT NULL THEN {_lit(s.heading_match_strength)} ELSE 0 END,
                    coalesce(cover_strength, 0), coalesce(concealment_strength, 0),
                    CASE WHEN relabelled IS NOT NULL THEN {_lit(s.relabel_strength / 2)} ELSE 0 END) AS confidence,
           concat_ws('; ',
                     CASE WHEN named IS NOT NULL THEN printf('declared as %s', c.label) END,
                     CASE WHEN named IS NULL AND by_heading IS NOT NULL THEN printf('controlled heading %s', heading) END,
                     CASE WHEN named IS NULL AND by_heading IS NULL AND by_cover IS NOT NULL THEN 'described as cover goods' END,
                     CASE WHEN coalesce(named, by_heading, by_cover) IS NULL AND relabelled IS NOT NULL
                          THEN printf('material relabelled (''%s'')', relabelled) END,
                     CASE WHEN hidden_kg IS NOT NULL THEN printf('%.2f kg unexplained by the declared weight', hidden_kg) END
           ) AS evidence
    FROM sig_parcel_goods LEFT JOIN sig_commodities c ON c.commodity = named
    """


def _signals_sql(s) -> str:
    """`parcel_signals`: every signal of every parcel, each with the evidence that fired it; one
    SELECT per kind of signal (PARCEL_SIGNALS), in their order."""
    return "\n    UNION ALL\n".join(builder(s) for builder in _SIGNAL_SQL)


def _controlled_match_sql(s) -> str:
    """controlled_match: a controlled commodity named in the description, or, naming nothing
    controlled, a controlled heading declared."""
    return f"""
    -- controlled_match: named in the description ...
    SELECT parcel_seq, 'controlled_match' AS signal, commodity, strength,
           printf('names %s: ''%s'' (%s)', label, matched, how)
           || CASE WHEN hs IS NULL THEN '' WHEN loose_of IS NOT NULL THEN printf('; heading %s fits (less precise form of %s)', hs, loose_of)
                   WHEN heading_fits THEN printf('; heading %s fits', hs)
                   ELSE printf('; heading %s does not fit', hs) END AS evidence
    FROM sig_parcel_named
    UNION ALL
    -- ... or, naming nothing controlled, declared under a controlled heading
    SELECT parcel_seq, 'controlled_match', h.commodity, {_lit(s.heading_match_strength)},
           printf('declared under %s, within controlled heading %s (%s), without naming the goods', p.hs, h.heading, sig_some(h.candidates))
    FROM sig_parcel_heading_only h JOIN sig_parcels p USING (parcel_seq)
    """


def _cover_description_sql(s) -> str:
    """cover_description: a known cover for controlled goods in the description or the heading."""
    return f"""
    SELECT parcel_seq, 'cover_description', commodity, strength,
           CASE via WHEN 'description' THEN printf('described as ''%s'' (%s), a cover for %s', matched, label, sig_some(candidates))
                ELSE printf('declared under %s (%s), a cover heading for %s', matched, label, sig_some(candidates)) END
    FROM sig_parcel_cover
    """


def _heading_mismatch_sql(s) -> str:
    """heading_mismatch: a named commodity under a heading foreign to it, or cover goods under a
    controlled heading."""
    return f"""
    -- heading_mismatch: a named commodity under a heading that fits none of the named ones
    SELECT n.parcel_seq, 'heading_mismatch', n.commodity,
           CASE WHEN ch.cover IS NOT NULL THEN {_lit(s.mismatch_cover_heading_strength)} ELSE {_lit(s.mismatch_other_heading_strength)} END,
           CASE WHEN ch.cover IS NOT NULL
                THEN printf('names %s but is declared under %s, the heading of %s (a cover)', n.label, n.hs, ch.label)
                ELSE printf('names %s but is declared under %s, not one of its headings (%s)', n.label, n.hs, e.expected) END
    FROM (SELECT * FROM sig_parcel_named WHERE is_primary AND hs IS NOT NULL) n
    LEFT JOIN (
        SELECT n2.parcel_seq, min(ph.owner) AS cover, min(k.label) AS label
        FROM sig_parcel_named n2
        JOIN sig_parcel_headings ph ON ph.parcel_seq = n2.parcel_seq AND ph.owner_kind = 'cover' AND ph.within
        JOIN sig_cover_of o ON o.cover = ph.owner AND o.commodity = n2.commodity
        JOIN sig_covers k ON k.cover = ph.owner
        GROUP BY n2.parcel_seq
    ) ch USING (parcel_seq)
    LEFT JOIN (
        SELECT owner AS commodity, string_agg(heading, ', ' ORDER BY heading) AS expected
        FROM sig_headings WHERE owner_kind = 'commodity' GROUP BY owner
    ) e USING (commodity)
    WHERE NOT EXISTS (SELECT 1 FROM sig_parcel_named f WHERE f.parcel_seq = n.parcel_seq AND f.heading_fits)
    UNION ALL
    -- heading_mismatch: cover goods described, a controlled heading declared
    SELECT k.parcel_seq, 'heading_mismatch', h.commodity, {_lit(s.mismatch_controlled_heading_strength)},
           printf('described as ''%s'' (%s) but declared under %s, within controlled heading %s (%s)', k.matched, k.label, p.hs, h.heading, sig_some(h.candidates))
    FROM sig_parcel_cover k JOIN sig_parcel_heading_only h USING (parcel_seq) JOIN sig_parcels p USING (parcel_seq)
    WHERE k.via = 'description'
    """


def _value_per_kg_anomaly_sql(s) -> str:
    """value_per_kg_anomaly: a named commodity declared far below its price, or cover goods far
    above theirs."""
    decades = _lit(s.value_full_strength_decades)
    return f"""
    -- value_per_kg_anomaly: a named commodity declared far below its price ...
    SELECT n.parcel_seq, 'value_per_kg_anomaly', n.commodity,
           least(1.0, log10(n.price_usd_per_kg / p.usd_per_kg) / {decades}),
           printf('declared %.2f USD/kg (%.2f %s for %g kg); %s costs about %.0f USD/kg',
                  p.usd_per_kg, p.declared_value, p.currency, p.declared_kg, n.label, n.price_usd_per_kg)
    FROM sig_parcel_named n JOIN sig_parcels p USING (parcel_seq)
    WHERE n.is_primary AND p.usd_per_kg < n.price_usd_per_kg * {_lit(s.value_low_ratio)}
    UNION ALL
    -- ... or cover goods declared far above theirs, priced like controlled goods
    SELECT k.parcel_seq, 'value_per_kg_anomaly', k.commodity,
           least(1.0, log10(p.usd_per_kg / k.price_usd_per_kg) / {decades}),
           printf('declared %.2f USD/kg (%.2f %s for %g kg) for %s, which costs about %.0f USD/kg',
                  p.usd_per_kg, p.declared_value, p.currency, p.declared_kg, k.label, k.price_usd_per_kg)
    FROM sig_parcel_cover k JOIN sig_parcels p USING (parcel_seq)
    WHERE p.usd_per_kg > k.price_usd_per_kg * {_lit(s.value_high_ratio)}
    """


def _concealment_sql(s) -> str:
    """concealment: more gross weight than the contents and packaging explain."""
    return f"""
    SELECT x.parcel_seq, 'concealment', g.commodity, x.strength,
           printf('weighed %.2f kg gross for %.2f kg declared: about %.2f kg more than contents and packaging (%.2f kg allowed) explain',
                  x.gross_kg, x.declared_kg, x.hidden_kg, x.allowance_kg)
    FROM sig_parcel_concealment x LEFT JOIN parcel_goods g USING (parcel_seq)
    """


def _false_origin_sql(s) -> str:
    """false_origin: a declared origin other than the posting country, or relabelling wording."""
    return f"""
    -- false_origin: a declared origin other than the posting country, or relabelling wording in
    -- the description (one row with the stronger of the two and both pieces of evidence)
    SELECT p.parcel_seq, 'false_origin', g.commodity,
           greatest(CASE WHEN p.declared_origin IS NULL OR p.declared_origin = p.origin THEN 0
                         WHEN g.parcel_seq IS NULL THEN {_lit(s.false_origin_strength)}
                         ELSE {_lit(s.false_origin_goods_strength)} END,
                    -- wording on goods that carry no other signal (shoes "made in Vietnam") is weak
                    CASE WHEN d.relabel IS NULL THEN 0 WHEN g.parcel_seq IS NULL THEN {_lit(s.false_origin_strength)}
                         ELSE {_lit(s.relabel_strength)} END),
           concat_ws('; ',
                     CASE WHEN p.declared_origin <> p.origin THEN printf('declared origin %s, posted in %s', p.declared_origin, p.origin) END,
                     CASE WHEN d.relabel IS NOT NULL THEN printf('the description says ''%s'' (relabelling), posted in %s', d.relabel, p.origin) END)
    FROM sig_parcels p JOIN sig_descriptions d USING (desc_id) LEFT JOIN parcel_goods g USING (parcel_seq)
    WHERE (p.declared_origin IS NOT NULL AND p.declared_origin <> p.origin) OR d.relabel IS NOT NULL
    """


def _transshipment_sql(s) -> str:
    """transshipment: probable controlled goods to a known transit country of their commodity."""
    return f"""
    SELECT g.parcel_seq, 'transshipment', g.commodity, {_lit(s.transshipment_strength)},
           printf('destination %s is a known transit country for %s', p.dest, c.label)
    FROM parcel_goods g
    JOIN sig_parcels p USING (parcel_seq)
    JOIN sig_transit t ON t.commodity = g.commodity AND t.country = p.dest
    JOIN sig_commodities c ON c.commodity = g.commodity
    """


_SIGNAL_SQL = (_controlled_match_sql, _cover_description_sql, _heading_mismatch_sql, _value_per_kg_anomaly_sql, _concealment_sql, _false_origin_sql, _transshipment_sql)
