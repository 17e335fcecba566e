"""Reading a settings file, one way for all three (catalogue, scoring, resolution).

A settings file is TOML that a person edits. Each kind has a file shipped beside this module
(the defaults) and may be replaced or amended by a user's file:

1. which file: the path given, else the kind's environment variable (where it has one), else
   the shipped file;
2. parse it; a file TOML cannot read is refused at its line;
3. for settings that are amended (scoring, resolution), the user's file needs only the keys it
   changes: its tables are merged over the shipped ones, and a key the shipped file does not
   have is refused (a typo must not silently leave the default in force), as is a value whose
   type differs from the default's;
4. the kind's own checks (ranges, names that must exist), each refusing with the file, the
   line and the problem in one sentence (`SettingsError`).
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any, Callable

from linker.errors import LinkerError

SETTINGS_DIR = Path(__file__).parent


class SettingsError(LinkerError):
    """A settings file the analysis cannot use. `str()` is one line: kind, file, line, what is wrong."""

    kind = "settings"

    def __init__(self, path: str | Path, line: int | None, problem: str):
        self.path = str(path)
        self.line = line
        self.problem = problem.rstrip(".")
        where = f"{self.path}, line {line}" if line else self.path
        super().__init__(f"{self.kind} {where}: {self.problem}.")


def shipped(name: str) -> Path:
    """The settings file `name` shipped with the package."""
    return SETTINGS_DIR / name


def chosen_path(default: Path, path: str | Path | None = None, env: str | None = None) -> Path:
    """The file to read: `path`, else `$env` when set, else the shipped default."""
    chosen = path or (os.environ.get(env) if env else None)
    return Path(chosen) if chosen else default


def read_toml(path: Path, error: type[SettingsError] = SettingsError) -> tuple[dict, str]:
    """The parsed file and its text (for finding lines), or `error` at the line TOML stopped."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(path, None, "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(path, None, f"cannot be read ({exc.__class__.__name__}: {exc})") from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = re.search(r"\(at line (\d+), column \d+\)", msg)
        line = int(m.group(1)) if m else None
        problem = re.sub(r"\s*\(at line \d+, column \d+\)", "", msg) or "not valid TOML"
        raise error(path, line, f"not valid TOML: {problem}") from None


class Lines:
    """Where a key stands in a TOML text, for messages. TOML parsers drop positions, so the
    text is searched: a key is looked for inside the section of its table (from the table's
    header to the next header); a key nested in an inline table, or a value inside an array,
    from the line of its parent key on. When nothing is found, the nearest enclosing line."""

    def __init__(self, text: str):
        self.lines = text.splitlines()

    def line_of(self, keys: tuple[str, ...], value: str | None = None) -> int | None:
        for depth in range(len(keys), -1, -1):
            start = self._header_line(keys[:depth]) if depth else 0
            if start is None:
                continue
            end = self._section_end(start)
            pos = start
            found_line = start + 1 if depth else None
            for i, key in enumerate(keys[depth:]):
                pattern = re.compile(
                    (r"^\s*" if i == 0 else r"(^|[{,\s])") + r"[\"']?" + re.escape(key) + r"[\"']?\s*="
                )
                hit = next((n for n in range(pos, end) if pattern.search(self.lines[n])), None)
                if hit is None:
                    break
                pos, found_line = hit, hit + 1
            if value is not None and found_line is not None:
                needle = re.compile(r"[\"']" + re.escape(value) + r"[\"']|=\s*" + re.escape(value) + r"\b")
                hit = next((n for n in range(found_line - 1, end) if needle.search(self.lines[n])), None)
                if hit is not None:
                    found_line = hit + 1
            if found_line is not None:
                return found_line
        return None

    def _header_line(self, keys: tuple[str, ...]) -> int | None:
        parts = r"\s*\.\s*".join(r"[\"']?" + re.escape(k) + r"[\"']?" for k in keys)
        pattern = re.compile(r"^\s*\[\[?\s*" + parts + r"\s*\]\]?\s*(#.*)?$")
        return next((n for n, text in enumerate(self.lines) if pattern.match(text)), None)

    def _section_end(self, start: int) -> int:
        header = re.compile(r"^\s*\[")
        return next((n for n in range(start + 1, len(self.lines)) if header.match(self.lines[n])), len(self.lines))


Fail = Callable[[tuple[str, ...], str], None]  # (keys, problem) -> raises


def _kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


def merge_over(base: dict, user: dict, fail: Fail, keys: tuple[str, ...] = ()) -> None:
    """Merge `user` into `base` in place: tables key by key, anything else replaced. A key
    `base` lacks, or a table where `base` has a value (or the reverse), is refused through
    `fail`."""
    for key, value in user.items():
        here = keys + (key,)
        if key not in base:
            fail(here, f"unknown setting {'.'.join(here)}")
        default = base[key]
        if isinstance(default, dict) and isinstance(value, dict):
            merge_over(default, value, fail, here)
        elif isinstance(default, dict) or isinstance(value, dict):
            fail(here, f"{'.'.join(here)} must be {_kind_of(default)}, not {_kind_of(value)}")
        else:
            base[key] = value


def check_types(defaults: dict, config: dict, fail: Fail, keys: tuple[str, ...] = (),
                any_type: frozenset[str] = frozenset()) -> None:
    """Refuse, through `fail`, a value whose type (number, true or false, text, list, table)
    differs from its default's; keys named in `any_type` may hold any type."""
    for key, value in config.items():
        if key not in defaults or key in any_type:
            continue
        here, default = keys + (key,), defaults[key]
        if isinstance(default, dict) and isinstance(value, dict):
            check_types(default, value, fail, here, any_type)
        elif _kind_of(value) != _kind_of(default):
            fail(here, f"{'.'.join(here)} must be {_kind_of(default)}, not {_kind_of(value)}")


def load_amended(default: Path, path: str | Path | None, env: str | None, error: type[SettingsError],
                 validate: Callable[[dict, dict, Fail], None]) -> dict:
    """The shipped settings `default`, with the user's file (`path`, else `$env`) merged over
    them, then checked by `validate(shipped, merged, fail)`. A refusal names the file and line
    of the offending key: the user's where the user's file has it, else the shipped file's."""
    config, text = read_toml(default, error)
    shipped_config, _ = read_toml(default, error)
    sources = [(default, Lines(text), None)]
    chosen = chosen_path(default, path, env)
    if chosen != default:
        user, user_text = read_toml(chosen, error)
        sources.insert(0, (chosen, Lines(user_text), user))

    def fail(keys: tuple[str, ...], problem: str) -> None:
        for where, lines, data in sources:
            if data is None or _has(data, keys):
                raise error(where, lines.line_of(keys), problem)
        raise error(sources[0][0], None, problem)

    if len(sources) > 1:
        merge_over(config, sources[0][2], fail)
    validate(shipped_config, config, fail)
    return config


def _has(data: dict, keys: tuple[str, ...]) -> bool:
    for key in keys:
        if not isinstance(data, dict) or key not in data:
            return False
        data = data[key]
    return True
