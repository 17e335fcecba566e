"""The entity-resolution settings, `resolution.toml`: blocking rules, comparison levels with
their prior m and u, the frequency terms, the decision and the estimation of the model (see
docs/RESOLUTION.md).

`load_resolution()` reads the shipped file, with a user's file (`path`) merged over it, and
checks what a typo would silently break: every level's m and u are probabilities (u may be
"tf", weighed by the value's frequency), every blocking rule has a name and a key, counts are
positive, and every value has the type of the shipped one.
"""

from __future__ import annotations

from pathlib import Path

from linker.settings.loader import Fail, SettingsError, check_types, load_amended, shipped

RESOLUTION_FILE = shipped("resolution.toml")


class ResolutionSettingsError(SettingsError):
    kind = "resolution settings"


def load_resolution(path: str | Path | None = None) -> dict:
    """The resolution settings: resolution.toml, with `path` merged over it."""
    return load_amended(RESOLUTION_FILE, path, None, ResolutionSettingsError, _validate)


def _probability(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value <= 1


def _validate(shipped_config: dict, config: dict, fail: Fail) -> None:
    check_types(shipped_config, config, fail, any_type=frozenset({"u"}))
    for field, levels in config.get("fields", {}).items():
        for level, spec in levels.items():
            name = f"fields.{field}.{level}"
            if not isinstance(spec, dict):
                continue  # an option of the field (a list of words), not a level
            if not _probability(spec.get("m")):
                fail(("fields", field, level), f"{name}.m must be a probability above 0 and at most 1")
            if spec.get("u") != "tf" and not _probability(spec.get("u")):
                fail(("fields", field, level), f'{name}.u must be "tf" or a probability above 0 and at most 1')
    blocking = config.get("blocking", {})
    for n, rule in enumerate(blocking.get("rules", []), start=1):
        if not (isinstance(rule, dict) and isinstance(rule.get("name"), str) and isinstance(rule.get("key"), str)):
            fail(("blocking", "rules"), f"blocking rule {n} needs a name and a key (an SQL expression), both text")
        if "max_block" in rule and not _positive_int(rule["max_block"]):
            fail(("blocking", "rules"), f"blocking rule {rule['name']}: max_block must be a whole number above 0")
    for section, key in (("blocking", "max_block"), ("frequency", "min_population")):
        if key in config.get(section, {}) and not _positive_int(config[section][key]):
            fail((section, key), f"{section}.{key} must be a whole number above 0")


def _positive_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0
