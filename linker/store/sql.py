"""SQL text written from Python: quoting and running scripts, in one place.

Values from the data never pass through here: they stay inside the database or reach it as `?`
parameters. What is quoted here is what DuckDB needs as literal text - file paths for its table
functions and COPY, column names of a file, and values of the validated settings and catalogue.
This is also the place for what is particular to DuckDB's dialect among the stages' helpers.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Callable

import duckdb


def literal(value: str | Path) -> str:
    """A SQL string literal: `O'Brien` -> `'O''Brien'`; a path is written with forward slashes."""
    text = value.as_posix() if isinstance(value, Path) else str(value)
    return "'" + text.replace("'", "''") + "'"


def string_list(values) -> str:
    """A SQL list of string literals, in the order given: `['a', 'b']`."""
    return "[" + ", ".join(literal(v) for v in values) + "]"


def identifier(name: str) -> str:
    """A quoted SQL identifier: a double quote inside the name is doubled."""
    return '"' + name.replace('"', '""') + '"'


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params=None):
    """The single value a query returns. fetchall, not fetchone: DuckDB 2 keeps a half-read
    result open on the connection, and a later `register` then fails."""
    return con.execute(sql, params or []).fetchall()[0][0]


# Steps of a script that are Python, not SQL: `PYTHON name arg ...` runs PYTHON_STEPS[name](con, arg, ...).
PYTHON_STEPS: dict[str, Callable[..., None]] = {}


def python_step(name: str):
    """Register `fn(con, *args)` as the script statement `PYTHON name arg ...` (see execute_script)."""
    def register(fn: Callable[..., None]) -> Callable[..., None]:
        PYTHON_STEPS[name] = fn
        return fn
    return register


def record_python_step(what: str, seconds: float, *, beside: bool = False) -> None:
    """With `LINKER_SQL_PROFILE=FILE`, append a line for Python work done outside a script
    (as execute_script does for its statements): what it was and its seconds, and whether it
    ran in a thread beside the statements (`beside`: its time overlaps theirs)."""
    profile = os.environ.get("LINKER_SQL_PROFILE")
    if profile:
        record = {"seconds": round(seconds, 3), "python_udf": True, "statement": "PYTHON " + what, "beside": beside}
        with open(profile, "a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")


def execute_script(con: duckdb.DuckDBPyConnection, script: str) -> None:
    """Run the statements of `script` in order. Those that call a Python UDF run on one
    DuckDB thread: several threads calling Python only contend for its interpreter lock,
    which made them several times slower than one. A statement `PYTHON name arg ...` runs the
    Python step registered under that name (python_step) with the connection and the args:
    work that reads a table in large Arrow batches and writes another, where a UDF would be
    called for every 2,048 rows on one thread.

    With `LINKER_SQL_PROFILE=FILE` in the environment, each statement's seconds are appended
    to FILE as a JSON line (seconds, whether it calls Python, the statement's first 300
    characters): where a slow run spends its time, for `bench/` and operators."""
    profile = os.environ.get("LINKER_SQL_PROFILE")
    for statement in script.split(";\n"):
        if not statement.strip():
            continue
        started = time.perf_counter()
        udf = "linker_" in statement
        words = " ".join(line for line in statement.splitlines() if not line.strip().startswith("--")).split()
        if words and words[0] == "PYTHON":
            udf = True
            if words[1] not in PYTHON_STEPS:
                raise KeyError(f"no Python step {words[1]!r} is registered")
            PYTHON_STEPS[words[1]](con, *words[2:])
        elif not udf:
            con.execute(statement)
        else:
            threads = con.execute("SELECT current_setting('threads')").fetchall()[0][0]
            con.execute("SET threads = 1")
            try:
                con.execute(statement)
            finally:
                con.execute(f"SET threads = {int(threads)}")
        if profile:
            code = " ".join(line for line in statement.splitlines() if not line.strip().startswith("--"))
            record = {"seconds": round(time.perf_counter() - started, 3), "python_udf": udf,
                      "statement": " ".join(code.split())[:300]}
            with open(profile, "a", encoding="utf-8") as out:
                out.write(json.dumps(record) + "\n")
