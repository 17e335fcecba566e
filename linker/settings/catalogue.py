"""The controlled-items catalogue: what the goods signals look for, read from a TOML file.

The catalogue is data a user edits, not code: the controlled commodities with their names in
several languages, symbols, tariff headings, thresholds and reference prices; the cover goods
used to hide them with their own prices; exchange rates; and every threshold and tolerance of
the goods signals (`[signals]`). The shipped default is `linker/catalogue.toml`; a user's copy
is chosen by passing its path to `load_catalogue` or with `$LINKER_CATALOGUE`.

A file that TOML cannot parse, or that parses but means nothing sensible (an unknown key, a
missing threshold, a negative price, a heading with letters in it), is refused with a
`CatalogueError` naming the file, the line and the problem in one sentence, so that a typo in a
hand-edited file never turns silently into a detector that sees nothing.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from linker.errors import one_line
from linker.settings.loader import Lines, SettingsError, chosen_path, read_toml

FORMAT_VERSION = 1
UNKNOWN = "unknown"  # commodity of goods that are probably controlled but not identifiable


class CatalogueError(SettingsError):
    """A catalogue file the analysis cannot use. `str()` is one line: file, line, what is wrong."""

    kind = "catalogue"


@dataclass(frozen=True)
class SignalSettings:
    """Thresholds and tolerances of linker/stages/signals.py; every field must be in `[signals]`.

    The meaning of each is documented next to it in the shipped catalogue.toml.
    """

    fuzzy_min_length: int
    fuzzy_max_edits: int
    fuzzy_long_length: int
    fuzzy_max_edits_long: int
    fuzzy_never: tuple[str, ...]
    symbol_context_pattern: str
    name_match_strength: float
    fuzzy_match_strength: float
    symbol_match_strength: float
    ambiguous_symbol_strength: float
    heading_match_strength: float
    cover_heading_strength: float
    mismatch_cover_heading_strength: float
    mismatch_other_heading_strength: float
    mismatch_controlled_heading_strength: float
    value_low_ratio: float
    value_high_ratio: float
    value_full_strength_decades: float
    packaging_allowance_kg: float
    packaging_allowance_ratio: float
    packaging_small_max_kg: float
    concealment_min_excess_kg: float
    concealment_half_strength_ratio: float
    false_origin_strength: float
    false_origin_goods_strength: float
    transshipment_strength: float
    transit_countries: tuple[str, ...]
    unknown_threshold_kg: float
    unknown_window_days: int
    # Optional (a catalogue written before they existed keeps these defaults): relabelling
    # wording that denies or restates the goods' origin (RE2, case-insensitive), and how
    # strongly it says the declaration is false.
    relabel_pattern: str | None = None
    relabel_strength: float = 0.8
    relabel_material_pattern: str | None = None


@dataclass(frozen=True)
class CoverGoods:
    """Uncontrolled goods whose description or heading is used to hide controlled items."""

    id: str
    label: str
    names: dict[str, tuple[str, ...]]  # language code -> names
    headings: tuple[str, ...]  # digits only
    price_usd_per_kg: float
    strength: float


@dataclass(frozen=True)
class Commodity:
    id: str
    label: str
    names: dict[str, tuple[str, ...]]  # language code -> names
    symbols: tuple[str, ...]
    ambiguous_symbols: tuple[str, ...]
    headings: tuple[str, ...]  # digits only
    covers: tuple[str, ...]  # ids of CoverGoods
    threshold_kg: float
    window_days: int
    price_usd_per_kg: float
    controlled_since: str | None = None
    generic: bool = False
    match_strength: float | None = None  # None: signals.name_match_strength
    transit_countries: tuple[str, ...] | None = None  # None: signals.transit_countries
    articles_exempt: bool = False  # a finished article naming it is not this commodity (toys with magnets)


@dataclass(frozen=True)
class FinishedArticles:
    """Finished consumer articles (toys, fridge magnets, jewellery, parts): a description that
    names one describes goods made of a material, not the material, so cover names in it and
    the commodities marked `articles_exempt` do not count. `pattern` (RE2, case-insensitive)
    recognises a sold set of pieces ("35pcs") where the description has no material word."""

    names: dict[str, tuple[str, ...]]
    pattern: str | None = None
    headings: tuple[str, ...] = ()  # cover headings an article is rightly declared under


@dataclass(frozen=True)
class Catalogue:
    path: Path
    signals: SignalSettings
    usd_per_unit: dict[str, float]
    covers: dict[str, CoverGoods]
    commodities: dict[str, Commodity]
    articles: FinishedArticles | None = None

    def threshold_for(self, commodity: str) -> tuple[float, int]:
        """(threshold_kg, window_days) of a commodity id, or of `unknown` goods."""
        if commodity in self.commodities:
            c = self.commodities[commodity]
            return c.threshold_kg, c.window_days
        return self.signals.unknown_threshold_kg, self.signals.unknown_window_days

    def transit_countries_for(self, commodity: str) -> tuple[str, ...]:
        c = self.commodities.get(commodity)
        if c is not None and c.transit_countries is not None:
            return c.transit_countries
        return self.signals.transit_countries


def default_catalogue_path() -> Path:
    """The catalogue shipped with the package."""
    return Path(str(resources.files("linker.settings").joinpath("catalogue.toml")))


def load_catalogue(path: str | Path | None = None) -> Catalogue:
    """Read and validate a catalogue: `path`, else `$LINKER_CATALOGUE`, else the shipped default.

    Raises CatalogueError (file, line, what is wrong) for a missing, unparseable or invalid file.

    >>> cat = load_catalogue()
    >>> cat.commodities["dysprosium"].headings
    ('280530', '2846')
    """
    path = chosen_path(default_catalogue_path(), path, "LINKER_CATALOGUE")
    data, text = read_toml(path, CatalogueError)
    return _Validator(path, text).catalogue(data)


# --- validation --------------------------------------------------------------------------------

_TOP_KEYS = {"version", "signals", "usd_per_unit", "covers", "commodities"}
_TOP_OPTIONAL = {"articles"}
_COVER_KEYS = {"label", "names", "headings", "price_usd_per_kg", "strength"}
_COMMODITY_REQUIRED = {
    "label", "names", "symbols", "ambiguous_symbols", "headings", "covers",
    "threshold_kg", "window_days", "price_usd_per_kg",
}
_COMMODITY_OPTIONAL = {"controlled_since", "generic", "match_strength", "transit_countries", "articles_exempt"}
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_LANG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]+)?$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")

# [signals] fields checked beyond their type: strengths are in 0..1, ratios and counts positive.
_POSITIVE = {
    "fuzzy_min_length", "fuzzy_long_length", "value_low_ratio", "value_high_ratio",
    "value_full_strength_decades", "concealment_min_excess_kg", "concealment_half_strength_ratio",
    "packaging_small_max_kg",
    "unknown_threshold_kg", "unknown_window_days",
}


class _Validator:
    """Turns parsed TOML into a Catalogue, or raises CatalogueError at the offending line."""

    def __init__(self, path: Path, text: str):
        self.path = path
        self.lines = Lines(text)

    def fail(self, keys: tuple[str, ...], problem: str, value: str | None = None):
        raise CatalogueError(self.path, self.lines.line_of(keys, value), problem)

    # --- typed getters ---

    def table(self, data: Any, keys: tuple[str, ...]) -> dict:
        if not isinstance(data, dict):
            self.fail(keys, f"{'.'.join(keys)} must be a table")
        return data

    def keys(self, data: dict, keys: tuple[str, ...], required: set[str], optional: set[str] = frozenset()):
        for key in data:
            if key not in required and key not in optional:
                known = ", ".join(sorted(required | optional))
                self.fail(keys + (key,), f"unknown key {'.'.join(keys + (key,))} (known keys: {known})")
        for key in sorted(required):
            if key not in data:
                self.fail(keys, f"{'.'.join(keys) or 'the file'} lacks the required key {key}")

    def number(self, value: Any, keys: tuple[str, ...], *, positive=False, unit_range=False, integer=False):
        name = ".".join(keys)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (isinstance(value, float) and not math.isfinite(value)):
            self.fail(keys, f"{name} must be a number, not {value!r}")
        if integer and not isinstance(value, int):
            self.fail(keys, f"{name} must be a whole number, not {value!r}")
        if value < 0:
            self.fail(keys, f"{name} must not be negative ({value})")
        if positive and value == 0:
            self.fail(keys, f"{name} must be greater than 0")
        if unit_range and value > 1:
            self.fail(keys, f"{name} is a strength and must lie between 0 and 1, not {value}")
        return int(value) if integer else float(value)

    def string(self, value: Any, keys: tuple[str, ...]) -> str:
        if not isinstance(value, str) or not value.strip():
            self.fail(keys, f"{'.'.join(keys)} must be a non-empty text")
        return value.strip()

    def strings(self, value: Any, keys: tuple[str, ...], pattern: re.Pattern | None = None, what: str = "") -> tuple[str, ...]:
        name = ".".join(keys)
        if not isinstance(value, list):
            self.fail(keys, f"{name} must be a list of texts")
        out = []
        for item in value:
            if not isinstance(item, str) or not item.strip():
                self.fail(keys, f"{name} must hold only non-empty texts, not {item!r}", str(item))
            if pattern is not None and not pattern.match(item):
                self.fail(keys, f"{name} holds {item!r}, which is not {what}", item)
            out.append(item.strip())
        return tuple(out)

    def headings(self, value: Any, keys: tuple[str, ...]) -> tuple[str, ...]:
        out = []
        for item in self.strings(value, keys):
            digits = re.sub(r"[.\s]", "", item)
            if not re.fullmatch(r"\d{4,10}", digits):
                self.fail(keys, f"{'.'.join(keys)} holds the heading {item!r}, which is not 4 to 10 digits (dots and spaces allowed)", item)
            out.append(digits)
        return tuple(out)

    def names(self, value: Any, keys: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
        table = self.table(value, keys)
        out = {}
        for lang, names in table.items():
            if not _LANG.match(lang):
                self.fail(keys + (lang,), f"{'.'.join(keys)} has the key {lang!r}, which is not a language code such as zh, en or ru")
            out[lang] = self.strings(names, keys + (lang,))
        if not any(out.values()):
            self.fail(keys, f"{'.'.join(keys)} must hold at least one name")
        return out

    # --- sections ---

    def catalogue(self, data: dict) -> Catalogue:
        self.keys(data, (), _TOP_KEYS, _TOP_OPTIONAL)
        if data["version"] != FORMAT_VERSION:
            self.fail(("version",), f"version must be {FORMAT_VERSION}, not {data['version']!r}")
        signals = self.signal_settings(self.table(data["signals"], ("signals",)))
        rates = {}
        for cur, rate in self.table(data["usd_per_unit"], ("usd_per_unit",)).items():
            if not _CURRENCY.match(cur):
                self.fail(("usd_per_unit", cur), f"usd_per_unit has the key {cur!r}, which is not an ISO 4217 currency code")
            rates[cur] = self.number(rate, ("usd_per_unit", cur), positive=True)
        covers = {}
        for cid, entry in self.table(data["covers"], ("covers",)).items():
            covers[cid] = self.cover(cid, entry)
        commodities = {}
        for cid, entry in self.table(data["commodities"], ("commodities",)).items():
            commodities[cid] = self.commodity(cid, entry, covers)
        if not commodities:
            self.fail(("commodities",), "the catalogue lists no commodity")
        if UNKNOWN in commodities:
            self.fail(("commodities", UNKNOWN), f"{UNKNOWN!r} is reserved for goods of no known commodity")
        articles = None
        if "articles" in data:
            entry = self.table(data["articles"], ("articles",))
            self.keys(entry, ("articles",), {"names"}, {"pattern", "headings"})
            articles = FinishedArticles(
                names=self.names(entry["names"], ("articles", "names")),
                pattern=self.regex(entry["pattern"], ("articles", "pattern")) if "pattern" in entry else None,
                headings=self.headings(entry["headings"], ("articles", "headings")) if "headings" in entry else (),
            )
        return Catalogue(self.path, signals, rates, covers, commodities, articles)

    def signal_settings(self, data: dict) -> SignalSettings:
        fields = {f.name: f for f in dataclasses.fields(SignalSettings)}
        optional = {n for n, f in fields.items() if f.default is not dataclasses.MISSING}
        self.keys(data, ("signals",), set(fields) - optional, optional)
        values = {}
        for name, f in fields.items():
            keys = ("signals", name)
            if name not in data:
                continue  # an optional setting left out keeps its default
            raw = data[name]
            if f.type == "int":
                values[name] = self.number(raw, keys, integer=True, positive=name in _POSITIVE)
            elif f.type == "float":
                values[name] = self.number(raw, keys, positive=name in _POSITIVE, unit_range=name.endswith("_strength"))
            elif f.type in ("str", "str | None"):
                values[name] = self.regex(raw, keys)
            elif name == "transit_countries":
                values[name] = self.strings(raw, keys, _COUNTRY, "an ISO 3166 alpha-2 country code")
            else:
                values[name] = tuple(s.lower() for s in self.strings(raw, keys))
        return SignalSettings(**values)

    def regex(self, value: Any, keys: tuple[str, ...]) -> str:
        pattern = self.string(value, keys)
        try:
            re.compile(pattern)
            import duckdb  # the pattern runs in DuckDB (RE2), which rejects some Python syntax

            duckdb.connect().execute("SELECT regexp_matches('', ?)", [pattern])
        except Exception as exc:  # noqa: BLE001 - any failure means the pattern is unusable
            self.fail(keys, f"{'.'.join(keys)} is not a usable regular expression ({one_line(exc)})")
        return pattern

    def cover(self, cid: str, entry: Any) -> CoverGoods:
        keys = ("covers", cid)
        if not _ID.match(cid):
            self.fail(keys, f"the cover id {cid!r} must be lower-case letters, digits and _")
        entry = self.table(entry, keys)
        self.keys(entry, keys, _COVER_KEYS)
        return CoverGoods(
            id=cid,
            label=self.string(entry["label"], keys + ("label",)),
            names=self.names(entry["names"], keys + ("names",)),
            headings=self.headings(entry["headings"], keys + ("headings",)),
            price_usd_per_kg=self.number(entry["price_usd_per_kg"], keys + ("price_usd_per_kg",), positive=True),
            strength=self.number(entry["strength"], keys + ("strength",), unit_range=True),
        )

    def commodity(self, cid: str, entry: Any, covers: dict[str, CoverGoods]) -> Commodity:
        keys = ("commodities", cid)
        if not _ID.match(cid):
            self.fail(keys, f"the commodity id {cid!r} must be lower-case letters, digits and _")
        entry = self.table(entry, keys)
        self.keys(entry, keys, _COMMODITY_REQUIRED, _COMMODITY_OPTIONAL)
        cover_ids = self.strings(entry["covers"], keys + ("covers",))
        for cover in cover_ids:
            if cover not in covers:
                self.fail(keys + ("covers",), f"{'.'.join(keys)}.covers names {cover!r}, which is no [covers.*] entry", cover)
        generic = entry.get("generic", False)
        if not isinstance(generic, bool):
            self.fail(keys + ("generic",), f"{'.'.join(keys)}.generic must be true or false")
        exempt = entry.get("articles_exempt", False)
        if not isinstance(exempt, bool):
            self.fail(keys + ("articles_exempt",), f"{'.'.join(keys)}.articles_exempt must be true or false")
        since = entry.get("controlled_since")
        transit = entry.get("transit_countries")
        match_strength = entry.get("match_strength")
        return Commodity(
            id=cid,
            label=self.string(entry["label"], keys + ("label",)),
            names=self.names(entry["names"], keys + ("names",)),
            symbols=self.strings(entry["symbols"], keys + ("symbols",)),
            ambiguous_symbols=self.strings(entry["ambiguous_symbols"], keys + ("ambiguous_symbols",)),
            headings=self.headings(entry["headings"], keys + ("headings",)),
            covers=cover_ids,
            threshold_kg=self.number(entry["threshold_kg"], keys + ("threshold_kg",), positive=True),
            window_days=self.number(entry["window_days"], keys + ("window_days",), positive=True, integer=True),
            price_usd_per_kg=self.number(entry["price_usd_per_kg"], keys + ("price_usd_per_kg",), positive=True),
            controlled_since=None if since is None else self.string(str(since), keys + ("controlled_since",)),
            generic=generic,
            match_strength=None if match_strength is None else self.number(match_strength, keys + ("match_strength",), unit_range=True),
            transit_countries=None if transit is None else self.strings(transit, keys + ("transit_countries",), _COUNTRY, "an ISO 3166 alpha-2 country code"),
            articles_exempt=exempt,
        )
