"""Reads behind the dashboard pages: which file to open, the queue, and search.

Nothing here imports Streamlit, so each read is tested on a real DuckDB file. Every value that
comes from a person (search text, filters, cluster ids) reaches DuckDB as a `?` parameter.
The cluster page's reads are in `linker.outputs.clusters`, shared with the evidence pack and the report.
"""

from __future__ import annotations

import re
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from linker.stages import pages
from linker.stages import search as search_tables
from linker.stages import normalise as norm
from linker import store
from linker.store.tables import columns
from linker.store.tables import table_exists as has_table


# How long a read of the store itself (not a snapshot) is kept in the dashboard's caches.
STORE_READ_SECONDS = 300
# How many clusters from the top of the queue the server reads ahead (app.common.warm; the
# cluster cache keeps 64).
WARM_CLUSTERS = 40
# How many clusters from the top of the queue the cluster page's picker lists.
PICKER_CLUSTERS = 300


@dataclass(frozen=True)
class Source:
    """The analysis file a page reads: the latest snapshot, else the store itself."""

    path: Path
    is_snapshot: bool

    @property
    def version(self) -> tuple:
        """Changes whenever the file does, so cached reads are dropped on a new snapshot. A
        snapshot never changes; the store itself (no snapshot published yet) can change under
        one mtime for a while, so its version also moves on every STORE_READ_SECONDS."""
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            mtime = 0.0
        if self.is_snapshot:
            return (str(self.path), mtime)
        return (str(self.path), mtime, int(time.time() // STORE_READ_SECONDS))


def analysis_source(db_path: str | Path) -> Source:
    """The newest published snapshot of the store at db_path, else the store (read-only)."""
    from linker.store import snapshot

    latest = snapshot.latest(db_path)
    if latest is not None:
        return Source(Path(latest), True)
    path = Path(db_path)
    if not path.exists():
        raise store.StoreError(f"no store at {path}: run `linker ingest` and `linker run` first")
    return Source(path, False)


def open_source(source: Source) -> duckdb.DuckDBPyConnection:
    """A read-only connection: the dashboard never writes to the analysis data."""
    try:
        return store.open_snapshot(source.path)
    except store.StoreBusy:
        raise store.StoreBusy(
            f"the store {source.path} is being written (a run is in progress) and no snapshot is published yet; "
            "try again when the run has finished"
        ) from None


def ready(con: duckdb.DuckDBPyConnection) -> str | None:
    """Why the dashboard has nothing to show yet (one sentence), or None when it has."""
    for table in ("parcels", "parcel_clusters", "clusters"):
        if not has_table(con, table):
            return f"the store has no `{table}` table yet: run `linker run` on it"
    return None


def last_runs(con: duckdb.DuckDBPyConnection, n: int = 2) -> list[dict]:
    if not has_table(con, "runs"):
        return []
    cur = con.execute(
        "SELECT run_id, status, started_at, finished_at FROM runs WHERE status IS NULL OR lower(status) IN ('ok', 'success', 'succeeded', 'done', 'finished') "
        f"ORDER BY {store.newest_first(con)} LIMIT ?",
        [n],
    )
    return [dict(zip([d[0] for d in cur.description], r)) for r in cur.fetchall()]


# ---------------------------------------------------------------- the queue


def _lineage_sql(con: duckdb.DuckDBPyConnection) -> str:
    """A CTE `lineage(cluster_id, change, previous_parcels)` for the run the clusters come from.

    `cluster_lineage` has one or more rows per cluster and run (`event`: new, continued,
    merged, split); a cluster is marked by its most telling event, and `previous_parcels` is
    its size in the previous run when it continued."""
    empty = "lineage AS (SELECT NULL::VARCHAR AS cluster_id, NULL::VARCHAR AS change, NULL::BIGINT AS previous_parcels WHERE false)"
    if not has_table(con, "cluster_lineage"):
        return empty
    cols = columns(con, "cluster_lineage")
    event = next((c for c in ("event", "change", "status", "kind") if c in cols), None)
    if event is None:
        return empty
    prev = next((c for c in ("other_parcels", "previous_parcels") if c in cols), None)
    if "run_id" in cols and "run_id" in columns(con, "clusters"):
        where = "WHERE run_id IN (SELECT DISTINCT run_id FROM clusters)"
    elif "run_seq" in cols:  # the latest run by run order: run ids of one second tie
        where = "WHERE run_seq = (SELECT max(run_seq) FROM cluster_lineage)"
    elif "run_id" in cols and has_table(con, "runs") and "started_at" in columns(con, "runs"):
        where = ("WHERE run_id = (SELECT l.run_id FROM cluster_lineage l LEFT JOIN runs r USING (run_id) "
                 "ORDER BY r.started_at DESC NULLS LAST, l.run_id DESC LIMIT 1)")
    elif "run_id" in cols:
        where = "WHERE run_id = (SELECT max(run_id) FROM cluster_lineage)"
    else:
        where = ""
    previous = f"max({prev}) FILTER (WHERE {event} IN ('continued', 'grew', 'same'))" if prev else "NULL"
    return f"""lineage AS (
        SELECT cluster_id,
               CASE WHEN bool_or({event} = 'new') THEN 'new'
                    WHEN bool_or({event} = 'merged') THEN 'merged'
                    WHEN bool_or({event} = 'split') THEN 'split'
                    ELSE min({event}) END AS change,
               {previous}::BIGINT AS previous_parcels
        FROM cluster_lineage {where} GROUP BY cluster_id)"""


def queue(con: duckdb.DuckDBPyConnection, include_unflagged: bool = False) -> pd.DataFrame:
    """Clusters ranked riskiest first, with the carriers and countries of their parcels and
    the mark of what changed since the last run (`new`, `grew`, ...)."""
    lineage_cte = _lineage_sql(con)
    cols = columns(con, "clusters")
    optional = ", ".join(f"c.{c}" for c in ("score", "commodity", "est_controlled_kg", "threshold_kg", "summary") if c in cols)
    # the carriers and countries of each cluster: written by the run, else gathered from its parcels
    spread = ("SELECT * FROM cluster_page_spread" if pages.has_pages(con)
              else pages.spread_sql("pc.cluster_id IN (SELECT cluster_id FROM shown)"))
    return con.execute(
        f"""WITH shown AS (SELECT * FROM clusters WHERE flagged OR ?),
        {lineage_cte},
        spread AS ({spread})
        SELECT c.cluster_id, c.rank, c.flagged, {optional}, c.parcels, c.senders, c.receivers,
               c.first_seen, c.last_seen, lineage.change, lineage.previous_parcels,
               spread.carriers, spread.origin_countries, spread.dest_countries
        FROM shown c LEFT JOIN spread USING (cluster_id) LEFT JOIN lineage USING (cluster_id)
        ORDER BY c.rank NULLS LAST, c.score DESC, c.cluster_id""",
        [bool(include_unflagged)],
    ).df()


def change_mark(change, parcels, previous_parcels) -> str:
    """A short mark for the queue: 'new', '+5 parcels', or ''."""
    text = str(change or "").lower()
    if text in ("", "none", "nan", "same", "unchanged", "stable", "continued", "grew"):
        if previous_parcels is not None and not pd.isna(previous_parcels) and parcels > previous_parcels:
            return f"+{int(parcels - previous_parcels)} parcels"
        return ""
    if text in ("new", "born", "appeared"):
        return "new"
    if previous_parcels is not None and not pd.isna(previous_parcels) and parcels > previous_parcels:
        return f"+{int(parcels - previous_parcels)} parcels"
    return text


def score_scale(scores: pd.Series) -> float:
    """The top of the score scale: 1 for scores in [0, 1], 100 for percentages."""
    top = scores.max() if len(scores) else 0
    return 100.0 if pd.notna(top) and top > 1 else 1.0


# ---------------------------------------------------------------- search


@dataclass
class SearchResult:
    query: str
    read_as: list[str] = field(default_factory=list)
    entities: pd.DataFrame = field(default_factory=pd.DataFrame)
    clusters: pd.DataFrame = field(default_factory=pd.DataFrame)
    parcels: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def empty(self) -> bool:
        return self.entities.empty and self.clusters.empty and self.parcels.empty




def _phone_digits(text: str) -> str | None:
    """The national significant digits of something that looks like a phone number, for a
    suffix match against E.164 ('0755-2688 1234' -> '75526881234'), or None."""
    if re.search(r"[^\d\s+()\-./]", text):
        return None
    digits = re.sub(r"\D", "", text)
    if len(digits) < 7:
        return None
    if text.strip().startswith("00"):
        digits = digits[2:]
    return digits.lstrip("0") if not text.strip().startswith("+") else digits


# Typo tolerance of one word of a name: none for one or two letters, one edit (Damerau-
# Levenshtein: a swapped pair of letters is one) up to six letters, two beyond.
def _word_edits(word: str) -> int:
    return 0 if len(word) <= 2 else 1 if len(word) <= 6 else 2


MAX_NAME_WORDS = 6


_loose = search_tables.loose


# The postings must narrow the addresses compared to at most ADDRESS_INDEX_MAX; a query whose
# words are all in more (a 'road' or a '1') is compared by a scan of the addresses instead.
# At most POSTINGS_READ postings are read for one query.
ADDRESS_INDEX_MAX = search_tables.POSTINGS_MAX
POSTINGS_READ = 2_000_000


def _address_prefilter(con: duckdb.DuckDBPyConnection, rel: dict[str, str | None],
                       loose_words: list[str]) -> tuple[str | None, list[int] | None]:
    """(word, address ids): the addresses worth comparing with a query whose loose form is the
    words `loose_words`, in order.

    An address matches when the query is a part of it, or when every word of the query is one
    of its words. Either way each word of the query is in one of the address's words: a word
    inside the query is one of them, the first ends one, the last begins one, and a query of
    one word is inside one. So the addresses that hold, for every word of the query, a word of
    that kind are all the addresses worth comparing: read from the postings of those words
    (the ids returned; [] when some word of the query is in no address). When the words of the
    query are all in too many addresses to have postings, or the store has no word tables,
    the addresses are scanned for the word in the fewest (the longest without the word
    tables): the ids are then None."""
    if not loose_words:
        return None, None
    words, postings = rel["search_address_words"], rel["search_address_postings"]
    if words is None or postings is None:
        return max(loose_words, key=len), None
    last = len(loose_words) - 1
    rules = list(dict.fromkeys(
        (w, "inside" if last == 0 else "ends" if i == 0 else "begins" if i == last else "is") for i, w in enumerate(loose_words)))
    terms = {"words": [w for w, _ in rules], "rules": [r for _, r in rules]}
    held_sql = f"""held AS (
        SELECT q.word, q.rule, w.word_id, w.addresses, w.postings
        FROM (SELECT unnest($words::VARCHAR[]) AS word, unnest($rules::VARCHAR[]) AS rule) q
        LEFT JOIN {words} w ON CASE q.rule WHEN 'inside' THEN contains(w.word, q.word) WHEN 'ends' THEN ends_with(w.word, q.word)
                                           WHEN 'begins' THEN starts_with(w.word, q.word) ELSE w.word = q.word END)"""
    held = con.execute(
        f"""WITH {held_sql}
            SELECT word, rule, coalesce(sum(addresses), 0) AS addresses, coalesce(bool_and(postings), true) AS complete
            FROM held GROUP BY word, rule ORDER BY addresses, length(word) DESC, word, rule""",
        terms,
    ).fetchall()
    fragment = held[0][0]
    if held[0][2] == 0:
        return fragment, []
    # the words whose postings are read: each with all its postings, the fewest first, up to
    # POSTINGS_READ of them (ints in word order: a few row groups each)
    narrow, read = [], 0
    for word, rule, addresses, complete in held:
        if complete and read + addresses <= POSTINGS_READ:
            narrow.append(f"{rule} {word}")
            read += addresses
    if not narrow:
        return fragment, None
    ids = con.execute(
        f"""WITH {held_sql}
            SELECT address_id FROM (
                SELECT DISTINCT h.rule, h.word, p.address_id FROM held h JOIN {postings} p USING (word_id)
                WHERE list_contains($narrow::VARCHAR[], h.rule || ' ' || h.word))
            GROUP BY address_id HAVING count(*) = $n ORDER BY address_id""",
        {**terms, "narrow": narrow, "n": len(narrow)},
    ).fetchall()
    if len(ids) > ADDRESS_INDEX_MAX:
        return fragment, None
    return fragment, [i for (i,) in ids]


def _matching_addresses(con: duckdb.DuckDBPyConnection, rel: dict[str, str | None], address_loose: str | None,
                        unit: str | None) -> tuple[list[int], list[int]]:
    """(ids, ids of whole matches): the addresses (rows of search_addresses) that match the
    query's loose form `address_loose`: it is a part of the address (a whole match), or every
    word of it is a word of the address; with the same unit when the query has one. The
    candidates come from `_address_prefilter`: by their ids, their text is read first and
    compared after (in one query DuckDB would compare the text of every address before it
    applies the filter on the ids), or by a scan for the prefilter's word."""
    if not address_loose:
        return [], []
    fragment, candidates = _address_prefilter(con, rel, address_loose.split())
    address_words = list(dict.fromkeys(address_loose.split()))
    if candidates == []:
        return [], []
    test = """(contains(loose, $loose) OR list_has_all(string_split(loose, ' '), $words::VARCHAR[]))
              AND ($unit IS NULL OR address_unit = $unit)"""
    params = {"loose": address_loose, "words": address_words, "unit": unit}
    if candidates is None:
        rows = con.execute(
            f"""SELECT address_id, contains(loose, $loose) FROM {rel['search_addresses']}
                WHERE contains(loose, $fragment) AND {test} ORDER BY address_id""",
            {**params, "fragment": fragment}).fetchall()
    else:
        near = con.sql(
            f"SELECT address_id, loose, address_unit FROM {rel['search_addresses']} WHERE address_id = ANY(?::BIGINT[])",
            params=[candidates]).to_arrow_table()
        name = f"_search_near_{uuid.uuid4().hex}"
        con.register(name, near)
        try:
            rows = con.execute(
                f"SELECT address_id, contains(loose, $loose) FROM {name} WHERE {test} ORDER BY address_id", params).fetchall()
        finally:
            con.unregister(name)
    return [i for i, _ in rows], [i for i, whole in rows if whole]


def _parcel_id_of(query: str) -> str | None:
    """The query as a parcel id (case-insensitive): one token with a digit in it, else None."""
    return query.upper() if any(ch.isdigit() for ch in query) and not any(ch.isspace() for ch in query) else None


def warm_search_text(con: duckdb.DuckDBPyConnection, cluster_id: str) -> str | None:
    """A name to search for when the server warms its caches: the best name of the party of
    `cluster_id` with the most parcels (None when the store has no page tables)."""
    if not pages.has_pages(con):
        return None
    row = con.execute(
        """SELECT best_name FROM cluster_page_entities WHERE cluster_id = ? AND best_name IS NOT NULL
           ORDER BY parcels DESC, entity_id LIMIT 1""", [cluster_id]).fetchone()
    return row[0] if row else None


def search(con: duckdb.DuckDBPyConnection, text: str, limit: int = 200) -> SearchResult:
    """Find the parties and clusters a piece of text belongs to.

    The text is normalised with the same `linker.stages.normalise` functions as the data (NFKC, case
    folding, accents stripped, hanzi in pinyin), then tried as each kind of identifier at
    once, and whatever matches is reported with what it matched on:
    - parcel id: exact, case-insensitive, when the query is one token with a digit in it;
    - name: the order-free name key (so 张伟, ZHANG Wei and Wei Zhang meet); every word of the
      query close to a word of the name (`_word_edits`: Kowalsky, Kovalski and Mueller find
      Jan Kowalski and Anna Müller); or the normalised name containing the query (at least 3
      characters). Words are compared by Damerau-Levenshtein over the distinct words of the
      stored names, blocked on length and on a first or last letter in common (one edit
      always keeps one of them), all in DuckDB. Not Jaro-Winkler: its bonus for a common prefix
      makes every 'zhang ...' look like 'zhang wei';
    - phone: E.164 form, or the national digits as a suffix of it (any written format);
    - account and ID number: the canonical form, exactly or as a substring (>= 6 characters);
    - address: in the loose form of `_loose` (ß/ss, ü/ue/u, accents and case alike), the query
      as a substring of the normalised address, or every word of it in the address in any
      order; with the same unit / suite number when the query has one.
    """
    query = (text or "").strip()
    result = SearchResult(query)
    if len(query) < 2 or not has_table(con, "party_mentions"):
        return result
    rel = search_tables.relations(con)
    params, result.read_as = _search_terms(con, query, rel)
    matches = con.execute(_matches_sql(rel), params).df()
    if matches.empty:
        return result
    _gather(con, result, matches, limit)
    return result


def _search_terms(con: duckdb.DuckDBPyConnection, query: str, rel: dict[str, str | None]) -> tuple[dict, list[str]]:
    """The query read as each kind of identifier: the parameters of `_matches_sql` (with the
    addresses to compare, `_address_prefilter`), and what it was read as (for the page to say)."""
    name_norm = norm.normalise_name(query)
    name_key = norm.name_key(name_norm)
    name_words = list(dict.fromkeys(name_norm.split()))[:MAX_NAME_WORDS] if name_norm else []
    ident = norm.canonical_identifier(query)
    if ident and not any(ch.isdigit() for ch in ident):
        ident = None  # accounts and ID numbers carry digits; a plain word is a name or a place
    address_norm, _, address_unit = norm.normalise_address(query)
    phone_digits = _phone_digits(query)
    phone_e164 = None
    if phone_digits:
        phone_e164 = norm.normalise_phone(norm.clean_phone(query), "CN")[0]
    read_as = [
        f"name '{name_norm}'" if name_norm else None,
        f"phone {phone_e164}" if phone_e164 else None,
        f"identifier {ident}" if ident and len(ident) >= 4 else None,
        f"address '{address_norm}'" if address_norm and len(address_norm) >= 4 else None,
    ]
    address_sub = address_norm if address_norm and len(address_norm) >= 4 else None
    address_loose = con.execute(f"SELECT {_loose('?::VARCHAR')}", [address_sub]).fetchall()[0][0]
    address_ids, whole_ids = _matching_addresses(con, rel, address_loose, address_unit)

    params = dict(
        name_key=name_key,
        name_sub=name_norm if name_norm and len(name_norm) >= 3 else None,
        name_words=name_words,
        name_edits=[_word_edits(w) for w in name_words],
        name_chars=max(sum(map(len, name_words)), 1),
        phone_e164=phone_e164,
        phone_digits=phone_digits,
        ident=ident if ident and len(ident) >= 4 else None,
        ident_sub=ident if ident and len(ident) >= 6 else None,
        address_ids=address_ids,
        whole_ids=whole_ids,
        parcel_id=_parcel_id_of(query),
    )
    return params, [r for r in read_as if r]


def _matches_sql(rel: dict[str, str | None]) -> str:
    """Every mention the query matches, with what it matched on and how well (see search).
    Names, addresses, phones, accounts and ID numbers are compared as distinct values (`rel`:
    the search tables of linker.stages.search), and the mentions of the values that match read
    from their lists; the addresses that match are found before (`_matching_addresses`:
    $address_ids, $whole_ids)."""
    names, name_words, addresses, phones, idents = (rel["search_names"], rel["search_name_words"], rel["search_addresses"],
                                                    rel["search_phones"], rel["search_identifiers"])
    return (
        f"""WITH query_words AS (
            SELECT unnest($name_words::VARCHAR[]) AS word, unnest($name_edits::INTEGER[]) AS edits),
        candidates AS MATERIALIZED (
            -- blocking: a length within the edits allowed and the first or the last letter kept
            SELECT q.word AS query_word, w.word, q.edits
            FROM (SELECT DISTINCT word FROM {name_words}) w JOIN query_words q
              ON length(w.word) BETWEEN length(q.word) - q.edits AND length(q.word) + q.edits
             AND (w.word[1] = q.word[1] OR w.word[-1] = q.word[-1])),
        close_words AS MATERIALIZED (
            SELECT query_word, word, damerau_levenshtein(word, query_word) AS edits_made FROM candidates
            WHERE damerau_levenshtein(word, query_word) <= edits),
        name_hits AS (
            -- names in which every word of the query has a close word; fewer edits rank higher
            SELECT name_key, sum(edits_made) AS edits_made, any_value(extra_words) AS extra_words
            FROM (SELECT kw.name_key, c.query_word, min(c.edits_made) AS edits_made,
                         len(string_split(kw.name_key, ' ')) - len($name_words) AS extra_words
                  FROM {name_words} kw JOIN close_words c USING (word) GROUP BY kw.name_key, c.query_word)
            GROUP BY name_key HAVING count(*) = len($name_words) AND name_key <> coalesce($name_key, '')),
        hits AS MATERIALIZED (
            SELECT unnest(mention_ids) AS mention_id, 'name' AS matched_on, 1.0 AS quality FROM {names}
                WHERE $name_key IS NOT NULL AND name_key = $name_key
            UNION ALL
            SELECT unnest(n.mention_ids), CASE WHEN h.edits_made > 0 THEN 'name (similar)' ELSE 'name (part)' END,
                   0.85 * (1 - h.edits_made / $name_chars) + CASE WHEN h.extra_words = 0 THEN 0.1 ELSE 0 END
            FROM {names} n JOIN name_hits h USING (name_key)
            UNION ALL
            SELECT unnest(mention_ids), 'name (part)', 0.8 FROM {names}
                WHERE $name_sub IS NOT NULL AND contains(name_norm, $name_sub) AND name_key <> $name_key
            UNION ALL
            SELECT unnest(mention_ids), 'phone', 1.0 FROM {phones}
                WHERE $phone_e164 IS NOT NULL AND (phone_e164 = $phone_e164 OR ends_with(digits, $phone_digits))
            UNION ALL
            SELECT unnest(mention_ids), kind, CASE WHEN ident = $ident THEN 1.0 ELSE 0.9 END FROM {idents}
                WHERE $ident IS NOT NULL AND (ident = $ident OR ($ident_sub IS NOT NULL AND contains(ident, $ident_sub)))
            UNION ALL
            SELECT unnest(mention_ids), 'address', CASE WHEN list_contains($whole_ids::BIGINT[], address_id) THEN 0.9 ELSE 0.85 END
                FROM {addresses} WHERE len($address_ids::BIGINT[]) > 0 AND address_id = ANY($address_ids::BIGINT[])
            UNION ALL
            SELECT mention_id, 'parcel id', 1.0 FROM party_mentions
                WHERE $parcel_id IS NOT NULL AND parcel_seq IN (SELECT parcel_seq FROM parcels WHERE upper(parcel_id) = $parcel_id))
        -- the few matched mentions looked up by id (a filter on the scan; a join would read
        -- every mention's columns)
        SELECT h.mention_id, m.entity_id, m.parcel_seq, h.matched_on, h.quality
        FROM hits h JOIN (SELECT mention_id, entity_id, parcel_seq FROM party_mentions
                          WHERE mention_id IN (SELECT mention_id FROM hits)) m USING (mention_id)"""
    )


# The raw names shown beside a party found are read from this many of its matched mentions.
MATCHING_NAMES_READ = 5


def _gather(con: duckdb.DuckDBPyConnection, result: SearchResult, matches: pd.DataFrame, limit: int) -> None:
    """The parties, clusters and parcels of the matched mentions, best first, into `result`."""
    # each party's clusters: from the page tables (one row per cluster and party), else
    # gathered from the mentions of the clustered parcels
    cluster_parties = ("cluster_page_entities" if pages.has_pages(con) else
                       "(SELECT DISTINCT c.cluster_id, m.entity_id FROM party_mentions m "
                       "JOIN parcel_clusters c ON c.parcel_seq = m.parcel_seq)")
    con.register("search_matches", matches)
    try:
        # the parties, best first; their lists, clusters and names only for the `limit` shown
        # (each a filter on a scan of a big table: the fewer rows, the fewer blocks read)
        result.entities = con.execute(
            f"""WITH e AS (
                SELECT entity_id, list(DISTINCT matched_on ORDER BY matched_on) AS matched_on, max(quality) AS quality,
                       count(DISTINCT parcel_seq) AS matching_parcels
                FROM search_matches GROUP BY entity_id),
            sized AS (SELECT entity_id, parcels FROM entities WHERE entity_id IN (SELECT entity_id FROM e)),
            top AS MATERIALIZED (
                SELECT e.*, sized.parcels AS total_parcels FROM e LEFT JOIN sized USING (entity_id)
                ORDER BY e.quality DESC, total_parcels DESC NULLS LAST, e.entity_id LIMIT ?),
            ent AS (
                SELECT entity_id, best_name, phones, accounts, id_numbers, addresses FROM entities
                WHERE entity_id IN (SELECT entity_id FROM top)),
            named AS (
                -- the names written on (the first MATCHING_NAMES_READ of) each party's matched mentions
                SELECT entity_id, list(DISTINCT name_raw ORDER BY name_raw)[1:5] AS matching_names FROM party_mentions
                WHERE mention_id IN (
                    SELECT mention_id FROM search_matches WHERE entity_id IN (SELECT entity_id FROM top)
                    QUALIFY row_number() OVER (PARTITION BY entity_id ORDER BY mention_id) <= {MATCHING_NAMES_READ})
                GROUP BY entity_id),
            ec AS (
                SELECT pc.entity_id, list(DISTINCT pc.cluster_id ORDER BY pc.cluster_id) AS clusters
                FROM {cluster_parties} pc
                WHERE pc.entity_id IN (SELECT entity_id FROM top) GROUP BY pc.entity_id)
            SELECT top.entity_id, ent.best_name, top.matched_on, named.matching_names, top.matching_parcels, top.total_parcels,
                   ent.phones, ent.accounts, ent.id_numbers, ent.addresses, ec.clusters, top.quality
            FROM top LEFT JOIN ent USING (entity_id) LEFT JOIN named USING (entity_id) LEFT JOIN ec USING (entity_id)
            ORDER BY top.quality DESC, top.total_parcels DESC NULLS LAST, top.entity_id""",
            [int(limit)],
        ).df()
        result.clusters = con.execute(
            """SELECT c.cluster_id, c.rank, c.flagged, c.score, c.commodity, c.parcels, c.summary,
                      count(DISTINCT s.parcel_seq) AS matching_parcels
            FROM search_matches s JOIN parcel_clusters pc ON pc.parcel_seq = s.parcel_seq
            JOIN clusters c ON c.cluster_id = pc.cluster_id
            GROUP BY ALL ORDER BY c.flagged DESC, c.rank NULLS LAST, c.cluster_id LIMIT ?""",
            [int(limit)],
        ).df()
        result.parcels = con.execute(
            # the latest matched parcels, then their columns: filters on the scans of parcels
            """WITH latest AS (
                SELECT parcel_seq FROM parcels WHERE parcel_seq IN (SELECT parcel_seq FROM search_matches)
                ORDER BY accepted_at DESC, parcel_seq DESC LIMIT ?)
            SELECT p.parcel_id, p.carrier, p.accepted_at, p.sender_name, p.receiver_name, p.declared_description, pc.cluster_id
            FROM (SELECT * FROM parcels WHERE parcel_seq IN (SELECT parcel_seq FROM latest)) p
            LEFT JOIN parcel_clusters pc ON pc.parcel_seq = p.parcel_seq
            ORDER BY p.accepted_at DESC, p.parcel_id""",
            [int(limit)],
        ).df()
    finally:
        con.unregister("search_matches")
