"""Dashboard log-in: local users with bcrypt-hashed passwords, kept in the cases file.

Users are created with `linker users add NAME --role investigator|viewer`. A password is
hashed with bcrypt (a per-password salt, cost 12); the plain text is never stored or logged.
Every log-in, and every refused one, goes to the audit log. After `MAX_REFUSALS` refused
attempts for one user name within `LOCKOUT_MINUTES`, further attempts are refused without
checking the password, which makes guessing slow.

Where an identity provider exists (OpenID Connect), Streamlit's own `st.login` can be used
instead of passwords: put an `[auth]` section (redirect_uri, cookie_secret, client_id,
client_secret, server_metadata_url) in `.streamlit/secrets.toml`, and create each person as a
user named by their e-mail address (`linker users add ana@example.org --role viewer`, any
password); the dashboard then offers "Log in with your organisation", and the role comes from
the users table. A person who signs in at the provider but has no user row is refused.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import bcrypt

from linker.casework import cases
from linker.casework.cases import CasesError, User

MIN_PASSWORD_LENGTH = 8
MAX_REFUSALS = 5
LOCKOUT_MINUTES = 15


def hash_password(password: str) -> str:
    """bcrypt hash of a password; bcrypt reads at most 72 bytes, so longer ones are refused
    rather than silently truncated."""
    raw = password.encode("utf-8")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise CasesError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    if len(raw) > 72:
        raise CasesError("a password can be at most 72 bytes long")
    return bcrypt.hashpw(raw, bcrypt.gensalt(rounds=12)).decode("ascii")


def check_password(password: str, password_hash: str) -> bool:
    raw = password.encode("utf-8")
    if len(raw) > 72:
        return False
    try:
        return bcrypt.checkpw(raw, password_hash.encode("ascii"))
    except ValueError:  # a row whose hash is not bcrypt (e.g. an OIDC-only user)
        return False


def create_user(cases_path: str | Path, name: str, role: str, password: str) -> User:
    """Hash the password and store the user."""
    return cases.add_user(cases_path, name, role, hash_password(password))


def authenticate(cases_path: str | Path, name: str, password: str) -> User | None:
    """The user when name and password match, else None; both outcomes are audited."""
    name = (name or "").strip()
    since = (datetime.now(timezone.utc) - timedelta(minutes=LOCKOUT_MINUTES)).replace(microsecond=0).isoformat()
    if name and cases.recent_refusals(cases_path, name, since) >= MAX_REFUSALS:
        cases.audit(cases_path, name or "-", "login_refused", name, "locked out after repeated refusals")
        return None
    found = cases.get_user(cases_path, name) if name else None
    if found is None:
        # Spend the same time as a real check so that timing does not tell which names exist.
        check_password(password or "", "$2b$12$" + "." * 53)
        cases.audit(cases_path, name or "-", "login_refused", name, "unknown user")
        return None
    user, stored = found
    if not check_password(password or "", stored):
        cases.audit(cases_path, name, "login_refused", name, "wrong password")
        return None
    cases.audit(cases_path, name, "login", name, f"role={user.role}")
    return user


def identity_provider_user(cases_path: str | Path, email: str | None) -> User | None:
    """Map a person signed in through `st.login` to a local user by e-mail; audited."""
    if not email:
        return None
    found = cases.get_user(cases_path, email)
    if found is None:
        cases.audit(cases_path, email, "login_refused", email, "identity provider user without a local user")
        return None
    cases.audit(cases_path, email, "login", email, f"role={found[0].role} via identity provider")
    return found[0]
