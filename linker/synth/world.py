"""Synthetic world: a year of express parcels with ordinary traffic, look-alikes and known smuggling rings.

The generator exists so that every stage of parcel-linker can be tested and demonstrated against a
world whose answer is known. It writes the parcels (CONTRACT.md section 1) and, beside them, the
truth: which real party stands behind every name on every parcel, and which parcels belong to which
ring of which typology (DOMAIN.md).

How it works, in four steps:

1. Parties. Pools of real-world parties are drawn first: Chinese people and companies, foreign
   people and companies, post outlets, parcel-forwarding warehouses. A party holds structured parts
   (hanzi and pinyin name, address parts, phone digits, identity number, payment account), never
   finished strings, so that one party can be written many ways. People abroad hold their name in
   their own script and in the Latin spellings they use (Юрий Попов / Yuriy Popov / Iurii Popov,
   Nguyễn Văn An / Nguyen Van An, محمد / Mohammed / Muhammad) and address parts in their country's
   conventions and script (linker.synth.foreign). A few percent of people share a flat and its phone with
   another one (households: different people, named in the truth so that a bench can check they
   stay apart).
2. Plans. Every parcel is planned as a row of references to parties (whose name is written, whose
   address, whose phone, whose ID number, whose account paid) plus goods, weights, carrier and time.
   Ordinary traffic and the look-alikes are planned in bulk with numpy (a loop per shop, exporter or
   trader, which are hundreds); rings are planned by a Python loop per ring (rings are few). The
   look-alikes are what DOMAIN.md and issue 12 describe of real legitimate trade, at a hardness set by
   `lookalike_strength` (see `Hardness`); their groups (shop, exporter, warehouse, outlet, trader) are
   in the truth as `lookalike_kind` and `lookalike_group`, and their number grows with the traffic.
3. Rendering. One vectorised polars pass writes every plan as the strings a carrier records:
   spelling variants, scripts, full-width letters, typos, phone formats, address orders, HS-code
   punctuation, currencies, empty optional fields. Ring rows and ordinary rows go through the same
   pass with the same probabilities, so nothing but the behaviour that DOMAIN.md describes tells a
   ring parcel from an ordinary one.
4. Ids and order. Waybill numbers are given per carrier in acceptance order, as carriers do, with
   check digits where the format has one; then the rows are shuffled.

Everything is drawn from one numpy Generator seeded by `seed`, and the year ends on a fixed date, so
the same seed gives byte-identical files.
"""

from __future__ import annotations

import functools
import hashlib
import re
import sys
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from linker.store.tables import COLUMN_NAMES
from linker.synth import foreign as F
from linker.synth import words as W

# The synthetic year: fixed, never today's date, so that output depends on the seed alone.
YEAR_END = datetime(2025, 12, 1)
YEAR_DAYS = 365
YEAR_START = YEAR_END - timedelta(days=YEAR_DAYS)

TYPOLOGIES = ("splitting", "recruited_senders", "channel_switching", "concealment", "false_origin")
ACTOR_KINDS = ("background", "shop", "exporter", "forwarder_customer", "outlet_customer", "ring")

# Shares of traffic for the look-alikes and the rings (of all parcels); shops' and forwarders' shares
# grow with the look-alike strength (see Hardness).
OUTLET_SHARE = 0.03
INBOUND_SHARE = 0.06
THIRD_COUNTRY_SHARE = 0.012  # posted in a transit country to a third one (international networks)
ORIGIN_STATEMENT_RATE = 0.01  # honest descriptions that state the goods' origin
RING_SHARE_MAX = 0.018
PARCELS_PER_RING_TYPOLOGY = 15_000  # one more ring of each typology per this many parcels

# How often an optional field is left empty; the same for every parcel, ring or not.
EMPTY = {
    "sender_phone": 0.04, "sender_id_number": 0.22, "receiver_phone": 0.08, "payer_account": 0.18,
    "hs_code": 0.14, "gross_weight_kg": 0.07, "declared_value": 0.02, "category": 0.05,
    "declared_origin": 0.12, "acceptance_point": 0.10,
}
# How often a mention is written in the party's habitual way rather than another one.
HABIT = 0.65
# Share of people who live with another one of them (one flat, one phone, often the family name):
# different people, whom resolution must keep apart (truth: sender_household / receiver_household).
HOUSEHOLD_SHARE = 0.04
TYPO_RATE = 0.03
FULLWIDTH_RATE = 0.012

# Company trades of ordinary firms (the later ones in COMPANY_TRADES are retail shops' trades).
N_GENERAL_TRADES = 14

KIND_CN_PERSON, KIND_CN_COMPANY, KIND_FX_PERSON, KIND_FX_COMPANY = "cn_person", "cn_company", "fx_person", "fx_company"
ENTITY_PREFIX = {KIND_CN_PERSON: "CNP", KIND_CN_COMPANY: "CNC", KIND_FX_PERSON: "FXP", KIND_FX_COMPANY: "FXC"}

PLAN_SCHEMA = {
    "actor_kind": pl.String, "ring_id": pl.String, "typology": pl.String, "commodity": pl.String,
    "true_controlled_kg": pl.Float64, "carrier": pl.String, "ts": pl.Datetime("us"),
    "origin_country": pl.String, "dest_country": pl.String,
    "s_ent": pl.Int64, "s_name": pl.Int64, "s_addr": pl.Int64, "s_phone": pl.Int64, "s_id": pl.Int64,
    "s_acct": pl.Int64, "r_ent": pl.Int64, "r_name": pl.Int64, "r_addr": pl.Int64, "r_phone": pl.Int64,
    "r_unit": pl.Int64, "description": pl.String, "hs": pl.String, "weight_kg": pl.Float64,
    "gross_kg": pl.Float64, "value_usd": pl.Float64, "category": pl.String, "declared_origin": pl.String,
    "acceptance_point": pl.String, "lookalike_kind": pl.String, "lookalike_group": pl.String,
}


@dataclass(frozen=True)
class World:
    """A generated world: `parcels` (the 22 contract columns, in contract order), `truth` (one row
    per parcel) and `rings` (one row per ring)."""

    parcels: pl.DataFrame
    truth: pl.DataFrame
    rings: pl.DataFrame


@dataclass
class SynthSummary:
    parcels: int
    rings_per_typology: dict[str, int]
    ring_parcels: int
    lookalike_parcels: dict[str, int]
    files: list[Path] = field(default_factory=list)
    lookalike_groups: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def describe(self) -> str:
        rings = ", ".join(f"{n} {t}" for t, n in self.rings_per_typology.items())
        looks = ", ".join(f"{n:,} {k}" for k, n in self.lookalike_parcels.items())
        lines = [
            f"{self.parcels:,} parcels, {sum(self.rings_per_typology.values())} rings ({rings}), "
            f"{self.ring_parcels:,} ring parcels",
            f"look-alikes: {looks}",
        ]
        if self.lookalike_groups:
            lines.append("look-alike groups: " + ", ".join(f"{n:,} {k}" for k, n in self.lookalike_groups.items()))
        lines += [f"wrote {path}" for path in self.files]
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Small helpers


def _arr(values) -> np.ndarray:
    return np.array(values, dtype=object)


def _weights(values) -> np.ndarray:
    w = np.asarray(values, dtype=float)
    return w / w.sum()


def _digits(rng: np.random.Generator, n: int, k: int, first_nonzero: bool = False) -> pl.Series:
    """n random strings of k digits."""
    low = 10 ** (k - 1) if first_nonzero else 0
    return pl.Series(rng.integers(low, 10**k, size=n, dtype=np.int64)).cast(pl.String).str.zfill(k)


def _choice_str(rng: np.random.Generator, items, n: int, p=None) -> np.ndarray:
    return _arr(items)[rng.choice(len(items), size=n, p=p)]


def _log_uniform(rng: np.random.Generator, low, high, n=None):
    return np.exp(rng.uniform(np.log(low), np.log(high), size=n))


def _codes(values: np.ndarray) -> tuple[list, np.ndarray]:
    """The distinct values in sorted order and each row's index among them (polars sorts strings far
    faster than numpy sorts objects)."""
    if values.dtype != object:
        keys, code = np.unique(values, return_inverse=True)
        return keys.tolist(), code
    series = pl.Series(values.tolist(), dtype=pl.String)
    return series.unique().sort().to_list(), series.rank("dense").cast(pl.Int64).to_numpy() - 1


def _groups(values: np.ndarray) -> dict:
    """Row indices per distinct value, values in sorted order (one sort instead of a scan per value)."""
    if not len(values):
        return {}
    keys, code = _codes(values)
    order = np.argsort(code, kind="stable")
    bounds = np.searchsorted(code[order], np.arange(len(keys) + 1))
    return {k: order[a:b] for k, a, b in zip(keys, bounds[:-1], bounds[1:])}


def _frame(columns: dict) -> pl.DataFrame:
    """A frame of party columns; numpy object arrays become strings (None: null) whatever they start with."""
    return pl.DataFrame({k: pl.Series(k, v.tolist(), dtype=pl.String) if isinstance(v, np.ndarray) and v.dtype == object
                         else v for k, v in columns.items()})


def _activity(rng: np.random.Generator, n: int, sigma: float) -> np.ndarray:
    """Sampling weights of parties: lognormal, so most send or receive once and a few very often."""
    return _weights(rng.lognormal(0.0, sigma, size=n))


# ---------------------------------------------------------------------------------------------
# Parties

CITY_W = _weights([c[7] for c in W.CITIES])


def _cn_addresses(rng: np.random.Generator, n: int, city: np.ndarray, business: bool) -> dict:
    """Address parts of Chinese parties in the given cities (indices into CITIES)."""
    c = W.CITIES
    dist = np.floor(rng.random(n) * np.array([len(x[8]) for x in c])[city]).astype(np.int64)
    prov_hz = _arr([x[0] for x in c])[city]
    city_hz = _arr([x[2] for x in c])[city]
    stem = rng.integers(len(W.ROAD_STEMS), size=n)
    rtype = rng.choice(len(W.ROAD_TYPES), size=n, p=[0.7, 0.2, 0.1])
    rdir = rng.integers(len(W.ROAD_DIRECTIONS), size=n)
    comp = rng.integers(len(W.COMPOUNDS), size=n)
    offsets = np.cumsum([0] + [len(x[8]) for x in c])[:-1]
    flat = [d for x in c for d in x[8]]
    district = offsets[city] + dist
    return {
        # Municipalities (上海市上海市) are written once.
        "a_prov_hz": np.where(prov_hz == city_hz, "", prov_hz),
        "a_prov_en": _arr([x[1] for x in c])[city],
        "a_city_hz": city_hz,
        "a_city_en": _arr([x[3] for x in c])[city],
        "a_tel": _arr([x[4] for x in c])[city],
        "a_post": _arr([x[6] for x in c])[city],
        "a_dist_hz": _arr([d[0] for d in flat])[district],
        "a_dist_en": _arr([d[1] for d in flat])[district],
        "a_idarea": _arr([x[5] for x in c])[city] + pl.Series(dist + 2).cast(pl.String).str.zfill(2).to_numpy(),
        "a_road_hz": _arr([s[0] for s in W.ROAD_STEMS])[stem] + _arr([d[0] for d in W.ROAD_DIRECTIONS])[rdir]
        + _arr([t[0] for t in W.ROAD_TYPES])[rtype],
        "a_road_en": _arr([s[1] for s in W.ROAD_STEMS])[stem]
        + _arr([(" " + d[1]) if d[1] else "" for d in W.ROAD_DIRECTIONS])[rdir],
        "a_type_long": _arr([t[1] for t in W.ROAD_TYPES])[rtype],
        "a_type_short": _arr([t[2] for t in W.ROAD_TYPES])[rtype],
        "a_no": rng.integers(1, 999 if not business else 300, size=n),
        "a_comp_hz": _arr([x[0] for x in W.COMPOUNDS])[comp],
        "a_comp_en": _arr([x[1] for x in W.COMPOUNDS])[comp],
        "a_bldg": rng.integers(1, 30, size=n),
        "a_unit": rng.integers(1, 6, size=n),
        "a_room": rng.integers(1, 33, size=n) * 100 + rng.integers(1, 9, size=n),
        "addr_habit": rng.integers(0, 6, size=n),
    }


def _cn_mobiles(rng: np.random.Generator, n: int) -> pl.Series:
    return pl.Series(_choice_str(rng, W.CN_MOBILE_PREFIXES, n)) + _digits(rng, n, 8)


def _cn_id_numbers(rng: np.random.Generator, area6: np.ndarray) -> np.ndarray:
    """Resident identity numbers (GB 11643): area, birth date, sequence, ISO 7064 MOD 11-2 check."""
    n = len(area6)
    born = np.datetime64("1958-01-01") + rng.integers(0, 365 * 47, size=n).astype("timedelta64[D]")
    ymd = pl.Series(born).dt.strftime("%Y%m%d").cast(pl.Int64).to_numpy()
    body = area6.astype(np.int64) * 10**11 + ymd * 1000 + rng.integers(0, 1000, size=n)
    digits = (body[:, None] // (10 ** np.arange(16, -1, -1, dtype=np.int64))) % 10
    weights = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
    check = _arr(list("10X98765432"))[(digits * weights).sum(axis=1) % 11]
    return pl.Series(body).cast(pl.String).to_numpy().astype(object) + check


def _accounts(rng: np.random.Generator, n: int, company: bool) -> np.ndarray:
    """Payment accounts as carriers record them: wallet ids, card tokens, monthly account numbers."""
    if company:  # monthly settlement account of a business customer
        return _digits(rng, n, 10).to_numpy().astype(object)
    kind = rng.choice(3, size=n, p=[0.45, 0.45, 0.10])
    alipay = ("2088" + _digits(rng, n, 12)).to_numpy().astype(object)
    chars = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-", dtype=np.uint8)
    raw = chars[rng.integers(len(chars), size=(n, 27))]
    openid = np.char.add("o", raw.view("S27").ravel().astype(str)).astype(object) if n else _arr([])
    hexchars = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    token = np.char.add("tok_", hexchars[rng.integers(16, size=(n, 16))].view("S16").ravel().astype(str)).astype(object) if n else _arr([])
    return np.where(kind == 0, alipay, np.where(kind == 1, openid, token))


def cn_people(rng: np.random.Generator, n: int, city: np.ndarray | None = None, households: float = 0.0) -> pl.DataFrame:
    """Chinese people: hanzi and pinyin name parts, an address, a mobile, an ID number, a wallet.
    `households`: the share of people who live with another one of them (张伟 and 李娜 at one flat):
    the same address and one phone (the flat's landline or one of their mobiles), now and then the
    surname (parent and child) or the payment account; each keeps his own name and ID number."""
    if city is None:
        city = rng.choice(len(W.CITIES), size=n, p=CITY_W)
    sur = rng.choice(len(W.SURNAMES), size=n, p=_weights([s[2] for s in W.SURNAMES]))
    g1 = rng.integers(len(W.GIVEN_CHARS), size=n)
    g2 = np.where(rng.random(n) < 0.8, rng.integers(len(W.GIVEN_CHARS), size=n), -1)
    addr = _cn_addresses(rng, n, city, business=False)
    area6 = addr.pop("a_idarea")
    id_number = _cn_id_numbers(rng, area6)  # registered where he was born, wherever he lives now
    phone_nsn = _cn_mobiles(rng, n).to_numpy().astype(object)
    phone_trunk = np.full(n, "", dtype=object)
    account = _accounts(rng, n, company=False)
    hh = np.full(n, -1, dtype=np.int64)
    members, heads = _households(rng, city, households)
    if len(members):
        for key in [k for k in addr if k != "addr_habit"]:
            addr[key][members] = addr[key][heads]
        first = np.unique(heads)
        landline = rng.random(len(first)) < 0.5
        local = _arr(list("2345678"))[rng.integers(7, size=len(first))] + _digits(rng, len(first), 7).to_numpy().astype(object)
        phone_nsn[first] = np.where(landline, addr["a_tel"][first] + local, phone_nsn[first])
        phone_trunk[first] = np.where(landline, "0", "")
        phone_nsn[members], phone_trunk[members] = phone_nsn[heads], phone_trunk[heads]
        same = rng.random(len(members)) < 0.4
        sur[members[same]] = sur[heads[same]]
        paid = rng.random(len(members)) < 0.3
        account[members[paid]] = account[heads[paid]]
        # People of one flat have different given names, also in pinyin (子涵 and 梓晗 are both Zihan).
        py = [g[1] for g in W.GIVEN_CHARS] + [""]
        taken: dict[int, set] = {}
        for m, h in zip(members.tolist(), heads.tolist()):
            names = taken.setdefault(h, {(py[g1[h]], py[g2[h]])})
            while (py[g1[m]], py[g2[m]]) in names:
                g1[m] = (g1[m] + 1) % len(W.GIVEN_CHARS)
            names.add((py[g1[m]], py[g2[m]]))
        hh[members] = heads
        hh[first] = first
    ghz = _arr([g[0] for g in W.GIVEN_CHARS] + [""])
    gpy = _arr([g[1] for g in W.GIVEN_CHARS] + [""])
    g1py, g2py = gpy[g1], gpy[g2]
    cap = lambda a: pl.Series(a, dtype=pl.String).str.to_titlecase().to_numpy().astype(object)  # noqa: E731
    frame = {
        "kind": np.full(n, KIND_CN_PERSON, dtype=object), "country": np.full(n, "CN", dtype=object),
        "hz": _arr([s[0] for s in W.SURNAMES])[sur] + ghz[g1] + ghz[g2],
        "fam": _arr([s[1] for s in W.SURNAMES])[sur],
        "giv": cap(g1py) + g2py,
        "giv_sp": np.where(g2 >= 0, cap(g1py) + " " + cap(g2py), cap(g1py)),
        "name_habit": rng.choice(8, size=n, p=[0.42, 0.2, 0.08, 0.1, 0.04, 0.1, 0.03, 0.03]),
        "phone_cc": np.full(n, "86", dtype=object), "phone_trunk": phone_trunk,
        "phone_nsn": phone_nsn,
        "phone_habit": rng.integers(0, 9, size=n),
        "id_number": id_number,
        "account": account,
        "hh_local": hh,
        **addr,
    }
    return pl.DataFrame(frame)


def cn_companies(rng: np.random.Generator, n: int, city: np.ndarray | None = None,
                 trades: list[int] | None = None, brands: list | None = None,
                 name_loyalty: float = HABIT) -> pl.DataFrame:
    """Chinese companies: 城市+字号+行业+有限公司, its English forms, and the short names a firm goes
    by (顺发磁性玩具, 顺发玩具店, Shunfa Toys). `name_loyalty` is how often a mention is written in the
    firm's habitual way: low for a web shop whose name is typed by many staff into many systems."""
    if city is None:
        city = rng.choice(len(W.CITIES), size=n, p=CITY_W)
    brands = brands or W.COMPANY_BRANDS
    brand = rng.integers(len(brands), size=n)
    trade = rng.choice(trades if trades else N_GENERAL_TRADES, size=n)
    city_short = _arr([c[2].rstrip("市") for c in W.CITIES])[city]
    addr = _cn_addresses(rng, n, city, business=True)
    addr.pop("a_idarea")
    landline = rng.random(n) < 0.7
    tel = addr["a_tel"]
    # Landlines: area code and an 8-digit local number, which starts with 2-8.
    local = _arr(["8", "6", "2", "3"])[rng.integers(4, size=n)] + _digits(rng, n, 7).to_numpy().astype(object)
    mobile = _cn_mobiles(rng, n).to_numpy().astype(object)
    brand_hz, brand_py = _arr([b[0] for b in brands])[brand], _arr([b[1] for b in brands])[brand]
    trade_hz, trade_en = _arr([t[0] for t in W.COMPANY_TRADES])[trade], _arr([t[1] for t in W.COMPANY_TRADES])[trade]
    short = [W.TRADE_SHORT.get(t, (t, e)) for t, e in zip(trade_hz.tolist(), trade_en.tolist())]
    store = rng.integers(len(W.STORE_WORDS), size=n)
    frame = {
        "kind": np.full(n, KIND_CN_COMPANY, dtype=object), "country": np.full(n, "CN", dtype=object),
        "hz": city_short + brand_hz + trade_hz + "有限公司",
        "fam": brand_py + " " + trade_en,
        "giv": _choice_str(rng, W.CN_COMPANY_SUFFIXES_EN, n),
        "co_city": addr["a_city_en"],
        "co_brand_hz": brand_hz + trade_hz,
        "co_store_hz": brand_hz + _arr([x[0] for x in short]) + _arr([w[0] for w in W.STORE_WORDS])[store],
        "co_store_en": brand_py + " " + _arr([x[1] for x in short])
        + np.where(rng.random(n) < 0.5, "", " " + _arr([w[1] for w in W.STORE_WORDS])[store]),
        "name_habit": rng.choice(10, size=n, p=[0.3, 0.3, 0.08, 0.08, 0.08, 0.04, 0.04, 0.03, 0.03, 0.02]),
        "name_loyal": np.full(n, name_loyalty),
        "phone_cc": np.full(n, "86", dtype=object),
        "phone_trunk": np.where(landline, "0", ""),
        "phone_nsn": np.where(landline, tel + local, mobile),
        "phone_habit": rng.integers(0, 9, size=n),
        "account": _accounts(rng, n, company=True),
        **addr,
    }
    return pl.DataFrame(frame)


@functools.cache
def _fold(text: str) -> str:
    """The ASCII spelling of Latin-script text: accents dropped (José -> Jose, Nguyễn -> Nguyen, Łódź -> Lodz)."""
    text = "".join(F.FOLD_EXTRA.get(ch, ch) for ch in text)
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


@functools.cache
def _is_latin(text: str) -> bool:
    return _fold(text).isascii()


def _unique(items) -> list[str]:
    return list(dict.fromkeys(items))


@dataclass(frozen=True)
class _Names:
    """One name group's lists, parsed (see foreign.NAMES): per given and family name its own
    spelling and its Latin spellings; family names also in their female form."""

    given_nat: np.ndarray
    given_var: list[list[str]]
    given_sex: np.ndarray
    family_nat: np.ndarray
    family_var: list[list[str]]
    family_nat_f: np.ndarray
    family_var_f: list[list[str]]
    middle: str | None
    middle_rate: float
    middles: dict[str, tuple[np.ndarray, list[list[str]]]]  # sex -> own spelling, Latin spellings
    sep: list[str]
    form_ids: np.ndarray
    form_w: np.ndarray
    borrow: tuple[str, float] | None


def _female(native: str, latin: list[str], rule: str | None) -> tuple[str, list[str]]:
    """A family name's female form: Попов -> Попова / Popova, Kowalski -> Kowalska, bin -> binti."""
    if rule == "slavic" and native.endswith(("ов", "ев", "ёв", "ин", "ын")):
        return native + "а", [x + "a" for x in latin]
    if rule == "polish" and native.endswith("ki"):
        return native[:-1] + "a", [x[:-1] + "a" if x.endswith("ki") else x for x in latin]
    if rule == "malay":
        swap = lambda x: x.replace("bin ", "binti ").replace("Bin ", "Binti ").replace("B. ", "Bt. ")  # noqa: E731
        return swap(native), [swap(x) for x in latin]
    return native, latin


@functools.cache
def _names(group: str) -> _Names:
    spec = F.NAMES.get(group)
    if spec is None:  # a Latin-script group: its ASCII spellings are derived
        firsts, lasts = W.NAME_GROUPS[group]

        def latin(name: str) -> list[str]:
            de = "".join(F.TRANSLIT_DE.get(ch, ch) for ch in name) if group == "de" else None
            return _unique([x for x in (de, _fold(name)) if x] + F.LATIN_SECOND_SPELLINGS.get(name, []))

        given = [(g, latin(g), ("f" if g in F.POLISH_FEMALE else "m") if group == "pl" else "x") for g in firsts]
        family = [(f, latin(f)) for f in lasts]
        spec = {"female": "polish" if group == "pl" else None, "sep": [" "],
                "forms": F.LATIN_GROUP_FORMS.get(group, F.LATIN_GROUP_DEFAULT_FORMS)}
    else:
        given, family = [], []
        for entry in spec["given"]:
            nat, var, *sex = entry.split("|")
            given.append((nat, var.split("/"), sex[0] if sex else "x"))
        for entry in spec["family"]:
            nat, var = entry.split("|")
            family.append((nat, var.split("/")))
    female = [_female(nat, var, spec.get("female")) for nat, var in family]
    middles: dict[str, tuple[np.ndarray, list[list[str]]]] = {}
    kind = spec.get("middle")
    if kind == "patronymic":
        rows = [p.split("|") for p in spec["patronymics"]]
        middles = {"m": (_arr([r[0] for r in rows]), [r[2].split("/") for r in rows]),
                   "f": (_arr([r[1] for r in rows]), [r[3].split("/") for r in rows])}
    elif kind == "father":
        men = [g for g in given if g[2] == "m"]
        middles = {s: (_arr([g[0] for g in men]), [g[1] for g in men]) for s in ("m", "f")}
    elif kind == "vietnamese":
        middles = {s: (_arr([m.split("|")[0] for m in ms]), [m.split("|")[1].split("/") for m in ms])
                   for s, ms in spec["middles"].items()}
    if middles:
        middles["x"] = middles["m"]
    forms = spec["forms"]
    return _Names(
        given_nat=_arr([g[0] for g in given]), given_var=[g[1] for g in given], given_sex=_arr([g[2] for g in given]),
        family_nat=_arr([f[0] for f in family]), family_var=[f[1] for f in family],
        family_nat_f=_arr([f[0] for f in female]), family_var_f=[f[1] for f in female],
        middle=kind, middle_rate=float(spec.get("middle_rate", 0.0)), middles=middles, sep=list(spec["sep"]),
        form_ids=np.array(list(forms), dtype=np.int64), form_w=_weights(list(forms.values())),
        borrow=spec.get("borrow"))


def _spellings(rng: np.random.Generator, variants: list[list[str]], pick: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A person's main Latin spelling of a name (the first listed most often) and a second one of theirs."""
    k = len(pick)
    counts = np.array([len(v) for v in variants], dtype=np.int64)[pick]
    flat = _arr([x for v in variants for x in v])
    start = np.concatenate([[0], np.cumsum([len(v) for v in variants])[:-1]]).astype(np.int64)[pick]
    u1, u2, u3 = rng.random(k), rng.random(k), rng.random(k)
    first = np.where(u1 < 0.6, 0, np.minimum((u2 * counts).astype(np.int64), counts - 1))
    second = np.where(counts > 1, (first + 1 + np.minimum((u3 * (counts - 1)).astype(np.int64), np.maximum(counts - 2, 0)))
                      % counts, first)
    return flat[start + first], flat[start + second]


def _name_forms(rng: np.random.Generator, table: _Names, k: int, latin_only: np.ndarray | None = None) -> np.ndarray:
    """k people's habitual name form and three others they use (k x 4). People writing to an address
    abroad keep mostly to Latin forms."""
    forms = table.form_ids[rng.choice(len(table.form_ids), size=(k, 4), p=table.form_w)]
    if latin_only is not None and latin_only.any():
        native = np.isin(table.form_ids, F.NATIVE_FORMS)
        if native.any() and not native.all():
            w = np.where(native, 0.0, table.form_w)
            latin = table.form_ids[rng.choice(len(table.form_ids), size=(k, 4), p=w / w.sum())]
            swap = latin_only[:, None] & np.isin(forms, F.NATIVE_FORMS) & (rng.random((k, 4)) < 0.8)
            forms = np.where(swap, latin, forms)
    return forms


def _foreign_address(rng: np.random.Generator, iso: str, k: int, a_no: np.ndarray) -> dict[str, np.ndarray]:
    """Address parts of k parties in one country, in its conventions and scripts (linker.synth.foreign):
    the city, then the streets, the districts and the house numbers, drawn in that order."""
    name, _, style, cities, *_ = W.COUNTRIES[iso]
    none = np.full(k, None, dtype=object)
    out: dict[str, np.ndarray] = {}
    ci = rng.integers(len(cities), size=k)
    city = _arr([c[0] for c in cities])[ci]
    out["a_city"] = city
    forms = {c: F.CITY_FORMS.get(c, (c, c)) for c in set(city.tolist())}
    out["a_city_n"] = _arr([forms[c][0] for c in city.tolist()])
    out["a_city_l2"] = _arr([forms[c][1] if forms[c][1] != c else None for c in city.tolist()])
    out["a_city_f"] = _arr([_fold(forms[c][0]) if _is_latin(forms[c][0]) else c for c in city.tolist()])
    out["a_region"] = _arr([c[1] or None for c in cities])[ci]
    out["a_post"] = _arr([c[2] or None for c in cities])[ci]
    out["a_country_name"] = np.full(k, name, dtype=object)
    out["a_country_n"] = np.full(k, F.COUNTRY_NATIVE.get(iso, name), dtype=object)
    for key in ("a_st_l", "a_st_n", "a_st_l2", "a_st_ab", "a_tl", "a_tn", "a_te", "a_type_long", "a_type_short",
                "a_d1_n", "a_d1_l", "a_d1_en", "a_d1_ab", "a_d2_n", "a_d2_l", "a_d2_en", "a_d2_ab", "a_soi", "a_pobox"):
        out[key] = none.copy()
    _foreign_streets(rng, iso, style, k, out)
    _foreign_districts(rng, style, city, out)
    out["a_no_txt"] = _foreign_numbers(rng, style, k, a_no, out)
    return out


def _foreign_streets(rng: np.random.Generator, iso: str, style: str, k: int, out: dict[str, np.ndarray]) -> None:
    """The street names and types of the country's convention, into `out`."""
    if style in ("us", "gb", "generic"):
        stems = W.STREETS_BY_COUNTRY.get(iso, W.STREETS_EN) if style == "generic" else W.STREETS_EN
        st = _choice_str(rng, stems, k)
        t = rng.integers(len(W.STREET_TYPES_EN), size=k)
        out["a_st_l"] = out["a_st_n"] = out["a_st_l2"] = out["a_st_ab"] = st
        out["a_type_long"] = _arr([x[0] for x in W.STREET_TYPES_EN])[t]
        out["a_type_short"] = _arr([x[1] for x in W.STREET_TYPES_EN])[t]
    elif style == "de":
        stem = _choice_str(rng, F.STREET_STEMS_DE[iso], k)
        types = F.STREET_TYPES_STEM[iso]
        t = rng.integers(len(types), size=k)
        out["a_st_n"] = stem + _arr([x[0] for x in types])[t]
        out["a_st_ab"] = stem + _arr([x[1] for x in types])[t]
        out["a_st_l"] = out["a_st_l2"] = _arr([_fold(s) for s in (stem + _arr([x[2] for x in types])[t]).tolist()])
    elif style in ("ru", "ua"):
        rows = [s.split("|") for s in F.STREETS[iso]]
        types = F.STREET_TYPES_RU if style == "ru" else F.STREET_TYPES_UA
        s = rng.integers(len(rows), size=k)
        out["a_st_l"] = out["a_st_l2"] = out["a_st_ab"] = _arr([r[0] for r in rows])[s]
        out["a_st_n"] = _arr([r[1] for r in rows])[s]
        for j, key in enumerate(("a_tn", "a_tl", "a_te")):
            out[key] = _arr([types[r[2]][j] for r in rows])[s]
    elif style == "tr":
        rows = [s.split("|") for s in F.STREETS[iso]]
        s = rng.integers(len(rows), size=k)
        out["a_st_n"] = _arr([r[0] for r in rows])[s]
        out["a_st_l"] = out["a_st_l2"] = out["a_st_ab"] = _arr([_fold(r[0]) for r in rows])[s]
        for j, key in enumerate(("a_tn", "a_tl", "a_te")):
            out[key] = _arr([F.STREET_TYPES_TR[r[1]][j] for r in rows])[s]
    elif style in ("th", "ae", "sa", "hk", "tw"):
        rows = [s.split("|") for s in F.STREETS[iso]]
        s = rng.integers(len(rows), size=k)
        out["a_st_l"], out["a_st_n"] = _arr([r[0] for r in rows])[s], _arr([r[1] for r in rows])[s]
        out["a_st_l2"] = out["a_st_ab"] = _arr([r[2] for r in rows])[s]
    elif style != "jp" and style != "kr":
        st = _choice_str(rng, F.STREETS[iso], k)
        out["a_st_n"] = st
        out["a_st_l"] = out["a_st_l2"] = out["a_st_ab"] = _arr([_fold(x) for x in st.tolist()])


def _foreign_districts(rng: np.random.Generator, style: str, city: np.ndarray, out: dict[str, np.ndarray]) -> None:
    """Districts and quarters (wards, khet and khwaeng, ku, gu) of the cities that have them, into `out`."""
    for c in sorted(set(city.tolist()) & set(F.DISTRICTS)):
        sel = np.flatnonzero(city == c)
        m = len(sel)
        districts = F.DISTRICTS[c]
        d = rng.integers(len(districts), size=m)
        q = np.floor(rng.random(m) * np.array([max(1, len(x[1])) for x in districts])[d]).astype(np.int64)
        ward = rng.integers(1, 16, size=m)
        for j, (di, qi, w) in enumerate(zip(d.tolist(), q.tolist(), ward.tolist())):
            lat, _, nat = districts[di][0].partition("|")
            nat = nat or lat
            quarters = districts[di][1]
            qlat, _, qnat = (quarters[qi] if quarters else "").partition("|")
            qnat = qnat or qlat
            i = sel[j]
            if style == "vn":
                named = not lat.isdigit()
                out["a_d2_n"][i] = f"Quận {nat}"
                out["a_d2_l"][i] = f"Quan {lat}"
                out["a_d2_en"][i] = f"{lat} District" if named else f"District {lat}"
                out["a_d2_ab"][i] = f"Q. {lat}" if named else f"Q.{lat}"
                if qlat == "#":
                    out["a_d1_n"][i], out["a_d1_l"][i] = f"Phường {w}", f"Phuong {w}"
                    out["a_d1_en"][i], out["a_d1_ab"][i] = f"Ward {w}", f"P.{w}"
                else:
                    out["a_d1_n"][i], out["a_d1_l"][i] = f"Phường {qnat}", f"Phuong {qlat}"
                    out["a_d1_en"][i], out["a_d1_ab"][i] = f"{qlat} Ward", f"P. {qlat}"
            elif style == "th":
                bkk = c == "Bangkok"
                w1, w2 = ("แขวง", "เขต") if bkk else ("ตำบล", "อำเภอ")
                a1, a2 = ("แขวง", "เขต") if bkk else ("ต.", "อ.")
                e1, e2 = ("Khwaeng ", "Khet ") if bkk else ("Tambon ", "Amphoe ")
                out["a_d1_n"][i], out["a_d1_ab"][i], out["a_d1_l"][i], out["a_d1_en"][i] = w1 + qnat, a1 + qnat, qlat, e1 + qlat
                out["a_d2_n"][i], out["a_d2_ab"][i], out["a_d2_l"][i] = w2 + nat, a2 + nat, lat
                out["a_d2_en"][i] = e2 + lat if w % 2 else f"{lat} District"
            elif style == "jp":
                out["a_d2_n"][i], out["a_d2_l"][i] = nat + "区", lat + "-ku"
                out["a_d2_en"][i], out["a_d2_ab"][i] = lat + "-ku", lat
                out["a_d1_n"][i] = out["a_d1_ab"][i] = qnat
                out["a_d1_l"][i] = out["a_d1_en"][i] = qlat
            elif style == "kr":
                out["a_d2_n"][i], out["a_d2_l"][i] = nat + "구", lat + "-gu"
                out["a_d2_en"][i], out["a_d2_ab"][i] = lat + "-gu", lat
                out["a_st_n"][i] = qnat
                out["a_st_l"][i] = out["a_st_l2"][i] = out["a_st_ab"][i] = qlat
            elif style in ("ae", "sa"):
                out["a_d1_n"][i] = nat
                out["a_d1_l"][i] = out["a_d1_en"][i] = out["a_d1_ab"][i] = lat
            else:  # Turkey: the district before the city
                out["a_d2_n"][i] = nat
                out["a_d2_l"][i] = out["a_d2_en"][i] = out["a_d2_ab"][i] = _fold(nat)


def _foreign_numbers(rng: np.random.Generator, style: str, k: int, a_no: np.ndarray, out: dict[str, np.ndarray]) -> np.ndarray:
    """House numbers in the country's way (and a soi or a PO box where the country writes one)."""
    small = {"us": None, "gb": None, "generic": None, "my": None, "sg": None, "hk": 400, "tw": 300, "kr": 500,
             "ae": 120, "th": 300}.get(style, 180)
    no = a_no if small is None else a_no % small + 1
    no_txt = pl.Series(no).cast(pl.String).to_numpy().astype(object)
    if style == "th":
        sub = rng.integers(1, 121, size=k)
        no_txt = np.where(rng.random(k) < 0.5, no_txt + "/" + pl.Series(sub).cast(pl.String).to_numpy().astype(object), no_txt)
        out["a_soi"] = np.where(rng.random(k) < 0.5, pl.Series(rng.integers(1, 102, size=k)).cast(pl.String).to_numpy(), None)
    elif style == "jp":
        parts = [pl.Series(rng.integers(1, hi, size=k)).cast(pl.String).to_numpy().astype(object) for hi in (10, 31, 21)]
        no_txt = parts[0] + "-" + parts[1] + "-" + parts[2]
    elif style == "sa":
        no_txt = pl.Series(1000 + a_no % 9000).cast(pl.String).to_numpy().astype(object)
    if style in ("ae", "sa"):
        out["a_pobox"] = np.where(rng.random(k) < 0.5, pl.Series(rng.integers(10_000, 999_999, size=k)).cast(pl.String).to_numpy(),
                                  None)
    return no_txt


def _foreign_parts(rng: np.random.Generator, countries: np.ndarray, a_no: np.ndarray) -> dict:
    """Address and phone parts of foreign parties, country by country, and how each writes its address:
    a habitual form of the country's conventions and three others it uses now and then."""
    n = len(countries)
    out: dict[str, np.ndarray] = {}
    for key in ("a_style", "phone_cc", "phone_trunk", "phone_nsn", "group"):
        out[key] = np.empty(n, dtype=object)
    alts = np.zeros((n, 4), dtype=np.int64)
    for iso, idx in _groups(countries).items():
        k = len(idx)
        name, group, style, cities, cc, trunk, prefixes, length, _ = W.COUNTRIES[iso]
        for key, values in _foreign_address(rng, iso, k, a_no[idx]).items():
            if key not in out:
                out[key] = np.full(n, None, dtype=object)
            out[key][idx] = values
        forms = F.ADDRESS_STYLES[style]
        ids = np.array(list(forms), dtype=np.int64)
        w = _weights(list(forms.values()))
        ways = ids[rng.choice(len(ids), size=(k, 4), p=w)]
        # Among a party's ways of writing its address, one in its own script and one in Latin, where
        # its country has both (see _render: the address follows the name's script).
        native = np.isin(ids, F.NATIVE_ADDRESS_FORMS)
        if native.any() and not native.all():
            own = ids[rng.choice(len(ids), size=k, p=np.where(native, w, 0) / w[native].sum())]
            latin = ids[rng.choice(len(ids), size=k, p=np.where(native, 0, w) / w[~native].sum())]
            is_own = np.isin(ways, F.NATIVE_ADDRESS_FORMS)
            ways[:, 3] = np.where(~is_own.any(axis=1), own, ways[:, 3])
            is_own = np.isin(ways, F.NATIVE_ADDRESS_FORMS)
            ways[:, 2] = np.where(is_own.all(axis=1), latin, ways[:, 2])
        alts[idx] = ways
        out["a_style"][idx] = style
        out["group"][idx] = group
        out["phone_cc"][idx] = cc
        out["phone_trunk"][idx] = trunk
        pre = _choice_str(rng, prefixes, k)
        # The digit after the prefix is 2-9: numbering plans reserve 0 and 1 there in many countries.
        rest = np.array([length - len(p) - 1 for p in pre])
        tail = pl.Series(rng.integers(0, 10**9, size=k, dtype=np.int64)).cast(pl.String).str.zfill(9)
        tail = tail.str.slice(0, pl.Series(rest, dtype=pl.Int64)).to_list()
        out["phone_nsn"][idx] = pre + _arr(list("23456789"))[rng.integers(8, size=k)] + _arr(tail)
    out["addr_habit"] = alts[:, 0]
    for j in range(1, 4):
        out[f"a_alt{j - 1}"] = alts[:, j]
    out["a_no"] = a_no
    return out


def _households(rng: np.random.Generator, group: np.ndarray, share: float) -> tuple[np.ndarray, np.ndarray]:
    """Households of two (sometimes three) people among rows of one group (a city, a country), about
    `share` of the rows: returns the rows that join a household and, for each, the household's first
    person, whose flat and phone they take."""
    n = len(group)
    if share <= 0 or n < 2:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    _, code = _codes(group)
    order = rng.permutation(n)
    order = order[np.argsort(code[order], kind="stable")]
    bounds = np.flatnonzero(np.r_[True, code[order][1:] != code[order][:-1], True])
    sizes = rng.choice([2, 2, 2, 2, 3], size=n // 2 + 1)
    members: list[int] = []
    heads: list[int] = []
    j = 0
    for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist()):
        want = int(rng.binomial(b - a, share))
        i = a
        while i - a < want and i + 2 <= b:
            size = min(int(sizes[j]), b - i)
            j += 1
            heads += [int(order[i])] * (size - 1)
            members += order[i + 1: i + size].tolist()
            i += size
    return np.array(members, dtype=np.int64), np.array(heads, dtype=np.int64)


def fx_people(rng: np.random.Generator, countries: np.ndarray, households: float = 0.0,
              abroad: np.ndarray | None = None) -> pl.DataFrame:
    """Foreign people: their name in their own script and in the Latin spellings they use, address
    parts in their country's conventions, a mobile. `households`: the share of people who live with
    another one of them (same flat and phone, often the family name). `abroad`: people whose parcels
    go to an address abroad (a forwarding warehouse), who mostly write their name in Latin."""
    n = len(countries)
    parts = _foreign_parts(rng, countries, rng.integers(1, 2500, size=n))
    unit = rng.integers(1, 300, size=n).astype(float)
    unit[rng.random(n) < 0.55] = np.nan
    by_country = _groups(countries)
    taiwan = by_country.get("TW", np.zeros(0, dtype=np.int64))
    unit[taiwan] = unit[taiwan] % 19 + 2  # a floor in Taiwan
    group = parts.pop("group")
    # Which name group each person's name comes from (Russians in Kazakhstan, Malays in Singapore).
    eff = group.copy()
    for g, idx in _groups(group).items():
        table = _names(g)
        if table.borrow:
            eff[idx[rng.random(len(idx)) < table.borrow[1]]] = table.borrow[0]
    gi = np.zeros(n, dtype=np.int64)
    fi = np.zeros(n, dtype=np.int64)
    sex = np.empty(n, dtype=object)
    eff_groups = _groups(eff)
    for g, idx in eff_groups.items():
        table = _names(g)
        gi[idx] = rng.integers(len(table.given_nat), size=len(idx))
        fi[idx] = rng.integers(len(table.family_nat), size=len(idx))
        sx = table.given_sex[gi[idx]]
        sex[idx] = np.where(sx == "x", _arr(["m", "f"])[rng.integers(2, size=len(idx))], sx)
    hh = _fx_households(rng, countries, households, parts, unit, eff, gi, fi, sex)
    cols = {k: np.full(n, None, dtype=object) for k in ("giv", "fam", "mid", "giv2", "fam2", "mid2", "nat_giv",
                                                         "nat_fam", "nat_mid", "nat_fg")}
    name_forms = np.zeros((n, 4), dtype=np.int64)
    latin_only = abroad if abroad is not None else np.zeros(n, dtype=bool)
    for g, idx in eff_groups.items():
        k = len(idx)
        table = _names(g)
        female = sex[idx] == "f"
        cols["giv"][idx], cols["giv2"][idx] = _spellings(rng, table.given_var, gi[idx])
        cols["nat_giv"][idx] = table.given_nat[gi[idx]]
        fam_m, fam2_m = _spellings(rng, table.family_var, fi[idx])
        fam_f, fam2_f = _spellings(rng, table.family_var_f, fi[idx])
        cols["fam"][idx] = np.where(female, fam_f, fam_m)
        cols["fam2"][idx] = np.where(female, fam2_f, fam2_m)
        cols["nat_fam"][idx] = np.where(female, table.family_nat_f[fi[idx]], table.family_nat[fi[idx]])
        if table.middles:
            has = rng.random(k) < table.middle_rate
            for s, (nat, var) in table.middles.items():
                sel = np.flatnonzero(has & (sex[idx] == s))
                if not len(sel):
                    continue
                pick = rng.integers(len(nat), size=len(sel))
                cols["mid"][idx[sel]], cols["mid2"][idx[sel]] = _spellings(rng, var, pick)
                cols["nat_mid"][idx[sel]] = nat[pick]
        sep = _choice_str(rng, table.sep, k)
        cols["nat_fg"][idx] = cols["nat_fam"][idx] + sep + cols["nat_giv"][idx]
        name_forms[idx] = _name_forms(rng, table, k, latin_only[idx])
    return _frame({
        "kind": np.full(n, KIND_FX_PERSON, dtype=object), "country": countries.astype(object),
        **cols,
        "name_habit": name_forms[:, 0], **{f"name_alt{j}": name_forms[:, j + 1] for j in range(3)},
        "phone_habit": rng.integers(0, 9, size=n),
        "a_unit": pl.Series(unit).cast(pl.Int64, strict=False),
        "hh_local": hh,
        **parts,
    })


def _fx_households(rng: np.random.Generator, countries: np.ndarray, households: float, parts: dict,
                  unit: np.ndarray, eff: np.ndarray, gi: np.ndarray, fi: np.ndarray, sex: np.ndarray) -> np.ndarray:
    """Households among foreign people: a member takes the flat, the phone and (mostly) the family
    name of the household's first person, and a given name of its own (the arrays are changed in
    place); returns each person's household head, or -1."""
    n = len(countries)
    hh = np.full(n, -1, dtype=np.int64)
    members, heads = _households(rng, countries.astype(object), households)
    if len(members):
        same_group = eff[members] == eff[heads]
        for key in [k for k in parts if k.startswith("a_") and not k.startswith("a_alt")] + ["phone_nsn"]:
            parts[key][members] = parts[key][heads]
        unit[members] = unit[heads]
        share_name = same_group & (rng.random(len(members)) < 0.7)
        fi[members[share_name]] = fi[heads[share_name]]
        taken: dict[int, set] = {}
        for m, h in zip(members.tolist(), heads.tolist()):
            table = _names(str(eff[m]))
            names = taken.setdefault(h, {(str(eff[h]), int(gi[h]))})
            while (str(eff[m]), int(gi[m])) in names and len(table.given_nat) > 1:  # one flat, different given names
                gi[m] = (gi[m] + 1) % len(table.given_nat)
                sx = table.given_sex[gi[m]]
                sex[m] = sex[m] if sx == "x" else sx
            names.add((str(eff[m]), int(gi[m])))
        hh[members] = heads
        hh[np.unique(heads)] = np.unique(heads)
    return hh


def fx_companies(rng: np.random.Generator, countries: np.ndarray, trades=None, premises: str | None = None) -> pl.DataFrame:
    """Foreign companies: a name, a trade word, the country's usual legal suffix; an address in the
    country's conventions, with the firm's premises (a warehouse: sklad 3 / склад 3 / Warehouse 3, or
    an office) when it has one."""
    n = len(countries)
    parts = _foreign_parts(rng, countries, rng.integers(1, 9000, size=n))
    suffix = np.array([W.FOREIGN_COMPANY_SUFFIXES[g][rng.integers(len(W.FOREIGN_COMPANY_SUFFIXES[g]))]
                       for g in parts.pop("group")], dtype=object) if n else _arr([])
    trade_words = trades if trades else W.FOREIGN_COMPANY_TRADES
    kind = np.full(n, premises, dtype=object) if premises else np.where(rng.random(n) < 0.25, "office", None)
    number = np.where(kind == "warehouse", rng.integers(1, 13, size=n), rng.integers(101, 1521, size=n))
    prem = {key: np.full(n, None, dtype=object) for key in ("a_prem_a", "a_prem_b", "a_prem_n")}
    for i in np.flatnonzero(kind != None).tolist():  # noqa: E711
        latin, native = F.PREMISES[F.PREMISES_STYLE.get(parts["a_style"][i], "default")][kind[i]]
        pick = rng.integers(len(latin), size=2)
        prem["a_prem_a"][i] = latin[pick[0]].format(n=number[i])
        prem["a_prem_b"][i] = latin[pick[1]].format(n=number[i])
        prem["a_prem_n"][i] = native[int(rng.integers(len(native)))].format(n=number[i])
    return _frame({
        "kind": np.full(n, KIND_FX_COMPANY, dtype=object), "country": countries.astype(object),
        "fam": _choice_str(rng, W.FOREIGN_COMPANY_WORDS, n) + " " + _choice_str(rng, trade_words, n),
        "giv": suffix,
        "name_habit": rng.choice(4, size=n, p=[0.55, 0.2, 0.15, 0.1]),
        "phone_habit": rng.integers(0, 9, size=n),
        "a_unit": pl.Series(np.full(n, None), dtype=pl.Int64),
        **prem, **parts,
    })


class _Pool:
    """All parties of the world, appended in chunks; a party is known by its row index."""

    def __init__(self) -> None:
        self.frames: list[pl.DataFrame] = []
        self.size = 0
        self._columns: dict[str, pl.Series] = {}

    def add(self, frame: pl.DataFrame) -> np.ndarray:
        self._columns.clear()
        start = self.size
        if "hh_local" in frame.columns:  # households are known by their first person's pool index
            frame = frame.with_columns(household=pl.when(pl.col("hh_local") >= 0).then(
                pl.lit("HH-") + (pl.col("hh_local") + start).cast(pl.String).str.zfill(7))).drop("hh_local")
        self.frames.append(frame)
        self.size += frame.height
        return np.arange(start, self.size, dtype=np.int64)

    def frame(self) -> pl.DataFrame:
        pool = pl.concat(self.frames, how="diagonal_relaxed")
        prefix = pl.col("kind").replace_strict(ENTITY_PREFIX, return_dtype=pl.String)
        # One chunk per column: the renderer gathers rows from it many times.
        return pool.with_columns(entity=prefix + "-" + pl.int_range(pl.len()).cast(pl.String).str.zfill(7)).rechunk()

    def column(self, name: str, idx: np.ndarray) -> np.ndarray:
        """Values of one column for given parties (only for chunks already added)."""
        if name not in self._columns:
            self._columns[name] = pl.concat(
                [f.select(name) if name in f.columns else pl.DataFrame({name: [None] * f.height})
                 for f in self.frames], how="vertical_relaxed")[name]
        return self._columns[name].gather(idx).to_numpy()


# ---------------------------------------------------------------------------------------------
# Time

_HOUR_W = _weights([1, 0.5, 0.3, 0.2, 0.2, 0.4, 1, 3, 6, 9, 10, 10, 8, 8, 9, 10, 10, 9, 8, 6, 4, 3, 2, 1.5])


def _day_weights() -> np.ndarray:
    """Traffic per day of the year: quieter weekends and Spring Festival, peaks around 11.11 and Christmas."""
    days = np.arange(YEAR_DAYS)
    dates = [YEAR_START.date() + timedelta(days=int(d)) for d in days]
    w = np.ones(YEAR_DAYS)
    for i, d in enumerate(dates):
        w[i] *= (1, 1, 1, 1, 1, 0.8, 0.6)[d.weekday()]
        if abs((d - date(2025, 1, 29)).days) <= 7:
            w[i] *= 0.4
        if abs((d - date(2025, 11, 11)).days) <= 4 or (d.month == 12 and d.day <= 20):
            w[i] *= 1.6
        w[i] *= 1 + 0.15 * (i / YEAR_DAYS)  # slow growth of e-commerce over the year
    return _weights(w)


DAY_W = _day_weights()


def _times(rng: np.random.Generator, days: np.ndarray) -> np.ndarray:
    """Acceptance timestamps on the given day offsets, at realistic hours of the day."""
    n = len(days)
    secs = rng.choice(24, size=n, p=_HOUR_W) * 3600 + rng.integers(0, 3600, size=n)
    base = np.datetime64(YEAR_START, "s")
    return (base + days.astype("timedelta64[D]") + secs.astype("timedelta64[s]")).astype("datetime64[us]")


# ---------------------------------------------------------------------------------------------
# Goods

def _ordinary_goods(rng: np.random.Generator, n: int, categories: np.ndarray | None = None) -> dict:
    """Goods of ordinary parcels: a CN23 category, an item of it, weight and value consistent with it."""
    cats = list(W.CATEGORY_SHARES)
    if categories is None:
        categories = _choice_str(rng, cats, n, p=_weights(list(W.CATEGORY_SHARES.values())))
    desc, hs = np.empty(n, dtype=object), np.empty(n, dtype=object)
    kg, usd = np.zeros(n), np.zeros(n)
    for cat in cats:
        idx = np.flatnonzero(categories == cat)
        items = W.GOODS[cat]
        pick = rng.integers(len(items), size=len(idx))
        for j, (descs, code, lo, hi, plo, phi) in enumerate(items):
            sel = idx[pick == j]
            k = len(sel)
            desc[sel] = _choice_str(rng, descs, k)
            hs[sel] = code or None
            kg[sel] = _log_uniform(rng, lo, hi, k)
            usd[sel] = kg[sel] * rng.uniform(plo, phi, size=k) if phi else 0.0
    return {"description": desc, "hs": hs, "weight_kg": kg, "value_usd": usd, "category": categories}


def _packaging(rng: np.random.Generator, kg: np.ndarray) -> np.ndarray:
    """Weight of box and filling: gross weight is a little above net weight."""
    return 0.02 + kg * rng.uniform(0.03, 0.15, size=len(kg))


# ---------------------------------------------------------------------------------------------
# Plans of ordinary traffic and look-alikes


def _home_outlet(party, carrier_index):
    """The outlet number a party usually uses with a carrier: fixed per party and carrier."""
    return (np.asarray(party, dtype=np.int64) * 7919 + np.asarray(carrier_index, dtype=np.int64) * 104729) % 59 + 1


def _acceptance_points(rng: np.random.Generator, carriers: np.ndarray, area: np.ndarray,
                       parties: np.ndarray | None = None) -> np.ndarray:
    """Outlet ids: carrier code, city telephone code (or country), outlet number. A party hands its
    parcels in at its usual outlet of that carrier most of the time, elsewhere now and then."""
    number = rng.integers(1, 60, size=len(carriers))
    if parties is not None:
        index = {c: i for i, c in enumerate(W.CARRIERS)}
        carrier_index = np.array([index[c] for c in carriers.tolist()], dtype=np.int64) if len(carriers) else np.zeros(0, int)
        number = np.where(rng.random(len(carriers)) < 0.8, _home_outlet(parties, carrier_index), number)
    num = pl.Series(number).cast(pl.String).str.zfill(3)
    prefix = pl.Series(carriers.tolist(), dtype=pl.String).replace_strict(
        {c: W.CARRIERS[c][2] for c in W.CARRIERS}, return_dtype=pl.String)
    return (prefix + "-" + pl.Series(area.tolist(), dtype=pl.String) + "-" + num).to_numpy().astype(object)


def _plan(n: int, **cols) -> pl.DataFrame:
    data = {}
    for name, dtype in PLAN_SCHEMA.items():
        value = cols.get(name)
        if value is None:
            data[name] = pl.Series(name, [None] * n, dtype=dtype)
        elif np.isscalar(value) or isinstance(value, str):
            data[name] = pl.Series(name, [value] * n, dtype=dtype)
        elif isinstance(value, np.ndarray) and value.dtype == object:
            data[name] = pl.Series(name, value.tolist(), dtype=dtype)
        else:
            data[name] = pl.Series(name, value, dtype=dtype, strict=False)
    return pl.DataFrame(data)


def _carriers(rng: np.random.Generator, n: int, allowed=None) -> np.ndarray:
    names = allowed or list(W.CARRIERS)
    return _choice_str(rng, names, n, p=_weights([W.CARRIERS[c][0] for c in names]))


def _dest_countries(rng: np.random.Generator, n: int) -> np.ndarray:
    isos = list(W.COUNTRIES)
    return _choice_str(rng, isos, n, p=_weights([W.COUNTRIES[c][8] for c in isos]))


@dataclass
class _Ctx:
    """What planning needs: the random generator, the party pool and the ids of standing parties."""

    rng: np.random.Generator
    pool: _Pool
    cn_senders: np.ndarray
    cn_sender_w: np.ndarray
    cn_firms: np.ndarray
    cn_firm_w: np.ndarray
    fx_receivers: np.ndarray
    fx_receiver_w: np.ndarray
    fx_receiver_country: np.ndarray
    fx_firms: np.ndarray
    hard: Hardness | None = None  # set by generate()


def _outbound(ctx: _Ctx, n: int, kind: str = "background") -> pl.DataFrame:
    """Ordinary parcels from China: people and small sellers to people and firms abroad."""
    rng = ctx.rng
    firm = rng.random(n) < 0.3
    s = np.where(firm, rng.choice(ctx.cn_firms, size=n, p=ctx.cn_firm_w),
                 rng.choice(ctx.cn_senders, size=n, p=ctx.cn_sender_w))
    to_firm = rng.random(n) < 0.05
    r = np.where(to_firm, rng.choice(ctx.fx_firms, size=n), rng.choice(ctx.fx_receivers, size=n, p=ctx.fx_receiver_w))
    cats = np.where(firm, "merchandise", None)
    loose = ~firm
    cats[loose] = _choice_str(rng, list(W.CATEGORY_SHARES), int(loose.sum()),
                              p=_weights(list(W.CATEGORY_SHARES.values())))
    goods = _ordinary_goods(rng, n, cats.astype(object))
    carriers = _carriers(rng, n)
    kg = goods.pop("weight_kg")
    return _plan(
        n, actor_kind=kind, carrier=carriers, ts=_times(rng, rng.choice(YEAR_DAYS, size=n, p=DAY_W)),
        origin_country="CN", dest_country=ctx.pool.column("country", r),
        s_ent=s, s_name=s, s_addr=s, s_phone=s, s_id=s, s_acct=s,
        r_ent=r, r_name=r, r_addr=r, r_phone=r, weight_kg=kg, gross_kg=kg + _packaging(rng, kg),
        declared_origin=_declared_origin(rng, n, "CN"),
        acceptance_point=_acceptance_points(rng, carriers, ctx.pool.column("a_tel", s), s), **goods,
    )


def _declared_origin(rng: np.random.Generator, n: int, origin) -> np.ndarray:
    """Mostly the posting country; sometimes goods made elsewhere (imported cosmetics, a Japanese watch)."""
    other = _choice_str(rng, ["JP", "KR", "US", "DE", "VN", "TH", "MY", "IT", "FR", "TW"], n)
    return np.where(rng.random(n) < 0.03, other, origin).astype(object)


def _inbound(ctx: _Ctx, n: int) -> pl.DataFrame:
    """Ordinary parcels posted abroad to people in China."""
    rng = ctx.rng
    origins = _choice_str(rng, list(W.INBOUND_ORIGINS), n, p=_weights(list(W.INBOUND_ORIGINS.values())))
    s = np.empty(n, dtype=np.int64)
    for iso in sorted(set(origins.tolist())):
        idx = np.flatnonzero(origins == iso)
        cands = ctx.fx_receivers[ctx.fx_receiver_country == iso]
        s[idx] = rng.choice(cands, size=len(idx))
    r = rng.choice(ctx.cn_senders, size=n, p=ctx.cn_sender_w)
    goods = _ordinary_goods(rng, n)
    kg = goods.pop("weight_kg")
    carriers = _carriers(rng, n, ["EMS", "China Post", "DHL", "FedEx", "UPS", "SF"])
    return _plan(
        n, actor_kind="background", carrier=carriers, ts=_times(rng, rng.choice(YEAR_DAYS, size=n, p=DAY_W)),
        origin_country=origins, dest_country="CN", s_ent=s, s_name=s, s_addr=s, s_phone=s, s_acct=-1, s_id=-1,
        r_ent=r, r_name=r, r_addr=r, r_phone=r, weight_kg=kg, gross_kg=kg + _packaging(rng, kg),
        declared_origin=_declared_origin(rng, n, origins),
        acceptance_point=_acceptance_points(rng, carriers, origins), **goods,
    )


@dataclass(frozen=True)
class Hardness:
    """How hard the look-alikes are, from `lookalike_strength` (0: few and plain, 1: as real trade is,
    2: harder than usual). Every figure grows with the strength; at 1 they are what the outside world
    showed (issue 12): shops under a dozen spellings and their staff's names, hundreds of one-off
    buyers, a fifth of shops selling goods whose words overlap cover declarations, warehouses with
    hundreds of customers, customer codes in many forms."""

    strength: float = 1.0

    @property
    def shop_share(self) -> float:  # of all parcels
        return min(0.12, 0.01 + 0.03 * self.strength)

    @property
    def shop_median_parcels(self) -> float:  # a shop's parcels in the year: more buyers when harder
        return 40 + 80 * self.strength

    @property
    def shop_name_loyalty(self) -> float:  # how often a shop's name is written its habitual way
        return max(0.08, HABIT - 0.3 * self.strength)

    @property
    def staff_name_share(self) -> float:  # parcels sent under a staff member's own name
        return min(0.5, 0.15 * self.strength)

    @property
    def staff_per_shop(self) -> float:
        return 3 * self.strength

    def shop_kind_weights(self) -> dict[str, float]:
        w = {kind: spec[0] for kind, spec in W.SHOP_KINDS.items()}
        w["cover_goods_shop"] *= self.strength  # the hardest kind: absent at 0, a third of shops at 2
        return w

    @property
    def forwarder_share(self) -> float:
        return min(0.15, 0.015 + 0.03 * self.strength)

    @property
    def customers_per_parcel(self) -> float:  # distinct customers per forwarded parcel
        return min(0.9, 0.45 + 0.15 * self.strength)

    @property
    def forwarder_coverlike(self) -> float:  # customers' honest goods with cover-like words
        return min(0.1, 0.015 * self.strength)

    @property
    def warehouse_name_share(self) -> float:  # receiver name is the warehouse's own, with the code
        return min(0.3, 0.08 * self.strength)

    @property
    def exporters_per_parcel(self) -> float:
        return (0.5 + 0.5 * self.strength) / 60_000

    @property
    def lab_exporter_share(self) -> float:
        return min(0.5, 0.3 * self.strength)

    @property
    def transit_traders_per_parcel(self) -> float:  # honest traders in transit countries
        return (0.5 + 0.5 * self.strength) / 40_000


def _merge_columns(parts: list[dict[str, np.ndarray]]) -> pl.DataFrame:
    """One plan frame from per-group column arrays (see `_columns`)."""
    if not parts:
        return _plan(0)
    merged = {}
    for name in PLAN_SCHEMA:
        arrays = [p[name] for p in parts]
        merged[name] = np.concatenate(arrays) if all(a.dtype == arrays[0].dtype for a in arrays) else \
            np.concatenate([a.astype(object) for a in arrays])
    return _plan(sum(len(p["actor_kind"]) for p in parts), **merged)


def _days_from(rng: np.random.Generator, start: int, k: int) -> np.ndarray:
    """k acceptance days at or after `start`, with the year's usual rhythm."""
    w = DAY_W[start:]
    return start + rng.choice(len(w), size=k, p=w / w.sum())


_SET_SIZES = np.array([6, 8, 10, 12, 20, 24, 30, 32, 35, 36, 40, 48, 50, 60, 64, 72, 80, 100, 120, 150, 200])
_PACK_GRAMS = np.array([50, 100, 200, 250, 500, 1000])


def _shop_goods(rng: np.random.Generator, lines: list, line_w: np.ndarray, k: int) -> dict:
    """Goods of one shop's k parcels: its product lines, sets of pieces that grow with the weight,
    powders in whole packs, prices that fit the goods."""
    pick = rng.choice(len(lines), size=k, p=line_w)
    desc, hs = np.empty(k, dtype=object), np.empty(k, dtype=object)
    kg, usd = np.zeros(k), np.zeros(k)
    for j, (_, templates, codes, lo, hi, plo, phi) in enumerate(lines):
        sel = np.flatnonzero(pick == j)
        if not len(sel):
            continue
        # A shop files a line under one heading most of the time.
        own = codes[int(rng.integers(len(codes)))]
        hs[sel] = np.where(rng.random(len(sel)) < 0.85, own, _choice_str(rng, codes, len(sel)))
        kg[sel] = _log_uniform(rng, lo, hi, len(sel))
        usd[sel] = rng.uniform(plo, phi, size=len(sel))
        tpl = _choice_str(rng, templates, len(sel))
        pieces = _SET_SIZES[np.abs(_SET_SIZES[None, :] - (kg[sel] * rng.uniform(20, 50, size=len(sel)))[:, None]).argmin(axis=1)]
        grams = _PACK_GRAMS[np.abs(_PACK_GRAMS[None, :] - kg[sel][:, None] * 1000).argmin(axis=1)]
        packs = np.char.find(tpl.astype(str), "{g}") >= 0
        count = rng.choice([1, 1, 1, 2, 3], size=len(sel))
        kg[sel] = np.where(packs, grams / 1000 * count, kg[sel])
        text = [t.replace("{n}", str(p)).replace("{g}", str(g)) + (f" x{m}" if "{g}" in t and m > 1 else "")
                for t, p, g, m in zip(tpl.tolist(), pieces, grams, count)]
        # A template may name its own heading ("316L stainless steel powder|720529").
        hs[sel] = _arr([t.partition("|")[2] or h for t, h in zip(text, hs[sel].tolist())])
        desc[sel] = _arr([t.partition("|")[0] for t in text])
    return {"description": desc, "hs": hs, "weight_kg": kg, "value_usd": kg * usd}


def _shops(ctx: _Ctx, hard: Hardness, n: int) -> pl.DataFrame:
    """Honest web shops (DOMAIN.md, issue 12): magnetic toys, jewellery and crafts, alloy parts, and
    goods whose words overlap cover declarations (ferrite magnets, nickel powder for hobby and lab use,
    alloy powder for 3D printing) at the right price for those goods. A shop appears under many
    spellings of its name and under its staff's names, pays from one account or posts from one
    warehouse, and sends to hundreds of buyers in many countries, each of whom buys once or twice."""
    rng = ctx.rng
    if n < 20:
        return _plan(0)
    sizes: list[int] = []
    while sum(sizes) < n:
        sizes.append(int(np.clip(rng.lognormal(np.log(hard.shop_median_parcels), 0.9), 15, 3000)))
    sizes[-1] -= sum(sizes) - n
    if sizes[-1] < 10 and len(sizes) > 1:
        sizes[-2] += sizes.pop()
    n_shops = len(sizes)
    kinds_w = hard.shop_kind_weights()
    kind_names = [k for k in W.SHOP_KINDS if kinds_w[k] > 0]
    kinds = _choice_str(rng, kind_names, n_shops, p=_weights([kinds_w[k] for k in kind_names]))
    cities = rng.choice(len(W.CITIES), size=n_shops, p=CITY_W)
    shop_ids = np.zeros(n_shops, dtype=np.int64)
    for kind in kind_names:
        sel = np.flatnonzero(kinds == kind)
        if len(sel):
            shop_ids[sel] = ctx.pool.add(cn_companies(rng, len(sel), city=cities[sel], trades=W.SHOP_KINDS[kind][1],
                                                      brands=W.SHOP_BRANDS, name_loyalty=hard.shop_name_loyalty))
    n_staff = 1 + rng.poisson(hard.staff_per_shop, size=n_shops)
    staff_all = ctx.pool.add(cn_people(rng, int(n_staff.sum()), city=np.repeat(cities, n_staff)))
    staff_start = np.concatenate([[0], np.cumsum(n_staff)[:-1]])
    # Buyers: each buys once, a few twice; they live in the shop's markets (6 to 25 countries).
    iso_all = _arr(list(W.COUNTRIES))
    iso_w = _weights([W.COUNTRIES[c][8] for c in iso_all])
    n_buyers = [max(1, min(k, int(round(k * rng.uniform(0.83, 0.97))))) for k in sizes]
    buyer_countries = []
    for nb in n_buyers:
        markets = rng.choice(len(iso_all), size=int(rng.integers(6, 26)), replace=False, p=iso_w)
        buyer_countries.append(iso_all[rng.choice(markets, size=nb, p=_weights(iso_w[markets] * rng.uniform(0.3, 1.0, len(markets))))])
    buyers_all = ctx.pool.add(fx_people(rng, np.concatenate(buyer_countries), households=HOUSEHOLD_SHARE))
    buyer_start = np.concatenate([[0], np.cumsum(n_buyers)[:-1]])
    parts = []
    shop_carriers = ["YunExpress", "Cainiao", "China Post", "EMS", "SF", "JD", "DHL"]
    for i, k in enumerate(sizes):
        shop = int(shop_ids[i])
        staff = staff_all[staff_start[i]: staff_start[i] + n_staff[i]]
        buyers = buyers_all[buyer_start[i]: buyer_start[i] + n_buyers[i]]
        again = rng.choice(len(buyers), size=k - len(buyers), replace=False) if k - len(buyers) <= len(buyers) \
            else rng.integers(len(buyers), size=k - len(buyers))
        r = np.concatenate([buyers, buyers[again]])[rng.permutation(k)]
        kind = str(kinds[i])
        lines = W.SHOP_KINDS[kind][2]
        own_lines = rng.choice(len(lines), size=min(len(lines), int(rng.integers(1, 4))), replace=False,
                               p=_weights([line[0] for line in lines]))
        goods = _shop_goods(rng, [lines[j] for j in own_lines], _weights(rng.uniform(0.3, 1.0, len(own_lines))), k)
        kg = goods.pop("weight_kg")
        carriers_own = rng.choice(shop_carriers, size=int(rng.integers(2, 5)), replace=False)
        carriers = _choice_str(rng, carriers_own.tolist(), k, p=_weights(rng.uniform(0.2, 1.0, len(carriers_own))))
        # Who is on the label: the shop or the staff member who packed it; whose ID was registered,
        # whose phone; one account pays for all, or one warehouse posts all (or both).
        hand = staff[rng.integers(len(staff), size=k)]
        staff_name = rng.random(k) < hard.staff_name_share
        mode = rng.choice(3, p=[0.35, 0.25, 0.4])  # 0: one account, 1: one address, 2: both
        s_name = np.where(staff_name, hand, shop)
        s_addr = np.where((mode == 0) & (rng.random(k) < 0.35), hand, shop)
        s_acct = np.where((mode == 1) & (rng.random(k) < 0.5), hand, shop)
        s_phone = np.where(rng.random(k) < 0.4, hand, shop)
        s_id = np.where(rng.random(k) < 0.6, hand, -1)
        opened = int(rng.integers(0, 200)) if rng.random() < 0.3 else 0
        category = _choice_str(rng, ["merchandise", "gift", "sample"], k,
                               p=[0.8, 0.05, 0.15] if kind == "cover_goods_shop" else [0.9, 0.07, 0.03])
        parts.append(_columns(
            k, actor_kind="shop", lookalike_kind=kind, lookalike_group=f"SHOP-{i + 1:05d}", carrier=carriers,
            ts=_times(rng, _days_from(rng, opened, k)), origin_country="CN", dest_country=ctx.pool.column("country", r),
            s_ent=np.full(k, shop), s_name=s_name, s_addr=s_addr, s_phone=s_phone, s_id=s_id, s_acct=s_acct,
            r_ent=r, r_name=r, r_addr=r, r_phone=r, weight_kg=kg, gross_kg=kg + _packaging(rng, kg),
            category=category, declared_origin="CN",
            acceptance_point=_acceptance_points(rng, carriers, ctx.pool.column("a_tel", np.full(k, shop)), np.full(k, shop)),
            **goods))
    return _merge_columns(parts)


def _forwarder_receiver(rng: np.random.Generator, hard: Hardness, customer: np.ndarray, warehouse: np.ndarray):
    """Who a parcel for a warehouse customer is addressed to: the customer's name (or now and then
    the warehouse's own name, with the code), the customer's phone or the warehouse desk's, which
    hundreds of customers share. Customers and smugglers using a suite are written alike."""
    k = len(customer)
    name = np.where(rng.random(k) < hard.warehouse_name_share, warehouse, customer)
    phone = np.where(rng.random(k) < 0.5, customer, warehouse)
    return name, phone


def _forwarders(ctx: _Ctx, hard: Hardness, n: int, n_world: int) -> tuple[pl.DataFrame, _Warehouses]:
    """Parcel-forwarding warehouses: one street address abroad, hundreds of customers who are strangers
    to each other, told apart by a customer code written in the warehouse's way or another."""
    rng = ctx.rng
    n_wh = max(2, round(n_world / 25_000))
    countries = _choice_str(rng, ["US", "US", "US", "DE", "GB", "JP", "KZ", "KZ", "NL", "AE", "PL", "KG"], n_wh)
    frame = fx_companies(rng, countries, trades=["Logistics", "Forwarding", "Shipping", "Parcel Forwarding", "Express"],
                         premises="warehouse")
    prefixes = _choice_str(rng, ["CN", "WH", "A", "B", "K", "US", "EU", "PF", "M", "X"], n_wh)
    prefixes = np.where(rng.random(n_wh) < 0.4, countries, prefixes)
    frame = frame.with_columns(wh_prefix=pl.Series(prefixes.tolist(), dtype=pl.String),
                               wh_habit=pl.Series(rng.integers(len(WAREHOUSE_CODE_STYLES), size=n_wh)))
    wh = ctx.pool.add(frame)
    n_customers = max(1, int(n * hard.customers_per_parcel))
    size_w = _activity(rng, n_wh, 0.6)
    cust_wh = rng.choice(n_wh, size=n_customers, p=size_w)
    per_wh = np.bincount(cust_wh, minlength=n_wh)
    # Codes: unique per warehouse; some left over for rings that use a suite.
    suites = [list((rng.choice(98_000, size=min(98_000, int(c) + 200), replace=False) + 1000).tolist()) for c in per_wh]
    cust_suite = np.array([suites[w].pop() for w in cust_wh], dtype=np.int64)
    # Customers live in the warehouse's country or abroad (Russians buying through Kazakh or American
    # warehouses); those abroad mostly write their names in Latin on such parcels.
    wh_country = countries[cust_wh]
    home = np.where(rng.random(n_customers) < 0.4, wh_country,
                    np.where(rng.random(n_customers) < 0.2, "RU", _dest_countries(rng, n_customers))).astype(object)
    customers = ctx.pool.add(fx_people(rng, home, abroad=home != wh_country))
    pick = rng.choice(n_customers, size=n, p=_activity(rng, n_customers, 0.8))
    c = customers[pick]
    w = wh[cust_wh[pick]]
    plan = _outbound(ctx, n, kind="forwarder_customer")
    # A few buy goods whose words overlap cover declarations: nickel-plated fittings, alloy wheel caps.
    cover = np.flatnonzero(rng.random(n) < hard.forwarder_coverlike)
    if len(cover):
        items = W.FORWARDER_COVERLIKE_GOODS
        j = rng.integers(len(items), size=len(cover))
        kg = np.array([_log_uniform(rng, items[x][2], items[x][3]) for x in j])
        usd = np.array([rng.uniform(items[x][4], items[x][5]) for x in j]) * kg
        desc = _arr([items[x][0][int(rng.integers(len(items[x][0])))] for x in j])
        hs = _arr([items[x][1] for x in j])
        idx = pl.Series(cover)
        plan = plan.with_columns(
            description=plan["description"].scatter(idx, pl.Series(desc.tolist(), dtype=pl.String)),
            hs=plan["hs"].scatter(idx, pl.Series(hs.tolist(), dtype=pl.String)),
            weight_kg=plan["weight_kg"].scatter(idx, pl.Series(kg)),
            gross_kg=plan["gross_kg"].scatter(idx, pl.Series(kg + _packaging(rng, kg))),
            value_usd=plan["value_usd"].scatter(idx, pl.Series(usd)),
            category=plan["category"].scatter(idx, pl.Series(["merchandise"] * len(cover), dtype=pl.String)),
        )
    name, phone = _forwarder_receiver(rng, hard, c, w)
    plan = plan.with_columns(
        r_ent=pl.Series(c), r_name=pl.Series(name), r_addr=pl.Series(w), r_phone=pl.Series(phone),
        r_unit=pl.Series(cust_suite[pick]), dest_country=pl.Series(ctx.pool.column("country", w)),
        lookalike_kind=pl.lit("forwarder_customer"),
        lookalike_group=pl.lit("WH-") + pl.Series(cust_wh[pick] + 1).cast(pl.String).str.zfill(4),
    )
    return plan, _Warehouses(wh, suites)


def _exporters(ctx: _Ctx, hard: Hardness, n_exporters: int) -> pl.DataFrame:
    """Licensed exporters: big, regular (monthly or so), correctly declared consignments of controlled
    goods to few consignees who recur; and exporters of samples (5-30 kg) to research laboratories,
    correctly declared too."""
    rng = ctx.rng
    rare_earth_cities = [i for i, c in enumerate(W.CITIES) if c[3] in ("Ganzhou", "Baotou", "Changzhou", "Ningbo", "Beijing")]
    firms = ctx.pool.add(cn_companies(rng, n_exporters, city=rng.choice(rare_earth_cities, size=n_exporters), trades=[4, 3]))
    parts = []
    for i, firm in enumerate(firms):
        lab = rng.random() < hard.lab_exporter_share
        goods_table = W.LAB_SAMPLE_GOODS if lab else W.EXPORTER_GOODS
        descs, code, plo, phi, commodity = goods_table[int(rng.integers(len(goods_table)))]
        if lab:
            buyers = ctx.pool.add(fx_companies(rng, _choice_str(rng, ["DE", "JP", "KR", "US", "NL", "GB", "FR", "IT", "SE", "AU", "CA"],
                                                                int(rng.integers(3, 9))), trades=W.FOREIGN_LAB_BUYERS))
            k = int(rng.integers(8, 21))
            days = np.sort(rng.choice(YEAR_DAYS, size=k, replace=False))
            r = rng.choice(buyers, size=k)
            kg = np.round(rng.choice([5, 5, 10, 10, 15, 20, 25, 30], size=k) * rng.uniform(1.0, 1.005, size=k), 2)
            category = "sample"
        else:
            buyers = ctx.pool.add(fx_companies(rng, _choice_str(rng, ["DE", "JP", "KR", "US", "NL", "GB", "FR"], int(rng.integers(1, 4))),
                                               trades=W.FOREIGN_INDUSTRIAL_BUYERS))
            interval = int(rng.choice([14, 30, 30, 30, 60]))
            start = int(rng.integers(0, interval))
            days = np.clip(np.arange(start, YEAR_DAYS, interval) + rng.integers(-3, 4, size=len(range(start, YEAR_DAYS, interval))),
                           0, YEAR_DAYS - 1)
            k = len(days)
            # The main consignee takes most lots.
            r = np.where(rng.random(k) < 0.7, buyers[0], rng.choice(buyers, size=k))
            lot = float(rng.choice([50, 100, 200, 250, 500, 1000]))
            kg = np.round(lot * rng.choice([1, 1, 1, 0.5, 2], size=k) * rng.uniform(1.0, 1.002, size=k), 1)
            category = "merchandise"
        carriers_own = rng.choice(["DHL", "FedEx", "UPS", "EMS"], size=2, replace=False)
        carriers = carriers_own[(rng.random(k) < 0.2).astype(int)]
        parts.append(_columns(
            k, actor_kind="exporter", lookalike_kind="lab_sample_exporter" if lab else "licensed_exporter",
            lookalike_group=f"EXP-{i + 1:04d}", commodity=commodity, true_controlled_kg=kg, carrier=carriers.astype(object),
            ts=_times(rng, days), origin_country="CN", dest_country=ctx.pool.column("country", r),
            s_ent=np.full(k, firm), s_name=np.full(k, firm), s_addr=np.full(k, firm), s_phone=np.full(k, firm),
            s_id=np.full(k, -1), s_acct=np.full(k, firm), r_ent=r, r_name=r, r_addr=r, r_phone=r,
            description=_choice_str(rng, descs, k), hs=code, weight_kg=kg,
            gross_kg=kg + (0.5 if lab else 2) + kg * rng.uniform(0.02, 0.05, size=k),
            value_usd=kg * rng.uniform(plo, phi, size=k), category=category, declared_origin="CN",
            acceptance_point=_acceptance_points(rng, carriers.astype(object), ctx.pool.column("a_tel", np.full(k, firm))),
        ))
    return _merge_columns(parts)


@dataclass
class _Warehouses:
    ids: np.ndarray
    suites: list[list[int]]  # unused customer codes per warehouse, handed out in order


def _outlets(ctx: _Ctx, n: int) -> pl.DataFrame:
    """Post outlets that write their own phone on walk-in customers' parcels and pay from one account."""
    rng = ctx.rng
    n_out = max(3, round(n / 1200))
    outlets = ctx.pool.add(cn_companies(rng, n_out, trades=[9]))
    carriers = _choice_str(rng, ["China Post", "EMS", "SF", "JD"], n_out)
    points = _acceptance_points(rng, carriers, ctx.pool.column("a_tel", outlets))
    which = rng.integers(n_out, size=n)
    plan = _outbound(ctx, n, kind="outlet_customer")
    # Walk-in customers are ordinary people, most of them seen once.
    customers = ctx.pool.add(cn_people(rng, n, city=None, households=HOUSEHOLD_SHARE))
    o = outlets[which]
    plan = plan.with_columns(
        s_ent=pl.Series(customers), s_name=pl.Series(customers), s_addr=pl.Series(customers),
        s_id=pl.Series(customers), s_phone=pl.Series(np.where(rng.random(n) < 0.7, o, customers)),
        s_acct=pl.Series(o), carrier=pl.Series(carriers[which]), acceptance_point=pl.Series(points[which]),
        lookalike_kind=pl.lit("outlet_customer"),
        lookalike_group=pl.lit("OUT-") + pl.Series(which + 1).cast(pl.String).str.zfill(4),
    )
    return plan


def _third_country(ctx: _Ctx, hard: Hardness, n: int, n_world: int) -> pl.DataFrame:
    """Parcels posted in transit countries (KZ, AE, TR, ...) to third countries, on the carriers'
    international networks: people sending to people, and honest regional traders who buy Chinese
    goods (parcels from China to them) and sell them on to many buyers abroad, declared as of Chinese
    origin. The shape of a transshipment leg, done honestly."""
    rng = ctx.rng
    if n < 10:
        return _plan(0)
    carriers_abroad = ["DHL", "FedEx", "UPS", "EMS", "Cainiao"]
    transit = W.TRANSIT_COUNTRIES
    n_traders = max(1, round(n_world * hard.transit_traders_per_parcel))
    trader_country = _choice_str(rng, transit, n_traders)
    traders = ctx.pool.add(fx_companies(rng, trader_country, trades=["Trading", "Commodities", "Supply", "Import Export"]))
    parts = []
    trade_n = int(n * 0.6)
    per_trader = rng.multinomial(trade_n, _activity(rng, n_traders, 0.6))
    for i, (firm, k) in enumerate(zip(traders.tolist(), per_trader.tolist())):
        if k < 2:
            continue
        iso = str(trader_country[i])
        k_in = max(1, int(k * rng.uniform(0.2, 0.4)))  # consolidated purchases from Chinese suppliers
        k_out = k - k_in
        suppliers = rng.choice(ctx.cn_firms, size=int(rng.integers(2, 8)))
        s_in = rng.choice(suppliers, size=k_in)
        goods_in = _ordinary_goods(rng, k_in, np.full(k_in, "merchandise", dtype=object))
        lots = rng.uniform(3, 10, size=k_in)
        kg_in = goods_in.pop("weight_kg") * lots
        goods_in["value_usd"] = goods_in["value_usd"] * lots
        c_in = _carriers(rng, k_in)
        buyer_countries = _choice_str(rng, [c for c in ["RU", "DE", "PL", "KZ", "KG", "AM", "GE", "TR", "AE", "IN", "FR", "IT"] if c != iso],
                                      k_out)
        buyers = ctx.pool.add(fx_people(rng, buyer_countries, households=HOUSEHOLD_SHARE))
        r_out = buyers[rng.integers(len(buyers), size=k_out)] if k_out else buyers
        goods_out = _ordinary_goods(rng, k_out, np.full(k_out, "merchandise", dtype=object))
        kg_out = goods_out.pop("weight_kg")
        c_out = _choice_str(rng, carriers_abroad, k_out)
        group = f"TT-{i + 1:04d}"
        parts.append(_columns(
            k_in, actor_kind="background", lookalike_kind="transit_trader", lookalike_group=group, carrier=c_in,
            ts=_times(rng, rng.choice(YEAR_DAYS, size=k_in, p=DAY_W)), origin_country="CN", dest_country=iso,
            s_ent=s_in, s_name=s_in, s_addr=s_in, s_phone=s_in, s_id=np.full(k_in, -1), s_acct=s_in,
            r_ent=np.full(k_in, firm), r_name=np.full(k_in, firm), r_addr=np.full(k_in, firm), r_phone=np.full(k_in, firm),
            weight_kg=kg_in, gross_kg=kg_in + _packaging(rng, kg_in), declared_origin="CN",
            acceptance_point=_acceptance_points(rng, c_in, ctx.pool.column("a_tel", s_in), s_in), **goods_in))
        if k_out:
            parts.append(_columns(
                k_out, actor_kind="background", lookalike_kind="transit_trader", lookalike_group=group, carrier=c_out,
                ts=_times(rng, rng.choice(YEAR_DAYS, size=k_out, p=DAY_W)), origin_country=iso,
                dest_country=ctx.pool.column("country", r_out), s_ent=np.full(k_out, firm), s_name=np.full(k_out, firm),
                s_addr=np.full(k_out, firm), s_phone=np.full(k_out, firm), s_id=np.full(k_out, -1), s_acct=np.full(k_out, -1),
                r_ent=r_out, r_name=r_out, r_addr=r_out, r_phone=r_out, weight_kg=kg_out, gross_kg=kg_out + _packaging(rng, kg_out),
                declared_origin=np.where(rng.random(k_out) < 0.75, "CN", iso).astype(object),
                acceptance_point=_acceptance_points(rng, c_out, np.full(k_out, iso, dtype=object)), **goods_out))
    # People in transit countries posting to people elsewhere.
    k = n - sum(len(p["actor_kind"]) for p in parts)
    if k > 0:
        cands = ctx.fx_receivers[np.isin(ctx.fx_receiver_country, transit)]
        s = rng.choice(cands, size=k)
        origin = ctx.pool.column("country", s)
        r = rng.choice(ctx.fx_receivers, size=k, p=ctx.fx_receiver_w)
        goods = _ordinary_goods(rng, k)
        kg = goods.pop("weight_kg")
        c = _choice_str(rng, carriers_abroad, k)
        parts.append(_columns(
            k, actor_kind="background", carrier=c, ts=_times(rng, rng.choice(YEAR_DAYS, size=k, p=DAY_W)),
            origin_country=origin, dest_country=ctx.pool.column("country", r), s_ent=s, s_name=s, s_addr=s, s_phone=s,
            s_id=np.full(k, -1), s_acct=np.full(k, -1), r_ent=r, r_name=r, r_addr=r, r_phone=r, weight_kg=kg,
            gross_kg=kg + _packaging(rng, kg), declared_origin=_declared_origin(rng, k, origin),
            acceptance_point=_acceptance_points(rng, c, origin), **goods))
    plan = _merge_columns(parts)
    # Nobody posts to himself: a person drawn for both ends sends to another country's resident.
    return plan.filter(pl.col("origin_country") != pl.col("dest_country"))


# ---------------------------------------------------------------------------------------------
# Rings


class _Alloc:
    """Parties that rings need, requested one by one and created in bulk afterwards.

    A reference is `slot * 4 + kind` (kind 1: Chinese person, 2: foreign person, 3: foreign company),
    or `index * 4` for a party that already exists; `resolve` turns references into pool indices.
    """

    def __init__(self) -> None:
        self.cn_city: list[int] = []
        self.fx_country: list[str] = []
        self.fxco_country: list[str] = []

    @staticmethod
    def existing(index: int) -> int:
        return int(index) * 4

    def cn(self, city: int) -> int:
        self.cn_city.append(city)
        return (len(self.cn_city) - 1) * 4 + 1

    def fx(self, country: str) -> int:
        self.fx_country.append(country)
        return (len(self.fx_country) - 1) * 4 + 2

    def fxco(self, country: str) -> int:
        self.fxco_country.append(country)
        return (len(self.fxco_country) - 1) * 4 + 3

    def create(self, rng: np.random.Generator, pool: _Pool) -> np.ndarray:
        """Create the requested parties; returns the base pool index per kind."""
        base = np.zeros(4, dtype=np.int64)
        base[1] = pool.add(cn_people(rng, len(self.cn_city), city=np.array(self.cn_city, dtype=np.int64)))[:1].sum() if self.cn_city else 0
        base[2] = pool.add(fx_people(rng, _arr(self.fx_country)))[:1].sum() if self.fx_country else 0
        base[3] = pool.add(fx_companies(rng, _arr(self.fxco_country)))[:1].sum() if self.fxco_country else 0
        return base

    @staticmethod
    def resolve(refs: pl.Expr, base: np.ndarray) -> pl.Expr:
        kind = refs % 4
        slot = refs // 4
        base_of = pl.when(kind == 1).then(int(base[1])).when(kind == 2).then(int(base[2])).when(kind == 3).then(int(base[3])).otherwise(0)
        return pl.when(refs < 0).then(-1).otherwise(slot + base_of)


def _ring_weights(rng: np.random.Generator, k: int, small: bool) -> np.ndarray:
    """Weights of a ring's parcels: similar to each other, each well below a threshold, often just
    under a round number."""
    base = rng.uniform(0.9, 2.0) if small else rng.uniform(0.3, 2.0)
    kg = base * rng.uniform(0.9, 1.1, size=k)
    under_round = rng.random(k) < 0.3
    rounds = np.maximum(0.5, np.round(kg * 2) / 2)
    kg = np.where(under_round, rounds - rng.choice([0.01, 0.02, 0.05], size=k), kg)
    return np.clip(kg, 0.2, 2.0)


def _ring_window(rng: np.random.Generator, commodity: str, k: int) -> np.ndarray:
    """Days of a ring's parcels: a window of weeks, after the commodity came under control."""
    control = datetime.fromisoformat(W.RING_COMMODITIES[commodity][1])
    earliest = max(0, (control - YEAR_START).days + 7)
    span = int(rng.integers(10, 60))
    start = int(rng.integers(earliest, max(earliest + 1, YEAR_DAYS - span)))
    days = np.sort(rng.integers(start, min(YEAR_DAYS, start + span), size=k))
    return days


def _cover(rng: np.random.Generator, k: int, kg: np.ndarray, kind: str) -> dict:
    """Declared goods of ring parcels: a cover description (or an innocent one for concealment)."""
    table = W.CONCEALMENT_GOODS if kind == "innocent" else W.COVER_GOODS
    covers = rng.choice(len(table), size=min(2, len(table)), replace=False)
    pick = covers[(rng.random(k) < 0.25).astype(int)]
    desc = np.empty(k, dtype=object)
    hs = np.empty(k, dtype=object)
    usd = np.zeros(k)
    for j in set(pick.tolist()):
        sel = np.flatnonzero(pick == j)
        descs, code, plo, phi = table[j]
        desc[sel] = _choice_str(rng, descs, len(sel))
        hs[sel] = code or None
        usd[sel] = kg[sel] * rng.uniform(plo, phi, size=len(sel))
    category = _choice_str(rng, ["sample", "merchandise", "gift", "other"], k, p=[0.4, 0.35, 0.15, 0.1])
    return {"description": desc, "hs": hs, "value_usd": usd, "category": category}


def _ring_plan(ctx: _Ctx, alloc: _Alloc, warehouses: _Warehouses, ring_id: str, typology: str, k: int,
               traits: set[str]) -> tuple[pl.DataFrame, dict]:
    """Plan the parcels of one ring of the given typology, with extra traits from other typologies.

    The steps draw from the world's generator in a fixed order (the receiving side, the sending
    side, the goods, the channels): the same seed gives the same world only while it stays so."""
    rng = ctx.rng
    commodity = str(_choice_str(rng, list(W.RING_COMMODITIES), 1,
                                p=_weights([c[0] for c in W.RING_COMMODITIES.values()]))[0])
    days = _ring_window(rng, commodity, k)
    city = int(rng.choice(len(W.CITIES), p=CITY_W))
    kg = _ring_weights(rng, k, small=k < 15)
    dest = str(_choice_str(rng, ["US", "DE", "JP", "KR", "NL", "GB", "IN", "RU", "TW", "FR", "PL"], 1)[0])
    transit = typology == "false_origin" and rng.random() < 0.7 or "transit" in traits
    if transit:
        dest = str(_choice_str(rng, W.TRANSIT_COUNTRIES, 1)[0])
    r = _ring_receiver(ctx, alloc, warehouses, typology, traits, k, dest, transit)
    s = _ring_senders(rng, alloc, typology, traits, k, city)
    g = _ring_goods(ctx, alloc, ring_id, typology, traits, commodity, k, days, kg, r, transit)
    carriers, points = _ring_channels(rng, s, k, city)
    plan = _columns(
        k, actor_kind="ring", ring_id=ring_id, typology=typology, commodity=commodity, true_controlled_kg=np.round(g["hidden"], 3),
        carrier=carriers.astype(object), ts=_times(rng, days), origin_country="CN", dest_country=r["dest_country"],
        s_ent=s["s_ent"], s_name=s["s_name"], s_addr=s["s_addr"], s_phone=s["s_phone"], s_id=s["s_id"], s_acct=s["s_acct"],
        r_ent=r["r_ent"], r_name=r["r_name"], r_addr=r["r_addr"], r_phone=r["r_phone"],
        r_unit=r["r_unit"], weight_kg=g["weight"], gross_kg=g["gross"], declared_origin=g["declared_origin"],
        acceptance_point=points, **g["goods"],
    )
    return _ring_record(plan, ring_id, typology, commodity, k, days, g, r["dest"], transit, r["forwarder"], carriers,
                        s["people"])


def _ring_receiver(ctx: _Ctx, alloc: _Alloc, warehouses: _Warehouses, typology: str, traits: set[str], k: int,
                   dest: str, transit: bool) -> dict:
    """The receiving side: a person or firm abroad, or a suite at a forwarding warehouse."""
    rng = ctx.rng
    forwarder = ("forwarder" in traits or (typology == "recruited_senders" and rng.random() < 0.5)) and not transit
    r_unit = None
    r_name = None
    if forwarder:
        w = int(rng.integers(len(warehouses.ids)))
        receiver = alloc.fx(dest)
        r_addr = alloc.existing(warehouses.ids[w])
        r_unit = int(warehouses.suites[w].pop())
        dest = str(ctx.pool.column("country", np.array([warehouses.ids[w]]))[0])
        # Written as any customer of the warehouse is written.
        r_name, r_phone = _forwarder_receiver(rng, ctx.hard, np.full(k, receiver), np.full(k, r_addr))
    elif transit or rng.random() < 0.3:
        receiver = alloc.fxco(dest)
        r_addr = receiver
    else:
        receiver = alloc.fx(dest)
        r_addr = receiver
    r_ent = np.full(k, receiver)
    return {"receiver": receiver, "forwarder": forwarder, "r_unit": r_unit, "dest": dest, "r_ent": r_ent,
            "r_name": r_ent.copy() if r_name is None else r_name, "r_addr": np.full(k, r_addr),
            "r_phone": r_ent.copy() if not forwarder else r_phone, "dest_country": np.full(k, dest, dtype=object)}


def _ring_senders(rng: np.random.Generator, alloc: _Alloc, typology: str, traits: set[str], k: int, city: int) -> dict:
    """The sending side, per typology: an organiser, his aliases, recruits or several phones."""
    organiser = alloc.cn(city)
    s_ent = np.full(k, organiser)
    s_name, s_addr, s_phone = s_ent.copy(), s_ent.copy(), s_ent.copy()
    s_id, s_acct = s_ent.copy(), s_ent.copy()
    n_carriers = 2
    points_per_carrier = 1
    people = "one organiser"
    if typology == "splitting" or "aliases" in traits:
        # Aliases: other names (and sometimes addresses), each tied back by his phone, ID or account.
        aliases = [alloc.cn(city) for _ in range(int(rng.integers(1, 4)))]
        use_alias = rng.random(k) < 0.4
        alias = np.array(aliases)[rng.integers(len(aliases), size=k)]
        s_name = np.where(use_alias, alias, s_name)
        s_addr = np.where(use_alias & (rng.random(k) < 0.5), alias, s_addr)
        tie = rng.integers(3, size=k)  # which of phone / ID / account still points at him
        s_phone = np.where(use_alias & (tie != 0) & (rng.random(k) < 0.5), alias, s_phone)
        s_id = np.where(use_alias & (tie != 1), alias, s_id)
        s_acct = np.where(use_alias & (tie != 2) & (rng.random(k) < 0.5), alias, s_acct)
        people = f"one organiser with {len(aliases)} alias name(s) sharing his phone, ID or account"
    if typology == "recruited_senders":
        # Distinct local people, each with their own name, phone and ID; one payer behind them.
        n_rec = int(min(k, rng.integers(max(3, k // 4), max(4, k // 2) + 1)))
        recruits = np.array([alloc.cn(city if rng.random() < 0.8 else int(rng.choice(len(W.CITIES), p=CITY_W)))
                             for _ in range(n_rec)])
        who = recruits[np.concatenate([np.arange(n_rec), rng.integers(n_rec, size=k - n_rec)])[rng.permutation(k)]]
        s_ent, s_name, s_addr, s_phone, s_id = who, who.copy(), who.copy(), who.copy(), who.copy()
        s_acct = np.full(k, organiser)
        people = f"{n_rec} recruited senders paid from one account"
    if typology == "channel_switching" or "switching" in traits:
        # Several SIM cards and wallets, many carriers and outlets; one receiving address.
        phones = [organiser] + [alloc.cn(city) for _ in range(int(rng.integers(2, 5)))]
        s_phone = np.where(s_phone == organiser, np.array(phones)[rng.integers(len(phones), size=k)], s_phone)
        s_acct = np.where(rng.random(k) < 0.5, s_acct, np.array(phones)[rng.integers(len(phones), size=k)])
        n_carriers, points_per_carrier = int(rng.integers(4, 7)), 4
        people += f", {len(phones)} phones, alternating carriers and outlets"
    return {"s_ent": s_ent, "s_name": s_name, "s_addr": s_addr, "s_phone": s_phone, "s_id": s_id, "s_acct": s_acct,
            "n_carriers": n_carriers, "points_per_carrier": points_per_carrier, "people": people}


def _ring_goods(ctx: _Ctx, alloc: _Alloc, ring_id: str, typology: str, traits: set[str], commodity: str, k: int,
                days: np.ndarray, kg: np.ndarray, r: dict, transit: bool) -> dict:
    """Goods, declarations and weights; a false origin (which may send part of the goods on to
    an affiliate: the receiving side `r` is changed for those parcels)."""
    rng = ctx.rng
    if typology == "concealment":
        hidden = kg
        goods = _cover(rng, k, np.zeros(k), "innocent")
        declared = np.clip(_log_uniform(rng, 0.3, 1.5, k), 0.2, None)
        goods["value_usd"] = declared * rng.uniform(8, 40, size=k)
        gross = declared + _packaging(rng, declared) + hidden
        weight = declared
    else:
        hidden = kg
        goods = _cover(rng, k, kg, "cover")
        weight = kg
        gross = kg + _packaging(rng, kg)
    declared_origin = np.full(k, "CN", dtype=object)
    onward = None
    false_origin_traits: list[str] = []
    if typology == "false_origin" or "relabelled" in traits:
        fo = _false_origin(ctx, alloc, ring_id, commodity, k, days, kg, goods, declared_origin, r["dest"], transit,
                           relabel_always="relabelled" in traits and typology != "false_origin", consignee=r["receiver"])
        declared_origin, false_origin_traits, onward = fo["declared_origin"], fo["traits"], fo["onward"]
        if fo["affiliate"] is not None:
            to_affiliate, affiliate, final = fo["affiliate"]
            r["r_ent"] = np.where(to_affiliate, affiliate, r["r_ent"])
            r["r_addr"] = np.where(to_affiliate, affiliate, r["r_addr"])
            # The network shows: the affiliate's parcels name the transit firm's contact or phone.
            r["r_name"] = np.where(to_affiliate & (rng.random(k) < 0.7), affiliate, r["r_name"])
            r["r_phone"] = np.where(to_affiliate & (rng.random(k) < 0.5), affiliate, r["r_phone"])
            r["dest_country"] = np.where(to_affiliate, final, r["dest_country"]).astype(object)
    return {"goods": goods, "hidden": hidden, "weight": weight, "gross": gross, "declared_origin": declared_origin,
            "onward": onward, "false_origin_traits": false_origin_traits}


def _ring_channels(rng: np.random.Generator, s: dict, k: int, city: int) -> tuple[np.ndarray, np.ndarray]:
    """Carriers and acceptance points: outlets as ordinary senders use them, the usual one most
    of the time; a switching ring moves around."""
    carriers_all = list(W.CARRIERS)
    n_carriers = s["n_carriers"]
    own_carriers = rng.choice(carriers_all, size=n_carriers, replace=False,
                              p=_weights([W.CARRIERS[c][0] for c in carriers_all]))
    carriers = own_carriers[rng.integers(n_carriers, size=k)]
    tel = W.CITIES[city][4]
    index = {c: i for i, c in enumerate(W.CARRIERS)}
    home = _home_outlet(s["s_ent"], [index[c] for c in carriers.tolist()])
    number = np.where(rng.random(k) < (0.8 if s["points_per_carrier"] == 1 else 0.2), home, rng.integers(1, 60, size=k))
    points = np.array([f"{W.CARRIERS[c][2]}-{tel}-{int(x):03d}" for c, x in zip(carriers.tolist(), number)], dtype=object)
    return carriers, points


def _ring_record(plan: dict, ring_id: str, typology: str, commodity: str, k: int, days: np.ndarray, g: dict,
                 dest: str, transit: bool, forwarder: bool, carriers: np.ndarray, people: str) -> tuple[dict, dict]:
    """The ring's parcels with any onward leg, and its line of the truth (`rings`)."""
    hidden, goods, declared_origin, onward = g["hidden"], g["goods"], g["declared_origin"], g["onward"]
    total_kg = float(hidden.sum())
    if onward is not None:
        total_kg += float(onward["true_controlled_kg"].sum())
        last_day = int(max(days.max(), onward["_day"].max()))
        onward.pop("_day")
        plan = {name: np.concatenate([plan[name].astype(object), onward[name].astype(object)])
                if plan[name].dtype != onward[name].dtype else np.concatenate([plan[name], onward[name]]) for name in plan}
    else:
        last_day = int(days.max())
    first = YEAR_START.date() + timedelta(days=int(days.min()))
    last = YEAR_START.date() + timedelta(days=last_day)
    declared_as = sorted(set(goods["description"].tolist()), key=str)[:3]
    description = (
        f"{typology.replace('_', ' ')}: {people}; {k} parcels, {hidden.sum():.1f} kg of {commodity} declared as "
        + ", ".join(f"'{d}'" for d in declared_as)
        + (f", declared origin not CN" if (declared_origin != "CN").any() else "")
        + (f", via transit country {dest}" if transit else f", to {dest}")
        + (" (a forwarding-warehouse suite)" if forwarder else "")
        + f", carriers {', '.join(sorted(set(carriers.tolist())))}"
        + "".join(f"; {t}" for t in g["false_origin_traits"])
    )
    ring = {"ring_id": ring_id, "typology": typology, "commodity": commodity, "parcels": len(plan["actor_kind"]),
            "true_controlled_kg": round(total_kg, 3), "first_day": first, "last_day": last,
            "description": description}
    return plan, ring


def _label(rng: np.random.Generator, forms: list[str], iso: np.ndarray) -> np.ndarray:
    """Origin statements for a label, one per row, naming the given countries in the form's language."""
    names = W.FALSE_ORIGIN_NAMES
    form = _choice_str(rng, forms, len(iso))
    return _arr([f.format(en=names.get(c, (c, c, c))[0], zh=names.get(c, (c, c, c))[1], ru=names.get(c, (c, c, c))[2])
                 for f, c in zip(form.tolist(), iso.tolist())])


def _false_origin(ctx: _Ctx, alloc: _Alloc, ring_id: str, commodity: str, k: int, days: np.ndarray, kg: np.ndarray,
                  goods: dict, declared_origin: np.ndarray, dest: str, transit: bool, relabel_always: bool,
                  consignee: int) -> dict:
    """The traits of a false-origin operation (DOMAIN.md), a realistic mix, not all in every ring:
    goods relabelled "not of Chinese origin" (in the description, in English, Chinese or Russian, or
    only in the declared origin); a heading or a value that does not fit the stated origin (the real
    goods' tariff heading left on the form, the Chinese domestic price); and, for rings routed through
    a transit country, the later legs: the transit consignee re-exports the goods in new parcels from
    that country to the final buyer, or the same consignee network receives both in the transit
    country and at an affiliate in the final one. Edits `goods` in place."""
    rng = ctx.rng
    traits: list[str] = []
    fake = str(_choice_str(rng, ["MY", "VN", "KZ", "LA", "MM", "TH", "KR", "ID"], 1)[0])
    if transit and dest in W.FALSE_ORIGIN_NAMES and rng.random() < 0.4:
        fake = dest  # "of Kazakh origin", posted to Kazakhstan
    if relabel_always or not transit or rng.random() < 0.6:
        declared_origin = np.where(rng.random(k) < 0.85, fake, declared_origin).astype(object)
        traits.append(f"declared origin {fake}")
    if rng.random() < 0.5:
        on = rng.random(k) < rng.uniform(0.5, 0.95)
        goods["description"] = np.where(
            on, goods["description"].astype(str) + _arr([" - ", ", ", " ", " / "])[rng.integers(4, size=k)]
            + _label(rng, W.NOT_CHINESE_ORIGIN_LABELS, np.full(k, fake, dtype=object)), goods["description"]).astype(object)
        traits.append("relabelled 'not of Chinese origin' in the description")
    if rng.random() < 0.3:
        goods["hs"] = np.where(rng.random(k) < 0.6, W.COMMODITY_HEADINGS[commodity], goods["hs"]).astype(object)
        traits.append("the controlled goods' own tariff heading on some declarations")
    if rng.random() < 0.35:
        goods["value_usd"] = kg * W.COMMODITY_DOMESTIC_USD[commodity] * rng.uniform(0.8, 1.1, size=k)
        traits.append("valued at the Chinese domestic price")
    onward, affiliate = None, None
    finals = [c for c in ["DE", "US", "JP", "KR", "NL", "GB", "IN", "RU", "FR", "PL", "IT", "TR"] if c != dest]
    final = str(_choice_str(rng, finals, 1)[0])
    leg = rng.random() if transit else 1.0
    if leg < 0.6:
        # Re-export legs: the transit consignee (the ring's receiver) posts the goods on, repacked.
        sender = consignee
        m = max(2, int(round(k * rng.uniform(0.3, 0.8))))
        share = rng.uniform(0.6, 1.0) * kg.sum()
        leg_kg = np.clip(share / m * rng.uniform(0.85, 1.15, size=m), 0.2, 2.0)
        after = np.minimum(YEAR_DAYS - 1, rng.choice(days, size=m) + rng.integers(3, 21, size=m))
        buyers = [alloc.fxco(final) if rng.random() < 0.6 else alloc.fx(final) for _ in range(int(rng.integers(1, 3)))]
        r = np.array(buyers)[rng.integers(len(buyers), size=m)]
        leg_goods = _cover(rng, m, leg_kg, "cover")
        if rng.random() < 0.6:
            leg_goods["description"] = (leg_goods["description"].astype(str) + ", "
                                        + _label(rng, W.NOT_CHINESE_ORIGIN_LABELS, np.full(m, dest, dtype=object))).astype(object)
        leg_origin = np.where(rng.random(m) < 0.75, dest, fake).astype(object)
        carriers = _choice_str(rng, ["DHL", "FedEx", "UPS", "EMS", "Cainiao"], m)
        onward = _columns(
            m, actor_kind="ring", ring_id=ring_id, typology="false_origin", commodity=commodity,
            true_controlled_kg=np.round(leg_kg, 3), carrier=carriers, ts=_times(rng, np.sort(after)), origin_country=dest,
            dest_country=final, s_ent=np.full(m, sender), s_name=np.full(m, sender), s_addr=np.full(m, sender),
            s_phone=np.full(m, sender), s_id=np.full(m, -1), s_acct=np.full(m, -1), r_ent=r, r_name=r, r_addr=r,
            r_phone=r, weight_kg=leg_kg, gross_kg=leg_kg + _packaging(rng, leg_kg) + rng.uniform(0.05, 0.3, size=m),
            declared_origin=leg_origin, acceptance_point=_acceptance_points(rng, carriers, np.full(m, dest, dtype=object)),
            **leg_goods)
        onward["_day"] = np.sort(after)
        traits.append(f"re-exported from {dest} to {final} in {m} parcels")
    elif leg < 0.9:
        affiliate = (rng.random(k) < rng.uniform(0.3, 0.5), alloc.fxco(final), final)
        traits.append(f"the same consignee network receives in {dest} and in {final}")
    return {"declared_origin": declared_origin, "traits": traits, "onward": onward, "affiliate": affiliate}


def _columns(k: int, **cols) -> dict[str, np.ndarray]:
    """Plan columns of one ring as arrays of length k (scalars repeated), to be joined in one frame."""
    out = {}
    for name in PLAN_SCHEMA:
        value = cols.get(name)
        if isinstance(value, np.ndarray):
            out[name] = value
        else:
            out[name] = np.full(k, value, dtype=object)
    return out


def _ring_sizes(rng: np.random.Generator, n_parcels: int) -> list[tuple[str, int]]:
    """How many rings of each typology and how many parcels each: at least two per typology, more with
    more traffic, ring parcels together below RING_SHARE_MAX of the traffic (at least 6 per ring)."""
    per_type = max(2, round(n_parcels / PARCELS_PER_RING_TYPOLOGY))
    specs = [(t, int(_log_uniform(rng, 12, 70))) for _ in range(per_type) for t in TYPOLOGIES]
    budget = RING_SHARE_MAX * n_parcels
    total = sum(k for _, k in specs)
    if total > budget:
        specs = [(t, max(6, int(k * budget / total))) for t, k in specs]
    # A tiny world keeps at most half of its parcels for rings.
    while specs and sum(k for _, k in specs) > n_parcels // 2:
        specs.pop()
    return specs


def _rings(ctx: _Ctx, alloc: _Alloc, warehouses: _Warehouses, n_parcels: int) -> tuple[pl.DataFrame, list[dict]]:
    """Plan every ring, one at a time; their parcels are joined into one plan frame."""
    rng = ctx.rng
    plans, rings = [], []
    extra_traits = ["aliases", "switching", "forwarder", "transit", "relabelled"]
    for i, (typology, k) in enumerate(_ring_sizes(rng, n_parcels)):
        # Rings combine traits: about a third borrow one from another typology.
        traits = {str(rng.choice(extra_traits))} if rng.random() < 0.35 else set()
        plan, ring = _ring_plan(ctx, alloc, warehouses, f"R{i + 1:04d}", typology, k, traits)
        plans.append(plan)
        rings.append(ring)
    if not plans:
        return _plan(0), rings
    merged = {}
    for name in PLAN_SCHEMA:
        parts = [p[name] for p in plans]
        merged[name] = np.concatenate(parts) if all(p.dtype == parts[0].dtype for p in parts) else \
            np.concatenate([p.astype(object) for p in parts])
    return _plan(sum(p["actor_kind"].shape[0] for p in plans), **merged), rings


# ---------------------------------------------------------------------------------------------
# Rendering: structured plans to the strings carriers record

_FULLWIDTH_FROM = [chr(c) for c in range(0x21, 0x7F)] + [" "]
_FULLWIDTH_TO = [chr(c + 0xFEE0) for c in range(0x21, 0x7F)] + ["\u3000"]


def _styled(habit: pl.Expr, n_styles: pl.Expr, u: pl.Expr, r: pl.Expr, loyalty: pl.Expr | float = HABIT) -> pl.Expr:
    """A mention's style: the party's habit most of the time, any style of its kind otherwise."""
    return pl.when(u < loyalty).then(habit).otherwise((r * n_styles).floor().cast(pl.Int64))


def _by_case(df: pl.DataFrame, case: pl.Expr, branches: dict[int, pl.Expr], name: str) -> pl.Series:
    """Evaluate one expression per case, each on the rows of its case only.

    A long when/then chain evaluates every branch on every row, which for string building costs
    ten times the work; splitting rows by case does each row once. Rows whose case is null get null.
    """
    cols: set[str] = set(case.meta.root_names())
    for expr in branches.values():
        cols |= set(expr.meta.root_names())
    keyed = df.select(sorted(cols)).with_columns(_case=case.fill_null(-1), _i=pl.int_range(pl.len(), dtype=pl.Int64))
    parts = [keyed.filter(pl.col("_case") == key).select("_i", expr.cast(pl.String).alias(name))
             for key, expr in branches.items()]
    parts.append(keyed.filter(~pl.col("_case").is_in(list(branches))).select("_i", pl.lit(None, dtype=pl.String).alias(name)))
    return pl.concat(parts).sort("_i")[name]


KIND_CODE = {KIND_CN_PERSON: 0, KIND_CN_COMPANY: 1, KIND_FX_PERSON: 2, KIND_FX_COMPANY: 3}
NAME_STYLES = {KIND_CN_PERSON: 8, KIND_CN_COMPANY: 10, KIND_FX_PERSON: len(F.NAME_FORMS), KIND_FX_COMPANY: 4}
_NAME_TOKENS = re.compile(r"(NFG|NG|NF|NM|G2|F2|M2|FU|Gi|G|F|M)")


def _name_form(p: str, template: str, case: str) -> pl.Expr:
    """One of foreign.NAME_FORMS over a foreign person's name parts; a missing middle name
    leaves no gap."""
    col = lambda name: pl.col(f"{p}{name}")  # noqa: E731
    tokens = {"G": col("giv"), "F": col("fam"), "M": col("mid"), "G2": col("giv2"), "F2": col("fam2"),
              "M2": col("mid2"), "NG": col("nat_giv"), "NF": col("nat_fam"), "NM": col("nat_mid"),
              "NFG": col("nat_fg"), "FU": col("fam").str.to_uppercase(), "Gi": col("giv").str.slice(0, 1)}
    parts = [tokens[x] if x in tokens else pl.lit(x) for x in _NAME_TOKENS.split(template) if x]
    expr = pl.concat_str(parts, ignore_nulls=True).str.replace_all("  ", " ", literal=True).str.strip_chars(" ")
    return {"upper": expr.str.to_uppercase(), "lower": expr.str.to_lowercase()}.get(case, expr)


def _name_branches(p: str) -> tuple[pl.Expr, dict[int, pl.Expr]]:
    """How a name is written, per kind of party and style (case = kind * 100 + style):
    张伟 / Zhang Wei / ZHANG Wei / Wei Zhang / zhang wei / ZHANG WEI / Zhang, Wei / 张伟 Zhang Wei;
    深圳华信电子有限公司 / Shenzhen Huaxin Electronics Co., Ltd. / SHENZHEN HUAXIN ... CO LTD / 华信电子 /
    华信电子店 / Huaxin Electronics Store / SHENZHEN HUAXIN ELECTRONICS CO., LIMITED / ... Co Ltd;
    foreign people in the forms of foreign.NAME_FORMS (Андрей Попов / POPOV ANDREI / Nguyễn Văn An /
    An Nguyen Van / محمد الهاشمي / Mohammed Al-Hashimi / 佐藤陽翔 / Haruto Sato ...); foreign firms:
    Nordmet Trading LLC / NORDMET TRADING LLC / Nordmet Trading / Nordmet Trading, LLC."""
    fam, giv, hz, city = pl.col(f"{p}fam"), pl.col(f"{p}giv"), pl.col(f"{p}hz"), pl.col(f"{p}co_city")
    giv_any = pl.when(pl.col(f"{p}u3") < 0.15).then(pl.col(f"{p}giv_sp")).otherwise(giv)
    fam_giv = pl.concat_str([fam, giv_any], separator=" ")
    co = pl.concat_str([fam, giv], separator=" ")
    case = pl.col(f"{p}kind").replace_strict(KIND_CODE, return_dtype=pl.Int64) * 100 + pl.col(f"{p}nst")
    return case, {
        0: hz, 1: fam_giv, 2: pl.concat_str([fam.str.to_uppercase(), giv_any], separator=" "),
        3: pl.concat_str([giv_any, fam], separator=" "), 4: fam_giv.str.to_lowercase(), 5: fam_giv.str.to_uppercase(),
        6: pl.concat_str([fam, giv_any], separator=", "), 7: pl.concat_str([hz, fam, giv], separator=" "),
        100: hz, 101: pl.concat_str([city, fam, giv], separator=" "),
        102: pl.concat_str([city, fam, giv.str.replace_all(r"[.,]", "")], separator=" ").str.to_uppercase(),
        103: pl.concat_str([fam, pl.lit("(") + city + pl.lit(")"), giv], separator=" "),
        104: pl.concat_str([city, fam, pl.lit("Co., Ltd")], separator=" "),
        105: pl.col(f"{p}co_brand_hz"), 106: pl.col(f"{p}co_store_hz"), 107: pl.col(f"{p}co_store_en"),
        108: pl.concat_str([city, fam, pl.lit("CO., LIMITED")], separator=" ").str.to_uppercase(),
        109: pl.concat_str([city, fam, pl.lit("Co Ltd")], separator=" "),
        **{200 + i: _name_form(p, template, how) for i, (template, how) in F.NAME_FORMS.items()},
        300: co, 301: co.str.to_uppercase(), 302: fam, 303: pl.concat_str([fam, giv], separator=", "),
    }


def _typo_branches(s: pl.Expr, u: pl.Expr, pos_u: pl.Expr) -> tuple[pl.Expr, dict[int, pl.Expr]]:
    """Keyboard slips on latin text: a letter dropped, doubled or swapped with the next one."""
    n = s.str.len_chars()
    pos = (pos_u * (n - 2).clip(lower_bound=1)).floor().cast(pl.Int64) + 1
    latin = s.str.contains(r"^[\x20-\x7E]+$") & (n > 4)
    case = pl.when(latin & (u < TYPO_RATE)).then((u / TYPO_RATE * 3).floor().cast(pl.Int64) + 1).otherwise(0)
    return case, {
        0: s,
        1: s.str.slice(0, pos) + s.str.slice(pos + 1),
        2: s.str.slice(0, pos + 1) + s.str.slice(pos),
        3: s.str.slice(0, pos) + s.str.slice(pos + 1, 1) + s.str.slice(pos, 1) + s.str.slice(pos + 2),
    }


def _fullwidth(s: pl.Expr, u: pl.Expr) -> pl.Expr:
    """Some input methods leave letters full-width: ＺＨＡＮＧ　Ｗｅｉ."""
    return pl.when(u < FULLWIDTH_RATE).then(s.str.replace_many(_FULLWIDTH_FROM, _FULLWIDTH_TO)).otherwise(s)


# How forwarding warehouses' customer codes are written; {p} is the warehouse's code letters.
WAREHOUSE_CODE_STYLES = ("Suite {n}", "Ste. {n}", "Ste {n}", "#{n}", "#{p}{n}", "Box {n}", "PMB {n}", "Unit {n}",
                         "c/o customer {p}-{n}", "ID: {n}", "Customer code {p}{n}", "Suite {p}-{n}")
# How often a customer writes the code in the receiver's name line (Anna Petrova (KZ48213), WH-48213
# Anna Petrova) instead of or besides the address; then the address leaves it out half the time.
CODE_IN_NAME = 0.12
CODE_NAME_STYLES = ("{name} ({p}{n})", "{p}-{n} {name}", "{name} #{n}", "{name} {p}{n}")

_ADDRESS_PART = re.compile(r"\{(\w+!?)(?::([^}|]*)(?:\|([^}]*))?)?\}")


def _address_form(p: str, template: str, how: str) -> pl.Expr:
    """One of foreign.ADDRESS_FORMS as an expression over a party's address parts (`p` its
    column prefix) and the row's choices: whether the flat, the postcode, the country name are
    written, which spelling of the city, which form of a premises."""
    c = lambda name: pl.col(f"{p}{name}")  # noqa: E731

    def part(name: str, word: str | None, suffix: str | None) -> pl.Expr:
        if name == "flat":  # the flat in this form's words, or the forwarding customer's code
            word, suffix = word or "", suffix or ""
            glued = bool(word) and not word.endswith(" ")
            return (pl.when(c("code").is_not_null()).then(pl.lit(", " if glued else "") + c("code"))
                    .when(c("flat").is_not_null()).then(pl.lit(word) + c("flat") + pl.lit(suffix)))
        if name == "unit":
            return c("unit_txt")
        if name == "prem":
            return pl.when(c("u7") < 0.8).then(c("a_prem_a")).otherwise(c("a_prem_b"))
        if name == "prem_n":
            return c("a_prem_n")
        if name == "post":
            return pl.when(c("u9") >= 0.15).then(c("a_post"))
        if name in ("country_l", "country_n"):
            return pl.when(c("u10") > 0.5).then(c("a_country_name" if name == "country_l" else "a_country_n"))
        if name == "country_n!":
            return c("a_country_n")
        if name == "city_l":
            return pl.when((c("u8") < 0.25) & c("a_city_l2").is_not_null()).then(c("a_city_l2")).otherwise(c("a_city"))
        if name == "no":
            return c("a_no_txt")
        return c({"type_l": "a_type_long", "type_s": "a_type_short"}.get(name, f"a_{name}"))

    def pieces(text: str) -> list[pl.Expr]:
        out, pos = [], 0
        for m in _ADDRESS_PART.finditer(text):
            if m.start() > pos:
                out.append(pl.lit(text[pos: m.start()]))
            out.append(part(m.group(1), m.group(2), m.group(3)))
            pos = m.end()
        if pos < len(text):
            out.append(pl.lit(text[pos:]))
        return out

    top: list[pl.Expr] = []
    for chunk in re.split(r"(\[[^\]]*\])", template):
        if chunk.startswith("["):  # left out when a part in it is missing
            top.append(pl.concat_str(pieces(chunk[1:-1]), ignore_nulls=False))
        elif chunk:
            top += pieces(chunk)
    expr = pl.concat_str(top, ignore_nulls=True)
    return expr.str.to_uppercase() if how == "upper" else expr


def _address_branches(p: str) -> dict[int, pl.Expr]:
    """How an address is written: Chinese ones (cases 0-5) in hanzi or English, large-to-small or
    small-to-large, abbreviated or not, with or without the flat; foreign ones (10 and up) in the
    forms of foreign.ADDRESS_FORMS, in their country's conventions and scripts, with or
    without the flat (the forwarding customer's code when the row has one), postcode, country name."""
    c = lambda name: pl.col(f"{p}{name}")  # noqa: E731
    v = c("u4")
    no, bldg, unit, room = (c(x).cast(pl.String) for x in ("a_no", "a_bldg", "a_unit", "a_room"))
    road_type = pl.when(v < 0.5).then(c("a_type_long")).otherwise(c("a_type_short"))
    with_unit = v < 0.75
    prov_en = pl.when(c("a_prov_hz") == "").then(pl.lit("")).otherwise(c("a_prov_en") + pl.lit(" Province "))
    cn = {
        0: pl.concat_str([c("a_prov_hz"), c("a_city_hz"), c("a_dist_hz"), c("a_road_hz"), no, pl.lit("号"),
                          c("a_comp_hz"), bldg, pl.lit("栋"), unit, pl.lit("单元"), room, pl.lit("室")]),
        1: pl.concat_str([c("a_city_hz"), c("a_dist_hz"), c("a_road_hz"), no, pl.lit("号"),
                          pl.when(with_unit).then(pl.concat_str([bldg, pl.lit("-"), room])).otherwise(pl.lit(""))]),
        2: pl.concat_str([
            pl.when(with_unit).then(pl.concat_str([pl.lit("Room "), room, pl.lit(", Unit "), unit, pl.lit(", Building "),
                                                   bldg, pl.lit(", ")])).otherwise(pl.lit("")),
            c("a_comp_en"), pl.lit(", No. "), no, pl.lit(" "), c("a_road_en"), pl.lit(" "), road_type, pl.lit(", "),
            c("a_dist_en"), pl.lit(" District, "), c("a_city_en"), pl.lit(", "), c("a_prov_en"), pl.lit(" "), c("a_post"),
            pl.lit(", China")]),
        3: pl.concat_str([
            pl.when(with_unit).then(pl.concat_str([pl.lit("Rm "), room, pl.lit(", Bldg "), bldg, pl.lit(", ")])).otherwise(pl.lit("")),
            no, pl.lit(" "), c("a_road_en"), pl.lit(" "), c("a_type_short"), pl.lit(", "), c("a_dist_en"), pl.lit(" Dist., "),
            c("a_city_en"), pl.lit(", "), c("a_prov_en")]),
        4: pl.concat_str([
            prov_en, c("a_city_en"), pl.lit(" City "), c("a_dist_en"), pl.lit(" District "),
            c("a_road_en"), pl.lit(" "), c("a_type_long"), pl.lit(" No."), no, pl.lit(" "), c("a_comp_en"),
            pl.when(with_unit).then(pl.concat_str([pl.lit(" "), bldg, pl.lit("-"), unit, pl.lit("-"), room])).otherwise(pl.lit(""))]),
        5: pl.concat_str([pl.lit("No."), no, pl.lit(" "), c("a_road_en"), pl.lit(" "), road_type, pl.lit(", "),
                          c("a_dist_en"), pl.lit(", "), c("a_city_en"), pl.lit(" "), c("a_post"), pl.lit(" China")]),
    }
    return {**cn, **{i: _address_form(p, template, how) for i, (template, how) in F.ADDRESS_FORMS.items()}}


def _unit_branches(p: str, u_keep: pl.Expr) -> tuple[pl.Expr, dict[int, pl.Expr]]:
    """How the unit of an address is written. A flat: Suite 12 / #12 / Ste 12 / Unit 12 / Apt 12. A
    forwarding warehouse's customer code (the plan's unit at the warehouse's address, `wh_prefix` its
    code letters): Suite 4821 / Ste. 4821 / #A4821 / Box 4821 / PMB 4821 / c/o customer KZ-4821 /
    ID: 4821 / Customer code CN4821 ..., the warehouse's own way most of the time."""
    c = lambda name: pl.col(f"{p}{name}")  # noqa: E731
    n, pre, u5 = c("unit").cast(pl.String), c("wh_prefix"), c("u5")
    warehouse = c("forced_unit") & pre.is_not_null()
    shown = c("unit").is_not_null() & (c("forced_unit") | (c("u4") < 0.75)) & u_keep
    flat = (pl.when(u5 < 0.25).then(0).when(u5 < 0.45).then(1).when(u5 < 0.6).then(2).when(u5 < 0.8).then(3)
            .otherwise(4))
    style = _styled(c("wh_habit"), pl.lit(len(WAREHOUSE_CODE_STYLES)), u5, c("u6"))
    case = pl.when(~shown).then(None).when(warehouse).then(10 + style).otherwise(flat)
    words = {0: "Suite ", 1: "#", 2: "Ste ", 3: "Unit ", 4: "Apt "}
    branches = {k: pl.lit(w) + n for k, w in words.items()}
    for i, form in enumerate(WAREHOUSE_CODE_STYLES):
        head, _, tail = form.partition("{n}")
        parts = [pl.lit(x) if x != "{p}" else pre for x in re.split(r"(\{p\})", head) if x]
        branches[10 + i] = pl.concat_str([*parts, n, pl.lit(tail)])
    return case, branches


def _phone_branches(p: str) -> tuple[pl.Expr, dict[int, pl.Expr]]:
    """How a phone is written: 13800138000, +86 138 0013 8000, +8613800138000, 008613800138000,
    +86 138-0013-8000, 138 0013 8000, 138-0013-8000, (+86)13800138000, 86-13800138000."""
    cc, trunk, nsn = pl.col(f"{p}phone_cc"), pl.col(f"{p}phone_trunk"), pl.col(f"{p}phone_nsn")
    g1, g2, g3 = pl.col(f"{p}g1"), pl.col(f"{p}g2"), pl.col(f"{p}g3")
    return pl.col(f"{p}pst"), {
        0: trunk + nsn,
        1: pl.concat_str([pl.lit("+") + cc, g1, g2, g3], separator=" "),
        2: pl.lit("+") + cc + nsn,
        3: pl.lit("00") + cc + nsn,
        4: pl.lit("+") + cc + pl.lit(" ") + pl.concat_str([g1, g2, g3], separator="-"),
        5: pl.concat_str([trunk + g1, g2, g3], separator=" "),
        6: pl.concat_str([trunk + g1, g2, g3], separator="-"),
        7: pl.lit("(+") + cc + pl.lit(")") + nsn,
        8: cc + pl.lit("-") + nsn,
    }


def _gather(pool: pl.DataFrame, idx: pl.Series, cols: list[str], prefix: str) -> pl.DataFrame:
    """Columns of the parties at idx (-1: none), renamed with a prefix."""
    raw = idx.to_numpy()
    got = pool.select(cols)[np.where(raw < 0, 0, raw)]
    if not (raw < 0).any():
        return got.rename({c: prefix + c for c in cols})
    missing = pl.Series(raw < 0)
    return got.with_columns(pl.when(missing).then(None).otherwise(pl.col(c)).alias(c)
                            for c in cols).rename({c: prefix + c for c in cols})


def _by_case_pool(rows: pl.DataFrame, pool: pl.DataFrame, idx: np.ndarray, prefix: str, case: pl.Series,
                  branches: dict[int, pl.Expr], name: str) -> pl.Series:
    """Like `_by_case`, for rows that mention parties (`idx`: the party of each row): each case's
    rows get from the pool only the party columns that its expression uses (named `prefix` + column),
    beside the row's own columns in `rows`. Rows whose case has no branch get null."""
    n = rows.height
    case_np = case.fill_null(-1).to_numpy()
    out = pl.Series(name, [None] * n, dtype=pl.String)
    if not n:
        return out
    pool_cols = set(pool.columns)
    order = np.argsort(case_np, kind="stable")
    keys, starts = np.unique(case_np[order], return_index=True)
    ends = np.r_[starts[1:], n]
    for key, a, b in zip(keys.tolist(), starts.tolist(), ends.tolist()):
        expr = branches.get(key)
        if expr is None:
            continue
        sel = order[a:b]
        roots = set(expr.meta.root_names())
        from_rows = sorted(r for r in roots if r in rows.columns)
        from_pool = sorted(r[len(prefix):] for r in roots - set(from_rows)
                           if r.startswith(prefix) and r[len(prefix):] in pool_cols)
        frames = []
        if from_pool:
            frames.append(pool.select(from_pool)[idx[sel]].rename({c: prefix + c for c in from_pool}))
        if from_rows:
            frames.append(rows.select(from_rows)[sel])
        frame = pl.concat(frames, how="horizontal") if frames else pl.DataFrame({"_": np.zeros(len(sel))})
        out.scatter(sel, frame.select(expr.cast(pl.String).alias(name)).to_series())
    return out


def _alternate(habit: pl.Expr, alts: list[pl.Expr], u: pl.Expr, r: pl.Expr, loyalty: pl.Expr | float = HABIT) -> pl.Expr:
    """A mention's form: the party's habitual one most of the time, else one of the others it uses."""
    k = len(alts)
    expr = pl.when(u < loyalty).then(habit)
    for i, alt in enumerate(alts[:-1]):
        expr = expr.when(r < (i + 1) / k).then(alt)
    return expr.otherwise(alts[-1])


def _render(plans: pl.DataFrame, pool: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """Write every planned party mention as a carrier records it: names, addresses, phones, IDs,
    accounts. Per role, the few columns that choose a mention's form are gathered for every row; the
    parts that a form writes are gathered per form, for its rows only, which keeps memory low."""
    texts: dict[str, pl.Series] = {}
    for role in ("s", "r"):
        texts.update(_render_role(plans, pool, rng, role))
    others = pl.concat([
        _gather(pool, plans["s_id"], ["id_number"], "si_"),
        _gather(pool, plans["s_acct"], ["account"], "sc_"),
        _gather(pool, plans["s_ent"], ["entity", "household"], "se_"),
        _gather(pool, plans["r_ent"], ["entity", "household"], "re_"),
    ], how="horizontal")
    return pl.concat([plans, others, pl.DataFrame(texts)], how="horizontal")


def _render_role(plans: pl.DataFrame, pool: pl.DataFrame, rng: np.random.Generator, role: str) -> dict[str, pl.Series]:
    """One role's mentions (`s` sender, `r` receiver) as written: the form of each, then the
    name, the address and the phone in that form. All the role's random draws come first."""
    n = plans.height
    u = {k: pl.Series(rng.random(n)) for k in ("habit", "n", "a_habit", "a", "p_habit", "p", "u3", "u4", "u5",
                                                 "typo", "typo_pos", "wide", "u6", "code", "code_style", "keep",
                                                 "u7", "u8", "u9", "u10", "u11")}
    pn, pa, pp = f"{role}n_", f"{role}a_", f"{role}p_"
    idx = {k: plans[f"{role}_{k}"] for k in ("name", "addr", "phone")}
    plan_unit = plans["r_unit"] if role == "r" else pl.Series([None] * n, dtype=pl.Int64)
    ctrl = _role_forms(pool, idx, u, pn, pa, pp)
    # A forwarding customer's code in the name line; the address then often leaves it out.
    forced = plan_unit.is_not_null()
    code_in_name = forced & ctrl[f"{pa}wh_prefix"].is_not_null() & (u["code"] < CODE_IN_NAME)
    return {f"{role}_name_txt": _name_text(pool, idx, ctrl, u, pn, pa, plan_unit, code_in_name),
            f"{role}_addr_txt": _address_text(pool, idx, ctrl, u, pa, plan_unit, forced, code_in_name),
            f"{role}_phone_txt": _by_case(ctrl, *_phone_branches(pp), "phone")}


def _role_forms(pool: pl.DataFrame, idx: dict, u: dict, pn: str, pa: str, pp: str) -> pl.DataFrame:
    """Per mention, the few columns that choose its form: the party's habits and the style of
    its name, address and phone drawn from them."""
    phone_cols = ["phone_cc", "phone_trunk", "phone_nsn", "phone_habit"]
    ctrl = pl.concat([
        _gather(pool, idx["name"], ["kind", "name_habit", "name_loyal", "name_alt0", "name_alt1", "name_alt2"], pn),
        _gather(pool, idx["addr"], ["country", "addr_habit", "a_alt0", "a_alt1", "a_alt2", "a_unit", "wh_prefix",
                                    "wh_habit"], pa),
        _gather(pool, idx["phone"], phone_cols, pp),
    ], how="horizontal")
    c = pl.col
    nkind = c(f"{pn}kind")
    fx_style = _alternate(c(f"{pn}name_habit"), [c(f"{pn}name_alt{j}") for j in range(3)], u["habit"], u["n"])
    other_style = _styled(c(f"{pn}name_habit"), nkind.replace_strict(NAME_STYLES, return_dtype=pl.Int64),
                          u["habit"], u["n"], c(f"{pn}name_loyal").fill_null(HABIT))
    cn_addr = _styled(c(f"{pa}addr_habit"), pl.lit(6), u["a_habit"], u["a"])
    fx_addr = _alternate(c(f"{pa}addr_habit"), [c(f"{pa}a_alt{j}") for j in range(3)], u["a_habit"], u["a"])
    nsn = c(f"{pp}phone_nsn")
    long = nsn.str.len_chars() == 11  # Chinese mobiles group 3-4-4, others 3-3-rest
    # Whether the name is written in its own script (or spelling): the address mostly follows.
    nst = pl.when(nkind == KIND_FX_PERSON).then(fx_style).otherwise(other_style)
    name_own = (pl.when(nkind == KIND_FX_PERSON).then(nst.is_in(F.NATIVE_FORMS))
                .when(nkind == KIND_FX_COMPANY).then(pl.lit(False)))
    ways = [c(f"{pa}addr_habit")] + [c(f"{pa}a_alt{j}") for j in range(3)]
    matching = pl.when(ways[0].is_in(F.NATIVE_ADDRESS_FORMS) == name_own).then(ways[0])
    for way in ways[1:]:
        matching = matching.when(way.is_in(F.NATIVE_ADDRESS_FORMS) == name_own).then(way)
    fx_addr = (pl.when(name_own.is_not_null() & (fx_addr.is_in(F.NATIVE_ADDRESS_FORMS) != name_own)
                       & (u["u11"] < 0.85)).then(matching.otherwise(fx_addr)).otherwise(fx_addr))
    ctrl = ctrl.with_columns(
        nst.alias(f"{pn}nst"),
        pl.when(c(f"{pa}country") == "CN").then(cn_addr).otherwise(fx_addr).alias(f"{pa}ast"),
        _styled(c(f"{pp}phone_habit"), pl.lit(9), u["p_habit"], u["p"]).alias(f"{pp}pst"),
        nsn.str.slice(0, 3).alias(f"{pp}g1"),
        pl.when(long).then(nsn.str.slice(3, 4)).otherwise(nsn.str.slice(3, 3)).alias(f"{pp}g2"),
        pl.when(long).then(nsn.str.slice(7)).otherwise(nsn.str.slice(6)).alias(f"{pp}g3"),
    )
    return ctrl


def _name_text(pool: pl.DataFrame, idx: dict, ctrl: pl.DataFrame, u: dict, pn: str, pa: str,
               plan_unit: pl.Series, code_in_name: pl.Series) -> pl.Series:
    """The name as written: its form, a typo, full-width characters, a customer code in it."""
    name_case, name_forms = _name_branches(pn)
    name = _by_case_pool(pl.DataFrame({f"{pn}u3": u["u3"]}), pool, idx["name"].to_numpy(), pn,
                         ctrl.select(name_case).to_series(), name_forms, "name")
    name = _by_case(pl.DataFrame({"name": name, "_u_typo": u["typo"], "_u_pos": u["typo_pos"]}),
                    *_typo_branches(pl.col("name"), pl.col("_u_typo"), pl.col("_u_pos")), "name")
    name = pl.select(_fullwidth(pl.lit(name), pl.lit(u["wide"]))).to_series()
    code_style = (u["code_style"] * len(CODE_NAME_STYLES)).floor().cast(pl.Int64)
    coded = pl.DataFrame({"name": name, "p": ctrl[f"{pa}wh_prefix"], "n": plan_unit.cast(pl.String),
                          "case": np.where(code_in_name.to_numpy(), code_style.to_numpy(), -1)})
    code_branches = {-1: pl.col("name")}
    for i, form in enumerate(CODE_NAME_STYLES):
        parts = [pl.col({"{name}": "name", "{p}": "p", "{n}": "n"}[x]) if x.startswith("{") else pl.lit(x)
                 for x in re.split(r"(\{\w+\})", form) if x]
        code_branches[i] = pl.concat_str(parts)
    return _by_case(coded, pl.col("case"), code_branches, "name")


def _address_text(pool: pl.DataFrame, idx: dict, ctrl: pl.DataFrame, u: dict, pa: str, plan_unit: pl.Series,
                  forced: pl.Series, code_in_name: pl.Series) -> pl.Series:
    """The address as written: the unit (a flat, or a forwarding customer's code), then the form."""
    rows = pl.DataFrame({
        f"{pa}unit": ctrl.select(pl.coalesce(pl.lit(plan_unit), pl.col(f"{pa}a_unit"))).to_series(),
        f"{pa}forced_unit": forced,
        f"{pa}wh_prefix": ctrl[f"{pa}wh_prefix"], f"{pa}wh_habit": ctrl[f"{pa}wh_habit"],
        **{f"{pa}{k}": u[k] for k in ("u4", "u5", "u6", "u7", "u8", "u9", "u10")},
        "_keep": ~(code_in_name & (u["keep"] < 0.5)),
    })
    unit_txt = _by_case(rows, *_unit_branches(pa, pl.col("_keep")), "unit_txt")
    warehouse = rows[f"{pa}forced_unit"] & rows[f"{pa}wh_prefix"].is_not_null()
    rows = rows.with_columns(**{
        f"{pa}unit_txt": unit_txt,
        f"{pa}code": pl.when(warehouse).then(unit_txt),
        f"{pa}flat": pl.when(~warehouse & unit_txt.is_not_null()).then(rows[f"{pa}unit"].cast(pl.String)),
    })
    return _by_case_pool(rows, pool, idx["addr"].to_numpy(), pa, ctrl[f"{pa}ast"], _address_branches(pa), "addr")


def _finish(df: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """Declarations and optional fields as carriers record them; waybill numbers; contract columns."""
    n = df.height
    u = {k: pl.Series(rng.random(n)) for k in ("e1", "e2", "e3", "e4", "e5", "e6", "e7", "e8", "e9", "e10", "w", "v", "c", "h")}
    cur_names = list(W.CURRENCIES)
    currency = pl.Series(_choice_str(rng, cur_names, n, p=_weights([W.CURRENCIES[c][0] for c in cur_names])))
    rate = currency.replace_strict({c: W.CURRENCIES[c][1] for c in cur_names}, return_dtype=pl.Float64)
    hs_style = pl.Series(rng.integers(0, 5, size=n))
    gross_dec = df["carrier"].replace_strict({c: W.CARRIERS[c][3] for c in W.CARRIERS}, return_dtype=pl.Int64)
    id_style = df["carrier"].replace_strict({c: W.CARRIERS[c][4] for c in W.CARRIERS}, return_dtype=pl.String)
    df = df.with_columns(cur=currency, rate=rate, hs_style=hs_style, gross_dec=gross_dec, id_style=id_style,
                         **{f"x_{k}": v for k, v in u.items()})

    def empty(col: str, expr: pl.Expr, key: str) -> pl.Expr:
        return pl.when(pl.col(f"x_{key}") < EMPTY[col]).then(None).otherwise(expr).alias(col)

    hs = pl.col("hs")
    hs_txt = (
        pl.when(pl.col("hs_style") == 0).then(hs.str.slice(0, 4) + pl.lit(".") + hs.str.slice(4, 2))
        .when(pl.col("hs_style") == 1).then(hs)
        .when(pl.col("hs_style") == 2).then(hs.str.slice(0, 4) + pl.lit(".") + hs.str.slice(4, 2) + pl.lit(".00"))
        .when(pl.col("hs_style") == 3).then(hs.str.slice(0, 4) + pl.lit(" ") + hs.str.slice(4, 2) + pl.lit(" 00"))
        .otherwise(hs.str.slice(0, 4))
    )
    # Declared net weights: people often round what they declare.
    w = pl.col("weight_kg")
    declared_w = (pl.when(pl.col("x_w") < 0.35).then(w.round(1)).when(pl.col("x_w") < 0.7).then(w.round(2))
                  .otherwise(w.round(3)))
    declared_w = pl.when(declared_w <= 0).then(0.01).otherwise(declared_w)
    value = pl.col("value_usd") * pl.col("rate")
    value = pl.when(pl.col("x_v") < 0.6).then(value.round(0)).otherwise(value.round(2))
    value = pl.when(pl.col("cur") == "JPY").then(value.round(0)).otherwise(value)
    gross = (
        pl.when(pl.col("gross_dec") == 1).then(pl.col("gross_kg").round(1))
        .when(pl.col("gross_dec") == 2).then(pl.col("gross_kg").round(2)).otherwise(pl.col("gross_kg").round(3)))
    gross = pl.max_horizontal(gross, declared_w)
    idn = pl.col("si_id_number")
    id_txt = (pl.when(pl.col("id_style") == "masked").then(idn.str.slice(0, 6) + pl.lit("********") + idn.str.slice(14))
              .otherwise(idn))
    # Offsets of local time at the posting country.
    offsets = {"CN": "+08:00", "HK": "+08:00", "TW": "+08:00", "SG": "+08:00", "MY": "+08:00", "JP": "+09:00",
               "KR": "+09:00", "US": "-05:00", "DE": "+01:00", "GB": "+00:00", "AU": "+10:00"}
    accepted = pl.col("ts").dt.strftime("%Y-%m-%dT%H:%M:%S") + pl.col("origin_country").replace_strict(
        offsets, default="+00:00", return_dtype=pl.String)
    out = df.with_columns(
        accepted_at=accepted,
        sender_name=pl.col("s_name_txt"),
        sender_phone=pl.when(pl.col("x_e1") < EMPTY["sender_phone"]).then(None).otherwise(pl.col("s_phone_txt")),
        sender_id_number=pl.when(pl.col("x_e2") < EMPTY["sender_id_number"]).then(None).otherwise(id_txt),
        sender_address=pl.col("s_addr_txt"),
        receiver_name=pl.col("r_name_txt"),
        receiver_phone=pl.when(pl.col("x_e3") < EMPTY["receiver_phone"]).then(None).otherwise(pl.col("r_phone_txt")),
        receiver_address=pl.col("r_addr_txt"),
        payer_account=pl.when(pl.col("x_e4") < EMPTY["payer_account"]).then(None).otherwise(pl.col("sc_account")),
        declared_description=pl.col("description"),
        hs_code=pl.when(pl.col("x_e5") < EMPTY["hs_code"]).then(None).otherwise(hs_txt),
        declared_weight_kg=declared_w,
        gross_weight_kg=pl.when(pl.col("x_e6") < EMPTY["gross_weight_kg"]).then(None).otherwise(gross),
        declared_value=pl.when((pl.col("x_e7") < EMPTY["declared_value"]) | (pl.col("category") == "documents")
                               & (pl.col("x_e7") < 0.5)).then(None).otherwise(value),
        currency=pl.when((pl.col("cur") == "USD") & (pl.col("x_c") < 0.3)).then(None).otherwise(pl.col("cur")),
        category=pl.when(pl.col("x_e8") < EMPTY["category"]).then(None).otherwise(pl.col("category")),
        declared_origin=pl.when(pl.col("x_e9") < EMPTY["declared_origin"]).then(None).otherwise(pl.col("declared_origin")),
        acceptance_point=pl.when(pl.col("x_e10") < EMPTY["acceptance_point"]).then(None).otherwise(pl.col("acceptance_point")),
        sender_entity=pl.col("se_entity"),
        receiver_entity=pl.col("re_entity"),
        sender_household=pl.col("se_household"),
        receiver_household=pl.col("re_household"),
    )
    out = _hash_ids(out)
    return _waybills(out, rng)


def _hash_ids(df: pl.DataFrame) -> pl.DataFrame:
    """Carriers that may not pass identity numbers on give a SHA-256 digest of it instead."""
    mask = (df["id_style"] == "hashed") & df["sender_id_number"].is_not_null()
    if not mask.any():
        return df
    ids = df.filter(mask)["sender_id_number"].unique().sort()
    digest = {v: hashlib.sha256(v.encode()).hexdigest()[:32] for v in ids.to_list()}
    return df.with_columns(
        sender_id_number=pl.when(pl.Series(mask)).then(
            pl.col("sender_id_number").replace_strict(digest, default=None, return_dtype=pl.String))
        .otherwise(pl.col("sender_id_number")))


def _s10_check(serial: pl.Expr) -> pl.Expr:
    """UPU S10 check digit of an 8-digit serial: weights 8 6 4 2 3 5 9 7, 11 - sum mod 11 (10 -> 0, 11 -> 5)."""
    total = pl.sum_horizontal([(serial // 10 ** (7 - i) % 10) * w for i, w in enumerate((8, 6, 4, 2, 3, 5, 9, 7))])
    check = 11 - total % 11
    return pl.when(check == 10).then(0).when(check == 11).then(5).otherwise(check).cast(pl.String)


def _ups_check(body: pl.Series) -> pl.Series:
    """UPS 1Z check digit over the 15 characters after 1Z: letters count as (code - 63) mod 10, every
    second character doubled, check = (10 - sum mod 10) mod 10."""
    if body.len() == 0:
        return pl.Series([], dtype=pl.String)
    chars = np.frombuffer("".join(body.to_list()).encode("ascii"), dtype=np.uint8).reshape(-1, 15).astype(np.int64)
    vals = np.where(chars <= ord("9"), chars - ord("0"), (chars - 63) % 10)
    total = (vals * np.tile([1, 2], 8)[:15]).sum(axis=1)
    return pl.Series((10 - total % 10) % 10).cast(pl.String)


# Waybill formats: first serial and how the number is written around it.
_WAYBILL_START = {"s10_post": 10_000_000, "s10_ems": 20_000_000, "sf": 1_420_000_000_000,
                  "yun": 2_510_000_000_000_000, "cainiao": 10_000_000_000_000, "jd": 5_000_000_000_000,
                  "dhl": 100_000_000, "fedex": 770_000_000_000, "ups": 1_000_000}


def _waybills(df: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """Waybill numbers per carrier, rising with acceptance time as carriers issue them, with check
    digits where the format has one (UPU S10 for China Post and EMS, mod 7 for DHL, 1Z for UPS).
    Parcels posted abroad carry their own post's S10 country code."""
    n = df.height
    style = df["carrier"].replace_strict({c: W.CARRIERS[c][1] for c in W.CARRIERS}, return_dtype=pl.String)
    service = np.full(n, "", dtype=object)
    style_np = style.to_numpy()
    for st, prefixes in (("s10_post", W.S10_POST_PREFIXES), ("s10_ems", W.S10_EMS_PREFIXES)):
        sel = np.flatnonzero(style_np == st)
        service[sel] = _choice_str(rng, prefixes, len(sel))
    shippers = ["".join(rng.choice(list("0123456789ABCDEFGHJKLMNPRSTUVWXY"), size=6)) for _ in range(40)]
    seq = pl.DataFrame({
        "_row": pl.int_range(n, eager=True), "carrier": df["carrier"], "style": style,
        "service": pl.Series(service.tolist(), dtype=pl.String), "ts": df["ts"],
        "gap": rng.integers(1, 40, size=n), "shipper": _choice_str(rng, shippers, n).tolist(),
        "origin": df["origin_country"],
    })
    seq = (seq.sort(["carrier", "service", "ts", "_row"])
           .with_columns(num=pl.col("gap").cum_sum().over(["carrier", "service"])
                         + pl.col("style").replace_strict(_WAYBILL_START, return_dtype=pl.Int64))
           .sort("_row"))
    num = pl.col("num")
    text = num.cast(pl.String)
    country = pl.when(pl.col("origin") == "CN").then(pl.lit("CN")).otherwise(pl.col("origin"))
    # the package number has seven digits: past 9,999,999 (a world of 10M parcels) it wraps into
    # the numbers below the first serial, which no parcel has used, so waybills stay unique
    ups_body = pl.col("shipper") + pl.lit("66") + (num % 10_000_000).cast(pl.String).str.zfill(7)
    seq = seq.with_columns(ups_body=pl.when(pl.col("style") == "ups").then(ups_body))
    ups = seq.filter(pl.col("style") == "ups")
    seq = seq.with_columns(ups_check=pl.Series([None] * n, dtype=pl.String).scatter(
        ups["_row"], _ups_check(ups["ups_body"])) if ups.height else pl.lit(None, dtype=pl.String))
    branches = {
        "s10_post": pl.col("service") + text + _s10_check(num) + country,
        "s10_ems": pl.col("service") + text + _s10_check(num) + country,
        "sf": pl.lit("SF") + text,
        "yun": pl.lit("YT") + text,
        "cainiao": pl.lit("LP") + text.str.zfill(14),
        "jd": pl.lit("JD") + text.str.zfill(13),
        "dhl": (num * 10 + num % 7).cast(pl.String),
        "fedex": text,
        "ups": pl.lit("1Z") + pl.col("ups_body") + pl.col("ups_check"),
    }
    keys = {k: i for i, k in enumerate(branches)}
    ids = _by_case(seq, pl.col("style").replace_strict(keys, return_dtype=pl.Int64),
                   {keys[k]: e for k, e in branches.items()}, "parcel_id")
    return df.with_columns(parcel_id=ids)


# ---------------------------------------------------------------------------------------------
# The world


def _origin_statements(plans: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """Some honest sellers write the goods' origin into the description ("made in China", "原产地 日本"),
    so that an origin statement on a label is not by itself a sign of relabelling."""
    honest = plans["ring_id"].is_null().to_numpy() & (rng.random(plans.height) < ORIGIN_STATEMENT_RATE)
    idx = np.flatnonzero(honest & plans["description"].is_not_null().to_numpy())
    if not len(idx):
        return plans
    origin = plans["declared_origin"].gather(idx).fill_null("CN").to_numpy().astype(object)
    text = plans["description"].gather(idx).to_numpy().astype(object) + ", " + _label(rng, W.ORIGIN_LABELS, origin)
    return plans.with_columns(description=plans["description"].scatter(pl.Series(idx), pl.Series(text.tolist(), dtype=pl.String)))


def generate(n_parcels: int, seed: int = 7, progress: bool = False, lookalike_strength: float = 1.0) -> World:
    """Generate a world of `n_parcels` parcels in memory; the same seed gives the same world.

    `lookalike_strength` sets how hard the legitimate look-alikes are (see `Hardness`): 0 few and
    plain, 1 as real trade is (the default), 2 harder: more spellings, more buyers, more goods whose
    words overlap cover declarations, more forwarder customers. The rings do not change with it.

    Example:
        >>> world = generate(5000, seed=11)
        >>> world.parcels.columns[:3]
        ['parcel_id', 'carrier', 'accepted_at']
    """
    if n_parcels < 1:
        raise ValueError("the number of parcels must be at least 1")
    if not lookalike_strength >= 0:
        raise ValueError("the look-alike strength must be a number of at least 0")
    hard = Hardness(float(lookalike_strength))
    rng = np.random.default_rng(seed)
    started = time.perf_counter()

    def say(msg: str) -> None:
        if progress:
            print(f"synth: {time.perf_counter() - started:6.1f}s {msg}", file=sys.stderr, flush=True)

    n = n_parcels
    n_shop = int(n * hard.shop_share) if n >= 200 else 0
    n_fwd = int(n * hard.forwarder_share) if n >= 200 else 0
    n_out = int(n * OUTLET_SHARE) if n >= 200 else 0
    n_third = int(n * THIRD_COUNTRY_SHARE) if n >= 200 else 0
    n_in = int(n * INBOUND_SHARE)
    n_exporters = max(2, round(n * hard.exporters_per_parcel)) if n >= 200 else 0

    say("drawing parties")
    pool, ctx = _parties(rng, n, hard)

    say("planning look-alikes")
    shop_plan = _shops(ctx, hard, n_shop)
    exporter_plan = _exporters(ctx, hard, n_exporters)
    forwarder_plan, warehouses = _forwarders(ctx, hard, max(n_fwd, 1), n)
    if n_fwd == 0:
        forwarder_plan = forwarder_plan.head(0)
    outlet_plan = _outlets(ctx, n_out) if n_out else _plan(0)
    third_plan = _third_country(ctx, hard, n_third, n)

    say("planning rings")
    alloc = _Alloc()
    ring_plan, rings = _rings(ctx, alloc, warehouses, n)
    base = alloc.create(rng, pool)
    ring_plan = ring_plan.with_columns(**{c: _Alloc.resolve(pl.col(c), base) for c in (
        "s_ent", "s_name", "s_addr", "s_phone", "s_id", "s_acct", "r_ent", "r_name", "r_addr", "r_phone")})
    n_ring = ring_plan.height

    say("planning ordinary traffic")
    fixed = (shop_plan.height + exporter_plan.height + forwarder_plan.height + outlet_plan.height + third_plan.height
             + n_ring)
    n_in = min(n_in, max(0, n - fixed))
    n_bg = max(0, n - fixed - n_in)
    plans = pl.concat([_outbound(ctx, n_bg), _inbound(ctx, n_in), third_plan, shop_plan, exporter_plan, forwarder_plan,
                       outlet_plan, ring_plan], how="vertical_relaxed")
    if plans.height > n:  # a tiny world: drop ordinary traffic first, never rings
        plans = plans.tail(n)
    plans = _origin_statements(plans, rng)

    say(f"rendering {plans.height:,} parcels")
    party = pool.frame()
    pool.frames.clear()  # the parties live on in `party` alone
    rendered = _render(plans, party, rng)
    del party, plans
    say("declarations and waybills")
    rendered = _finish(rendered, rng)
    order = rng.permutation(rendered.height)
    return _world(rendered[order], rings)


def _parties(rng: np.random.Generator, n: int, hard: Hardness) -> tuple[_Pool, _Ctx]:
    """The world's people and firms, at home and abroad, and how active each is."""
    pool = _Pool()
    # Pools are smaller than the traffic: people send and receive more than once a year.
    cn_senders = pool.add(cn_people(rng, max(20, int(n * 0.30)), households=HOUSEHOLD_SHARE))
    cn_firms = pool.add(cn_companies(rng, max(5, int(n * 0.008))))
    fx_countries = _dest_countries(rng, max(50, int(n * 0.45)))
    # Make sure every inbound origin has residents to post from.
    fx_countries[: len(W.INBOUND_ORIGINS)] = list(W.INBOUND_ORIGINS)
    fx_receivers = pool.add(fx_people(rng, fx_countries, households=HOUSEHOLD_SHARE))
    fx_firms = pool.add(fx_companies(rng, _dest_countries(rng, max(10, int(n * 0.01)))))
    ctx = _Ctx(rng, pool, cn_senders, _activity(rng, len(cn_senders), 1.1), cn_firms,
               _activity(rng, len(cn_firms), 1.5), fx_receivers, _activity(rng, len(fx_receivers), 0.7),
               fx_countries, fx_firms, hard)
    return pool, ctx


def _world(rendered: pl.DataFrame, rings: list[dict]) -> World:
    """The rendered parcels as a World: the parcels in the input columns, their truth, the rings."""
    parcels = rendered.select(COLUMN_NAMES)  # the input columns of CONTRACT.md, in order
    truth = rendered.select(
        "parcel_id", "carrier", "actor_kind", "ring_id", "typology", "commodity",
        pl.col("true_controlled_kg").fill_null(0.0), pl.col("sender_entity"), pl.col("receiver_entity"),
        "lookalike_kind", "lookalike_group", "sender_household", "receiver_household",
    )
    rings_df = pl.DataFrame(rings, schema={"ring_id": pl.String, "typology": pl.String, "commodity": pl.String,
                                           "parcels": pl.Int64, "true_controlled_kg": pl.Float64,
                                           "first_day": pl.Date, "last_day": pl.Date, "description": pl.String})
    return World(parcels, truth, rings_df)


_FORMATS = (".csv.gz", ".jsonl.gz", ".csv", ".parquet", ".jsonl")


def _stem(out: Path) -> tuple[str, str]:
    name = out.name
    for ext in _FORMATS:
        if name.lower().endswith(ext):
            return name[: -len(ext)], ext
    raise ValueError(f"cannot tell the format of {out.name}: use .csv, .csv.gz, .parquet, .jsonl or .jsonl.gz")


def write_parcels(parcels: pl.DataFrame, out: Path) -> None:
    """Write parcels in the format that the file name says."""
    _, ext = _stem(out)
    if ext == ".csv":
        parcels.write_csv(out)
    elif ext == ".csv.gz":
        parcels.write_csv(out, compression="gzip", compression_level=3)
    elif ext == ".parquet":
        parcels.write_parquet(out)
    elif ext == ".jsonl":
        parcels.write_ndjson(out)
    else:
        parcels.write_ndjson(out, compression="gzip", compression_level=3)


def truth_paths(out: Path) -> tuple[Path, Path]:
    """Where the truth of a parcels file lies: `<name>.truth.parquet` and `<name>.rings.csv`."""
    stem, _ = _stem(out)
    return out.with_name(f"{stem}.truth.parquet"), out.with_name(f"{stem}.rings.csv")


def synthesise(n_parcels: int, out: Path, seed: int = 7, progress: bool = False,
               lookalike_strength: float = 1.0) -> SynthSummary:
    """Generate a world and write it: parcels to `out`, truth and rings beside it."""
    started = time.perf_counter()
    out = Path(out)
    truth_path, rings_path = truth_paths(out)  # fails early on an unknown extension
    world = generate(n_parcels, seed=seed, progress=progress, lookalike_strength=lookalike_strength)
    out.parent.mkdir(parents=True, exist_ok=True)
    if progress:
        print(f"synth: writing {out}", file=sys.stderr, flush=True)
    write_parcels(world.parcels, out)
    world.truth.write_parquet(truth_path)
    world.rings.write_csv(rings_path)
    kinds = world.truth["actor_kind"].value_counts()
    counts = dict(zip(kinds["actor_kind"].to_list(), kinds["count"].to_list()))
    per_type = world.rings["typology"].value_counts()
    per_type_d = dict(zip(per_type["typology"].to_list(), per_type["count"].to_list()))
    return SynthSummary(
        parcels=world.parcels.height,
        rings_per_typology={t: per_type_d.get(t, 0) for t in TYPOLOGIES},
        ring_parcels=counts.get("ring", 0),
        lookalike_parcels={k: counts.get(k, 0) for k in ("shop", "exporter", "forwarder_customer", "outlet_customer")},
        files=[out, truth_path, rings_path],
        lookalike_groups=dict(world.truth.filter(pl.col("lookalike_group").is_not_null())
                              .group_by("lookalike_kind").agg(pl.col("lookalike_group").n_unique())
                              .sort("lookalike_kind").iter_rows()),
        seconds=time.perf_counter() - started,
    )
