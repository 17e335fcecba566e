"""The names and column lists of the tables that stages, outputs and users share, declared once,
and the questions asked of the catalogue (does a table or a column exist).

The input columns are CONTRACT.md section 1; the result columns are its section 3.
"""

from __future__ import annotations

import duckdb

# Columns of CONTRACT.md section 1, in contract order, with whether each is required.
CONTRACT_COLUMNS: tuple[tuple[str, bool], ...] = (
    ("parcel_id", True),
    ("carrier", True),
    ("accepted_at", True),
    ("origin_country", True),
    ("dest_country", True),
    ("sender_name", True),
    ("sender_phone", False),
    ("sender_id_number", False),
    ("sender_address", True),
    ("receiver_name", True),
    ("receiver_phone", False),
    ("receiver_address", True),
    ("payer_account", False),
    ("declared_description", True),
    ("hs_code", False),
    ("declared_weight_kg", True),
    ("gross_weight_kg", False),
    ("declared_value", False),
    ("currency", False),
    ("category", False),
    ("declared_origin", False),
    ("acceptance_point", False),
)
COLUMN_NAMES = tuple(name for name, _ in CONTRACT_COLUMNS)
REQUIRED_COLUMNS = tuple(name for name, required in CONTRACT_COLUMNS if required)

# The result files of CONTRACT.md section 3: the columns of each, in file order.
CLUSTER_COLUMNS = (
    "cluster_id", "rank", "score", "flagged", "commodity", "est_controlled_kg", "threshold_kg",
    "parcels", "senders", "receivers", "first_seen", "last_seen", "summary",
)
PARCEL_CLUSTER_COLUMNS = ("parcel_id", "carrier", "cluster_id")
PARTY_ENTITY_COLUMNS = ("parcel_id", "carrier", "role", "entity_id")

# What the dashboard's cluster pages, the evidence pack and the report read of each cluster,
# written by every run (linker.stages.pages).
PAGE_TABLES = ("cluster_page_parcels", "cluster_page_mentions", "cluster_page_links", "cluster_page_households",
               "cluster_page_entities", "cluster_page_spread")

# What the dashboard's search reads: the distinct names, addresses, phones, accounts and ID
# numbers of the mentions, and the words of the names and of the addresses
# (linker.stages.search).
SEARCH_TABLES = ("search_names", "search_name_words", "search_addresses", "search_address_words", "search_address_postings", "search_phones",
                 "search_identifiers")

# The results a full run builds under STAGE_PREFIX and swaps in together, in one transaction.
STAGE_PREFIX = "stage_"
RESULT_TABLES = ("graph_nodes", "graph_edges", "graph_uses", "parcel_groups", "parcel_clusters", "clusters",
                 "cluster_signals", "party_entities", *PAGE_TABLES, *SEARCH_TABLES)
# What an incremental run rebuilds under staging names; the graph tables, party_entities and
# the page tables it changes in place, inside its transaction.
INCREMENTAL_STAGED = ("parcel_groups", "parcel_clusters", "clusters", "cluster_signals")

# The columns of `clusters` a nightly run keeps in `run_clusters` (what "changed" compares).
RUN_CLUSTER_COLUMNS = ("cluster_id", "rank", "score", "flagged", "commodity", "parcels", "est_controlled_kg",
                       "threshold_kg")

# Queries here use fetchall(): in DuckDB 2 a half-read result (fetchone) left on the connection
# makes a later con.register() fail with ResourceInUseException.


def table_exists(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ? AND table_schema = 'main'",
            [name],
        ).fetchall()[0][0]
    )


def column_exists(con: duckdb.DuckDBPyConnection, table: str, column: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM information_schema.columns WHERE table_name = ? AND column_name = ? AND table_schema = 'main'",
            [table, column],
        ).fetchall()[0][0]
    )


def columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    """Column names of a table or view (one catalogue query; information_schema per column is slow)."""
    return {
        r[0]
        for r in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = ? AND schema_name = 'main'", [table]
        ).fetchall()
    }
