"""Normalisation: every sender and receiver mention of a parcel brought to canonical forms.

A parcel names two parties; each becomes one row of `party_mentions` whose fields can be
compared directly by entity resolution (`linker/resolve.py`):

- phones to E.164 with `phonenumbers`, read in the country the party is in (origin for the
  sender, destination for the receiver); numbers it cannot accept are kept and marked invalid;
- names to one latin, order-free form: NFKC, case folding, honorifics and company suffixes
  removed, hanzi transliterated with `pypinyin` (surnames read from a surname table), and run-
  together pinyin split into syllables, so that 张伟 / ZHANG Wei / Wei Zhang share `name_key`;
- addresses to a latin token set: full-width to half-width (NFKC), abbreviations expanded,
  hanzi place types read as the English word, and the unit / suite / box number moved to its
  own field, because at a forwarding warehouse that number is the real consignee;
- ID numbers and payer accounts to upper-case alphanumerics.

The work is set work in DuckDB: each distinct raw value is normalised once by a vectorised
Arrow UDF (names, phones and addresses repeat a lot) and joined back to the mentions.
The word tables live in `linker/data/*.toml` and `linker/data/pinyin_syllables.txt`.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from functools import lru_cache
from pathlib import Path

import duckdb
import phonenumbers
import pyarrow as pa
from pypinyin import lazy_pinyin

DATA_DIR = Path(__file__).parent / "data"


def _toml(name: str) -> dict:
    with open(DATA_DIR / name, "rb") as fh:
        return tomllib.load(fh)


_NAMES = _toml("names.toml")
_ADDRESSES = _toml("addresses.toml")
SURNAMES: dict[str, str] = _NAMES["surnames"]
HONORIFICS = frozenset(_NAMES["words"]["honorifics"])
COMPANY_SUFFIXES = frozenset(_NAMES["words"]["company_suffixes"])
COMPANY_SUFFIXES_HANZI = tuple(sorted(_NAMES["words"]["company_suffixes_hanzi"], key=len, reverse=True))
ABBREVIATIONS: dict[str, str] = _ADDRESSES["abbreviations"]
HANZI_SUFFIXES: dict[str, str] = _ADDRESSES["hanzi_suffixes"]
PLACE_READINGS: dict[str, str] = _ADDRESSES.get("place_readings", {})
ADDRESS_STOPWORDS = frozenset(_ADDRESSES["key"]["stopwords"])
SYLLABLES = frozenset(
    line.strip()
    for line in (DATA_DIR / "pinyin_syllables.txt").read_text(encoding="utf-8").splitlines()
    if line.strip() and not line.startswith("#")
)
_MAX_SYLLABLE = max(map(len, SYLLABLES))

_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_HAN_RUN = re.compile(f"[{_HAN}]+")
HONORIFICS_HANZI = tuple(sorted((w for w in HONORIFICS if re.match(f"[{_HAN}]", w)), key=len, reverse=True))
_HANZI_SUFFIX_RE = re.compile(
    f"([{_HAN}]*?)(" + "|".join(sorted(map(re.escape, HANZI_SUFFIXES), key=len, reverse=True)) + ")"
)
# A unit written the Chinese way: the number comes before the marker (1201室).
_HANZI_UNIT_RE = re.compile(
    r"([a-z]{0,3}-?\d[a-z0-9-]*)\s*(?:" + "|".join(map(re.escape, _ADDRESSES["unit"]["hanzi_markers"])) + ")"
)
# A unit written the latin way: marker, optional punctuation or "no.", then a value holding a digit.
_LATIN_MARKERS = sorted((m for m in _ADDRESSES["unit"]["latin_markers"] if m != "#"), key=len, reverse=True)
_LATIN_UNIT_RE = re.compile(
    r"(?<![\w])(?:" + "|".join(re.escape(m).replace(r"\ ", r"\s*") for m in _LATIN_MARKERS) + r")"
    r"\s*[.:#-]?\s*(?:no\.?\s*)?([a-z]{0,3}-?\d[a-z0-9-]*)(?![a-z0-9])"
    r"|#\s*([a-z]{0,3}-?\d[a-z0-9-]*)(?![a-z0-9])"
)
_NON_WORD = re.compile(r"[^\w]+")
# Apostrophes and hyphens inside a word join it ("Wei-Ming", "O'Brien"); between digits they separate.
_JOINERS = re.compile(r"(?<=[^\W\d_])['’\-](?=[^\W\d_])")


def _strip_accents(text: str) -> str:
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _fold(text: str) -> str:
    """NFKC (full-width to half-width, ligatures), case folding, accents removed."""
    return _strip_accents(unicodedata.normalize("NFKC", text).casefold())


@lru_cache(maxsize=1 << 17)
def _pinyin_cached(hanzi: str) -> tuple[str, ...]:
    # ü is written u in passports and in most romanised records (吕 Lu, 女 nu).
    return tuple(p.replace("v", "u") for p in lazy_pinyin(hanzi, errors="ignore"))


def _pinyin(hanzi: str) -> list[str]:
    """Syllables of a hanzi run; runs (place names, given names) repeat, so they are cached."""
    return list(_pinyin_cached(hanzi))


@lru_cache(maxsize=1 << 16)
def split_syllables(token: str) -> tuple[str, ...]:
    """Split a run-together latin word into pinyin syllables when it is made of them only
    ("weiming" -> wei ming, "shenzhen" -> shen zhen); any other word is returned whole.

    Hanzi are transliterated one syllable per character, while a person writes "Weiming" or
    "Wei Ming" as they please; splitting both sides the same way makes them meet. Longest
    syllable first with backtracking, so the split is deterministic. As in pinyin spelling
    (Xi'an), a syllable that starts with a vowel is not accepted after the first one, so
    "nana" is na na, not nan a.
    """
    if len(token) < 4 or not token.isascii() or not token.isalpha():
        return (token,)

    @lru_cache(maxsize=None)
    def rest(i: int) -> tuple[str, ...] | None:
        if i == len(token):
            return ()
        for j in range(min(len(token), i + _MAX_SYLLABLE), i, -1):
            if token[i:j] in SYLLABLES and (i == 0 or token[i] not in "aeo"):
                tail = rest(j)
                if tail is not None:
                    return (token[i:j],) + tail
        return None

    return rest(0) or (token,)


def _hanzi_person(run: str) -> list[str]:
    """A hanzi person name: surname (compound first, then the surname table, then pypinyin)
    followed by the given name."""
    if len(run) >= 3 and run[:2] in SURNAMES:
        return [SURNAMES[run[:2]]] + _pinyin(run[2:])
    if run[0] in SURNAMES:
        return [SURNAMES[run[0]]] + _pinyin(run[1:])
    return _pinyin(run)


@lru_cache(maxsize=1 << 18)
def normalise_name(raw: str | None) -> str | None:
    """Latin, case-folded, suffix- and title-free name, tokens in written order."""
    if raw is None:
        return None
    text = unicodedata.normalize("NFKC", raw).casefold().strip()
    if not text:
        return None
    if _HAN_RUN.search(text):
        for suffix in HONORIFICS_HANZI:
            text = text.replace(suffix, " ") if len(text) > len(suffix) + 1 else text
        is_company = False
        for suffix in COMPANY_SUFFIXES_HANZI:
            if suffix in text and len(text) > len(suffix):
                text = text.replace(suffix, " ")
                is_company = True
        text = _HAN_RUN.sub(
            lambda m: " " + " ".join(
                _hanzi_person(m.group()) if (not is_company and 2 <= len(m.group()) <= 4) else _pinyin(m.group())
            ) + " ",
            text,
        )
    text = _strip_accents(_JOINERS.sub("", text))
    tokens = [t for t in _NON_WORD.sub(" ", text).replace("_", " ").split() if t]
    kept = [t for t in tokens if t not in HONORIFICS and t not in COMPANY_SUFFIXES]
    tokens = kept or tokens  # a name made only of suffixes ("Co Ltd") stays as written
    out: list[str] = []
    for t in tokens:
        out.extend(split_syllables(t))
    return " ".join(out) or None


def name_key(norm: str | None) -> str | None:
    """Order-free key: the tokens sorted, so "zhang wei" and "wei zhang" meet."""
    return " ".join(sorted(norm.split())) if norm else None


def _hanzi_address(match: re.Match) -> str:
    run = match.group()
    parts: list[str] = []
    pos = 0
    for m in _HANZI_SUFFIX_RE.finditer(run):
        if m.group(1):
            parts.append(PLACE_READINGS.get(m.group(1)) or "".join(_pinyin(m.group(1))))
        parts.append(HANZI_SUFFIXES[m.group(2)])
        pos = m.end()
    if pos < len(run):
        parts.append("".join(_pinyin(run[pos:])))
    return " " + " ".join(p for p in parts if p) + " "


@lru_cache(maxsize=1 << 18)
def normalise_address(raw: str | None) -> tuple[str | None, str | None, str | None]:
    """(address_norm, address_key, address_unit).

    address_norm keeps the tokens in written order (for fuzzy comparison); address_key is the
    sorted set of tokens without the unit and without words that name no place ("city",
    "china"); address_unit is the unit / suite / box number, or None.
    """
    if raw is None:
        return (None, None, None)
    text = unicodedata.normalize("NFKC", raw).casefold()
    units: list[str] = []

    def take_unit(m: re.Match) -> str:
        units.append(next(g for g in m.groups() if g).strip("-"))
        return " "

    text = _HANZI_UNIT_RE.sub(take_unit, text)
    text = _LATIN_UNIT_RE.sub(take_unit, text)
    text = _HAN_RUN.sub(_hanzi_address, text)
    text = _strip_accents(_JOINERS.sub("", text))
    raw_tokens = _NON_WORD.sub(" ", text).replace("_", " ").split()
    tokens: list[str] = []
    for t in raw_tokens:
        t = ABBREVIATIONS.get(t, t)
        for word in t.split():
            tokens.extend(split_syllables(word))
    if not tokens and not units:
        return (None, None, None)
    norm = " ".join(tokens) or None
    key_tokens = sorted(set(tokens) - ADDRESS_STOPWORDS) or sorted(set(tokens))
    unit = "/".join(sorted(set(u.replace("-", "") for u in units if u))) or None
    return (norm, " ".join(key_tokens) or None, unit)


_PHONE_CACHE_SIZE = 1 << 20


@lru_cache(maxsize=_PHONE_CACHE_SIZE)
def normalise_phone(cleaned: str | None, region: str | None) -> tuple[str | None, bool | None]:
    """(E.164 form, valid) of a phone already stripped to digits and a leading '+'.

    The number is read as dialled from `region` (the party's country), so a national form
    ("13800138000" in CN, "020 7946 0958" in GB) and the international and 00-prefixed
    forms meet. A number `phonenumbers` rejects is kept, as '+' and its digits when it
    carried a country code and as its digits otherwise, with valid = false.
    """
    if not cleaned:
        return (None, None)
    try:
        parsed = phonenumbers.parse(cleaned, (region or "ZZ").upper())
    except phonenumbers.NumberParseException:
        return (cleaned, False)
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return (e164, phonenumbers.is_valid_number(parsed))


def canonical_identifier(raw: str | None) -> str | None:
    """ID numbers and accounts: NFKC, upper case, letters and digits only (spaces, dashes
    and dots are how people write them, not part of them)."""
    if raw is None:
        return None
    text = re.sub(r"[^0-9A-Z]", "", unicodedata.normalize("NFKC", raw).upper())
    return text or None


# --- Arrow UDFs: one call per batch of distinct values -------------------------------------

_NAME_TYPE = pa.struct([("norm", pa.string()), ("key", pa.string())])
_ADDRESS_TYPE = pa.struct([("norm", pa.string()), ("key", pa.string()), ("unit", pa.string())])
_PHONE_TYPE = pa.struct([("e164", pa.string()), ("valid", pa.bool_())])


def _name_udf(raw: pa.ChunkedArray) -> pa.Array:
    norms = [normalise_name(v) for v in raw.to_pylist()]
    return pa.StructArray.from_arrays(
        [pa.array(norms, pa.string()), pa.array([name_key(n) for n in norms], pa.string())],
        fields=list(_NAME_TYPE),
    )


def _address_udf(raw: pa.ChunkedArray) -> pa.Array:
    rows = [normalise_address(v) for v in raw.to_pylist()]
    cols = list(zip(*rows)) if rows else [(), (), ()]
    return pa.StructArray.from_arrays([pa.array(c, pa.string()) for c in cols], fields=list(_ADDRESS_TYPE))


def _phone_udf(cleaned: pa.ChunkedArray, region: pa.ChunkedArray) -> pa.Array:
    rows = [normalise_phone(c, r) for c, r in zip(cleaned.to_pylist(), region.to_pylist())]
    cols = list(zip(*rows)) if rows else [(), ()]
    return pa.StructArray.from_arrays(
        [pa.array(cols[0], pa.string()), pa.array(cols[1], pa.bool_())], fields=list(_PHONE_TYPE)
    )


def _canonical_udf(raw: pa.ChunkedArray) -> pa.Array:
    return pa.array([canonical_identifier(v) for v in raw.to_pylist()], pa.string())


def register_udfs(con: duckdb.DuckDBPyConnection) -> None:
    """Make the normalisers callable from SQL on this connection (idempotent)."""
    udfs = [
        ("linker_name", _name_udf, ["VARCHAR"], duckdb.struct_type({"norm": "VARCHAR", "key": "VARCHAR"})),
        (
            "linker_address",
            _address_udf,
            ["VARCHAR"],
            duckdb.struct_type({"norm": "VARCHAR", "key": "VARCHAR", "unit": "VARCHAR"}),
        ),
        ("linker_phone", _phone_udf, ["VARCHAR", "VARCHAR"], duckdb.struct_type({"e164": "VARCHAR", "valid": "BOOLEAN"})),
        ("linker_identifier", _canonical_udf, ["VARCHAR"], "VARCHAR"),
    ]
    for name, fn, args, ret in udfs:
        try:
            con.remove_function(name)
        except Exception:  # not registered yet on this connection
            pass
        con.create_function(name, fn, args, ret, type="arrow", null_handling="special", side_effects=False)


# --- The stage ------------------------------------------------------------------------------

def _mentions_sql() -> str:
    """Two mentions per parcel. mention_id = 2*parcel_seq (+1 for the receiver), so ids are
    stable across runs for the same load. Phones are first stripped to digits and a leading
    '+' in SQL, with the 00 international prefix read as '+', which collapses most of the
    ways a number is written before the (slower) phonenumbers pass over distinct values."""
    phone = (
        "CASE WHEN {c} IS NULL THEN NULL ELSE "
        "regexp_replace(regexp_replace(trim({c}), '[^0-9+]', '', 'g'), '^(\\+|00)', '+') END"
    )
    return f"""
    SELECT parcel_seq * 2 AS mention_id, parcel_seq, parcel_id, carrier, 'sender' AS role,
           sender_name AS name_raw, sender_phone AS phone_raw,
           {phone.format(c='sender_phone')} AS phone_clean,
           sender_id_number AS id_number_raw, payer_account AS account_raw,
           sender_address AS address_raw, upper(origin_country) AS country
    FROM parcels
    UNION ALL
    SELECT parcel_seq * 2 + 1, parcel_seq, parcel_id, carrier, 'receiver',
           receiver_name, receiver_phone, {phone.format(c='receiver_phone')},
           NULL, NULL, receiver_address, upper(dest_country)
    FROM parcels
    """


def build_party_mentions(con: duckdb.DuckDBPyConnection) -> int:
    """(Re)create `party_mentions` from `parcels`; returns the number of mentions.

    Each distinct name, address, (phone, country) and identifier is normalised once and joined
    back; `profile_id` and `entity_id` are left NULL for `linker.resolve.resolve_entities`.
    """
    register_udfs(con)
    con.execute(f"CREATE OR REPLACE TEMP TABLE mention_raw AS {_mentions_sql()}")
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE norm_names AS
        SELECT name_raw, linker_name(name_raw) AS n
        FROM (SELECT DISTINCT name_raw FROM mention_raw WHERE name_raw IS NOT NULL)
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE norm_addresses AS
        SELECT address_raw, linker_address(address_raw) AS a
        FROM (SELECT DISTINCT address_raw FROM mention_raw WHERE address_raw IS NOT NULL)
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE norm_phones AS
        SELECT phone_clean, country, linker_phone(phone_clean, country) AS p
        FROM (SELECT DISTINCT phone_clean, country FROM mention_raw
              WHERE phone_clean IS NOT NULL AND phone_clean <> '' AND phone_clean <> '+')
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE norm_identifiers AS
        SELECT raw, linker_identifier(raw) AS norm
        FROM (SELECT id_number_raw AS raw FROM mention_raw WHERE id_number_raw IS NOT NULL
              UNION SELECT account_raw FROM mention_raw WHERE account_raw IS NOT NULL)
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TABLE party_mentions AS
        SELECT m.mention_id, m.parcel_seq, m.parcel_id, m.carrier, m.role,
               m.name_raw, n.n.norm AS name_norm, n.n.key AS name_key,
               m.phone_raw, p.p.e164 AS phone_e164, p.p.valid AS phone_valid,
               i.norm AS id_number_norm, acc.norm AS account_norm,
               m.address_raw, a.a.norm AS address_norm, a.a.key AS address_key, a.a.unit AS address_unit,
               m.country,
               CAST(NULL AS BIGINT) AS profile_id, CAST(NULL AS BIGINT) AS entity_id
        FROM mention_raw m
        LEFT JOIN norm_names n USING (name_raw)
        LEFT JOIN norm_addresses a USING (address_raw)
        LEFT JOIN norm_identifiers i ON i.raw = m.id_number_raw
        LEFT JOIN norm_identifiers acc ON acc.raw = m.account_raw
        LEFT JOIN norm_phones p ON p.phone_clean = m.phone_clean AND p.country IS NOT DISTINCT FROM m.country
        ORDER BY m.mention_id
        """
    )
    for temp in ("mention_raw", "norm_names", "norm_addresses", "norm_phones", "norm_identifiers"):
        con.execute(f"DROP TABLE IF EXISTS {temp}")
    return int(con.execute("SELECT count(*) FROM party_mentions").fetchall()[0][0])
