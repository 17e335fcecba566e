"""The detection and scoring settings, `scoring.toml`: the graph and its identifiers (`[graph]`),
what makes a cluster, the signals' weights and parameters, the retail pattern and the flag rule.

`load_scoring()` reads the shipped file, with a user's file (`path`, else `$LINKER_SCORING`)
merged over it: the user's file needs only the keys it changes.
"""

from __future__ import annotations

from pathlib import Path

from linker.settings.loader import Fail, SettingsError, check_types, load_amended, read_toml, shipped

SCORING_FILE = shipped("scoring.toml")

# The signals of a cluster, each weighed by `[weights]` (the goods signals of a parcel are
# linker.stages.signals.PARCEL_SIGNALS).
CLUSTER_SIGNALS = ("quantity", "declaration", "split", "identity_churn", "channel_switching", "routing", "recency")


class ScoringSettingsError(SettingsError):
    kind = "scoring settings"


def load_scoring(path: str | Path | None = None) -> dict:
    """The detection settings: scoring.toml, with `path` / $LINKER_SCORING merged over it."""
    return load_amended(SCORING_FILE, path, "LINKER_SCORING", ScoringSettingsError, _validate)


def _validate(shipped_config: dict, config: dict, fail: Fail) -> None:
    check_types(shipped_config, config, fail)
    unknown = set(config["weights"]) - set(CLUSTER_SIGNALS)
    if unknown:
        fail(("weights",), f"unknown signal weight(s) {sorted(unknown)}; known: {list(CLUSTER_SIGNALS)}")


# The `[graph]` section as shipped: what the graph and detection use for a setting the caller
# leaves out (a test's or a benchmark's partial settings).
DEFAULT_GRAPH_CONFIG: dict = read_toml(SCORING_FILE, ScoringSettingsError)[0]["graph"]


def graph_settings(config: dict | None) -> dict:
    """The `[graph]` settings with the shipped values filled in for anything `config` leaves out."""
    merged = {k: (dict(v) if isinstance(v, dict) else v) for k, v in DEFAULT_GRAPH_CONFIG.items()}
    for key, value in (config or {}).items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key].update(value)
        else:
            merged[key] = value
    return merged
