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

from linker.store import COLUMN_NAMES, REQUIRED_COLUMNS

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


class IngestProblem(Exception):
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
    files and the truth files that `linker synth` writes beside its output are not parcel data.
    """
    found: list[Path] = []
    problems: list[FileResult] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                if any(part.startswith(".") for part in child.relative_to(path).parts):
                    continue
                if child.name.endswith((".truth.parquet", ".rings.csv")):
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


def sql_str(value: str) -> str:
    """A SQL string literal. Used only for file paths and column names that DuckDB's table
    functions need as literals; every value from the data stays inside the database."""
    return "'" + str(value).replace("'", "''") + "'"


def sql_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def ensure_reference_tables(con: duckdb.DuckDBPyConnection) -> None:
    """ISO 3166-1 alpha-2 countries and ISO 4217 currencies from pycountry, as temp tables."""
    if con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'ref_country' AND temporary").fetchone()[0]:
        return
    countries = sorted({c.alpha_2 for c in pycountry.countries} | {"XK"})  # XK: Kosovo, in common use
    currencies = sorted({c.alpha_3 for c in pycountry.currencies})
    con.execute("CREATE TEMP TABLE ref_country (code VARCHAR PRIMARY KEY)")
    con.executemany("INSERT INTO ref_country VALUES (?)", [[c] for c in countries])
    con.execute("CREATE TEMP TABLE ref_currency (code VARCHAR PRIMARY KEY)")
    con.executemany("INSERT INTO ref_currency VALUES (?)", [[c] for c in currencies])
    con.execute("CREATE TEMP TABLE ref_category (category_given VARCHAR PRIMARY KEY, category_value VARCHAR)")
    con.executemany("INSERT INTO ref_category VALUES (?, ?)", [list(kv) for kv in CATEGORIES.items()])


# --------------------------------------------------------------------------------------------
# Staging: every format becomes `stage(source_line, <contract columns as text>, extra, raw)`
# plus `stage_rejects(source_line, reason, raw)` for records the reader could not split.


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
        pairs = ", ".join(f"{sql_str(col)}, {value_of(col)}" for col in extras)
        parts.append(f"json_object({pairs}) AS extra")
    else:
        parts.append("NULL::JSON AS extra")
    return ", ".join(parts)


def _raw_json(mapping: dict[str, str], extras: list[str], value_of) -> str:
    cols = [mapping[n] for n in COLUMN_NAMES if n in mapping] + extras
    return "json_object(" + ", ".join(f"{sql_str(c)}, {value_of(c)}" for c in cols) + ")::VARCHAR"


def _stage_csv(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    # RFC 4180 dialect, not sniffed: a sniffer guesses wrong exactly on the messy files that
    # matter (ragged rows, one-column files), and the contract says comma-separated.
    dialect = "all_varchar = true, header = true, delim = ',', quote = '\"', escape = '\"', encoding = 'utf-8'"
    source = f"read_csv({sql_str(path.as_posix())}, {dialect}, store_rejects = true, rejects_table = 'ingest_reject_errors', rejects_scan = 'ingest_reject_scans', rejects_limit = 0)"
    try:
        columns = [row[0] for row in con.execute(f"DESCRIBE SELECT * FROM read_csv({sql_str(path.as_posix())}, {dialect}, store_rejects = true, rejects_table = 'ingest_reject_errors', rejects_scan = 'ingest_reject_scans')").fetchall()]
    except duckdb.Error as exc:
        raise IngestProblem(f"{path}: cannot be read as CSV ({_first_line(exc)})") from None
    mapping, extras = _column_map(columns)
    _require_columns(path, mapping)

    def value_of(col: str) -> str:
        return sql_ident(col)

    con.execute("DROP TABLE IF EXISTS ingest_reject_errors; DROP TABLE IF EXISTS ingest_reject_scans")
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE stage_read AS SELECT row_number() OVER () AS rn, "
            f"{_stage_select(mapping, extras, value_of)}, {_raw_json(mapping, extras, value_of)} AS raw FROM {source}"
        )
    except duckdb.Error as exc:
        raise IngestProblem(f"{path}: cannot be read as CSV ({_first_line(exc)})") from None

    # Records the reader rejected (wrong number of fields, bad quoting, bytes that are not UTF-8),
    # one row per record, with DuckDB's line number.
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE stage_rejects AS
        SELECT line AS source_line,
               string_agg(DISTINCT CASE error_type
                   WHEN 'INVALID ENCODING' THEN 'bytes that are not valid UTF-8'
                   WHEN 'TOO MANY COLUMNS' THEN 'more fields than the header has columns'
                   WHEN 'MISSING COLUMNS' THEN 'fewer fields than the header has columns'
                   WHEN 'UNQUOTED VALUE' THEN 'a quote character inside an unquoted field'
                   WHEN 'LINE SIZE OVER MAXIMUM' THEN 'a line longer than the reader allows'
                   ELSE lower(replace(error_type::VARCHAR, '_', ' ')) END, '; ') AS reason,
               any_value(csv_line) AS raw,
               bool_or(error_type::VARCHAR = 'INVALID ENCODING') AS bad_encoding
        FROM ingest_reject_errors GROUP BY line
        """
    )
    rejects, bad_encoding = con.execute("SELECT count(*), count(*) FILTER (bad_encoding) FROM stage_rejects").fetchone()
    total = con.execute("SELECT count(*) FROM stage_read").fetchone()[0] + rejects
    if bad_encoding and bad_encoding >= max(1, ENCODING_FAILURE_SHARE * total):
        first = con.execute("SELECT min(source_line) FROM stage_rejects WHERE bad_encoding").fetchone()[0]
        raise IngestProblem(
            f"{path}: not UTF-8 ({bad_encoding:,} of {total:,} rows have invalid bytes, first at line {first}); "
            "convert it first, e.g. `iconv -f GB18030 -t UTF-8`"
        )
    if rejects == 0:
        con.execute("CREATE OR REPLACE TEMP TABLE stage AS SELECT rn + 1 AS source_line, * EXCLUDE (rn) FROM stage_read")
    else:
        # Accepted record k sits at line k + 1 + (rejected records before it). With rejected
        # lines L_1 < L_2 < ..., the j-th precedes record k exactly when L_j - (j - 1) <= k + 1,
        # so an ASOF join on that shifted key finds how many rejected records come first.
        con.execute(
            """
            CREATE OR REPLACE TEMP TABLE stage_shift AS
            SELECT source_line - (j - 1) AS at_line, max(j) AS shift
            FROM (SELECT source_line, row_number() OVER (ORDER BY source_line) AS j FROM stage_rejects)
            GROUP BY ALL;
            CREATE OR REPLACE TEMP TABLE stage AS
            SELECT r.rn + 1 + coalesce(s.shift, 0) AS source_line, r.* EXCLUDE (rn)
            FROM stage_read r ASOF LEFT JOIN stage_shift s ON r.rn + 1 >= s.at_line;
            """
        )
    con.execute("DROP TABLE IF EXISTS stage_read; DROP TABLE IF EXISTS stage_shift")


def _stage_parquet(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    source = f"read_parquet({sql_str(path.as_posix())}, file_row_number = true)"
    try:
        columns = [row[0] for row in con.execute(f"DESCRIBE SELECT * FROM read_parquet({sql_str(path.as_posix())})").fetchall()]
    except duckdb.Error as exc:
        raise IngestProblem(f"{path}: cannot be read as Parquet ({_first_line(exc)})") from None
    mapping, extras = _column_map(columns)
    _require_columns(path, mapping)

    def value_of(col: str) -> str:
        return f"CAST({sql_ident(col)} AS VARCHAR)"

    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE stage AS SELECT file_row_number + 1 AS source_line, "
            f"{_stage_select(mapping, extras, value_of)}, {_raw_json(mapping, extras, value_of)} AS raw FROM {source}"
        )
    except duckdb.Error as exc:
        raise IngestProblem(f"{path}: cannot be read as Parquet ({_first_line(exc)})") from None
    con.execute("CREATE OR REPLACE TEMP TABLE stage_rejects (source_line BIGINT, reason VARCHAR, raw VARCHAR, bad_encoding BOOLEAN)")


def _stage_jsonl(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    # Read each physical line as one text value (0x1f never appears raw in valid JSON), so that
    # a malformed line becomes a quarantine entry with its line number instead of a failed load.
    source = (
        f"read_csv({sql_str(path.as_posix())}, columns = {{'line': 'VARCHAR'}}, header = false, delim = '\\x1f', "
        "quote = '', escape = '', auto_detect = false, strict_mode = false, store_rejects = true, "
        "rejects_table = 'ingest_reject_errors', rejects_scan = 'ingest_reject_scans', rejects_limit = 0)"
    )
    con.execute("DROP TABLE IF EXISTS ingest_reject_errors; DROP TABLE IF EXISTS ingest_reject_scans")
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE stage_lines AS SELECT row_number() OVER () AS source_line, line FROM {source}")
    except duckdb.Error as exc:
        raise IngestProblem(f"{path}: cannot be read as JSON Lines ({_first_line(exc)})") from None
    bad_encoding = con.execute("SELECT count(*) FROM ingest_reject_errors WHERE error_type::VARCHAR = 'INVALID ENCODING'").fetchone()[0]
    total = con.execute("SELECT count(*) FROM stage_lines").fetchone()[0] + bad_encoding
    if bad_encoding >= max(1, ENCODING_FAILURE_SHARE * total):
        raise IngestProblem(f"{path}: not UTF-8 ({bad_encoding:,} of {total:,} lines have invalid bytes); convert it first, e.g. `iconv -f GB18030 -t UTF-8`")
    # Blank lines are layout, not records. json_type() raises on malformed text, so it is only
    # asked of lines that json_valid() accepts.
    con.execute("DELETE FROM stage_lines WHERE line IS NULL OR trim(line) = ''")
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE stage_kinds AS
        SELECT source_line, line,
               CASE WHEN json_valid(line) THEN json_type(line) ELSE 'INVALID' END AS kind
        FROM stage_lines
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE stage_rejects AS
        SELECT source_line,
               CASE kind WHEN 'INVALID' THEN 'not valid JSON' ELSE 'a JSON ' || lower(kind) || ', not an object' END AS reason,
               line AS raw, false AS bad_encoding
        FROM stage_kinds WHERE kind <> 'OBJECT'
        UNION ALL
        SELECT line, 'bytes that are not valid UTF-8', csv_line, true FROM ingest_reject_errors
        """
    )
    con.execute("CREATE OR REPLACE TEMP TABLE stage_lines AS SELECT source_line, line FROM stage_kinds WHERE kind = 'OBJECT'")
    con.execute("DROP TABLE stage_kinds")
    keys = [row[0] for row in con.execute("SELECT DISTINCT unnest(json_keys(line)) FROM stage_lines ORDER BY 1").fetchall()]
    if not keys and con.execute("SELECT count(*) FROM stage_rejects").fetchone()[0] == 0:
        raise IngestProblem(f"{path}: no records")
    mapping, extras = _column_map(keys)
    if keys:
        _require_columns(path, mapping)

    def value_of(col: str) -> str:
        # ->> gives the text of a scalar and the JSON text of an array or object.
        return f"(line ->> {sql_str('$.' + _json_key(col))})"

    con.execute(f"CREATE OR REPLACE TEMP TABLE stage AS SELECT source_line, {_stage_select(mapping, extras, value_of)}, line AS raw FROM stage_lines")
    con.execute("DROP TABLE IF EXISTS stage_lines")


def _json_key(key: str) -> str:
    return '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    for prefix in ("Invalid Input Error: ", "IO Error: ", "Binder Error: ", "Conversion Error: "):
        text = text.replace(prefix, "")
    return text.splitlines()[0] if text else type(exc).__name__


STAGERS = {"csv": _stage_csv, "parquet": _stage_parquet, "jsonl": _stage_jsonl}


# --------------------------------------------------------------------------------------------
# Checking: one pass turns staged text into typed values and a list of reasons per row.


def _check_sql() -> str:
    def text(col: str) -> str:
        return f"NULLIF(trim({col}), '')"

    missing = [f"CASE WHEN {text(c)} IS NULL THEN 'missing {c}' END" for c in REQUIRED_COLUMNS]
    numeric = []
    for col in NUMERIC_COLUMNS:
        numeric.append(
            f"CASE WHEN {text(col)} IS NOT NULL AND (TRY_CAST(trim({col}) AS DOUBLE) IS NULL OR NOT isfinite(TRY_CAST(trim({col}) AS DOUBLE))) "
            f"THEN '{col} ''' || trim({col}) || ''' is not a number' "
            f"WHEN TRY_CAST(trim({col}) AS DOUBLE) < 0 THEN '{col} ' || trim({col}) || ' is negative' END"
        )
    country_checks = [
        f"CASE WHEN {text(col)} IS NOT NULL AND upper(trim({col})) NOT IN (SELECT code FROM ref_country) "
        f"THEN '{col} ''' || trim({col}) || ''' is not an ISO 3166-1 alpha-2 country code' END"
        for col in ("origin_country", "dest_country", "declared_origin")
    ]
    reasons = ",\n            ".join(
        missing
        + numeric
        + country_checks
        + [
            f"CASE WHEN {text('accepted_at')} IS NOT NULL AND TRY_CAST(trim(accepted_at) AS TIMESTAMPTZ) IS NULL "
            "THEN 'accepted_at ''' || trim(accepted_at) || ''' is not an ISO 8601 date or timestamp' END",
            f"CASE WHEN {text('currency')} IS NOT NULL AND upper(trim(currency)) NOT IN (SELECT code FROM ref_currency) "
            "THEN 'currency ''' || trim(currency) || ''' is not an ISO 4217 code' END",
            f"CASE WHEN {text('hs_code')} IS NOT NULL AND NOT regexp_full_match(regexp_replace(trim(hs_code), '[.\\s]', '', 'g'), '[0-9]{{4,10}}') "
            "THEN 'hs_code ''' || trim(hs_code) || ''' is not 4 to 10 digits' END",
            f"CASE WHEN {text('category')} IS NOT NULL AND lower(trim(category)) NOT IN (SELECT category_given FROM ref_category) "
            "THEN 'category ''' || trim(category) || ''' is not one of gift, sample, merchandise, documents, returned, other' END",
        ]
    )
    typed = ",\n        ".join(
        [f"{text(c)} AS {c}" for c in TEXT_COLUMNS if c not in ("origin_country", "dest_country", "declared_origin", "currency", "hs_code", "category")]
        + [
            "TRY_CAST(TRY_CAST(trim(accepted_at) AS TIMESTAMPTZ) AS TIMESTAMP) AS accepted_at",
            "upper(trim(origin_country)) AS origin_country",
            "upper(trim(dest_country)) AS dest_country",
            f"upper({text('declared_origin')}) AS declared_origin",
            f"coalesce(upper({text('currency')}), 'USD') AS currency",
            f"NULLIF(regexp_replace(trim(hs_code), '[.\\s]', '', 'g'), '') AS hs_code",
            "category_value AS category",
        ]
        + [f"TRY_CAST(trim({c}) AS DOUBLE) AS {c}" for c in NUMERIC_COLUMNS]
    )
    return f"""
    CREATE OR REPLACE TEMP TABLE stage_checked AS
    SELECT source_line, extra, raw,
        {typed},
        list_filter([
            {reasons}
        ], lambda r: r IS NOT NULL) AS reasons
    FROM stage LEFT JOIN ref_category ON category_given = lower(NULLIF(trim(stage.category), ''))
    """


ROW_HASH = "md5(concat_ws(chr(31), " + ", ".join(
    f"coalesce(CAST({c} AS VARCHAR), '')" for c in COLUMN_NAMES
) + "))"


def _load_staged(con: duckdb.DuckDBPyConnection, path: Path, fmt: str, sha: str, size: int) -> FileResult:
    """Check the staged rows and write them, the quarantine and the file record in one transaction."""
    con.execute(_check_sql())
    # First occurrence of each parcel_id + carrier in this file; later ones are duplicates.
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE stage_valid AS
        SELECT *, {ROW_HASH} AS row_hash,
               row_number() OVER (PARTITION BY parcel_id, carrier ORDER BY source_line) AS occurrence,
               first_value({ROW_HASH}) OVER (PARTITION BY parcel_id, carrier ORDER BY source_line) AS first_hash,
               first_value(source_line) OVER (PARTITION BY parcel_id, carrier ORDER BY source_line) AS first_line
        FROM stage_checked WHERE len(reasons) = 0
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE stage_verdict AS
        SELECT v.*,
            CASE
                WHEN v.occurrence > 1 AND v.row_hash = v.first_hash THEN 'duplicate'
                WHEN v.occurrence > 1 THEN 'conflict_in_file'
                WHEN p.parcel_id IS NOT NULL AND p.row_hash = v.row_hash THEN 'duplicate'
                WHEN p.parcel_id IS NOT NULL THEN 'conflict_in_store'
                ELSE 'new'
            END AS verdict,
            f.path AS earlier_file, p.source_line AS earlier_line
        FROM stage_valid v
        LEFT JOIN parcels p ON v.occurrence = 1 AND p.parcel_id = v.parcel_id AND p.carrier = v.carrier
        LEFT JOIN files f ON f.file_id = p.file_id
        """
    )
    rows_read = con.execute("SELECT (SELECT count(*) FROM stage) + (SELECT count(*) FROM stage_rejects)").fetchone()[0]
    if rows_read == 0:
        raise IngestProblem(f"{path}: no data rows")

    cols = ", ".join(COLUMN_NAMES)
    con.execute("BEGIN TRANSACTION")
    try:
        file_id = con.execute("SELECT nextval('file_ids')").fetchone()[0]
        base = con.execute("SELECT coalesce(max(parcel_seq), 0) FROM parcels").fetchone()[0]
        con.execute(
            f"""
            INSERT INTO parcels (parcel_seq, {cols}, extra, file_id, source_line, row_hash)
            SELECT ? + row_number() OVER (ORDER BY source_line), {cols}, extra, ?, source_line, row_hash
            FROM stage_verdict WHERE verdict = 'new'
            """,
            [base, file_id],
        )
        con.execute(
            """
            INSERT INTO quarantine (file_id, source_file, source_line, parcel_id, carrier, reason, raw, quarantined_at)
            SELECT ?, ?, source_line, parcel_id, carrier, reason, raw, now()::TIMESTAMP FROM (
                SELECT source_line, NULLIF(trim(parcel_id), '') AS parcel_id, NULLIF(trim(carrier), '') AS carrier,
                       array_to_string(reasons, '; ') AS reason, raw
                FROM stage_checked WHERE len(reasons) > 0
                UNION ALL
                SELECT source_line, NULL, NULL, reason, raw FROM stage_rejects
                UNION ALL
                SELECT source_line, parcel_id, carrier,
                       CASE verdict
                           WHEN 'conflict_in_file' THEN 'duplicate parcel_id ' || parcel_id || ' + carrier ' || carrier || ' with different content (first at line ' || first_line || ' of this file)'
                           ELSE 'parcel_id ' || parcel_id || ' + carrier ' || carrier || ' already loaded with different content (from ' || earlier_file || ' line ' || earlier_line || ')'
                       END, raw
                FROM stage_verdict WHERE verdict IN ('conflict_in_file', 'conflict_in_store')
            ) ORDER BY source_line
            """,
            [file_id, str(path)],
        )
        counts = dict(con.execute("SELECT verdict, count(*) FROM stage_verdict GROUP BY verdict").fetchall())
        quarantined = con.execute("SELECT count(*) FROM quarantine WHERE file_id = ?", [file_id]).fetchone()[0]
        result = FileResult(
            path,
            "loaded",
            rows_read=rows_read,
            rows_loaded=counts.get("new", 0),
            rows_quarantined=quarantined,
            rows_duplicate=counts.get("duplicate", 0),
        )
        con.execute(
            "INSERT INTO files VALUES (?, ?, ?, ?, ?, now()::TIMESTAMP, ?, ?, ?, ?)",
            [file_id, str(path), sha, fmt, size, rows_read, result.rows_loaded, result.rows_quarantined, result.rows_duplicate],
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return result


def _drop_staging(con: duckdb.DuckDBPyConnection) -> None:
    for table in ("stage", "stage_rejects", "stage_checked", "stage_valid", "stage_verdict", "stage_read", "stage_lines", "stage_shift", "ingest_reject_errors", "ingest_reject_scans"):
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
        ensure_reference_tables(con)
        STAGERS[fmt](con, path)
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
