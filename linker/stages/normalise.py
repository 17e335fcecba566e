"""Normalisation: every sender and receiver mention of a parcel brought to canonical forms.

A parcel names two parties; each becomes one row of `party_mentions` whose fields can be
compared directly by entity resolution (`linker/stages/resolve.py`):

- phones to E.164 with `phonenumbers`: the calling code the number carries ('+48', '0048',
  '48-'), else the country the mention is in (origin for the sender, destination for the
  receiver); numbers it cannot accept are kept and marked invalid, a national form invalid in
  the mention's country without that country's calling code;
- names to one latin, order-free form: NFKC, case folding, honorifics and company suffixes
  removed, traditional hanzi to simplified (OpenCC), hanzi transliterated with `pypinyin`
  (surnames read from a surname table), other scripts written in latin (`anyascii`; Thai by
  `pythainlp`), and run-together pinyin split into syllables, so that 张伟 / ZHANG Wei / Wei Zhang
  and Андрей Попов / Andrey Popov share `name_key`; hanzi company names segmented by `jieba`,
  their trade words read in English from `data/company_glossary.toml`, so that a company's hanzi
  and English names share it too; `name_skeleton`, the consonant skeleton of a name, is where an
  Arabic name (no short vowels written) meets its romanisations;
- addresses to a latin token set: full-width to half-width (NFKC), every script in latin,
  abbreviations and local markers expanded (ул. / ul. street, д. house, Phường ward), hanzi place
  types read as the English word, and the unit / suite / box / customer code moved to its own
  field, because at a forwarding warehouse that number is the real consignee;
- ID numbers and payer accounts to upper-case alphanumerics.

The Python functions below define what each form is. `build_party_mentions` computes the same
forms as set work in DuckDB, because at a million parcels a Python call per distinct value is
minutes: plain-ASCII names and ASCII/hanzi addresses are tokenised in SQL, with only the distinct
tokens (hanzi runs, words that may be run-together pinyin) going through Python; phones in the
common shapes are read in SQL with phonenumbers' own metadata (the patterns of each region), and
only the other shapes go through phonenumbers. Tests hold both paths to identical output.
Every result is kept in `norm_cache_*` tables in the store, so that a nightly run over all
parcels normalises only the values it has never seen. The word tables live in
`linker/data/*.toml` (names, addresses, company glossary) and `linker/data/pinyin_syllables.txt`.
"""

from __future__ import annotations

import re
import sys
import threading
import time
import tomllib
import unicodedata
from concurrent.futures import Future, ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path

import duckdb
import phonenumbers
import pyarrow as pa
from anyascii import anyascii
from pypinyin import Style, lazy_pinyin

from linker.store.sql import execute_script, literal, record_python_step, string_list

DATA_DIR = Path(__file__).parents[1] / "data"


def _toml(name: str) -> dict:
    with open(DATA_DIR / name, "rb") as fh:
        return tomllib.load(fh)


_NAMES = _toml("names.toml")
_ADDRESSES = _toml("addresses.toml")
_GLOSSARY = _toml("company_glossary.toml")
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
# Trade words of hanzi company names and their English (company_glossary.toml), and the
# spellings of those English words in latin names ("toys" -> toy).
COMPANY_GLOSSARY: dict[str, str] = _GLOSSARY["trades"]
ENGLISH_VARIANTS: dict[str, str] = _GLOSSARY["english"]
KOREAN_SURNAMES: dict[str, str] = _NAMES["korean"]["surnames"]
SURNAME_SPELLINGS: dict[str, list[str]] = _NAMES["chinese"]["surname_spellings"]
JAPANESE_SURNAMES = tuple(sorted(_NAMES["japanese"]["surnames"], key=len, reverse=True))
# latin spellings read as another: the glossary's English spellings, Korean family names
NAME_SPELLINGS: dict[str, str] = {**_NAMES["korean"]["spellings"], **ENGLISH_VARIANTS}
_MAX_TRADE = max(map(len, COMPANY_GLOSSARY))

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
_UNIT_VALUE = r"([a-z]{0,3}-?\d[a-z0-9-]*)"
# A unit marker written in hanzi before its value (客户编号: 48213).
_HANZI_PREFIX_UNIT = (
    "(?:" + "|".join(map(re.escape, sorted(_ADDRESSES["unit"]["hanzi_prefix_markers"], key=len, reverse=True))) + ")"
    r"\s*[.:#-]?\s*" + _UNIT_VALUE
)
_HANZI_PREFIX_UNIT_RE = re.compile(_HANZI_PREFIX_UNIT)
# A warehouse number ("Warehouse 3", "sklad no. 3"): the unit only of an address without another.
_WAREHOUSE_MARKERS = "(?:" + "|".join(map(re.escape, sorted(_ADDRESSES["unit"]["warehouse_markers"], key=len, reverse=True))) + ")"
_WAREHOUSE_UNIT_RE = re.compile(
    r"(?<![\w])" + _WAREHOUSE_MARKERS + r"\s*[.:#-]?\s*(?:no\.?\s*)?" + _UNIT_VALUE + r"(?![a-z0-9])"
)
_NON_WORD = re.compile(r"[^\w]+")
# Apostrophes and hyphens inside a word join it ("Wei-Ming", "O'Brien"); between digits they separate.
_JOINERS = re.compile(r"(?<=[^\W\d_])['’\-](?=[^\W\d_])")


def _address_rewrites(han: str) -> list[tuple[str, str]]:
    """(pattern, replacement) of the address words read from their context, in the order applied:
    abbreviations that stand before a number or a word ("d. 5", "q.1", "g. Moskva") and phrases
    ("thanh pho"). `han` is the hanzi character class in the syntax of the regex engine: the same
    patterns, without look-arounds, are used by Python's re and by DuckDB's RE2, whose leftmost-first
    matching gives the same result on the ASCII-and-hanzi text of the SQL path."""
    sep = f"(^|[^a-z0-9_.{han}])"
    rules = []
    for table, tail in (("before_number", r"(?:\.\s*|\s+)([0-9])"), ("dotted_before_number", r"\.\s*([0-9])"),
                        ("dotted_before_word", r"\.\s*([a-z])")):
        by_reading: dict[str, list[str]] = {}
        for word, reading in _ADDRESSES[table].items():
            by_reading.setdefault(reading, []).append(word)
        for reading, words in sorted(by_reading.items()):
            alternation = "|".join(sorted(map(re.escape, words), key=len, reverse=True))
            rules.append((f"{sep}(?:{alternation}){tail}", f"\\1 {reading} \\2"))
    for phrase, reading in _ADDRESSES["phrases"].items():
        words = r"\s+".join(map(re.escape, phrase.split()))
        rules.append((f"(^|[^a-z0-9_{han}]){words}([^a-z0-9_{han}]|$)", f"\\1{reading}\\2"))
    return rules


def _address_rewrite_filter(han: str) -> str:
    """A pattern that every text one of the rewrites changes matches (a word they look for after
    a separator, then a dot or a space): the others are left alone without trying each rewrite."""
    words = {w for table in ("before_number", "dotted_before_number", "dotted_before_word") for w in _ADDRESSES[table]}
    words |= {phrase.split()[0] for phrase in _ADDRESSES["phrases"]}
    return f"(^|[^a-z0-9_{han}])(?:" + "|".join(sorted(map(re.escape, words), key=len, reverse=True)) + r")[.\s]"


_ADDRESS_REWRITES = [(re.compile(pattern), repl) for pattern, repl in _address_rewrites(_HAN)]
_ADDRESS_REWRITE_FILTER = re.compile(_address_rewrite_filter(_HAN))


def _rewrite_address(text: str) -> str:
    if not _ADDRESS_REWRITE_FILTER.search(text):
        return text
    for pattern, repl in _ADDRESS_REWRITES:
        text = pattern.sub(repl, text)
    return text


# --- Scripts: traditional hanzi to simplified, every other script to latin ------------------

@lru_cache(maxsize=None)
def _opencc():
    import opencc

    return opencc.OpenCC("t2s")


@lru_cache(maxsize=None)
def _opencc_s2t():
    import opencc

    return opencc.OpenCC("s2t")


@lru_cache(maxsize=None)
def traditional_chars() -> str:
    """The hanzi that OpenCC's t2s changes on their own (the traditional forms: 發 順 區 號), as
    ranges for a regex character class ("\u767c" style for Python; see `_char_class`)."""
    chars = [chr(c) for lo, hi in ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF)) for c in range(lo, hi + 1)]
    converted = _opencc().convert("\n".join(chars)).split("\n")
    if len(converted) != len(chars):  # a conversion joined or split lines: compare one by one
        converted = [_opencc().convert(ch) for ch in chars]
    return "".join(ch for ch, out in zip(chars, converted) if out != ch)


def _char_class(chars: str, escape) -> str:
    """A regex character class of `chars` as ranges; `escape(codepoint)` writes one character."""
    codes = sorted(map(ord, chars))
    parts, start, prev = [], None, None
    for c in codes + [None]:
        if start is not None and (c is None or c != prev + 1):
            parts.append(escape(start) if start == prev else f"{escape(start)}-{escape(prev)}")
            start = None
        if c is not None and start is None:
            start = c
        prev = c
    return "[" + "".join(parts) + "]"


@lru_cache(maxsize=None)
def _traditional_re() -> re.Pattern:
    return re.compile(_char_class(traditional_chars(), lambda c: f"\\u{c:04x}"))


def to_simplified(text: str) -> str:
    """Traditional hanzi brought to simplified (OpenCC t2s, phrase by phrase: 杭州順發 -> 杭州顺发),
    when the text holds a character that t2s changes on its own; other text is left as it is."""
    if text.isascii() or not _traditional_re().search(text):
        return text
    return _opencc().convert(text)


_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")
_HAN_CHAR = re.compile(f"[{_HAN}]")
_HANGUL = re.compile("[\uac00-\ud7a3]")
_THAI_LETTERS = re.compile("[\u0e01-\u0e4f]+")
_ARABIC = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff]")
# A word that starts with alif or ain starts with a vowel that the script does not write
# (أحمد Ahmed, علي Ali, عمر Omar); anyascii writes nothing, "'" or "`" for it.
_ARABIC_INITIAL = "\u0627\u0623\u0625\u0622\u0639\u0671"


@lru_cache(maxsize=None)
def _thai_romanise():
    """pythainlp's Royal Thai General System romanisation, or None when pythainlp is missing."""
    try:
        from pythainlp.transliterate import romanize
    except ImportError:  # pragma: no cover - pythainlp is a dependency
        return None
    return lambda text: romanize(text, engine="royin")


@lru_cache(maxsize=1 << 16)
def _latin_run(run: str) -> str:
    """A run of non-ASCII characters in latin letters: hanzi kept (they are read elsewhere),
    Thai by RTGS romanisation (pythainlp: สมชาย -> somchai), Hangul one syllable a word (김민수 ->
    gim min su), Arabic with a word-initial alif or ain as "a", every other letter, mark or digit
    by anyascii (Андрей -> andrey, Nguyễn -> nguyen, Müller -> muller, ł -> l, ٣ -> 3); format
    characters (soft hyphens, zero-width joiners) dropped; other symbols kept (they separate words)."""
    out: list[str] = []
    i = 0
    while i < len(run):
        ch = run[i]
        if _HAN_CHAR.match(ch):
            out.append(ch)
        elif "\u0e00" <= ch <= "\u0e7f":
            thai = _THAI_LETTERS.match(run, i)
            romanise = _thai_romanise()
            if thai and romanise:
                out.append(romanise(thai.group()))
                i = thai.end()
                continue
            out.append(anyascii(ch))
        elif _HANGUL.match(ch):
            out.append(" " + anyascii(ch) + " ")
        elif _ARABIC.match(ch):
            starts_word = i == 0 or not unicodedata.category(run[i - 1]).startswith(("L", "M"))
            out.append("a" if starts_word and ch in _ARABIC_INITIAL else anyascii(ch).replace("'", "").replace("`", ""))
        else:
            category = unicodedata.category(ch)
            if category.startswith(("L", "M", "Nd")):
                out.append(anyascii(ch))
            elif category != "Cf":
                out.append(ch)
        i += 1
    return "".join(out).lower()


def to_latin(text: str) -> str:
    """Every letter of `text` that is neither ASCII nor hanzi in latin (see `_latin_run`)."""
    if text.isascii():
        return text
    return _NON_ASCII_RUN.sub(lambda m: _latin_run(m.group()), text)


def fold_address(raw: str) -> str:
    """An address as the address normaliser reads it: NFKC (full-width to half-width), case
    folding, traditional hanzi to simplified, other scripts in latin."""
    return to_latin(to_simplified(unicodedata.normalize("NFKC", raw).casefold()))


@lru_cache(maxsize=1 << 17)
def _pinyin_cached(hanzi: str) -> tuple[str, ...]:
    # ü is written u in passports and in most romanised records (吕 Lu, 女 nu).
    return tuple(p.replace("v", "u") for p in lazy_pinyin(hanzi, errors="ignore"))


def _pinyin(hanzi: str) -> list[str]:
    """Syllables of a hanzi run; runs (place names, given names) repeat, so they are cached."""
    return list(_pinyin_cached(hanzi))


@lru_cache(maxsize=1)
def cantonese_readings() -> dict[str, list[str]]:
    """Each hanzi's Hong Kong Government Cantonese romanisation, the spelling of Hong Kong
    identity cards, street names and labels (the `cantonese-romanisation` package's table, in
    traditional characters; its more usual spelling first): 陳 chan, 志 chi, 強 keung."""
    import json
    import pkgutil

    return json.loads(pkgutil.get_data("cantoroman", "data/charToRoman.json"))


@lru_cache(maxsize=1)
def _name_syllables() -> frozenset[str]:
    """Syllables a run-together given name is split into: pinyin and Hong Kong romanisation
    (Ho-yin, Hoyin and Ho Yin are one name, as Wei-ming, Weiming and Wei Ming are)."""
    cantonese = {s for spellings in cantonese_readings().values() for s in spellings}
    # with a vowel: the syllabic nasals (m, ng) would cut Arabic consonant skeletons (ahmd)
    return SYLLABLES | {s for s in cantonese if s.isalpha() and re.search("[aeiouy]", s)}


@lru_cache(maxsize=1 << 16)
def split_syllables(token: str, names: bool = False) -> tuple[str, ...]:
    """Split a run-together latin word into pinyin syllables when it is made of them only
    ("weiming" -> wei ming, "shenzhen" -> shen zhen); any other word is returned whole. For a
    name (`names`), a word that is not pinyin is split into two syllables of pinyin or Hong Kong
    romanisation when it is made of two (a Hong Kong given name: "hoyin" -> ho yin, "kokwai" ->
    kok wai); not into more, which would cut names of other languages (chaiphon, huseyin).

    Hanzi are transliterated one syllable per character, while a person writes "Weiming" or
    "Wei Ming" as they please; splitting both sides the same way makes them meet. Longest
    syllable first with backtracking, so the split is deterministic. As in pinyin spelling
    (Xi'an), a syllable that starts with a vowel is not accepted after the first one, so
    "nana" is na na, not nan a.
    """
    if len(token) < 4 or not token.isascii() or not token.isalpha():
        return (token,)
    parts = _split_all(token)
    if names and len(parts) == 1:
        two = _split_all(token, True)
        parts = two if len(two) == 2 else parts
    # A given name or a brand is up to three syllables (Weiming, Huifengda); four or more run
    # together are a family and given name only after a common family name (Ouyangxiaoming).
    # Other long words that happen to be made of syllables (takahashi, madeleine) stay whole.
    if len(parts) <= 3 or parts[0] in _COMMON_SURNAMES:
        return parts
    return (token,)


# The common Chinese family names in pinyin (about 85 % of the population).
_COMMON_SURNAMES = frozenset("""
wang li zhang liu chen yang huang zhao wu zhou xu sun ma zhu hu guo he gao lin luo zheng liang xie
song tang xu han feng deng cao peng zeng xiao tian dong yuan pan cai jiang yu du ye cheng su wei lu
ding ren shen yao lu jiang cui zhong tan lu wang fan jin shi liao jia xia wei fu fang bai zou meng
xiong qin qiu hou jiang yin xue yan duan lei long li shi tao he mao hao gu gong shao wan qian yan
tan wu dai mo kong xiang chang kang ou ouyang situ shangguan zhuge
""".split())


@lru_cache(maxsize=1 << 16)
def _split_all(token: str, names: bool = False) -> tuple[str, ...]:
    """The syllables of a run-together word, or the word whole when it is not made of them."""
    syllables = _name_syllables() if names else SYLLABLES
    longest = max(map(len, syllables)) if names else _MAX_SYLLABLE

    # From the end of the word back: ends[i] is where the first syllable of the split of
    # token[i:] ends (the longest syllable whose rest splits too), None when token[i:] does
    # not split. (A loop, not recursion: a run-together word of a thousand letters, such as a
    # hostile input, would pass Python's recursion limit.)
    n = len(token)
    ends: list[int | None] = [None] * (n + 1)
    ends[n] = n
    for i in range(n - 1, -1, -1):
        if i > 0 and token[i] in "aeiou":
            continue
        for j in range(min(n, i + longest), i, -1):
            if ends[j] is not None and token[i:j] in syllables:
                ends[i] = j
                break
    if ends[0] is None or n == 0:
        return (token,)
    parts, i = [], 0
    while i < n:
        parts.append(token[i:ends[i]])
        i = ends[i]
    return tuple(parts)


def _hanzi_person(run: str) -> list[str]:
    """A hanzi person name: surname (compound first, then the surname table, then pypinyin)
    followed by the given name."""
    if len(run) >= 3 and run[:2] in SURNAMES:
        return [SURNAMES[run[:2]]] + _pinyin(run[2:])
    if run[0] in SURNAMES:
        return [SURNAMES[run[0]]] + _pinyin(run[1:])
    return _pinyin(run)


# Place-type characters that end a place segment of a company name (深圳市 Shenzhen, 浙江省
# Zhejiang): English names leave them out.
_COMPANY_PLACE_TYPES = "市省县"
_TRADE_WORD_RE = re.compile("|".join(sorted(map(re.escape, COMPANY_GLOSSARY), key=len, reverse=True)))


@lru_cache(maxsize=None)
def _jieba():
    """A jieba tokenizer of its bundled dictionary (loaded once, about a second; no network),
    with the glossary's trade words added (at the frequency jieba suggests for a word to be cut
    out whole)."""
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    for word in COMPANY_GLOSSARY:
        tokenizer.add_word(word)
    return tokenizer


def _trade_tail(text: str) -> tuple[str, list[str]]:
    """(the text before, the English of) the glossary trade words that end `text`, taken from
    the end, longest first: a Chinese company name is place, brand, trade words, legal form, so
    reading from the end never takes a brand's last character with a trade word's first
    (联创新材料: 新材料, not 创新; 科磁电子: 电子, not 磁电)."""
    tail: list[str] = []
    while len(text) >= 2:
        for n in range(min(len(text), _MAX_TRADE), 1, -1):
            if text[-n:] in COMPANY_GLOSSARY:
                tail.insert(0, COMPANY_GLOSSARY[text[-n:]])
                text = text[:-n]
                break
        else:
            break
    return text, tail


@lru_cache(maxsize=1 << 16)
def _company_segment(segment: str) -> tuple[str, ...]:
    """The words of one jieba segment of a company name's head (place and brand): a glossary
    entry as its English, a place ending in 市/省/县 as the pinyin of the place (深圳市 shen zhen),
    otherwise the pinyin of the segment with the glossary words that end it in English."""
    if segment in COMPANY_GLOSSARY:
        return (COMPANY_GLOSSARY[segment],)
    if len(segment) >= 3 and segment[-1] in _COMPANY_PLACE_TYPES:
        return tuple(_pinyin(segment[:-1]))
    rest, tail = _trade_tail(segment)
    return tuple(_pinyin(rest)) + tuple(tail) if rest else tuple(tail)


@lru_cache(maxsize=1 << 16)
def _hanzi_company(run: str) -> tuple[str, ...]:
    """A run of hanzi in a company name (its legal form already dropped): the trade words at its
    end in English (`_trade_tail`), the rest segmented by jieba and read by `_company_segment`:
    杭州顺发磁性玩具 -> hang zhou shun fa magnetic toy; 华信电子城 -> hua xin electronic cheng."""
    head, tail = _trade_tail(run)
    words: list[str] = []
    if head:
        for segment in _jieba().lcut(head, HMM=False):
            words.extend(_company_segment(segment))
    return tuple(words + tail)


@lru_cache(maxsize=1 << 16)
def name_words(token: str) -> tuple[str, ...]:
    """The words one latin name token stands for: its English spelling from the glossary's
    [english] table ("toys" -> toy, "hitech" -> high technology), each split into pinyin
    syllables when it is run-together pinyin ("weiming" -> wei ming)."""
    out: list[str] = []
    for word in NAME_SPELLINGS.get(token, token).split():
        out.extend(split_syllables(word, names=True))
    return tuple(out)


# A customer code written into a name ("Lotte de Vries (NL79080)", "JACKSON Brian #58458",
# "X-52723 Viktor Pavlenko"): up to three letters and four digits or more. It is the
# forwarding warehouse's, not a word of the name; the address carries the consignee's code.
_NAME_CODE_RE = r"(^|[^a-z0-9])[a-z]{0,3}-?[0-9]{4,}($|[^a-z0-9])"
_NAME_CODE = re.compile(r"(?<![a-z0-9])[a-z]{0,3}-?[0-9]{4,}(?![a-z0-9])")


_HANGUL_PERSON = re.compile("([\uac00-\ud7a3]{1,2})[ \u3000]?([\uac00-\ud7a3]{1,3})")


def _korean_person(match: re.Match) -> str:
    """A Hangul person's name in latin: the family name by the table (two syllables only when
    the table has them, or when written apart), the given name as one word: 김민수 -> kim minsu."""
    text = match.group().replace("\u3000", " ")
    family, given = match.group(1), match.group(2)
    if " " not in text:
        whole = family + given
        family = whole[:2] if len(whole) >= 3 and whole[:2] in KOREAN_SURNAMES else whole[:1]
        given = whole[len(family):]
    if not given:
        return text
    return f"{KOREAN_SURNAMES.get(family) or anyascii(family).lower()} {anyascii(given).lower()}"


@lru_cache(maxsize=1 << 18)
def _name_tokens(raw: str | None) -> tuple[str, ...]:
    """The latin tokens of a name in written order, titles and company suffixes dropped, before
    the glossary's English spellings and the pinyin syllable split (see `normalise_name`)."""
    if raw is None:
        return ()
    text = unicodedata.normalize("NFKC", raw).casefold().strip()
    if not text:
        return ()
    korean = _HANGUL_PERSON.fullmatch(text)
    if korean:
        text = _korean_person(korean)
    if _HAN_RUN.search(text):
        text = to_simplified(text)
        for suffix in HONORIFICS_HANZI:
            text = text.replace(suffix, " ") if len(text) > len(suffix) + 1 else text
        is_company = False
        for suffix in COMPANY_SUFFIXES_HANZI:
            if suffix in text and len(text) > len(suffix):
                text = text.replace(suffix, " ")
                is_company = True
        if not is_company:
            # four hanzi are a person's name when the first two are a compound surname (欧阳文化)
            is_company = any((len(run) >= 5 or (len(run) == 4 and run[:2] not in SURNAMES)) and _TRADE_WORD_RE.search(run)
                             for run in _HAN_RUN.findall(text))

        def read(m: re.Match) -> str:
            run = m.group()
            if is_company:
                words = _hanzi_company(run)
            elif 2 <= len(run) <= 4:
                words = _hanzi_person(run)
            else:
                words = _pinyin(run)
            return " " + " ".join(words) + " "

        text = _HAN_RUN.sub(read, text)
    text = _NAME_CODE.sub(" ", _JOINERS.sub("", to_latin(text)))
    tokens = [t for t in _NON_WORD.sub(" ", text).replace("_", " ").split() if t]
    kept = [t for t in tokens if t not in HONORIFICS and t not in COMPANY_SUFFIXES]
    return tuple(kept or tokens)  # a name made only of suffixes ("Co Ltd") stays as written


@lru_cache(maxsize=1 << 18)
def normalise_name(raw: str | None) -> str | None:
    """Latin, case-folded, suffix- and title-free name, tokens in written order.

    Hanzi: traditional forms to simplified first; a person's name by pinyin with the surname
    table; a company's (a company suffix such as 有限公司 or 店 was found, or a run of four hanzi
    or more, not a compound surname and two, holds a glossary trade word) segmented by jieba, trade words in English (see
    `_hanzi_company`), so that 杭州顺发磁性玩具有限公司 and HANGZHOU SHUNFA MAGNETIC TOY CO., LIMITED
    get one key. Every other script is written in latin (`to_latin`: Андрей Попов -> andrey popov,
    Nguyễn -> nguyen, محمد -> mhmd, สมชาย -> somchai). Then each token through `name_words`
    (English spellings of the glossary, run-together pinyin split)."""
    return " ".join(w for t in _name_tokens(raw) for w in name_words(t)) or None


def name_key(norm: str | None) -> str | None:
    """Order-free key: the tokens sorted, so "zhang wei" and "wei zhang" meet."""
    return " ".join(sorted(norm.split())) if norm else None


# The Arabic article written apart ("al mansouri", "el sayed") is joined to its word, as the
# Arabic script writes it (المنصوري -> almnswry).
_ARTICLE = r"(^| )(?:al|el) "
_ARTICLE_RE = re.compile(_ARTICLE)
_SKELETON_SPELLINGS = (("ph", "f"), ("kh", "k"), ("ck", "k"), ("q", "k"), ("x", "ks"), ("j", "ch"))
_SKELETON_VOWELS = "aeiouyw"
_REPEATS = re.compile(r"(.)\1+")


@lru_cache(maxsize=1 << 17)
def skeleton_token(word: str) -> str:
    """The consonant skeleton of one latin word: spellings that vary between romanisations
    brought together (ph f, kh k, q k, x ks, j ch), a letter doubled written once, the vowels and
    the semivowels y and w dropped (a word that starts with one starts with "a"), a final h
    dropped. Mohammed, Muhammad, Mohamed and محمد (mhmd) are mhmd; Ali and علي (aly) al;
    Yevgeny and Evgeniy avgn; Jaidee and ใจดี (chaidi) chd; Mueller and Muller mlr."""
    t = word
    for written, read in _SKELETON_SPELLINGS:
        t = t.replace(written, read)
    t = _REPEATS.sub(r"\1", t)
    head = "a" if t and t[0] in _SKELETON_VOWELS else ""
    t = head + "".join(ch for ch in t.lstrip(_SKELETON_VOWELS) if ch not in _SKELETON_VOWELS)
    t = _REPEATS.sub(r"\1", t)
    return t[:-1] if len(t) > 1 and t.endswith("h") else t


@lru_cache(maxsize=1 << 17)
def skeleton_words(token: str) -> tuple[str, bool]:
    """(skeleton, pinyin) of one name token (as `_name_tokens` gives it): the skeletons of its
    English spelling's words, space-separated, and whether the token is made of pinyin syllables."""
    skeleton = " ".join(filter(None, map(skeleton_token, NAME_SPELLINGS.get(token, token).split())))
    return skeleton, all(w in SYLLABLES for w in name_words(token))


def _skeleton_of(tokens: tuple[str, ...]) -> str | None:
    if not tokens:
        return None
    parts = [skeleton_words(t) for t in _ARTICLE_RE.sub(r"\1al", " ".join(tokens)).split()]
    if all(pinyin for _, pinyin in parts):
        return None
    return " ".join(sorted(w for skeleton, _ in parts for w in skeleton.split())) or None


@lru_cache(maxsize=1)
def _kakasi():
    import pykakasi

    return pykakasi.kakasi()


_KANA = re.compile("[\u3040-\u30ff\u31f0-\u31ff]")
_HAN_OR_KANA_NAME = re.compile(f"[{_HAN}\u3040-\u30ff\u31f0-\u31ff\u3000\u30fb ]+")


def _reading_key(words: list[str]) -> str | None:
    tokens = [w for word in words for t in _NON_WORD.sub(" ", word.casefold()).split() if t for w in name_words(t)]
    return " ".join(sorted(tokens)) or None


@lru_cache(maxsize=1)
def given_name_forms() -> dict[str, tuple[str, ...]]:
    """English given names' formal forms of a short form (the `nicknames` package's curated
    list), kept where the formal form is longer and either starts with the same letter or holds
    the short form's first three letters: mike michael, max maximilian, liz elizabeth, trish
    patricia; not erin aaron."""
    from nicknames import NickNamer

    namer = NickNamer()
    out: dict[str, tuple[str, ...]] = {}
    for short, formal in sorted(namer.canonical_lookup.items()):
        kept = tuple(sorted(f for f in formal if len(f) > len(short) and (f[0] == short[0] or short[:3] in f)))
        if kept:
            out[short] = kept[:4]
    return out


def _given_name_readings(tokens: tuple[str, ...]) -> list[str]:
    forms = given_name_forms()
    out: list[str] = []
    if len(tokens) < 2:
        return out
    for i, token in enumerate(tokens):
        for formal in forms.get(token, ()):
            out.append(_reading_key(list(tokens[:i]) + [formal] + list(tokens[i + 1:])))
    return out


# An East Slavic patronymic (Andreevich, Ivanovna, Petrivna, Olehovych): labels leave it out.
PATRONYMIC_RE = r"^[a-z]{3,}(ovich|evich|ovna|evna|ichna|ovych|evych|ivna)$"
_PATRONYMIC = re.compile(PATRONYMIC_RE)


def _without_patronymic(tokens: tuple[str, ...]) -> list[str]:
    """A name of three words or more without a word that is a patronymic (never the first):
    Алексеев Дмитрий Андреевич -> alekseev dmitriy, as "ALEKSEEV Dmitry" is written."""
    if len(tokens) < 3:
        return []
    return [_reading_key(list(tokens[:i]) + list(tokens[i + 1:]))
            for i in range(1, len(tokens)) if _PATRONYMIC.match(tokens[i])]


@lru_cache(maxsize=1 << 14)
def _wade_giles(char: str) -> str:
    """One hanzi in Wade-Giles without its marks (pypinyin: 傑 chieh, 俊 chün -> chun)."""
    read = lazy_pinyin(char, style=Style.WADEGILES, errors="ignore")
    return read[0].replace("v", "u").replace("'", "").replace("\u2019", "") if read else ""


def _hk_spellings(spellings: list[str]) -> list[str]:
    """The Hong Kong Government spellings of one character's readings: the table also lists
    forms with the initials of Jyutping and Yale (ji, jeung, gwok, ga, daai, bau) that identity
    cards write chi, cheung, kwok, ka, tai, pau; those go where another form is left."""
    return [s for s in spellings if not s.startswith(("j", "g", "d", "b"))] or spellings


@lru_cache(maxsize=1 << 16)
def _southern_readings(chars: str) -> tuple[str, ...]:
    """Readings of a Chinese person's name (two to four hanzi) as Hong Kong, Singapore and
    Malaysia write it: the whole name in Hong Kong Government Cantonese romanisation (吳志強 Ng
    Chi Keung; a character's usual spelling, and the given name also in its other one: 劉詠詩 Lau
    Wing Si / Lau Wing Sze), and the family name in its southern spellings (names.toml
    [chinese.surname_spellings]) with the given name in pinyin (陈丽华 Tan Li Hua, 张伟明 Teo Wei
    Ming). As name keys (see `_reading_key`)."""
    simplified = to_simplified(chars)
    family = 2 if len(chars) >= 3 and (simplified[:2] in SURNAMES or simplified[:2] in SURNAME_SPELLINGS) else 1
    table = cantonese_readings()
    spellings = [_hk_spellings(table.get(ch) or []) for ch in _opencc_s2t().convert(simplified)]
    words: list[list[str]] = []
    if len(spellings) == len(chars) and all(spellings):
        usual = [s[0] for s in spellings]
        words.append(["".join(usual[:family])] + usual[family:])
        other = usual[:family] + [s[-1] for s in spellings[family:]]
        if other != usual:
            words.append(["".join(other[:family])] + other[family:])
    given = _pinyin(simplified[family:])
    if given:
        words.extend([spelling] + given for spelling in SURNAME_SPELLINGS.get(simplified[:family], ()))
    return tuple(dict.fromkeys(k for k in map(_reading_key, words) if k))


@lru_cache(maxsize=1 << 17)
def name_readings(raw: str | None) -> str | None:
    """Other readings of a person's name written in hanzi or kanji, as name keys separated by
    "|" (None when there is none or the name is a company's): the Japanese reading (pykakasi,
    passport Hepburn: 山田 悠斗 -> yamada yuto, 佐藤 健太 -> sato kenta) of a name with kana, with a
    space between family and given name, or with a Japanese family name of the table in
    names.toml; and the Wade-Giles of Taiwan's passports for a name in traditional characters,
    the given name run together as Taiwan writes it (王俊傑 -> wang chunchieh). The name key keeps the Mandarin pinyin; a comparison takes the best of the
    readings of either side, so 中村 結衣 meets Yui Nakamura and 楊怡君 YANG Yi-Chun. A name in
    latin has the readings of its short given names written out (Mike Lewis: michael lewis,
    see `given_name_forms`) and, with a patronymic, the name without it (Semyonova Svetlana
    Ivanovna: semyonova svetlana). A Chinese name also has its Cantonese reading and its family
    name as the south spells it (`_southern_readings`)."""
    if raw is None:
        return None
    text = unicodedata.normalize("NFKC", raw).strip()
    if not _HAN_CHAR.search(text):
        primary = name_key(normalise_name(raw))
        tokens = _name_tokens(raw)
        out = list(dict.fromkeys(r for r in _given_name_readings(tokens) + _without_patronymic(tokens) if r and r != primary))
        return "|".join(out) or None
    if not _HAN_OR_KANA_NAME.fullmatch(text):
        return None
    run = text.replace("\u3000", " ").replace("\u30fb", " ")
    han = _HAN_RUN.findall(run)
    if any(len(r) > 4 for r in han) or any(s in to_simplified(run) for s in COMPANY_SUFFIXES_HANZI):
        return None
    primary = name_key(normalise_name(raw))
    readings: list[str] = []
    # Japanese: kana, a space between family and given name, or a Japanese family name
    if _KANA.search(run) or len(han) > 1 or run.startswith(JAPANESE_SURNAMES):
        parts = _kakasi().convert(run)
        if parts and all(p["passport"] or not p["orig"].strip() for p in parts):
            # passport Hepburn without its long vowels, as Japanese passports and labels write them
            readings.append(_reading_key([p["passport"].replace("ou", "o").replace("uu", "u")
                                          for p in parts if p["passport"]]))
    # Wade-Giles: Taiwan writes traditional characters
    if not _KANA.search(run) and len(han) == 1 and 2 <= len(han[0]) <= 4 and to_simplified(han[0]) != han[0]:
        chars = han[0]
        family = 2 if len(chars) >= 3 and to_simplified(chars[:2]) in SURNAMES else 1
        wade = [_wade_giles(ch) for ch in chars]
        if all(wade):
            readings.append(_reading_key(["".join(wade[:family]), "".join(wade[family:])]))
    # Cantonese, and family names as the south and the Chinese abroad spell them
    if not _KANA.search(run) and len(han) == 1 and 2 <= len(han[0]) <= 4:
        readings.extend(_southern_readings(han[0]))
    out = list(dict.fromkeys(r for r in readings if r and r != primary))
    return "|".join(out) or None


def name_skeleton(raw: str | None) -> str | None:
    """The order-free consonant skeleton of a name (`skeleton_token` of each word as written,
    before any pinyin syllable split, sorted): where a name written in a script without short
    vowels (Arabic, Hebrew) meets its romanisations (محمد علي / Mohammed Ali / Muhammad Aly: al
    mhmd), and romanisations that differ only in vowels meet (Boonmee / bunmi, Mueller / Muller).
    Much coarser than name_key (Hassan and Hussein are both hsn): evidence for a name only with
    an identifier that agrees. None for a name made only of pinyin syllables: a Chinese name's
    spelling is fixed by pinyin, and its skeleton would be shared by thousands (zhang wei: zng)."""
    return _skeleton_of(_name_tokens(raw))


@lru_cache(maxsize=1 << 17)
def hanzi_address_reading(run: str) -> str:
    """Latin reading of a run of hanzi in an address: place-type suffixes as the English word
    (路 road, 市 city), the place name before each read from the readings table or by pypinyin.
    Runs repeat across addresses (province, city, district, street), so they are cached."""
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


def _hanzi_address(match: re.Match) -> str:
    return hanzi_address_reading(match.group())


@lru_cache(maxsize=1 << 18)
def address_token_words(token: str) -> str:
    """The words one address token stands for: a hanzi run read in latin, an abbreviation
    expanded, run-together pinyin split into syllables; space-separated."""
    if _HAN_RUN.search(token):
        tokens = _NON_WORD.sub(" ", _HAN_RUN.sub(_hanzi_address, token)).replace("_", " ").split()
    else:
        tokens = [token]
    out: list[str] = []
    for t in tokens:
        for word in ABBREVIATIONS.get(t, t).split():
            out.extend(split_syllables(word))
    return " ".join(out)


@lru_cache(maxsize=1 << 18)
def normalise_address(raw: str | None) -> tuple[str | None, str | None, str | None]:
    """(address_norm, address_key, address_unit).

    address_norm keeps the tokens in written order (for fuzzy comparison); address_key is the
    sorted set of tokens without the unit and without words that name no place ("city",
    "china"); address_unit is the unit / suite / box / customer code, or None (a warehouse
    number, "Warehouse 3" / "склад 3", only where the address has no other unit).
    Every script is read in latin first (`fold_address`: ул. Ленина, д. 5, кв. 12 -> ul. lenina,
    d. 5, kv. 12, then street lenina 5 and unit 12; Số 12 Đường Lê Lợi, Phường 3 -> 12 street le
    loi ward 3).
    """
    if raw is None:
        return (None, None, None)
    text = fold_address(raw)
    units: list[str] = []
    warehouse_units: list[str] = []

    def taker(found: list[str]):
        def take(m: re.Match) -> str:
            found.append(next(g for g in m.groups() if g).strip("-"))
            return " "
        return take

    text = _HANZI_UNIT_RE.sub(taker(units), text)
    text = _LATIN_UNIT_RE.sub(taker(units), text)
    text = _HANZI_PREFIX_UNIT_RE.sub(taker(units), text)
    text = _WAREHOUSE_UNIT_RE.sub(taker(warehouse_units), text)
    units = units or warehouse_units
    text = _rewrite_address(text)
    text = _HAN_RUN.sub(_hanzi_address, text)
    text = _JOINERS.sub("", text)
    raw_tokens = _NON_WORD.sub(" ", text).replace("_", " ").split()
    tokens: list[str] = []
    for t in raw_tokens:
        tokens.extend(address_token_words(t).split())
    if not tokens and not units:
        return (None, None, None)
    norm = " ".join(tokens) or None
    key_tokens = sorted(set(tokens) - ADDRESS_STOPWORDS) or sorted(set(tokens))
    unit = "/".join(sorted(set(u.replace("-", "") for u in units if u))) or None
    return (norm, " ".join(key_tokens) or None, unit)


_PHONE_CACHE_SIZE = 1 << 20

# Country calling codes ("1", "7", "48", "86", "800", ...): a number written as one of them and a
# dash ("48-696672022") keeps the dash through cleaning, because the dash says where the code ends.
CALLING_CODES = frozenset(str(cc) for cc in phonenumbers.COUNTRY_CODE_TO_REGION_CODE)
_BLANKS = "[ \\t\\r\\n]*"
# On the raw text: a calling code, a dash, then digits and the separators people put between them.
_PHONE_DASHED = f"{_BLANKS}([1-9][0-9]{{0,2}}) *- *([0-9][0-9 .()/-]*){_BLANKS}"
_PHONE_DASHED_RE = re.compile(_PHONE_DASHED)
_CLEAN_DASHED_RE = re.compile(r"([1-9][0-9]{0,2})-([0-9]+)")


def clean_phone(raw: str | None) -> str | None:
    """A phone as written, reduced to the form the normaliser reads and the cache is keyed by:
    digits and a leading '+' (a leading 00 is the international prefix and becomes '+'), except
    that a number written as a country calling code and a dash ("48-696672022", "7-701-234-5678")
    becomes the code, one dash and the digits after it ("48-696672022"), for `normalise_phone` to
    decide. `_phone_clean_sql` is the same in SQL."""
    if raw is None:
        return None
    dashed = _PHONE_DASHED_RE.fullmatch(raw)
    if dashed and dashed.group(1) in CALLING_CODES:
        return dashed.group(1) + "-" + re.sub(r"[^0-9]", "", dashed.group(2))
    return re.sub(r"^(\+|00)", "+", re.sub(r"[^0-9+]", "", raw))


def _phone_clean_sql(col: str) -> str:
    """`clean_phone` as a SQL expression over column `col`."""
    codes = ", ".join(literal(cc) for cc in sorted(CALLING_CODES))
    pattern = literal(f"^(?:{_PHONE_DASHED})$")
    return (
        f"CASE WHEN {col} IS NULL THEN NULL "
        f"WHEN list_contains([{codes}], regexp_extract({col}, {pattern}, 1)) "
        f"THEN regexp_extract({col}, {pattern}, 1) || '-' || regexp_replace(regexp_extract({col}, {pattern}, 2), '[^0-9]', '', 'g') "
        f"ELSE regexp_replace(regexp_replace({col}, '[^0-9+]', '', 'g'), '^(\\+|00)', '+') END"
    )


def _read_phone(cleaned: str, region: str | None) -> tuple[str, bool]:
    """phonenumbers' reading of digits (maybe with '+') dialled from `region`. An invalid number
    keeps the calling code only when the number itself carried one ('+', an international
    prefix, the code without '+'); otherwise it is kept as its digits: the code would be the
    mention's country's, glued onto a number that is not a number of that country."""
    try:
        parsed = phonenumbers.parse(cleaned, (region or "ZZ").upper(), keep_raw_input=True)
    except phonenumbers.NumberParseException:
        return (cleaned, False)
    valid = phonenumbers.is_valid_number(parsed)
    if not valid and parsed.country_code_source == phonenumbers.CountryCodeSource.FROM_DEFAULT_COUNTRY:
        return (cleaned, False)
    return (phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), valid)


@lru_cache(maxsize=_PHONE_CACHE_SIZE)
def normalise_phone(cleaned: str | None, region: str | None) -> tuple[str | None, bool | None]:
    """(E.164 form, valid) of a phone cleaned by `clean_phone` (digits, maybe a leading '+',
    or a calling code, a dash and digits).

    The country comes from the number's own prefix ('+48', '0048', '011 48' from the US,
    '48-') and, for a national form, from `region`: the country of the mention itself
    (origin_country for a sender, dest_country for a receiver), never any other. So a national
    form ("13800138000" in CN, "020 7946 0958" in GB) and the international, 00-prefixed and
    dash-prefixed forms of one number meet. A national form that is not a valid number of
    `region` is kept as its digits with valid = false: at a forwarding warehouse in GB a Polish
    customer writes his own "696 672 022", and '+44696672022' would be a British number nobody
    has, that never meets his '+48696672022'. Other numbers phonenumbers rejects are kept as it
    writes them (with their own calling code) or as written, with valid = false.

    "48-696672022": on parcel forms people write their home number as the calling code, a dash
    and the national number, without '+' or 00 (carriers' forms often have no room or no field
    for the '+'); the same digits without the dash are, to phonenumbers, a national number of
    the mention's country. It is read as international when '+48 696672022' is a valid number
    (phonenumbers.is_valid_number) and either the mention's country has that calling code (a
    Pole in Poland writing his code) or the digits are not a valid national number there (a
    Pole at a British warehouse). When both readings are valid and the country differs, the
    national reading wins: "212-555-0123" in the US is a New York number, not Moroccan.
    """
    if not cleaned:
        return (None, None)
    dashed = _CLEAN_DASHED_RE.fullmatch(cleaned)
    if dashed is None:
        return _read_phone(cleaned, region)
    code, rest = dashed.groups()
    national = _read_phone(code + rest, region)
    international = _read_phone("+" + code + rest, None)
    agrees = bool(region) and str(phonenumbers.country_code_for_region(region.upper())) == code
    if international[1] and (agrees or not national[1]):
        return international
    return national


def canonical_identifier(raw: str | None) -> str | None:
    """ID numbers and accounts: NFKC, upper case, letters and digits only (spaces, dashes
    and dots are how people write them, not part of them)."""
    if raw is None:
        return None
    text = re.sub(r"[^0-9A-Z]", "", unicodedata.normalize("NFKC", raw).upper())
    return text or None


# --- Phones: the shapes phonenumbers would read without choices, decided in SQL -------------

_PHONE_TYPES = ("premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager", "uan",
                "voicemail", "fixed_line", "mobile")


def _desc_sql(desc, col: str) -> str | None:
    """`phonenumbers._is_number_matching_desc` as SQL: length among the possible lengths (when
    listed) and a full match of the national number pattern."""
    if desc is None or not desc.national_number_pattern:
        return None
    lengths = [n for n in desc.possible_length if n > 0]
    if desc.possible_length and not lengths:  # (-1,): no numbers of this type
        return None
    test = f"regexp_full_match({col}, {literal(desc.national_number_pattern)})"
    return f"(length({col}) IN ({', '.join(map(str, lengths))}) AND {test})" if lengths else test


@lru_cache(maxsize=None)
def _phone_region(region: str) -> dict | None:
    """What the SQL fast path needs of one region, or None where it does not apply.

    `valid` is `phonenumbers.is_valid_number` as SQL over a national significant number `nsn`
    with this region's country code. phonenumbers first picks the region of the number
    (`region_code_for_number`): the only region of its country code, else the first in the
    list (the main one: US for +1, RU for +7) that claims it by leading digits or, having
    none, by pattern. The fast path knows only that first step: numbers the main region does
    not claim are left to phonenumbers. Then the number is valid when it matches the general
    description, a possible length, and one number type of that region.
    """
    try:
        meta = phonenumbers.PhoneMetadata.metadata_for_region(region)
    except Exception:  # unknown region code
        return None
    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(meta.country_code, ()) if meta else ()
    main = phonenumbers.PhoneMetadata.metadata_for_region(regions[0]) if regions else None
    if main is None:
        return None
    general = _desc_sql(main.general_desc, "nsn")
    types = [t for t in (_desc_sql(getattr(main, name, None), "nsn") for name in _PHONE_TYPES) if t]
    if not general or not types:
        return None
    lengths = [n for n in main.general_desc.possible_length if n > 0]
    local = list(main.general_desc.possible_length_local_only)
    claims = [f"length(nsn) IN ({', '.join(map(str, lengths))})" if lengths else "TRUE"]
    if local:
        claims.append(f"length(nsn) NOT IN ({', '.join(map(str, local))})")
    if len(regions) > 1 and main.leading_digits:
        claims.append(f"regexp_matches(nsn, {literal('^(?:' + main.leading_digits + ')')})")
    patterns = [d.national_number_pattern for d in (main.general_desc, meta.general_desc,
                                                     *(getattr(main, n, None) for n in _PHONE_TYPES))
                if d is not None and d.national_number_pattern]
    if main.leading_digits:
        patterns.append(main.leading_digits)

    def prefix(m) -> dict:
        p = m.national_prefix_for_parsing or None
        return {"pattern": p, "groups": re.compile(p).groups if p else 0,
                "transform": bool(m.national_prefix_transform_rule)}

    return {
        "patterns": patterns,
        "cc": str(meta.country_code),
        "intl": meta.international_prefix,
        "prefix": prefix(meta),
        "main_prefix": prefix(main),
        "own_general": _desc_sql(meta.general_desc, "@col@"),
        "own_local": list(meta.general_desc.possible_length_local_only),
        "valid": f"{general} AND {' AND '.join(claims)} AND ({' OR '.join(types)})",
    }


@lru_cache(maxsize=None)
def _regex_ok(pattern: str | None) -> bool:
    """phonenumbers' patterns are Java-style; the fast path uses only those RE2 accepts."""
    if not pattern:
        return True
    try:
        duckdb.execute(f"SELECT regexp_matches('0', {literal(pattern)})").fetchall()
        return True
    except duckdb.Error:
        return False


def _phone_fast(con: duckdb.DuckDBPyConnection, source: str, target: str) -> None:
    """Create `target` (phone_clean, country, e164) with the phones of `source` that the fast
    path reads exactly as `normalise_phone` (phonenumbers) would; all of them valid numbers.

    Three shapes of a cleaned number (digits, maybe a leading '+'):
    - '+' and a country code (found as phonenumbers finds it; country codes are prefix-free);
    - a national number in the party's country, starting neither with the international
      prefix nor with the country code;
    - the country code without '+' ("8613800138000" in CN), taken as phonenumbers takes it: the
      whole does not fit the country's general pattern and the rest after the code is valid.
    A calling code and a dash ("48-696672022", see `normalise_phone`) is read as '+' and the code
    when the code is the party's country's and that reading is valid, and as the national number
    of its digits when the code is another country's and that reading is valid (the national
    reading wins then); the others are left to phonenumbers, like every invalid reading.
    A national prefix (0 in CN, 8 in RU) is stripped where phonenumbers strips it: the region's
    prefix pattern matches at the start and what remains is a valid number that still fits the
    region's own general pattern. Anything else (a prefix that rewrites the number, a number
    valid only with its prefix, an invalid number, a region other than the main one of a shared
    country code) is left to phonenumbers. One small statement per region keeps the regular
    expressions constant, which DuckDB compiles once.
    """
    con.execute(f"CREATE OR REPLACE TEMP TABLE {target} (phone_clean VARCHAR, country VARCHAR, e164 VARCHAR)")
    countries, regions, ccs, national = _phone_regions(con, source)
    if not ccs and not national:
        return
    con.execute(f"CREATE OR REPLACE TEMP TABLE phone_shaped AS {_phone_shapes_sql(source, countries, ccs, national)}")
    present = {r[0] for r in con.execute("SELECT DISTINCT region FROM phone_shaped").fetchall()}
    for region in sorted(present):
        con.execute(_region_phones_sql(target, region, regions[region]))
    con.execute("DROP TABLE phone_shaped")


_DASHED_SQL = "regexp_full_match(s.phone_clean, '[1-9][0-9]{0,2}-[0-9]+')"


def _phone_regions(con: duckdb.DuckDBPyConnection, source: str) -> tuple[set, dict, list, list]:
    """The parties' countries, the regions the fast path can read (with their metadata), the
    calling codes written with '+' or a dash (code, region), and the countries' own codes."""
    countries = {r[0] for r in con.execute(f"SELECT DISTINCT country FROM {source} WHERE country <> ''").fetchall()}
    dashed = _DASHED_SQL
    heads = {r[0] for r in con.execute(
        f"""SELECT DISTINCT unnest([substr(phone_clean, 2, 1), substr(phone_clean, 2, 2), substr(phone_clean, 2, 3)])
            FROM {source} WHERE starts_with(phone_clean, '+')
            UNION SELECT DISTINCT split_part(phone_clean, '-', 1) FROM {source} s WHERE {dashed}"""
    ).fetchall()}
    by_cc = {}
    for cc in sorted(heads - {None, ""}):
        listed = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(int(cc)) if cc.isdigit() and cc[0] != "0" else None
        if listed and listed[0] != "001":
            by_cc[cc] = listed[0]
    regions = {r: info for r in sorted(countries | set(by_cc.values())) if (info := _phone_region(r))}
    regions = {r: i for r, i in regions.items()
               if all(_regex_ok(p) for p in (i["intl"], i["prefix"]["pattern"], i["main_prefix"]["pattern"], *i["patterns"]))}
    ccs = [(cc, r) for cc, r in by_cc.items() if r in regions]
    national = [(r, regions[r]["cc"]) for r in sorted(countries) if r in regions]
    return countries, regions, ccs, national


def _phone_shapes_sql(source: str, countries: set, ccs: list, national: list) -> str:
    """`phone_shaped`: each phone in the shape it is read in ('+' and a code, a national number,
    the code without '+'), with its region, digits and the body after the code."""
    dashed = _DASHED_SQL
    # `digits`: the number without the dash of a dashed calling code, which only says where the
    # code ends; the prefix and pattern tests below look at it.
    shaped = []
    if ccs:
        values = ", ".join(f"({literal(cc)}, {literal(r)})" for cc, r in ccs)
        shaped.append(
            f"""SELECT s.phone_clean, s.country, s.phone_clean AS digits, c.cc, c.region, '+' AS shape,
                       substr(s.phone_clean, length(c.cc) + 2) AS body
                FROM {source} s JOIN (VALUES {values}) c(cc, region)
                  ON c.cc IN (substr(s.phone_clean, 2, 1), substr(s.phone_clean, 2, 2), substr(s.phone_clean, 2, 3))
                WHERE starts_with(s.phone_clean, '+')"""
        )
        own_codes = [(r, str(phonenumbers.country_code_for_region(r))) for r in sorted(countries)]
        if own_codes:
            own = ", ".join(f"({literal(r)}, {literal(cc)})" for r, cc in own_codes)
            shaped.append(
                f"""SELECT s.phone_clean, s.country, replace(s.phone_clean, '-', ''), c.cc, c.region, '+',
                           split_part(s.phone_clean, '-', 2)
                    FROM {source} s JOIN (VALUES {values}) c(cc, region) ON c.cc = split_part(s.phone_clean, '-', 1)
                    JOIN (VALUES {own}) k(region, cc) ON k.region = s.country AND k.cc = c.cc
                    WHERE {dashed}"""
            )
    if national:
        values = ", ".join(f"({literal(r)}, {literal(cc)})" for r, cc in national)
        shaped.append(
            f"""SELECT phone_clean, country, digits, c.cc, c.region,
                       CASE WHEN starts_with(digits, c.cc) THEN 'cc' ELSE 'national' END AS shape,
                       CASE WHEN starts_with(digits, c.cc) THEN substr(digits, length(c.cc) + 1) ELSE digits END AS body
                FROM (SELECT s.phone_clean, s.country, replace(s.phone_clean, '-', '') AS digits FROM {source} s
                      WHERE regexp_full_match(s.phone_clean, '[0-9]+') OR {dashed}) s
                JOIN (VALUES {values}) c(region, cc) ON c.region = s.country
                WHERE NOT starts_with(phone_clean, c.cc || '-')"""
        )
    return " UNION ALL ".join(shaped)


def _stripped_sql(prefix: dict) -> str:
    """The national number after phonenumbers' prefix stripping, or NULL where a prefix
    would rewrite it (a transform rule whose last group took part in the match)."""
    if not prefix["pattern"]:
        return "body"
    anchored = literal("^(?:" + prefix["pattern"] + ")")
    body = f"substr(body, length(regexp_extract(body, {anchored})) + 1)"
    if prefix["transform"] and prefix["groups"]:
        return f"CASE WHEN regexp_extract(body, {anchored}, {prefix['groups']}) <> '' THEN NULL ELSE {body} END"
    return body


def _region_phones_sql(target: str, region: str, info: dict) -> str:
    """The phones of one region that the fast path reads, into `target`: one small statement per
    region keeps its regular expressions constant."""
    own = info["own_general"] or "TRUE"
    own_fits = own.replace("@col@", "nsn")
    if info["own_local"]:
        own_fits += f" AND length(nsn) NOT IN ({', '.join(map(str, info['own_local']))})"
    no_idd = f"NOT regexp_matches(digits, {literal('^(?:' + info['intl'] + ')')})" if info["intl"] else "TRUE"
    # A national number is stripped with its own region's prefix, one after '+cc' with the
    # main region's; after a bare country code the whole must not fit the region's general
    # pattern and the rest must need no stripping (phonenumbers would strip it twice).
    return f"""
        INSERT INTO {target}
        WITH stripped AS (
            SELECT phone_clean, country, digits, cc, shape, body,
                   CASE shape WHEN '+' THEN {_stripped_sql(info["main_prefix"])}
                              WHEN 'national' THEN CASE WHEN {no_idd} THEN {_stripped_sql(info["prefix"])} END
                              ELSE CASE WHEN {no_idd} AND NOT ({own.replace("@col@", "digits")})
                                        AND {_stripped_sql(info["prefix"])} = body AND {own.replace("@col@", "body")}
                                        THEN body END
                   END AS nsn
            FROM phone_shaped WHERE region = {literal(region)}
        )
        SELECT phone_clean, country, '+' || cc || nsn FROM stripped
        WHERE nsn IS NOT NULL AND ({info["valid"]}) AND (shape <> 'national' OR nsn = body OR ({own_fits}))
        """


# --- Names and addresses: tokenised in SQL, only distinct tokens through Python -------------

_HAN_RE2 = r"\x{3400}-\x{4dbf}\x{4e00}-\x{9fff}\x{f900}-\x{faff}"
# Values made only of printable ASCII (and, for addresses, hanzi) after NFKC and case folding
# take the SQL path; any other script, accents or control characters take the Python one.
_PRINTABLE_ASCII = r"[\x{20}-\x{7e}]*"
_ASCII_OR_HAN = rf"[\x{{20}}-\x{{7e}}{_HAN_RE2}]*"
_ASCII_OR_UNIFIED_HAN = r"[\x{20}-\x{7e}\x{3400}-\x{4dbf}\x{4e00}-\x{9fff}]*"
# The lookbehind of _LATIN_UNIT_RE ("not after a word character") as a consumed group, RE2
# having no lookbehind; within the SQL path's alphabet a word character is [a-z0-9_] or hanzi.
_LATIN_UNIT_RE2 = (
    rf"(^|[^a-z0-9_{_HAN_RE2}])(?:" + "|".join(re.escape(m).replace(r"\ ", r"\s*") for m in _LATIN_MARKERS) + ")"
    r"\s*[.:#-]?\s*(?:no\.?\s*)?([a-z]{0,3}-?\d[a-z0-9-]*)"
    r"|#\s*([a-z]{0,3}-?\d[a-z0-9-]*)"
)
_WAREHOUSE_UNIT_RE2 = (
    rf"(^|[^a-z0-9_{_HAN_RE2}])" + _WAREHOUSE_MARKERS + r"\s*[.:#-]?\s*(?:no\.?\s*)?" + _UNIT_VALUE
)
# _JOINERS as RE2: a hyphen or apostrophe between two letters joins them; applied twice, since
# consecutive matches share a letter ("a-b-c").
_JOINERS_RE2 = r"([a-z])['-]([a-z])"


def _sql_list(words) -> str:
    return string_list(sorted(words)) + "::VARCHAR[]"


def _joined(expr: str) -> str:
    once = f"regexp_replace({expr}, {literal(_JOINERS_RE2)}, '\\1\\2', 'g')"
    return f"regexp_replace({once}, {literal(_JOINERS_RE2)}, '\\1\\2', 'g')"


def _names_sql(source: str) -> str:
    """(input, norm, key, skeleton) of the plain-ASCII names of `source`: normalise_name,
    name_key and name_skeleton in SQL.

    Lower case, hyphens and apostrophes inside words removed, tokens of letters and digits,
    honorifics and company suffixes dropped unless nothing else is left, then every word token
    through name_words (English spellings, pinyin syllables) and skeleton_words, Python UDFs over
    the distinct tokens only."""
    stop = _sql_list(HONORIFICS | COMPANY_SUFFIXES)
    return f"""
    CREATE OR REPLACE TEMP TABLE nm_tokens AS
    WITH t AS (
        SELECT input, list_filter(regexp_split_to_array(regexp_replace(regexp_replace({_joined('lower(input)')}, {literal(_NAME_CODE_RE)}, '\\1 \\2', 'g'), {literal(_NAME_CODE_RE)}, '\\1 \\2', 'g'), '[^a-z0-9]+'), lambda x: x <> '') AS toks
        FROM {source} WHERE regexp_full_match(input, {literal(_PRINTABLE_ASCII)})
    ), kept AS (
        SELECT input, toks, list_filter(toks, lambda x: NOT list_contains({stop}, x)) AS kept FROM t
    ), chosen AS (SELECT input, CASE WHEN len(kept) > 0 THEN kept ELSE toks END AS toks FROM kept)
    SELECT input, unnest(toks) AS tok, generate_subscripts(toks, 1) AS pos FROM chosen;
    CREATE OR REPLACE TEMP TABLE nm_words AS
    SELECT tok, linker_name_words(tok) AS words
    FROM (SELECT DISTINCT tok FROM nm_tokens WHERE regexp_full_match(tok, '[a-z]+'));
    CREATE OR REPLACE TEMP TABLE nm_glued AS
    SELECT input, unnest(string_split(glued, ' ')) AS tok FROM (
        SELECT input, regexp_replace(string_agg(tok, ' ' ORDER BY pos), {literal(_ARTICLE)}, '\\1al', 'g') AS glued
        FROM nm_tokens GROUP BY input);
    CREATE OR REPLACE TEMP TABLE nm_skeleton_words AS
    SELECT tok, s.skeleton, s.pinyin FROM (
        SELECT tok, linker_skeleton_words(tok) AS s FROM (SELECT DISTINCT tok FROM nm_glued));
    CREATE OR REPLACE TEMP TABLE nm_out AS
    WITH agg AS (
        SELECT t.input, string_agg(coalesce(w.words, t.tok), ' ' ORDER BY t.pos) AS norm
        FROM nm_tokens t LEFT JOIN nm_words w USING (tok) GROUP BY t.input
    ), skeleton AS (
        SELECT g.input, CASE WHEN bool_and(w.pinyin) THEN NULL ELSE nullif(array_to_string(list_sort(
                   list_filter(flatten(list(string_split(w.skeleton, ' '))), lambda x: x <> '')), ' '), '') END AS skeleton
        FROM nm_glued g JOIN nm_skeleton_words w USING (tok) GROUP BY g.input
    )
    SELECT s.input, nullif(a.norm, '') AS norm,
           nullif(array_to_string(list_sort(string_split(a.norm, ' ')), ' '), '') AS key,
           k.skeleton
    FROM {source} s LEFT JOIN agg a USING (input) LEFT JOIN skeleton k USING (input)
    WHERE regexp_full_match(s.input, {literal(_PRINTABLE_ASCII)});
    DROP TABLE nm_tokens; DROP TABLE nm_words; DROP TABLE nm_glued; DROP TABLE nm_skeleton_words;
    """


def _addresses_sql(source: str) -> str:
    """(input, norm, key, unit) of the addresses of `source` (id, input) written in latin and hanzi:
    normalise_address in SQL.

    1. fold_address (a Python UDF, for the values that are not ASCII and simplified hanzi only):
       NFKC, case folding, traditional hanzi to simplified, other scripts in latin.
    2. Units: the hanzi form (1201室), the latin form (Suite 450, #450), the hanzi-prefixed form
       (客户编号 48213) and a warehouse number (Warehouse 3, the unit only where there is no other)
       are cut out with RE2 versions of the same patterns and kept apart; then the words read from
       their context ("d. 5", "q.1", "thanh pho") are rewritten with the very patterns of
       normalise_address (they have no look-arounds).
    3. Tokens: hanzi runs become tokens of their own, hyphens and apostrophes inside words are
       removed, the rest splits on anything but letters, digits and hanzi.
    4. Every distinct token that is not a number goes once through address_token_words
       (hanzi reading, abbreviation, pinyin syllables); the words are put back in order.
    5. address_key = the sorted distinct words without stopwords (all of them when only
       stopwords are left); address_unit = the sorted distinct units without dashes, '/'-joined.
    """
    return _address_text_sql(source) + _address_words_sql()


def _address_text_sql(source: str) -> str:
    """Steps 1 to 3 of _addresses_sql: `ad_text(id, input, toks, units)`."""
    han_run = f"[{_HAN_RE2}]+"
    hanzi_unit = _HANZI_UNIT_RE.pattern
    spaced_runs = f"regexp_replace(text, {literal('(' + han_run + ')')}, ' \\1 ', 'g')"
    split_tokens = literal(f"[^a-z0-9{_HAN_RE2}]+")
    rewritten = "text"
    for pattern, repl in _address_rewrites(_HAN_RE2):
        rewritten = f"regexp_replace({rewritten}, {literal(pattern)}, {literal(repl)}, 'g')"
    rewrite_filter = literal(_address_rewrite_filter(_HAN_RE2))
    # substring tests (cheaper than a regex) pick the few addresses that hold such a marker
    has_prefix = " OR ".join(f"contains(text, {literal(m)})" for m in _ADDRESSES["unit"]["hanzi_prefix_markers"])
    has_warehouse = " OR ".join(f"contains(text, {literal(m)})" for m in _ADDRESSES["unit"]["warehouse_markers"])
    traditional = literal(_char_class(traditional_chars(), lambda c: f"\\x{{{c:x}}}"))
    return f"""
    -- ASCII and simplified hanzi are their own fold (fold_address) by lower(); the rest (other
    -- scripts, accents, full-width forms, traditional hanzi) is folded by Python.
    CREATE OR REPLACE TEMP TABLE ad_folded AS
    SELECT id, linker_fold(input) AS text
    FROM {source} WHERE strlen(input) <> length(input)  -- not ASCII (bytes and characters differ)
                    AND (NOT regexp_full_match(input, {literal(_ASCII_OR_UNIFIED_HAN)}) OR regexp_matches(input, {traditional}));
    CREATE OR REPLACE TEMP TABLE ad_text AS
    WITH folded AS (
        SELECT s.id, s.input, coalesce(f.text, lower(s.input)) AS text FROM {source} s LEFT JOIN ad_folded f USING (id)
    ), eligible AS (
        SELECT id, input, text FROM folded WHERE regexp_full_match(text, {literal(_ASCII_OR_HAN)})
    ), hanzi_units AS (
        SELECT id, input, regexp_extract_all(text, {literal(hanzi_unit)}, 1) AS units_h,
               regexp_replace(text, {literal(hanzi_unit)}, ' ', 'g') AS text
        FROM eligible
    ), latin_units AS (
        SELECT id, input, list_concat(units_h, regexp_extract_all(text, {literal(_LATIN_UNIT_RE2)}, 2),
                                  regexp_extract_all(text, {literal(_LATIN_UNIT_RE2)}, 3)) AS units,
               regexp_replace(text, {literal(_LATIN_UNIT_RE2)}, '\\1 ', 'g') AS text
        FROM hanzi_units
    ), prefix_units AS (
        SELECT id, input,
               CASE WHEN {has_prefix} THEN list_concat(units, regexp_extract_all(text, {literal(_HANZI_PREFIX_UNIT)}, 1))
                    ELSE units END AS units,
               CASE WHEN {has_prefix} THEN regexp_replace(text, {literal(_HANZI_PREFIX_UNIT)}, ' ', 'g') ELSE text END AS text
        FROM latin_units
    ), warehouse_units AS (
        -- a warehouse number is the unit only of an address without another
        SELECT id, input,
               CASE WHEN len(units) > 0 OR NOT ({has_warehouse}) THEN units
                    ELSE regexp_extract_all(text, {literal(_WAREHOUSE_UNIT_RE2)}, 2) END AS units,
               CASE WHEN {has_warehouse} THEN regexp_replace(text, {literal(_WAREHOUSE_UNIT_RE2)}, '\\1 ', 'g')
                    ELSE text END AS text
        FROM prefix_units
    ), rewritten AS (
        SELECT id, input, units, CASE WHEN regexp_matches(text, {rewrite_filter}) THEN {rewritten} ELSE text END AS text
        FROM warehouse_units
    )
    SELECT id, input,
           list_filter(regexp_split_to_array(
               {_joined(spaced_runs)}, {split_tokens}), lambda x: x <> '') AS toks,
           list_filter(list_transform(units, lambda u: replace(trim(u, '-'), '-', '')), lambda u: u IS NOT NULL AND u <> '') AS units
    FROM rewritten;
"""


def _address_words_sql() -> str:
    """Steps 4 and 5 of _addresses_sql: the tokens' words put back in order, and the key and the
    unit, into `ad_out(input, norm, key, unit)`."""
    stop_in = ", ".join(literal(w) for w in sorted(ADDRESS_STOPWORDS))
    return f"""
    CREATE OR REPLACE TEMP TABLE ad_tokens AS
    SELECT id, tok, pos FROM (SELECT id, unnest(toks) AS tok, generate_subscripts(toks, 1) AS pos FROM ad_text)
    WHERE NOT regexp_full_match(tok, '[0-9]+');
    CREATE OR REPLACE TEMP TABLE ad_words AS
    SELECT tok, linker_address_words(tok) AS words FROM (SELECT DISTINCT tok FROM ad_tokens);
    -- Only the tokens whose words differ from the token itself are put back.
    DELETE FROM ad_words WHERE words = tok;
    CREATE OR REPLACE TEMP TABLE ad_out AS
    WITH changed AS (
        SELECT t.id, list(t.pos) AS positions, list(w.words) AS words
        FROM ad_tokens t JOIN ad_words w USING (tok) GROUP BY t.id
    ), words AS (
        SELECT x.input, x.units,
               CASE WHEN c.id IS NULL THEN x.toks
                    ELSE list_filter(flatten(list_transform(x.toks, lambda t, i:
                             string_split(coalesce(c.words[list_position(c.positions, i)], t), ' '))), lambda w: w <> '')
               END AS words
        FROM ad_text x LEFT JOIN changed c USING (id)
    ), keyed AS (
        SELECT input, units, words, list_distinct(list_filter(words, lambda w: w NOT IN ({stop_in}))) AS kept
        FROM words
    )
    SELECT input,
           nullif(array_to_string(words, ' '), '') AS norm,
           nullif(array_to_string(list_sort(CASE WHEN len(kept) > 0 THEN kept ELSE list_distinct(words) END), ' '), '') AS key,
           nullif(array_to_string(list_sort(list_distinct(units)), '/'), '') AS unit
    FROM keyed;
    DROP TABLE ad_folded; DROP TABLE ad_text; DROP TABLE ad_tokens; DROP TABLE ad_words;
    """


# --- Arrow UDFs: one call per batch of distinct values -------------------------------------

_SKELETON_TYPE = pa.struct([("skeleton", pa.string()), ("pinyin", pa.bool_())])
_ADDRESS_TYPE = pa.struct([("norm", pa.string()), ("key", pa.string()), ("unit", pa.string())])
_PHONE_TYPE = pa.struct([("e164", pa.string()), ("valid", pa.bool_())])


def _skeleton_udf(raw: pa.ChunkedArray) -> pa.Array:
    rows = [skeleton_words(v) if v is not None else (None, None) for v in raw.to_pylist()]
    cols = list(zip(*rows)) if rows else [(), ()]
    return pa.StructArray.from_arrays(
        [pa.array(cols[0], pa.string()), pa.array(cols[1], pa.bool_())], fields=list(_SKELETON_TYPE)
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


def _str_udf(fn):
    def udf(raw: pa.ChunkedArray) -> pa.Array:
        return pa.array([None if v is None else fn(v) for v in raw.to_pylist()], pa.string())
    return udf


def register_udfs(con: duckdb.DuckDBPyConnection) -> None:
    """Make the normalisers callable from SQL on this connection (idempotent)."""
    udfs = [
        ("linker_skeleton_words", _skeleton_udf, ["VARCHAR"], duckdb.struct_type({"skeleton": "VARCHAR", "pinyin": "BOOLEAN"})),
        (
            "linker_address",
            _address_udf,
            ["VARCHAR"],
            duckdb.struct_type({"norm": "VARCHAR", "key": "VARCHAR", "unit": "VARCHAR"}),
        ),
        ("linker_phone", _phone_udf, ["VARCHAR", "VARCHAR"], duckdb.struct_type({"e164": "VARCHAR", "valid": "BOOLEAN"})),
        ("linker_identifier", _canonical_udf, ["VARCHAR"], "VARCHAR"),
        ("linker_name_words", _str_udf(lambda t: " ".join(name_words(t))), ["VARCHAR"], "VARCHAR"),
        ("linker_address_words", _str_udf(address_token_words), ["VARCHAR"], "VARCHAR"),
        ("linker_fold", _str_udf(fold_address), ["VARCHAR"], "VARCHAR"),
    ]
    for name, fn, args, ret in udfs:
        try:
            con.remove_function(name)
        except Exception:  # not registered yet on this connection
            pass
        con.create_function(name, fn, args, ret, type="arrow", null_handling="special", side_effects=False)


# --- The persistent cache ------------------------------------------------------------------

# What each normalised value was turned into, kept in the store between runs: the nightly job
# re-runs everything over every parcel, and only values never seen before are normalised again.
CACHE_TABLES = {
    "name": "norm_cache_name (input VARCHAR, norm VARCHAR, key VARCHAR, skeleton VARCHAR, alt VARCHAR)",
    "address": "norm_cache_address (input VARCHAR, norm VARCHAR, key VARCHAR, unit VARCHAR)",
    "phone": "norm_cache_phone (input VARCHAR, country VARCHAR, e164 VARCHAR, valid BOOLEAN)",
    "identifier": "norm_cache_identifier (input VARCHAR, norm VARCHAR)",
}


def normaliser_version() -> str:
    """Fingerprint of everything an output depends on: this module's code, the word tables
    (names, addresses, company glossary), and the versions of the packages that read names and
    addresses (phonenumbers, pypinyin, anyascii, jieba and its bundled dictionary, OpenCC,
    pythainlp). A cache made by another version is dropped."""
    import hashlib
    import importlib.metadata as md

    digest = hashlib.sha256(Path(__file__).read_bytes())
    for path in sorted(DATA_DIR.glob("*.toml")) + [DATA_DIR / "pinyin_syllables.txt"]:
        digest.update(path.read_bytes())
    for package in ("phonenumbers", "pypinyin", "anyascii", "jieba", "opencc", "pythainlp", "pykakasi", "nicknames",
                    "cantonese-romanisation"):
        try:
            digest.update(f"{package}={md.version(package)};".encode())
        except md.PackageNotFoundError:
            digest.update(f"{package}=absent;".encode())
    return digest.hexdigest()[:16]


def _ensure_cache(con: duckdb.DuckDBPyConnection) -> None:
    version = normaliser_version()
    con.execute("CREATE TABLE IF NOT EXISTS norm_cache_version (version VARCHAR)")
    stored = [r[0] for r in con.execute("SELECT version FROM norm_cache_version").fetchall()]
    if stored != [version]:
        for ddl in CACHE_TABLES.values():
            con.execute(f"DROP TABLE IF EXISTS {ddl.split()[0]}")
        con.execute("DELETE FROM norm_cache_version")
        con.execute("INSERT INTO norm_cache_version VALUES (?)", [version])
    for ddl in CACHE_TABLES.values():
        con.execute(f"CREATE TABLE IF NOT EXISTS {ddl}")


def clear_cache(con: duckdb.DuckDBPyConnection) -> None:
    """Forget every cached normalisation (the next run normalises every value again)."""
    for ddl in CACHE_TABLES.values():
        con.execute(f"DROP TABLE IF EXISTS {ddl.split()[0]}")
    con.execute("DROP TABLE IF EXISTS norm_cache_version")


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    return int(con.execute(sql).fetchall()[0][0])


def _new_names(con: duckdb.DuckDBPyConnection) -> list[str]:
    """`new_name`: the distinct names of `mention_raw` not in the cache yet; returns those of
    them that SQL cannot normalise (any not printable ASCII: hanzi, Cyrillic, accents,
    full-width letters), sorted, for `_python_names`."""
    con.execute(
        """CREATE OR REPLACE TEMP TABLE new_name AS
           SELECT DISTINCT name_raw AS input FROM mention_raw m
           WHERE name_raw IS NOT NULL AND NOT EXISTS (SELECT 1 FROM norm_cache_name c WHERE c.input = m.name_raw)"""
    )
    rows = con.execute(f"SELECT input FROM new_name WHERE NOT regexp_full_match(input, {literal(_PRINTABLE_ASCII)}) "
                       "ORDER BY input").fetchall()
    return [r[0] for r in rows]


class _Stopped(Exception):
    """The names thread was told to stop (the step it runs beside failed or was interrupted)."""


_STOP_EVERY = 2_000  # names between two looks at the stop flag (about 0.15 s of work)


def _python_names(values: list[str], stop: threading.Event | None = None) -> pa.Table:
    """The cache rows (input, norm, key, skeleton, alt) of names normalised in Python: pure
    Python, no database, so that it can run in a thread of its own while DuckDB works on the
    other values (DuckDB lets go of the interpreter lock while it executes). With `stop`, it
    looks at the flag every _STOP_EVERY names and raises _Stopped once it is set: a failed or
    interrupted step does not wait for the rest of a million names."""
    started = time.perf_counter()
    rows: list[tuple] = []
    for first in range(0, len(values), _STOP_EVERY):
        if stop is not None and stop.is_set():
            raise _Stopped()
        for v in values[first:first + _STOP_EVERY]:
            norm = normalise_name(v)
            rows.append((norm, name_key(norm), name_skeleton(v), name_readings(v)))
    columns = list(zip(*rows)) if rows else [(), (), (), ()]
    table = pa.table({
        "input": pa.array(values, pa.string()),
        **{name: pa.array(col, pa.string()) for name, col in zip(("norm", "key", "skeleton", "alt"), columns)},
    })
    record_python_step(f"names in Python ({len(values):,} names)", time.perf_counter() - started,
                       beside=threading.current_thread() is not threading.main_thread())
    return table


def _fill_names(con: duckdb.DuckDBPyConnection, python_names: Future) -> dict:
    """Normalise the names of `new_name` (see `_new_names`): the printable-ASCII ones in SQL
    here; the rest are `python_names`, a running `_python_names` whose rows are stored with
    them once it is done."""
    execute_script(con, _names_sql("new_name"))
    # names with a short given name get their readings in Python (see name_readings)
    # (a word of the name is one of them: one regular expression of all, not a list test per
    # name, which took 3.8 s at 1M parcels)
    short = "(^| )(" + "|".join(re.escape(w) for w in sorted(given_name_forms())) + ")( |$)"
    con.execute("CREATE OR REPLACE TEMP TABLE nm_alt AS SELECT input, NULL::VARCHAR AS alt FROM nm_out "
                "WHERE regexp_matches(norm, ?) "
                "OR (len(string_split(norm, ' ')) >= 3 AND regexp_matches(norm, ?))",
                [short, PATRONYMIC_RE.replace("^", "(^| )").replace("$", "( |$)")])
    inputs = [r[0] for r in con.execute("SELECT input FROM nm_alt ORDER BY input").fetchall()]
    if inputs:
        con.execute("CREATE OR REPLACE TEMP TABLE nm_alt AS SELECT unnest(?::VARCHAR[]) AS input, unnest(?::VARCHAR[]) AS alt",
                    [inputs, [name_readings(v) for v in inputs]])
    table = python_names.result()  # (before anything is stored: a failure there stores nothing)
    con.register("_python_names_arrow", table)
    try:
        con.execute("INSERT INTO norm_cache_name SELECT o.input, o.norm, o.key, o.skeleton, a.alt "
                    "FROM nm_out o LEFT JOIN nm_alt a USING (input) "
                    "UNION ALL SELECT input, norm, key, skeleton, alt FROM _python_names_arrow")
    finally:
        con.unregister("_python_names_arrow")
    con.execute("DROP TABLE nm_alt")
    report = {"new": _count(con, "SELECT count(*) FROM new_name"), "python": table.num_rows}
    con.execute("DROP TABLE new_name; DROP TABLE nm_out")
    return report


def _fill_addresses(con: duckdb.DuckDBPyConnection) -> dict:
    con.execute(
        """CREATE OR REPLACE TEMP TABLE new_address AS
           SELECT row_number() OVER () AS id, input FROM (
               SELECT DISTINCT address_raw AS input FROM mention_raw m
               WHERE address_raw IS NOT NULL AND NOT EXISTS (SELECT 1 FROM norm_cache_address c WHERE c.input = m.address_raw))"""
    )
    execute_script(con, _addresses_sql("new_address"))
    con.execute("INSERT INTO norm_cache_address SELECT input, norm, key, unit FROM ad_out")
    execute_script(
        con,
        """CREATE OR REPLACE TEMP TABLE ad_rest AS SELECT input FROM new_address ANTI JOIN ad_out USING (input);
           INSERT INTO norm_cache_address
           SELECT input, a.norm, a.key, a.unit FROM (SELECT input, linker_address(input) AS a FROM ad_rest)"""
    )
    report = {"new": _count(con, "SELECT count(*) FROM new_address"), "python": _count(con, "SELECT count(*) FROM ad_rest")}
    con.execute("DROP TABLE new_address; DROP TABLE ad_out; DROP TABLE ad_rest")
    return report


def _fill_phones(con: duckdb.DuckDBPyConnection) -> dict:
    con.execute(
        """CREATE OR REPLACE TEMP TABLE new_phone AS
           SELECT DISTINCT phone_clean, coalesce(country, '') AS country FROM mention_raw m
           WHERE phone_clean IS NOT NULL AND phone_clean NOT IN ('', '+')
             AND NOT EXISTS (SELECT 1 FROM norm_cache_phone c
                             WHERE c.input = m.phone_clean AND c.country = coalesce(m.country, ''))"""
    )
    _phone_fast(con, "new_phone", "ph_fast")
    con.execute("INSERT INTO norm_cache_phone SELECT phone_clean, country, e164, TRUE FROM ph_fast")
    execute_script(
        con,
        """CREATE OR REPLACE TEMP TABLE ph_rest AS SELECT phone_clean, country FROM new_phone ANTI JOIN ph_fast USING (phone_clean, country);
           INSERT INTO norm_cache_phone
           SELECT phone_clean, country, p.e164, p.valid
           FROM (SELECT phone_clean, country, linker_phone(phone_clean, nullif(country, '')) AS p FROM ph_rest)"""
    )
    report = {"new": _count(con, "SELECT count(*) FROM new_phone"), "python": _count(con, "SELECT count(*) FROM ph_rest")}
    con.execute("DROP TABLE new_phone; DROP TABLE ph_fast; DROP TABLE ph_rest")
    return report


def _fill_identifiers(con: duckdb.DuckDBPyConnection) -> dict:
    con.execute(
        """CREATE OR REPLACE TEMP TABLE new_identifier AS
           SELECT DISTINCT input FROM (SELECT id_number_raw AS input FROM mention_raw UNION ALL SELECT account_raw FROM mention_raw) m
           WHERE input IS NOT NULL AND NOT EXISTS (SELECT 1 FROM norm_cache_identifier c WHERE c.input = m.input)"""
    )
    ascii_only = f"regexp_full_match(input, {literal(_PRINTABLE_ASCII)})"
    execute_script(
        con,
        f"""INSERT INTO norm_cache_identifier
            SELECT input, nullif(regexp_replace(upper(input), '[^0-9A-Z]', '', 'g'), '') FROM new_identifier WHERE {ascii_only};
            INSERT INTO norm_cache_identifier
            SELECT input, linker_identifier(input) FROM new_identifier WHERE NOT {ascii_only}"""
    )
    report = {"new": _count(con, "SELECT count(*) FROM new_identifier"),
              "python": _count(con, f"SELECT count(*) FROM new_identifier WHERE NOT {ascii_only}")}
    con.execute("DROP TABLE new_identifier")
    return report


# --- The stage ------------------------------------------------------------------------------

def _mentions_sql(where: str = "TRUE") -> str:
    """Two mentions per parcel. mention_id = 2*parcel_seq (+1 for the receiver), so ids are
    stable across runs for the same load. Phones are first cleaned in SQL (`clean_phone`: digits
    and a leading '+', the 00 international prefix read as '+', a calling code written with a
    dash kept apart), which collapses most of the ways a number is written before the distinct
    values are read."""
    return f"""
    SELECT parcel_seq * 2 AS mention_id, parcel_seq, parcel_id, carrier, 'sender' AS role,
           sender_name AS name_raw, sender_phone AS phone_raw,
           {_phone_clean_sql('sender_phone')} AS phone_clean,
           sender_id_number AS id_number_raw, payer_account AS account_raw,
           sender_address AS address_raw, upper(origin_country) AS country
    FROM parcels WHERE {where}
    UNION ALL
    SELECT parcel_seq * 2 + 1, parcel_seq, parcel_id, carrier, 'receiver',
           receiver_name, receiver_phone, {_phone_clean_sql('receiver_phone')},
           NULL, NULL, receiver_address, upper(dest_country)
    FROM parcels WHERE {where}
    """


_SWITCH_INTERVAL = 0.001  # seconds (Python's default: 0.005)


def build_party_mentions(con: duckdb.DuckDBPyConnection, report: dict | None = None, *, new_only: bool = False) -> int:
    """(Re)create `party_mentions` from `parcels`; returns the number of mentions.

    With `new_only`, only the parcels loaded after the last mention (parcel_seq above the
    highest in `party_mentions`; ingest numbers parcels in load order) get their mentions,
    appended with NULL profile and entity for `resolve.resolve_new_mentions`, and the number
    returned is of the new mentions.

    Each distinct name, address, (phone, country) and identifier not yet in the normalisation
    cache (`norm_cache_*`) is normalised once, by SQL where the value has a common shape and by
    the Python functions above otherwise, and stored; the mentions are then joined to the cache.
    `profile_id` and `entity_id` are left NULL for `linker.resolve.resolve_entities`. When
    `report` is given it receives, per kind, how many values were new and how many of those
    went through Python.
    """
    register_udfs(con)
    _ensure_cache(con)
    where = "TRUE"
    if new_only:
        # a store whose mentions predate the name skeleton gets the column (NULL for them)
        con.execute("ALTER TABLE party_mentions ADD COLUMN IF NOT EXISTS name_skeleton VARCHAR")
        con.execute("ALTER TABLE party_mentions ADD COLUMN IF NOT EXISTS name_alt VARCHAR")
        watermark = con.execute("SELECT coalesce(max(parcel_seq), -1) FROM party_mentions").fetchall()[0][0]
        where = f"parcel_seq > {int(watermark)}"
    con.execute(f"CREATE OR REPLACE TEMP TABLE mention_raw AS {_mentions_sql(where)}")
    # The names SQL cannot read are normalised in a thread while DuckDB normalises the rest
    # on its own threads (at 1M parcels: 127k names, 11 s of pure Python on one core).
    # The statements that call Python UDFs meanwhile wait for the interpreter lock once per
    # batch of rows; with Python's default switch interval (5 ms) that wait made the address
    # folding 15 times slower, so the thread hands the lock over more often while it runs.
    hard_names = _new_names(con)
    interval = sys.getswitchinterval()
    stop = threading.Event()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="linker-names") as pool:
        try:
            python_names = pool.submit(_python_names, hard_names, stop)
            sys.setswitchinterval(_SWITCH_INTERVAL)
            counts = {}
            for kind, fill in (("address", _fill_addresses), ("phone", _fill_phones), ("identifier", _fill_identifiers)):
                if python_names.done() and python_names.exception() is not None:
                    break  # (the names failed: their error is raised below, without the other fills)
                counts[kind] = fill(con)
            counts = {"name": _fill_names(con, python_names), **counts}
        except BaseException:
            stop.set()  # (the pool waits for the thread: it stops within _STOP_EVERY names)
            raise
        finally:
            sys.setswitchinterval(interval)
    if report is not None:
        report.update(counts)
    con.execute(
        f"""
        {"INSERT INTO party_mentions BY NAME" if new_only else "CREATE OR REPLACE TABLE party_mentions AS"}
        SELECT m.mention_id, m.parcel_seq, m.parcel_id, m.carrier, m.role,
               m.name_raw, n.norm AS name_norm, n.key AS name_key, n.skeleton AS name_skeleton, n.alt AS name_alt,
               m.phone_raw, p.e164 AS phone_e164, p.valid AS phone_valid,
               i.norm AS id_number_norm, acc.norm AS account_norm,
               m.address_raw, a.norm AS address_norm, a.key AS address_key, a.unit AS address_unit,
               m.country,
               CAST(NULL AS BIGINT) AS profile_id, CAST(NULL AS BIGINT) AS entity_id
        FROM mention_raw m
        LEFT JOIN norm_cache_name n ON n.input = m.name_raw
        LEFT JOIN norm_cache_address a ON a.input = m.address_raw
        LEFT JOIN norm_cache_identifier i ON i.input = m.id_number_raw
        LEFT JOIN norm_cache_identifier acc ON acc.input = m.account_raw
        LEFT JOIN norm_cache_phone p ON p.input = m.phone_clean AND p.country = coalesce(m.country, '')
        """
    )
    added = _count(con, "SELECT count(*) FROM mention_raw")
    con.execute("DROP TABLE IF EXISTS mention_raw")
    return added if new_only else _count(con, "SELECT count(*) FROM party_mentions")
