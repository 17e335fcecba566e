"""What the dashboard's search reads: the distinct names, addresses and phones of the party
mentions, each with the mentions that carry it, written by every run beside the page tables.

A search compares the query with every stored name, address and phone (similar words,
substrings, the loose form of an address, the digits of a phone). Over the mentions that is
two rows per parcel, each transformed again for every query (1.6 s of the 2 s a search took
at 1M parcels went to the loose form of two million addresses); over the distinct values,
with the loose form and the digits computed once by the run, it is a fraction of that, and the
mentions of the values that match are read from their lists.

    search_names      (name_key, name_norm, mention_ids)          one row per distinct pair
    search_addresses  (loose, address_unit, words, mention_ids)  words: the loose form split
    search_phones     (phone_e164, digits, mention_ids)          digits: the E.164 form's digits

`relations(con)` gives the three as SQL relations: the tables when the run wrote them, else
the same rows computed from `party_mentions` (a store analysed before they existed).
"""

from __future__ import annotations

import duckdb

from linker.store.tables import SEARCH_TABLES, table_exists


def loose(sql: str) -> str:
    """An SQL expression: the normalised text `sql` without the e of ae, oe and ue.

    The normalisers strip accents, so a written Müller is 'muller' and a transcribed Mueller
    'mueller'; comparing both sides of an address in this form makes ü, ue and u meet (ß is
    already 'ss' by case folding, other accents are gone)."""
    return f"replace(replace(replace({sql}, 'ae', 'a'), 'oe', 'o'), 'ue', 'u')"


def _queries(mentions: str) -> dict[str, tuple[str, str]]:
    """(query over the mentions in `mentions`, row order) of each search table."""
    return {
        "search_names": (
            f"""SELECT name_key, name_norm, list(mention_id ORDER BY mention_id) AS mention_ids FROM {mentions}
                WHERE name_key IS NOT NULL OR name_norm IS NOT NULL GROUP BY name_key, name_norm""",
            "name_key, name_norm"),
        "search_addresses": (
            f"""SELECT loose, address_unit, string_split(loose, ' ') AS words, list(mention_id ORDER BY mention_id) AS mention_ids
                FROM (SELECT {loose('address_norm')} AS loose, address_unit, mention_id FROM {mentions}
                      WHERE address_norm IS NOT NULL)
                GROUP BY loose, address_unit""",
            "loose, address_unit"),
        "search_phones": (
            f"""SELECT phone_e164, regexp_replace(phone_e164, '[^0-9]', '', 'g') AS digits,
                       list(mention_id ORDER BY mention_id) AS mention_ids
                FROM {mentions} WHERE phone_e164 IS NOT NULL GROUP BY phone_e164""",
            "phone_e164"),
    }


def write_index(con: duckdb.DuckDBPyConnection, *, target: str = "", after_seq: int | None = None) -> dict:
    """Write the search tables from `party_mentions`: all of them anew into `{target}search_*`
    (after_seq None), or, in place, rows for the mentions of the parcels after `after_seq` (an
    incremental run's new parcels). A night appends: a value seen before gets a second row with
    tonight's mention ids, which a search reads as it reads one row with all of them (a
    mention's values never change, and every row is matched on its own). The next full run
    writes one row per value again."""
    if after_seq is None or not all(table_exists(con, t) for t in SEARCH_TABLES):
        for table, (sql, order) in _queries("party_mentions").items():
            con.execute(f"CREATE OR REPLACE TABLE {target}{table} AS SELECT * FROM ({sql}) ORDER BY {order}")
        return {}
    tonight = f"(SELECT * FROM party_mentions WHERE parcel_seq > {int(after_seq)})"
    for table, (sql, order) in _queries(tonight).items():
        con.execute(f"INSERT INTO {table} SELECT * FROM ({sql}) ORDER BY {order}")
    return {}


def relations(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Each search table as an SQL relation to select from: the table, or its rows computed
    from `party_mentions` when the store has no search tables yet."""
    if all(table_exists(con, t) for t in SEARCH_TABLES):
        return {t: t for t in SEARCH_TABLES}
    return {t: f"({sql})" for t, (sql, _) in _queries("party_mentions").items()}
