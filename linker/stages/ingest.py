"""Validated loading of parcel files into the store.

Each file is read by DuckDB into a staging table of text columns (CSV, Parquet and JSON Lines,
gzip or not), checked against CONTRACT.md section 1 in one set-based pass, and then loaded in a
single transaction: valid rows into `parcels`, broken rows into `quarantine` with their file,
line, raw content and a reason a person understands, and the file itself into `files`. A kill
or an error midway leaves the store exactly as it was, because nothing is committed until the
whole file has been checked and written.

A file is known by the SHA-256 of its bytes: loading the same content again, under any name,
is skipped. A row whose parcel_id + carrier is already in the store is ignored when its content
is the same and quarantined when it differs; within one file the first occurrence wins.

Line numbers: for CSV the record number counted the way DuckDB reports rejected rows (the
header is line 1, one line per record); for JSON Lines the physical line; for Parquet the row
number (1-based).
"""

from __future__ import annotations

import gzip
import hashlib
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pycountry

from linker.errors import LinkerError, one_line
from linker.store.sql import identifier, literal
from linker.store.tables import COLUMN_NAMES, REQUIRED_COLUMNS

FORMATS = {
    ".csv": "csv",
    ".csv.gz": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".jsonl.gz": "jsonl",
    ".ndjson": "jsonl",
    ".ndjson.gz": "jsonl",
}

# CN23 categories, with the wording of the form's own check boxes accepted as synonyms.
CATEGORIES = {
    "gift": "gift",
    "sample": "sample",
    "commercial sample": "sample",
    "merchandise": "merchandise",
    "sale of goods": "merchandise",
    "documents": "documents",
    "document": "documents",
    "returned": "returned",
    "returned goods": "returned",
    "other": "other",
}

# Above this share of rows with bytes that are not UTF-8, the file as a whole is in another
# encoding and quarantining each row would only bury the real problem.
ENCODING_FAILURE_SHARE = 0.01

NUMERIC_COLUMNS = ("declared_weight_kg", "gross_weight_kg", "declared_value")
TEXT_COLUMNS = tuple(c for c in COLUMN_NAMES if c not in NUMERIC_COLUMNS and c != "accepted_at")


class IngestProblem(LinkerError):
    """A file that cannot be loaded at all; the message is one line naming the file."""


@dataclass
class FileResult:
    path: Path
    status: str  # loaded | already_loaded | problem
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rows_duplicate: int = 0
    message: str = ""


@dataclass
class IngestReport:
    files: list[FileResult] = field(default_factory=list)

    def _sum(self, attr: str) -> int:
        return sum(getattr(f, attr) for f in self.files)

    @property
    def rows_loaded(self) -> int:
        return self._sum("rows_loaded")

    @property
    def rows_quarantined(self) -> int:
        return self._sum("rows_quarantined")

    @property
    def rows_duplicate(self) -> int:
        return self._sum("rows_duplicate")

    @property
    def files_loaded(self) -> int:
        return sum(f.status == "loaded" for f in self.files)

    @property
    def files_already_loaded(self) -> int:
        return sum(f.status == "already_loaded" for f in self.files)

    @property
    def problems(self) -> list[str]:
        return [f.message for f in self.files if f.status == "problem"]


def file_format(path: Path) -> str | None:
    name = path.name.lower()
    for suffix in sorted(FORMATS, key=len, reverse=True):
        if name.endswith(suffix):
            return FORMATS[suffix]
    return None


def discover(paths: list[Path]) -> tuple[list[Path], list[FileResult]]:
    """Expand directories (recursively, in name order) into parcel files.

    Files of unknown format inside a directory are reported, not silently passed over; hidden
    files (editor and OS droppings such as .DS_Store) are not parcel data.
    """
    found: list[Path] = []
    problems: list[FileResult] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                if any(part.startswith(".") for part in child.relative_to(path).parts):
                    continue
                if file_format(child) is None:
                    problems.append(FileResult(child, "problem", message=f"{child}: not a parcel file (expected .csv, .parquet or .jsonl, optionally .gz)"))
                else:
                    found.append(child)
        elif path.is_file():
            if file_format(path) is None:
                problems.append(FileResult(path, "problem", message=f"{path}: not a parcel file (expected .csv, .parquet or .jsonl, optionally .gz)"))
            else:
                found.append(path)
        else:
            problems.append(FileResult(path, "problem", message=f"{path}: no such file or directory"))
    return found, problems


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# The checks must not join: the checked rows are numbered by their position in the table the
# check writes (see `_check`), and DuckDB keeps the file's order only through scans,
# projections and filters. A 250-code IN list would be rewritten into a hash join, so membership
# is tested with one regular expression per code list (RE2 matches it as a DFA, faster than the
# join it replaces) and the category synonyms with a CASE.
COUNTRY_CODES = sorted({c.alpha_2 for c in pycountry.countries} | {"XK"})  # XK: Kosovo, in common use
CURRENCY_CODES = sorted({c.alpha_3 for c in pycountry.currencies})


def _one_of(codes: list[str]) -> str:
    """A regular expression matching exactly one of the given codes (letters and digits only)."""
    assert all(code.isalnum() and code.isascii() for code in codes)
    return "|".join(codes)


def _category_of(given: str) -> str:
    """The CN23 category of a text value, NULL when it names none."""
    cases = " ".join(f"WHEN {literal(k)} THEN {literal(v)}" for k, v in CATEGORIES.items())
    return f"CASE lower(NULLIF(trim({given}), '')) {cases} END"


# --------------------------------------------------------------------------------------------
# Staging: every format becomes `stage(source_line, <contract columns as text>, extra, raw)`
# plus `stage_rejects(source_line, reason, raw)` for records the reader could not split. CSV
# leaves source_line out: its records are numbered after the check, from their position.


def _column_map(columns: list[str]) -> tuple[dict[str, str], list[str]]:
    """Map contract names to the file's own column names (case and surrounding space ignored)."""
    by_key: dict[str, str] = {}
    for col in columns:
        by_key.setdefault(col.strip().lower(), col)
    mapping = {name: by_key[name] for name in COLUMN_NAMES if name in by_key}
    extras = [col for col in columns if col.strip().lower() not in COLUMN_NAMES]
    return mapping, extras


def _require_columns(path: Path, mapping: dict[str, str]) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in mapping]
    if missing:
        raise IngestProblem(f"{path}: missing required column{'s' if len(missing) > 1 else ''} {', '.join(missing)}")


def _stage_select(mapping: dict[str, str], extras: list[str], value_of) -> str:
    """The SELECT list that turns a reader's columns into the staging shape."""
    parts = []
    for name in COLUMN_NAMES:
        parts.append(f"{value_of(mapping[name])} AS {name}" if name in mapping else f"NULL::VARCHAR AS {name}")
    if extras:
        pairs = ", ".join(f"{literal(col)}, {value_of(col)}" for col in extras)
        parts.append(f"json_object({pairs}) AS extra")
    else:
        parts.append("NULL::JSON AS extra")
    return ", ".join(parts)


@dataclass
class Staged:
    """A file made ready for checking: `select` yields `source_line`, the contract columns as
    text, `extra` and `raw`; `finish` runs after the scan (for readers that learn of rejected
    records while scanning) and leaves `stage_rejects(source_line, reason, raw)` behind.

    `first_line` set means the select has no `source_line`: the k-th record (from 0) is
    numbered first_line + k from its position in `stage_rows` instead (see `_check`)."""

    select: str
    finish: object = None
    first_line: int | None = None


REJECT_REASONS = """CASE error_type::VARCHAR
    WHEN 'INVALID ENCODING' THEN 'bytes that are not valid UTF-8'
    WHEN 'TOO MANY COLUMNS' THEN 'more fields than the header has columns'
    WHEN 'MISSING COLUMNS' THEN 'fewer fields than the header has columns'
    WHEN 'UNQUOTED VALUE' THEN 'a quote character inside an unquoted field'
    WHEN 'LINE SIZE OVER MAXIMUM' THEN 'a line longer than the reader allows'
    ELSE lower(replace(error_type::VARCHAR, '_', ' ')) END"""


def _file_columns(con: duckdb.DuckDBPyConnection, path: Path, source: str, kind: str) -> tuple[dict[str, str], list[str]]:
    """The file's columns mapped to the contract's, refusing the file when it cannot be read
    or lacks a required column."""
    try:
        columns = [row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()]
    except duckdb.Error as exc:
        raise IngestProblem(f"{path}: cannot be read as {kind} ({_reader_error(exc)})") from None
    mapping, extras = _column_map(columns)
    _require_columns(path, mapping)
    return mapping, extras


def _stage_csv(con: duckdb.DuckDBPyConnection, path: Path) -> Staged:
    # RFC 4180 dialect, not sniffed: a sniffer guesses wrong exactly on the messy files that
    # matter (ragged rows, one-column files), and the contract says comma-separated.
    dialect = (
        "all_varchar = true, header = true, delim = ',', quote = '\"', escape = '\"', encoding = 'utf-8', "
        "store_rejects = true, rejects_table = 'ingest_reject_errors', rejects_scan = 'ingest_reject_scans', rejects_limit = 0"
    )
    source = f"read_csv({literal(path.as_posix())}, {dialect})"
    con.execute("DROP TABLE IF EXISTS ingest_reject_errors; DROP TABLE IF EXISTS ingest_reject_scans")
    mapping, extras = _file_columns(con, path, source, "CSV")
    # No row_number() here: it makes DuckDB read the whole file on one thread. The header is
    # line 1, so the first record is line 2 (before the reader's rejects are accounted for).
    select = f"SELECT {_stage_select(mapping, extras, identifier)}, NULL::VARCHAR AS raw FROM {source}"
    return Staged(select, finish=lambda: _csv_rejects(con, path), first_line=2)


def _csv_rejects(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Records the CSV reader rejected (wrong number of fields, bad quoting, bytes that are not
    UTF-8) become quarantine rows, and the line numbers of the accepted records are corrected
    for the rejected ones in between."""
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE stage_rejects AS
        SELECT line AS source_line, string_agg(DISTINCT {REJECT_REASONS}, '; ') AS reason,
               any_value(csv_line) AS raw, bool_or(error_type::VARCHAR = 'INVALID ENCODING') AS bad_encoding
        FROM ingest_reject_errors GROUP BY line
        """
    )
    rejects, bad_encoding = con.execute("SELECT count(*), count(*) FILTER (bad_encoding) FROM stage_rejects").fetchone()
    if rejects == 0:
        return
    total = con.execute("SELECT count(*) FROM stage_rows").fetchone()[0] + rejects
    if bad_encoding and bad_encoding >= max(1, ENCODING_FAILURE_SHARE * total):
        first = con.execute("SELECT min(source_line) FROM stage_rejects WHERE bad_encoding").fetchone()[0]
        raise IngestProblem(
            f"{path}: not UTF-8 ({bad_encoding:,} of {total:,} rows have invalid bytes, first at line {first}); "
            "convert it first, e.g. `iconv -f GB18030 -t UTF-8`"
        )
    # Accepted record k (from 1) was numbered k + 1, but sits at k + 1 + (rejected records before it).
    # With rejected lines L_1 < L_2 < ..., the j-th comes before record k exactly when
    # L_j - (j - 1) <= k + 1, so an ASOF join on that shifted key counts them. The join sorts
    # its sides, so it is run on the row positions alone (sorting the wide rows took longer
    # than the whole check, and twice the memory); the rows then find their corrected line
    # through a hash join on position, which streams them.
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE stage_shift AS
        SELECT source_line - (j - 1) AS at_line, max(j) AS shift
        FROM (SELECT source_line, row_number() OVER (ORDER BY source_line) AS j FROM stage_rejects)
        GROUP BY ALL;
        CREATE OR REPLACE TEMP TABLE stage_shifted AS
        SELECT c.row, c.source_line + coalesce(s.shift, 0) AS source_line
        FROM (SELECT rowid AS row, rowid + 2 AS source_line FROM stage_rows) c
        ASOF LEFT JOIN stage_shift s ON c.source_line >= s.at_line;
        CREATE OR REPLACE TEMP VIEW stage_checked AS
        SELECT s.source_line, c.* FROM stage_rows c JOIN stage_shifted s ON s.row = c.rowid;
        """
    )


def _stage_parquet(con: duckdb.DuckDBPyConnection, path: Path) -> Staged:
    source = f"read_parquet({literal(path.as_posix())}, file_row_number = true)"
    mapping, extras = _file_columns(con, path, f"read_parquet({literal(path.as_posix())})", "Parquet")
    con.execute("CREATE OR REPLACE TEMP TABLE stage_rejects (source_line BIGINT, reason VARCHAR, raw VARCHAR, bad_encoding BOOLEAN)")
    value_of = lambda col: f"CAST({identifier(col)} AS VARCHAR)"  # noqa: E731
    return Staged(f"SELECT file_row_number + 1 AS source_line, {_stage_select(mapping, extras, value_of)}, NULL::VARCHAR AS raw FROM {source}")


def _stage_jsonl(con: duckdb.DuckDBPyConnection, path: Path) -> Staged:
    # Read each physical line as one text value (0x1f never appears raw in valid JSON), so that
    # a malformed line becomes a quarantine entry with its line number instead of a failed load.
    source = (
        f"read_csv({literal(path.as_posix())}, columns = {{'line': 'VARCHAR'}}, header = false, delim = '\\x1f', "
        "quote = '', escape = '', auto_detect = false, strict_mode = false, store_rejects = true, "
        "rejects_table = 'ingest_reject_errors', rejects_scan = 'ingest_reject_scans', rejects_limit = 0)"
    )
    con.execute("DROP TABLE IF EXISTS ingest_reject_errors; DROP TABLE IF EXISTS ingest_reject_scans")
    # Blank lines are layout, not records. json_type() raises on malformed text, so it is only
    # asked of lines that json_valid() accepts.
    try:
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE stage_lines AS
            SELECT source_line, line, CASE WHEN json_valid(line) THEN json_type(line) ELSE 'INVALID' END AS kind
            FROM (SELECT row_number() OVER () AS source_line, line FROM {source})
            WHERE line IS NOT NULL AND trim(line) <> ''
            """
        )
    except duckdb.Error as exc:
        raise IngestProblem(f"{path}: cannot be read as JSON Lines ({_reader_error(exc)})") from None
    bad_encoding = con.execute("SELECT count(*) FROM ingest_reject_errors WHERE error_type::VARCHAR = 'INVALID ENCODING'").fetchone()[0]
    total = con.execute("SELECT count(*) FROM stage_lines").fetchone()[0] + bad_encoding
    if bad_encoding and bad_encoding >= max(1, ENCODING_FAILURE_SHARE * total):
        raise IngestProblem(f"{path}: not UTF-8 ({bad_encoding:,} of {total:,} lines have invalid bytes); convert it first, e.g. `iconv -f GB18030 -t UTF-8`")
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE stage_rejects AS
        SELECT source_line,
               CASE kind WHEN 'INVALID' THEN 'not valid JSON' ELSE 'a JSON ' || lower(kind) || ', not an object' END AS reason,
               line AS raw, false AS bad_encoding
        FROM stage_lines WHERE kind <> 'OBJECT'
        UNION ALL
        SELECT line, 'bytes that are not valid UTF-8', csv_line, true FROM ingest_reject_errors
        """
    )
    keys = [row[0] for row in con.execute("SELECT DISTINCT unnest(json_keys(line)) FROM stage_lines WHERE kind = 'OBJECT' ORDER BY 1").fetchall()]
    mapping, extras = _column_map(keys)
    if keys:
        _require_columns(path, mapping)
    value_of = lambda col: f"(line ->> {literal('$.' + _json_key(col))})"  # noqa: E731 - text of a scalar, JSON text of an array or object
    return Staged(f"SELECT source_line, {_stage_select(mapping, extras, value_of)}, line AS raw FROM stage_lines WHERE kind = 'OBJECT'")


def _json_key(key: str) -> str:
    return '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _reader_error(exc: Exception) -> str:
    """A reader's error in one line, without DuckDB's name for its kind."""
    text = one_line(exc)
    for prefix in ("Invalid Input Error: ", "IO Error: ", "Binder Error: ", "Conversion Error: "):
        text = text.replace(prefix, "")
    return text


STAGERS = {"csv": _stage_csv, "parquet": _stage_parquet, "jsonl": _stage_jsonl}


# --------------------------------------------------------------------------------------------
# Checking: one pass turns staged text into typed values and the reasons a row breaks the contract.


def _check_sql(staged_select: str, numbered: bool = True) -> str:
    """Typed values and every reason a row breaks the contract (in one sentence), in the same
    scan that reads the file, into `stage_rows`. Each value is parsed once; the `t_` columns
    keep the trimmed text for the messages and for the raw row of a quarantined record, and are
    not kept. Only scans and projections: no join, so `stage_rows` is in the file's order."""

    def text(col: str) -> str:
        # Blank means absent. Free text is kept as written; trim() costs more than the rest of
        # the check, so it only runs on the rare values that start with a blank (or are empty).
        return f"CASE WHEN {col} < '!' AND trim({col}) = '' THEN NULL ELSE {col} END"

    def key(col: str) -> str:
        return f"NULLIF(trim({col}), '')"

    special = ("origin_country", "dest_country", "declared_origin", "currency", "hs_code", "category")
    parsed = ",\n            ".join(
        [f"{key(c) if c in ('parcel_id', 'carrier') else text(c)} AS {c}" for c in TEXT_COLUMNS if c not in special]
        + [
            f"{text('accepted_at')} AS t_accepted_at",
            # DuckDB's casts accept surrounding blanks themselves.
            "TRY_CAST(TRY_CAST(accepted_at AS TIMESTAMPTZ) AS TIMESTAMP) AS accepted_at",
            f"upper({key('origin_country')}) AS origin_country",
            f"upper({key('dest_country')}) AS dest_country",
            f"upper({key('declared_origin')}) AS declared_origin",
            f"{key('currency')} AS t_currency",
            f"{key('hs_code')} AS t_hs_code",
            f"{key('category')} AS t_category",
            f"{_category_of('category')} AS category",
        ]
        + [f"{text(c)} AS t_{c}" for c in NUMERIC_COLUMNS]
        + [f"TRY_CAST({c} AS DOUBLE) AS {c}" for c in NUMERIC_COLUMNS]
    )
    q = "'''"  # a quote inside a SQL string literal, then the end of the literal
    missing = [f"CASE WHEN {'t_' + c if c in NUMERIC_COLUMNS or c == 'accepted_at' else c} IS NULL THEN 'missing {c}' END" for c in REQUIRED_COLUMNS]
    numeric = [
        f"CASE WHEN t_{c} IS NOT NULL AND ({c} IS NULL OR NOT isfinite({c})) THEN '{c} {q} || t_{c} || {q} is not a number' "
        f"WHEN {c} < 0 THEN '{c} ' || t_{c} || ' is negative' END"
        for c in NUMERIC_COLUMNS
    ]
    countries = [
        f"CASE WHEN {c} IS NOT NULL AND NOT regexp_full_match({c}, '{_one_of(COUNTRY_CODES)}') THEN '{c} {q} || {c} || {q} is not an ISO 3166-1 alpha-2 country code' END"
        for c in ("origin_country", "dest_country", "declared_origin")
    ]
    others = [
        f"CASE WHEN t_accepted_at IS NOT NULL AND accepted_at IS NULL THEN 'accepted_at {q} || t_accepted_at || {q} is not an ISO 8601 date or timestamp' END",
        f"CASE WHEN t_currency IS NOT NULL AND NOT regexp_full_match(currency, '{_one_of(CURRENCY_CODES)}') THEN 'currency {q} || t_currency || {q} is not an ISO 4217 code' END",
        f"CASE WHEN t_hs_code IS NOT NULL AND NOT regexp_full_match(hs_code, '[0-9]{{4,10}}') THEN 'hs_code {q} || t_hs_code || {q} is not 4 to 10 digits' END",
        f"CASE WHEN t_category IS NOT NULL AND category IS NULL THEN 'category {q} || t_category || {q} is not one of gift, sample, merchandise, documents, returned, other' END",
    ]
    # concat_ws skips NULLs: the empty string means the row is valid.
    reasons = ",\n                ".join(missing + numeric + countries + others)
    typed = ", ".join(COLUMN_NAMES)
    line = "source_line, " if numbered else ""
    return f"""
    CREATE OR REPLACE TEMP TABLE stage_rows AS
    SELECT {line}{typed}, extra, reason, reason = '' AS valid,
           CASE WHEN reason <> '' THEN {_raw_of_checked()} END AS raw
    FROM (
        SELECT *, concat_ws('; ',
                {reasons}
               ) AS reason
        FROM (
            SELECT *, coalesce(upper(t_currency), 'USD') AS currency,
                   NULLIF(replace(replace(t_hs_code, '.', ''), ' ', ''), '') AS hs_code
            FROM (
                SELECT {line}extra, raw,
                {parsed}
                FROM ({staged_select}) stage
            )
        )
    )
    """


def _check(con: duckdb.DuckDBPyConnection, path: Path, staged: Staged) -> None:
    """Check the staged rows into `stage_rows` and expose them, numbered, as `stage_checked`.

    A CSV record's line is its position in the file. Numbering it with row_number() in the scan
    makes DuckDB read the file on one thread (about half the load's time on two cores). Instead
    the check writes its rows to a table in the file's order, read in parallel, and the k-th row
    of that table (its rowid, from 0) is record k: DuckDB keeps insertion order for a query of
    scans, projections and filters when preserve_insertion_order is on, which is set here
    rather than trusted, and restored afterwards.
    """
    numbered = staged.first_line is None
    order = con.execute("SELECT current_setting('preserve_insertion_order')").fetchall()[0][0]
    try:
        con.execute("SET preserve_insertion_order = true")
        con.execute(_check_sql(staged.select, numbered))
    except duckdb.Error as exc:
        raise IngestProblem(f"{path}: cannot be read ({_reader_error(exc)})") from None
    finally:
        con.execute(f"SET preserve_insertion_order = {'true' if order else 'false'}")
    line = "" if numbered else f"rowid + {staged.first_line} AS source_line, "
    con.execute(f"CREATE OR REPLACE TEMP VIEW stage_checked AS SELECT {line}* FROM stage_rows")
    if staged.finish:
        staged.finish()


def _raw_of_checked() -> str:
    """The row as it arrived, rebuilt from the staged text for the quarantine (only bad rows
    pay for it); JSON Lines keep their original line instead."""
    originals = {c: f"t_{c}" if c in NUMERIC_COLUMNS or c in ("accepted_at", "currency", "hs_code", "category") else c for c in COLUMN_NAMES}
    pairs = ", ".join(f"'{c}', {v}" for c, v in originals.items())
    return f"coalesce(raw, json_merge_patch(json_object({pairs}), coalesce(extra, '{{}}'::JSON))::VARCHAR)"


def content_hash(alias: str) -> str:
    """A hash of a parcel's typed content, to tell a repeated record from a conflicting one.
    Computed only for the few rows whose parcel_id + carrier repeats, on both sides alike."""
    return "md5(concat_ws(chr(31), " + ", ".join(f"coalesce(CAST({alias}.{c} AS VARCHAR), '')" for c in COLUMN_NAMES) + "))"


def _load_staged(con: duckdb.DuckDBPyConnection, path: Path, fmt: str, sha: str, size: int) -> FileResult:
    """Check the staged rows and write them, the quarantine and the file record in one transaction.

    Duplicates are rare, so they are found with a hash aggregate and joins that touch only the
    keys involved, rather than a window sort over every row.
    """
    rows_read = con.execute("SELECT (SELECT count(*) FROM stage_checked) + (SELECT count(*) FROM stage_rejects)").fetchone()[0]
    if rows_read == 0:
        raise IngestProblem(f"{path}: no data rows")
    _find_repeats(con)
    return _write_file(con, path, fmt, sha, size, int(rows_read))


def _find_repeats(con: duckdb.DuckDBPyConnection) -> None:
    """`stage_repeats(source_line, verdict, first_line, earlier_file, earlier_line)`: the checked
    rows whose parcel_id + carrier came before, in this file or in the store, and whether they
    repeat it (`duplicate`) or contradict it (`conflict_in_file`, `conflict_in_store`)."""
    # Repeats of a parcel_id + carrier within this file: the first occurrence wins; a later one
    # is a duplicate when its content is the same and a conflict when it differs.
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE stage_repeats AS
        WITH keys AS (
            SELECT parcel_id, carrier FROM stage_checked WHERE valid GROUP BY ALL HAVING count(*) > 1
        ), hashed AS (
            SELECT c.source_line, c.parcel_id, c.carrier, {content_hash("c")} AS row_hash
            FROM stage_checked c JOIN keys USING (parcel_id, carrier) WHERE c.valid
        ), ranked AS (
            SELECT c.source_line, c.row_hash,
                   first_value(c.row_hash) OVER w AS first_hash, first_value(c.source_line) OVER w AS first_line
            FROM hashed c
            WINDOW w AS (PARTITION BY c.parcel_id, c.carrier ORDER BY c.source_line)
        )
        SELECT source_line, CASE WHEN row_hash = first_hash THEN 'duplicate' ELSE 'conflict_in_file' END AS verdict,
               first_line, NULL::VARCHAR AS earlier_file, NULL::BIGINT AS earlier_line
        FROM ranked WHERE source_line <> first_line
        """
    )
    # Parcels already in the store under the same parcel_id + carrier.
    con.execute(
        f"""
        INSERT INTO stage_repeats
        SELECT c.source_line, CASE WHEN {content_hash("p")} = {content_hash("c")} THEN 'duplicate' ELSE 'conflict_in_store' END,
               NULL, f.path, p.source_line
        FROM stage_checked c
        JOIN parcels p ON p.parcel_id = c.parcel_id AND p.carrier = c.carrier
        JOIN files f ON f.file_id = p.file_id
        WHERE c.valid AND c.source_line NOT IN (SELECT source_line FROM stage_repeats)
        """
    )


def _write_file(con: duckdb.DuckDBPyConnection, path: Path, fmt: str, sha: str, size: int, rows_read: int) -> FileResult:
    """The parcels, the quarantined rows and the file's record, in one transaction."""
    cols = ", ".join(COLUMN_NAMES)
    con.execute("BEGIN TRANSACTION")
    try:
        file_id = con.execute("SELECT nextval('file_ids')").fetchone()[0]
        base = con.execute("SELECT coalesce(max(parcel_seq), 0) FROM parcels").fetchone()[0]
        # parcel_seq: unique and increasing across loads (gaps where rows were not loaded).
        # Repeats are rare: without any, the load is a plain filtered copy (an anti-join here made
        # DuckDB hold far more than its memory limit on a 5M-row file: 12 GB peak, not 2 GB).
        has_repeats = con.execute("SELECT count(*) FROM stage_repeats").fetchall()[0][0] > 0
        con.execute(
            f"""
            INSERT INTO parcels (parcel_seq, {cols}, extra, file_id, source_line)
            SELECT ? + source_line, {cols}, extra, ?, source_line
            FROM stage_checked c
            WHERE valid {"AND source_line NOT IN (SELECT source_line FROM stage_repeats)" if has_repeats else ""}
            """,
            [base, file_id],
        )
        con.execute(
            f"""
            INSERT INTO quarantine (file_id, source_file, source_line, parcel_id, carrier, reason, raw, quarantined_at)
            SELECT ?, ?, source_line, parcel_id, carrier, reason, raw, now()::TIMESTAMP FROM (
                SELECT source_line, parcel_id, carrier, reason, raw FROM stage_checked WHERE NOT valid
                UNION ALL
                SELECT source_line, NULL, NULL, reason, raw FROM stage_rejects
                UNION ALL
                SELECT c.source_line, c.parcel_id, c.carrier,
                       CASE r.verdict
                           WHEN 'conflict_in_file' THEN 'duplicate parcel_id ' || c.parcel_id || ' + carrier ' || c.carrier || ' with different content (first at line ' || r.first_line || ' of this file)'
                           ELSE 'parcel_id ' || c.parcel_id || ' + carrier ' || c.carrier || ' already loaded with different content (from ' || r.earlier_file || ' line ' || r.earlier_line || ')'
                       END, json_merge_patch(to_json(struct_pack({", ".join(f"{c} := c.{c}" for c in COLUMN_NAMES)})), coalesce(c.extra, '{{}}'::JSON))::VARCHAR
                FROM stage_checked c JOIN stage_repeats r USING (source_line)
                WHERE r.verdict <> 'duplicate'
            ) ORDER BY source_line
            """,
            [file_id, str(path)],
        )
        loaded = con.execute("SELECT count(*) FROM parcels WHERE file_id = ?", [file_id]).fetchone()[0]
        quarantined = con.execute("SELECT count(*) FROM quarantine WHERE file_id = ?", [file_id]).fetchone()[0]
        duplicates = con.execute("SELECT count(*) FROM stage_repeats WHERE verdict = 'duplicate'").fetchone()[0]
        result = FileResult(path, "loaded", rows_read=rows_read, rows_loaded=loaded, rows_quarantined=quarantined, rows_duplicate=duplicates)
        con.execute(
            "INSERT INTO files VALUES (?, ?, ?, ?, ?, now()::TIMESTAMP, ?, ?, ?, ?)",
            [file_id, str(path), sha, fmt, size, rows_read, loaded, quarantined, duplicates],
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return result


def _drop_staging(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("DROP VIEW IF EXISTS stage_checked")
    for table in ("stage_rejects", "stage_rows", "stage_shifted", "stage_repeats", "stage_lines", "stage_shift", "ingest_reject_errors", "ingest_reject_scans"):
        con.execute(f"DROP TABLE IF EXISTS {table}")


def _is_empty(path: Path) -> bool:
    if path.stat().st_size == 0:
        return True
    if path.name.lower().endswith(".gz"):
        try:
            with gzip.open(path, "rb") as fh:
                return fh.read(1) == b""
        except (OSError, EOFError):
            return False
    return False


def ingest_file(con: duckdb.DuckDBPyConnection, path: Path) -> FileResult:
    """Load one file whole or not at all. Problems that stop the file come back as a result
    with status 'problem' and a one-line message; the store is then unchanged."""
    path = Path(path).resolve()
    fmt = file_format(path)
    if fmt is None:
        return FileResult(path, "problem", message=f"{path}: not a parcel file (expected .csv, .parquet or .jsonl, optionally .gz)")
    try:
        if _is_empty(path):
            raise IngestProblem(f"{path}: empty file")
        sha = sha256_of(path)
        earlier = con.execute("SELECT path FROM files WHERE sha256 = ?", [sha]).fetchone()
        if earlier:
            return FileResult(path, "already_loaded", message=f"{path}: already loaded (as {earlier[0]})")
        _check(con, path, STAGERS[fmt](con, path))
        return _load_staged(con, path, fmt, sha, path.stat().st_size)
    except IngestProblem as exc:
        return FileResult(path, "problem", message=str(exc))
    except OSError as exc:
        return FileResult(path, "problem", message=f"{path}: cannot be read ({exc.strerror or exc})")
    finally:
        _drop_staging(con)


def ingest_paths(con: duckdb.DuckDBPyConnection, paths: list[Path], progress: bool = False, console=None) -> IngestReport:
    """Load every parcel file named or found under the given directories.

    Example:
        >>> con = store.connect("store.duckdb")
        >>> report = ingest_paths(con, [Path("incoming/")])
        >>> report.rows_loaded, report.rows_quarantined
    """
    files, problems = discover(paths)
    report = IngestReport(files=list(problems))
    if not progress:
        for path in files:
            report.files.append(ingest_file(con, path))
        return report

    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"), TimeElapsedColumn(), console=console, transient=True) as bar:
        overall = bar.add_task("files", total=len(files))
        for path in files:
            current = bar.add_task(f"  {path.name}", total=100)
            watcher = _QueryProgress(con, lambda pct, task=current: bar.update(task, completed=pct))
            with watcher:
                report.files.append(ingest_file(con, path))
            bar.remove_task(current)
            bar.advance(overall)
    return report


class _QueryProgress:
    """Polls DuckDB's progress of the running query from a side thread, for the progress bar."""

    def __init__(self, con: duckdb.DuckDBPyConnection, update) -> None:
        self.con, self.update, self.stop = con, update, threading.Event()
        self.thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        while not self.stop.wait(0.25):
            try:
                pct = self.con.query_progress()
            except Exception:  # noqa: BLE001 - progress is cosmetic; never let it break a load
                return
            if pct >= 0:
                self.update(pct)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        self.thread.join(timeout=1)
