"""What the dashboard's search reads: the distinct names, addresses, phones, accounts and ID
numbers of the party mentions, each with the mentions that carry it, and the words of the
names and of the addresses, written by every run beside the page tables.

A search compares the query with every stored value (similar words, substrings, the loose
form of an address, the digits of a phone). Over the mentions that is two rows per parcel, each
transformed again for every query; over the distinct values, with the loose form and the
digits computed once by the run, it is a fraction of that, and the mentions of the values that
match are read from their lists.

    search_names          (name_key, name_norm, mention_ids)        one row per distinct pair
    search_name_words     (word, name_key)                          the words of each name key
    search_addresses      (address_id, loose, address_unit, mention_ids)
    search_address_words  (word_id, word, addresses, postings)     how many addresses hold a word
                                                                    (after a night, an address seen
                                                                    again counts twice until the
                                                                    next full run)
    search_address_postings (word_id, address_id)                  which, for the words not in
                                                                    more than POSTINGS_MAX
    search_phones         (phone_e164, digits, mention_ids)        digits: the E.164 form's digits
    search_identifiers    (kind, ident, mention_ids)               kind: 'account' or 'id number'

An address the query matches holds each word of the query in one of its own words (a word
inside the query is one of them, the first ends one, the last begins one), so the addresses
that the postings of such words have in common are all the addresses worth comparing
(app.data._address_prefilter): for a street and a number at 10M parcels, a few hundred of
10.3M distinct addresses instead of all of them. A word in more than POSTINGS_MAX addresses
(a 'road', a '1') narrows little; it has no postings (`postings` false), and a query made
only of such words scans the addresses.

`relations(con)` gives the tables as SQL relations: the tables when the run wrote them, else
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


def _queries(mentions: str, first_address_id: str = "0") -> dict[str, tuple[str, str]]:
    """(query over the mentions in `mentions`, row order) of each search table but the address
    words (`_write_address_words`); addresses are numbered from `first_address_id` + 1 in row order."""
    return {
        "search_names": (
            f"""SELECT name_key, name_norm, list(mention_id ORDER BY mention_id) AS mention_ids FROM {mentions}
                WHERE name_key IS NOT NULL OR name_norm IS NOT NULL GROUP BY name_key, name_norm""",
            "name_key, name_norm"),
        "search_name_words": (
            f"""SELECT DISTINCT unnest(string_split(name_key, ' ')) AS word, name_key
                FROM (SELECT DISTINCT name_key FROM {mentions} WHERE name_key IS NOT NULL)""",
            "word, name_key"),
        "search_addresses": (
            f"""SELECT {first_address_id} + row_number() OVER (ORDER BY loose, address_unit) AS address_id,
                       loose, address_unit, mention_ids
                FROM (SELECT loose, address_unit, list(mention_id ORDER BY mention_id) AS mention_ids
                      FROM (SELECT {loose('address_norm')} AS loose, address_unit, mention_id FROM {mentions}
                            WHERE address_norm IS NOT NULL)
                      GROUP BY loose, address_unit)""",
            "address_id"),
        "search_phones": (
            f"""SELECT phone_e164, regexp_replace(phone_e164, '[^0-9]', '', 'g') AS digits,
                       list(mention_id ORDER BY mention_id) AS mention_ids
                FROM {mentions} WHERE phone_e164 IS NOT NULL GROUP BY phone_e164""",
            "phone_e164"),
        "search_identifiers": (
            f"""SELECT kind, ident, list(mention_id ORDER BY mention_id) AS mention_ids
                FROM (SELECT 'account' AS kind, account_norm AS ident, mention_id FROM {mentions} WHERE account_norm IS NOT NULL
                      UNION ALL
                      SELECT 'id number', id_number_norm, mention_id FROM {mentions} WHERE id_number_norm IS NOT NULL)
                GROUP BY kind, ident""",
            "kind, ident"),
    }


# A word held by more addresses than this gets no postings (see the module's docstring).
POSTINGS_MAX = 200_000


def _address_word_rows(addresses: str) -> str:
    """(address_id, word): each distinct word of each address in `addresses`."""
    return f"""SELECT address_id, word FROM (
                   SELECT address_id, unnest(list_distinct(string_split(loose, ' '))) AS word FROM {addresses})
               WHERE word <> ''"""


def _write_address_words(con: duckdb.DuckDBPyConnection, target: str) -> None:
    """`{target}search_address_words` and `{target}search_address_postings` anew, from
    `{target}search_addresses`; the postings in word order, so that a word's are read from a
    few row groups. (The addresses are split into words once, into a temp table both read.)"""
    con.execute(f"CREATE OR REPLACE TEMP TABLE _address_word_rows AS {_address_word_rows(f'{target}search_addresses')}")
    con.execute(f"""CREATE OR REPLACE TABLE {target}search_address_words AS
        SELECT row_number() OVER (ORDER BY word) AS word_id, word, addresses, addresses <= {POSTINGS_MAX} AS postings
        FROM (SELECT word, count(*) AS addresses FROM _address_word_rows GROUP BY word)
        ORDER BY word_id""")
    con.execute(f"""CREATE OR REPLACE TABLE {target}search_address_postings AS
        SELECT w.word_id, a.address_id FROM _address_word_rows a
        JOIN {target}search_address_words w USING (word) WHERE w.postings ORDER BY w.word_id, a.address_id""")
    con.execute("DROP TABLE _address_word_rows")


def _append_address_words(con: duckdb.DuckDBPyConnection, after_address_id: int) -> None:
    """The words of the addresses numbered after `after_address_id` (tonight's) into the word
    tables: new words numbered on, counts raised, and postings appended for every word that
    has them (a word's postings stay complete; only a full run drops those of a word that has
    grown past POSTINGS_MAX)."""
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _night_words AS
        SELECT word, list(address_id ORDER BY address_id) AS ids FROM ({_address_word_rows(
            f'(SELECT * FROM search_addresses WHERE address_id > {int(after_address_id)})')}) GROUP BY word""")
    con.execute("""INSERT INTO search_address_words
        SELECT (SELECT coalesce(max(word_id), 0) FROM search_address_words) + row_number() OVER (ORDER BY n.word),
               n.word, 0, true
        FROM _night_words n ANTI JOIN search_address_words w USING (word)""")
    con.execute("""UPDATE search_address_words w SET addresses = w.addresses + len(n.ids)
                   FROM _night_words n WHERE n.word = w.word""")
    con.execute("""INSERT INTO search_address_postings
        SELECT w.word_id, unnest(n.ids) FROM _night_words n JOIN search_address_words w USING (word)
        WHERE w.postings ORDER BY 1, 2""")
    con.execute("DROP TABLE _night_words")


def write_index(con: duckdb.DuckDBPyConnection, *, target: str = "", after_seq: int | None = None) -> dict:
    """Write the search tables from `party_mentions`: all of them anew into `{target}search_*`
    (after_seq None), or, in place, rows for the mentions of the parcels after `after_seq` (an
    incremental run's new parcels). A night appends: a value seen before gets a second row with
    tonight's mention ids (an address a second address_id; a name's words are stored once),
    which a search reads as it reads
    one row with all of them (a mention's values never change, and every row is matched on
    its own). The next full run writes one row per value again."""
    if after_seq is None or not all(table_exists(con, t) for t in SEARCH_TABLES):
        for table, (sql, order) in _queries("party_mentions").items():
            con.execute(f"CREATE OR REPLACE TABLE {target}{table} AS SELECT * FROM ({sql}) ORDER BY {order}")
        _write_address_words(con, target)
        return {}
    tonight = f"(SELECT * FROM party_mentions WHERE parcel_seq > {int(after_seq)})"
    before = con.execute("SELECT coalesce(max(address_id), 0) FROM search_addresses").fetchall()[0][0]
    for table, (sql, order) in _queries(tonight, str(int(before))).items():
        if table == "search_name_words":  # a (word, name key) pair is stored once
            sql = f"SELECT * FROM ({sql}) t ANTI JOIN search_name_words s USING (word, name_key)"
        con.execute(f"INSERT INTO {table} SELECT * FROM ({sql}) ORDER BY {order}")
    _append_address_words(con, before)
    return {}


def relations(con: duckdb.DuckDBPyConnection) -> dict[str, str | None]:
    """Each search table as an SQL relation to select from: the tables, or, when the store has
    not got all of them yet, their rows computed from `party_mentions` (the address words and
    postings then None: the addresses are scanned instead)."""
    if all(table_exists(con, t) for t in SEARCH_TABLES):
        return {t: t for t in SEARCH_TABLES}
    computed = {t: f"({sql})" for t, (sql, _) in _queries("party_mentions").items()}
    computed["search_address_words"] = computed["search_address_postings"] = None
    return computed
