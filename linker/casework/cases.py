"""Investigators' own records: users, cases, notes, the watch list and the audit log.

These live apart from the analysis store, in a SQLite file beside it
(`<store stem>.cases.sqlite`), because the nightly run rebuilds the analysis tables and must
never lose what people wrote. Cases are keyed by the stable `cluster_id`, so a note follows
its operation from one run to the next.

SQLite in WAL mode lets the command line (`linker users add`) and the running dashboard write
to the file at the same time. Every function opens a short-lived connection: Streamlit runs
each browser session on its own thread and sqlite3 connections must not cross threads.

The audit log is append-only: this module has no path that updates or deletes it, and
triggers in the schema refuse UPDATE and DELETE from anyone else.
"""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from linker.errors import LinkerError

STATUSES = ("new", "under review", "escalated", "dismissed", "confirmed")
ROLES = ("investigator", "viewer")
WATCH_KINDS = ("name", "phone", "account", "address", "id_number")

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name          TEXT PRIMARY KEY,
    role          TEXT NOT NULL CHECK (role IN ('investigator', 'viewer')),
    password_hash TEXT NOT NULL,
    created_at    TEXT NOT NULL
);

-- One row per cluster an investigator has touched; clusters without a row are 'new'.
CREATE TABLE IF NOT EXISTS cases (
    cluster_id TEXT PRIMARY KEY,
    status     TEXT NOT NULL CHECK (status IN ('new', 'under review', 'escalated', 'dismissed', 'confirmed')),
    assignee   TEXT,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS case_notes (
    note_id    INTEGER PRIMARY KEY AUTOINCREMENT,
    cluster_id TEXT NOT NULL,
    author     TEXT NOT NULL,
    at         TEXT NOT NULL,
    text       TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS case_notes_cluster ON case_notes (cluster_id);

CREATE TABLE IF NOT EXISTS audit_log (
    seq    INTEGER PRIMARY KEY AUTOINCREMENT,
    at     TEXT NOT NULL,
    user   TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT,
    detail TEXT
);
CREATE INDEX IF NOT EXISTS audit_log_user_at ON audit_log (user, at);

-- Append-only, enforced by the file itself and not only by this module.
CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

-- Values investigators want to hear about when they turn up in new parcels; value_norm is
-- the canonical form the nightly job matches against.
CREATE TABLE IF NOT EXISTS watchlist (
    watch_id   INTEGER PRIMARY KEY AUTOINCREMENT,
    kind       TEXT NOT NULL CHECK (kind IN ('name', 'phone', 'account', 'address', 'id_number')),
    value      TEXT NOT NULL,
    value_norm TEXT NOT NULL,
    added_by   TEXT NOT NULL,
    added_at   TEXT NOT NULL,
    note       TEXT,
    UNIQUE (kind, value_norm)
);
"""


class CasesError(LinkerError):
    """A problem with the cases file that the user can act on; one sentence."""


@dataclass(frozen=True)
class User:
    name: str
    role: str

    @property
    def can_edit(self) -> bool:
        """Viewers read; only investigators change cases, notes and the watch list."""
        return self.role == "investigator"


@dataclass(frozen=True)
class Case:
    cluster_id: str
    status: str
    assignee: str | None
    updated_at: str | None
    updated_by: str | None


def cases_db_path(db_path: str | Path) -> Path:
    """The cases file that belongs to a store: `<db stem>.cases.sqlite` beside it."""
    path = Path(db_path)
    return path.with_name(f"{path.stem}.cases.sqlite")


def now() -> str:
    """UTC time as ISO 8601 to the second; sorts as text."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


@contextmanager
def open_cases(path: str | Path) -> Iterator[sqlite3.Connection]:
    """A short-lived connection to the cases file (SQLite) with the schema in place; commits on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(str(path), timeout=10)
    try:
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA busy_timeout=10000")
        con.executescript(SCHEMA)
        yield con
        con.commit()
    except sqlite3.OperationalError as exc:
        con.rollback()
        raise CasesError(f"cannot use the cases file {path}: {exc}") from None
    finally:
        con.close()


# ---------------------------------------------------------------- users


def validate_user_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 120 or any(ch.isspace() for ch in name):
        raise CasesError("a user name is 1 to 120 characters without spaces (an e-mail address is fine)")
    return name


def add_user(path: str | Path, name: str, role: str, password_hash: str) -> User:
    """Create a user; the caller hashes the password (see `linker.auth`)."""
    name = validate_user_name(name)
    if role not in ROLES:
        raise CasesError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    with open_cases(path) as con:
        try:
            con.execute(
                "INSERT INTO users (name, role, password_hash, created_at) VALUES (?, ?, ?, ?)",
                [name, role, password_hash, now()],
            )
        except sqlite3.IntegrityError:
            raise CasesError(f"user {name!r} already exists") from None
        _audit(con, f"cli:{_os_user()}", "user_add", name, f"role={role}")
    return User(name, role)


def _os_user() -> str:
    """Who ran the command that created a user, for the audit log."""
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def get_user(path: str | Path, name: str) -> tuple[User, str] | None:
    """The user and their stored password hash, or None."""
    with open_cases(path) as con:
        row = con.execute("SELECT name, role, password_hash FROM users WHERE name = ?", [name]).fetchone()
    return (User(row[0], row[1]), row[2]) if row else None


def list_users(path: str | Path) -> list[dict]:
    with open_cases(path) as con:
        rows = con.execute("SELECT name, role, created_at FROM users ORDER BY name").fetchall()
    return [{"name": r[0], "role": r[1], "created_at": r[2]} for r in rows]


def user_names(path: str | Path) -> list[str]:
    return [u["name"] for u in list_users(path)]


# ---------------------------------------------------------------- audit log


def _audit(con: sqlite3.Connection, user: str, action: str, target: str | None, detail: str | None) -> None:
    con.execute(
        "INSERT INTO audit_log (at, user, action, target, detail) VALUES (?, ?, ?, ?, ?)",
        [now(), user, action, target, detail],
    )


def audit(path: str | Path, user: str, action: str, target: str | None = None, detail: str | None = None) -> None:
    """Append one event: who did what to which target, and when."""
    with open_cases(path) as con:
        _audit(con, user, action, target, detail)


def audit_log(
    path: str | Path, *, user: str | None = None, action: str | None = None, limit: int = 1000
) -> list[dict]:
    """Newest events first, optionally for one user or one action."""
    clauses, params = [], []
    if user:
        clauses.append("user = ?")
        params.append(user)
    if action:
        clauses.append("action = ?")
        params.append(action)
    where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
    with open_cases(path) as con:
        rows = con.execute(
            f"SELECT seq, at, user, action, target, detail FROM audit_log {where} ORDER BY seq DESC LIMIT ?",
            [*params, int(limit)],
        ).fetchall()
    return [dict(zip(("seq", "at", "user", "action", "target", "detail"), r)) for r in rows]


def recent_refusals(path: str | Path, name: str, since: str) -> int:
    """Refused logins for a user name since an ISO time: the basis of the lock-out."""
    with open_cases(path) as con:
        return int(
            con.execute(
                "SELECT count(*) FROM audit_log WHERE action = 'login_refused' AND target = ? AND at >= ?",
                [name, since],
            ).fetchone()[0]
        )


# ---------------------------------------------------------------- cases and notes


def _require_editor(user: User) -> None:
    if not user.can_edit:
        raise CasesError(f"{user.name} is a viewer: only investigators can change cases")


def get_case(path: str | Path, cluster_id: str) -> Case:
    with open_cases(path) as con:
        row = con.execute(
            "SELECT cluster_id, status, assignee, updated_at, updated_by FROM cases WHERE cluster_id = ?", [cluster_id]
        ).fetchone()
    return Case(*row) if row else Case(cluster_id, "new", None, None, None)


def all_cases(path: str | Path) -> dict[str, Case]:
    """Every case row, by cluster id; clusters not in it are 'new' and unassigned."""
    with open_cases(path) as con:
        rows = con.execute("SELECT cluster_id, status, assignee, updated_at, updated_by FROM cases").fetchall()
    return {r[0]: Case(*r) for r in rows}


def update_case(
    path: str | Path, user: User, cluster_id: str, *, status: str | None = None, assignee: str | None | type = ...
) -> Case:
    """Change a case's status and/or assignee (assignee None unassigns; leave it out to keep it).

    Each change is written to the audit log in the same transaction.
    """
    _require_editor(user)
    if status is not None and status not in STATUSES:
        raise CasesError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
    with open_cases(path) as con:
        row = con.execute("SELECT status, assignee FROM cases WHERE cluster_id = ?", [cluster_id]).fetchone()
        old_status, old_assignee = row if row else ("new", None)
        new_status = status if status is not None else old_status
        new_assignee = old_assignee if assignee is ... else (assignee or None)
        if row and (new_status, new_assignee) == (old_status, old_assignee):
            return Case(cluster_id, old_status, old_assignee, None, None)
        at = now()
        con.execute(
            "INSERT INTO cases (cluster_id, status, assignee, updated_at, updated_by) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (cluster_id) DO UPDATE SET status = excluded.status, assignee = excluded.assignee, "
            "updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            [cluster_id, new_status, new_assignee, at, user.name],
        )
        if new_status != old_status:
            _audit(con, user.name, "case_status", cluster_id, f"{old_status} -> {new_status}")
        if new_assignee != old_assignee:
            _audit(con, user.name, "case_assign", cluster_id, f"{old_assignee or '-'} -> {new_assignee or '-'}")
    return Case(cluster_id, new_status, new_assignee, at, user.name)


def add_note(path: str | Path, user: User, cluster_id: str, text: str) -> None:
    _require_editor(user)
    text = (text or "").strip()
    if not text:
        raise CasesError("a note cannot be empty")
    with open_cases(path) as con:
        con.execute(
            "INSERT INTO case_notes (cluster_id, author, at, text) VALUES (?, ?, ?, ?)",
            [cluster_id, user.name, now(), text],
        )
        _audit(con, user.name, "case_note", cluster_id, text[:200])


def notes(path: str | Path, cluster_id: str) -> list[dict]:
    """A case's notes, oldest first."""
    with open_cases(path) as con:
        rows = con.execute(
            "SELECT author, at, text FROM case_notes WHERE cluster_id = ? ORDER BY note_id", [cluster_id]
        ).fetchall()
    return [{"author": r[0], "at": r[1], "text": r[2]} for r in rows]


# ---------------------------------------------------------------- watch list


def _fallback_norm(kind: str, value: str) -> str:
    """Canonical form when `linker.normalise` offers nothing for this kind: NFKC, case-folded,
    spacing collapsed; phones keep their digits only."""
    text = unicodedata.normalize("NFKC", value).casefold().strip()
    if kind == "phone":
        return re.sub(r"\D", "", text)
    if kind in ("account", "id_number"):
        return re.sub(r"[\s\-./]", "", text).upper()
    return re.sub(r"\s+", " ", text)


def normalise_value(kind: str, value: str) -> str:
    """The watch-list value in the canonical form of the `party_mentions` column it is matched
    against (name_key, phone_e164, account_norm / id_number_norm, address_key), made by the
    same `linker.normalise` functions as the data. A national phone number is read as Chinese,
    the country the parcels are posted from; write it with +CC otherwise."""
    from linker.stages import normalise as norm

    result: str | None = None
    if kind == "name":
        result = norm.name_key(norm.normalise_name(value))
    elif kind == "phone":
        cleaned = norm.clean_phone(value)
        result = norm.normalise_phone(cleaned, "CN")[0] if cleaned else None
    elif kind in ("account", "id_number"):
        result = norm.canonical_identifier(value)
    elif kind == "address":
        address_norm, address_key, unit = norm.normalise_address(value)
        result = " ".join(filter(None, [address_key, f"unit {unit}" if unit else None])) or None
    return result or _fallback_norm(kind, value)


def has_anything_to_match(value_norm: str | None) -> bool:
    """True when a canonical watch-list value holds a letter or digit to compare."""
    return bool(value_norm) and any(ch.isalnum() for ch in value_norm)


def watch_add(path: str | Path, user: User, kind: str, value: str, note: str | None = None) -> bool:
    """Add a value to the watch list; False when it is already there. A value whose canonical
    form has nothing to compare (a phone without digits) is refused with a CasesError."""
    _require_editor(user)
    if kind not in WATCH_KINDS:
        raise CasesError(f"kind must be one of {', '.join(WATCH_KINDS)}, not {kind!r}")
    value = (value or "").strip()
    if not value:
        raise CasesError("a watch-list value cannot be empty")
    value_norm = normalise_value(kind, value)
    if not has_anything_to_match(value_norm):
        # An empty canonical form would match every parcel without one and make each later
        # digit-free phone "already on the watch list".
        needs = "digits" if kind == "phone" else "letters or digits"
        raise CasesError(f"{value!r} is no {kind.replace('_', ' ')} to watch: it has no {needs}")
    with open_cases(path) as con:
        cur = con.execute(
            "INSERT OR IGNORE INTO watchlist (kind, value, value_norm, added_by, added_at, note) VALUES (?, ?, ?, ?, ?, ?)",
            [kind, value, value_norm, user.name, now(), (note or "").strip() or None],
        )
        added = cur.rowcount == 1
        if added:
            _audit(con, user.name, "watch_add", f"{kind}:{value}", note)
    return added


def watch_remove(path: str | Path, user: User, watch_id: int) -> None:
    _require_editor(user)
    with open_cases(path) as con:
        row = con.execute("SELECT kind, value FROM watchlist WHERE watch_id = ?", [watch_id]).fetchone()
        if row:
            con.execute("DELETE FROM watchlist WHERE watch_id = ?", [watch_id])
            _audit(con, user.name, "watch_remove", f"{row[0]}:{row[1]}", None)


def watchlist(path: str | Path) -> list[dict]:
    with open_cases(path) as con:
        rows = con.execute(
            "SELECT watch_id, kind, value, value_norm, added_by, added_at, note FROM watchlist ORDER BY watch_id"
        ).fetchall()
    return [dict(zip(("watch_id", "kind", "value", "value_norm", "added_by", "added_at", "note"), r)) for r in rows]
