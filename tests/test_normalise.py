"""Normalisation of party mentions: each trap of DOMAIN.md "Identifiers and their traps" as a case."""

from __future__ import annotations

import pytest

from linker import store
from linker.ingest import ingest_paths
from linker.normalise import (
    build_party_mentions,
    canonical_identifier,
    name_key,
    normalise_address,
    normalise_name,
    normalise_phone,
)
from tests.conftest import parcel, write_csv


def key(name: str) -> str | None:
    return name_key(normalise_name(name))


def address_key(address: str) -> str | None:
    return normalise_address(address)[1]


def unit(address: str) -> str | None:
    return normalise_address(address)[2]


@pytest.mark.parametrize("written", ["张伟", "ZHANG Wei", "Wei Zhang", "zhang wei", "Zhang, Wei", "Ｚｈａｎｇ　Ｗｅｉ"])
def test_hanzi_pinyin_order_case_and_fullwidth_forms_of_a_name_share_one_key(written):
    assert key(written) == key("张伟")


@pytest.mark.parametrize(
    "hanzi, latin",
    [("曾小明", "Zeng Xiaoming"), ("单田芳", "Shan Tianfang"), ("解放", "Xie Fang"), ("区志强", "Ou Zhiqiang"),
     ("仇英", "Qiu Ying"), ("朴成", "Piao Cheng"), ("查良镛", "Zha Liangyong"), ("欧阳娜娜", "Ouyang Nana")],
)
def test_surnames_that_pypinyin_reads_wrongly_are_read_from_the_surname_table(hanzi, latin):
    assert key(hanzi) == key(latin)


@pytest.mark.parametrize("written", ["Zhang Weiming", "Wei-Ming Zhang", "ZHANG Wei Ming", "张伟明"])
def test_a_given_name_run_together_or_split_meets_its_hanzi(written):
    assert key(written) == key("张伟明")


def test_company_suffixes_are_removed():
    assert key("Huaxin Trading Co., Ltd.") == key("HUAXIN LIMITED") == key("huaxin")


def test_hanzi_company_suffix_is_removed():
    assert normalise_name("华信有限公司") == normalise_name("华信")


def test_honorifics_are_removed():
    assert key("Mr. John Smith") == key("SMITH, John") == key("Dr John Smith")


def test_different_people_keep_different_keys():
    assert key("张伟") != key("张维明")


@pytest.mark.parametrize("written", ["13800138000", "+86 138-0013-8000", "008613800138000", "+8613800138000", "(+86)13800138000"])
def test_national_international_and_00_prefixed_phones_meet_in_e164(written):
    cleaned = "".join(ch for ch in written if ch.isdigit() or ch == "+")
    cleaned = "+" + cleaned[2:] if cleaned.startswith("00") else cleaned
    assert normalise_phone(cleaned, "CN") == ("+8613800138000", True)


def test_a_national_phone_is_read_in_the_country_of_the_party():
    assert normalise_phone("02079460958", "GB")[0] == "+442079460958"
    assert normalise_phone("02079460958", "CN")[0] != "+442079460958"


def test_an_invalid_phone_is_kept_and_marked():
    e164, valid = normalise_phone("12345", "CN")
    assert e164 is not None and valid is False


@pytest.mark.parametrize("written", ["123 Main Street, Suite 450", "１２３ Ｍａｉｎ Ｓｔ． Ｓｕｉｔｅ ４５０", "123 Main St #450", "Ste. 450, 123 MAIN ST"])
def test_fullwidth_abbreviated_and_reordered_addresses_meet_with_their_suite_apart(written):
    assert address_key(written) == address_key("123 Main Street")
    assert unit(written) == "450"


def test_rd_and_road_are_one_word():
    assert address_key("88 Jianguo Rd") == address_key("88 Jianguo Road")


def test_a_hanzi_address_meets_its_pinyin_form():
    assert address_key("北京市朝阳区建国路88号") == address_key("88 Jianguo Rd, Chaoyang District, Beijing")


@pytest.mark.parametrize("written, expected", [("Unit 12, 5 High St", "12"), ("PO Box 77, 5 High St", "77"),
                                               ("广东省深圳市南山区科技园路12号1201室", "1201"), ("Room 1201, 12 Keji Rd", "1201"),
                                               # forwarding warehouses write the customer code many ways
                                               ("12 Tole Bi St, ID: 48213, Almaty", "48213"),
                                               ("12 Tole Bi St, Customer code CN48213", "cn48213"),
                                               ("WH-48213, 12 Tole Bi St", "48213"), ("12 Tole Bi St, client 48213", "48213"),
                                               ("ул. Абая 10, кв. 12, Алматы", "12"), ("10 Downing St, post code 050000", None)])
def test_the_unit_suite_or_box_number_is_its_own_field(written, expected):
    assert unit(written) == expected
    assert expected not in (address_key(written) or "").split()


def test_id_numbers_and_accounts_are_upper_case_alphanumerics():
    assert canonical_identifier("1101 0519-9001 0112 3x") == "11010519900101123X"
    assert canonical_identifier("１１０１０５") == "110105"
    assert canonical_identifier(" - ") is None


def _store(tmp_path, rows):
    con = store.connect(tmp_path / "s.duckdb")
    ingest_paths(con, [write_csv(tmp_path / "p.csv", rows)])
    return con


def test_party_mentions_has_a_sender_and_a_receiver_row_per_parcel(tmp_path):
    con = _store(tmp_path, [parcel(parcel_id="A1"), parcel(parcel_id="A2")])
    assert build_party_mentions(con) == 4
    rows = con.execute(
        "SELECT p.parcel_seq, m.mention_id, m.role FROM party_mentions m JOIN parcels p USING (parcel_id, carrier) ORDER BY 2"
    ).fetchall()
    assert [(seq * 2 + (role == "receiver"), role) for seq, _, role in rows] == [(mid, role) for _, mid, role in rows]


def test_sender_phone_is_read_in_the_origin_and_receiver_phone_in_the_destination(tmp_path):
    con = _store(tmp_path, [parcel(origin_country="CN", dest_country="GB", sender_phone="138 0013 8000",
                                   receiver_phone="020 7946 0958")])
    build_party_mentions(con)
    phones = dict(con.execute("SELECT role, phone_e164 FROM party_mentions").fetchall())
    assert phones == {"sender": "+8613800138000", "receiver": "+442079460958"}


def test_id_number_and_account_belong_to_the_sender_only(tmp_path):
    con = _store(tmp_path, [parcel(sender_id_number="1101 0519 9001 0112 3x", payer_account="wx-88231")])
    build_party_mentions(con)
    rows = dict((r[0], r[1:]) for r in con.execute("SELECT role, id_number_norm, account_norm FROM party_mentions").fetchall())
    assert rows == {"sender": ("11010519900101123X", "WX88231"), "receiver": (None, None)}


# --- The SQL paths and the cache --------------------------------------------------------------

TRICKY_NAMES = ["Wei-Ming O'Brien", "MR. JOHN SMITH", "Co Ltd", "  ", "a-b-c-d", "Zhang_Wei", "li  na 2",
                "Huaxin Trading Co., Ltd.", "ouyang nana", "Jean-Pierre", "x'", "-", "张伟", "Ｚｈａｎｇ　Ｗｅｉ"]
TRICKY_ADDRESSES = [
    "123 Main St #450", "Ste. 450, 123 MAIN ST", "Suite-450 Main", "PO Box 77, 5 High St", "p o box 12", "unit5 #6",
    "广东省深圳市南山区科技园路12号1201室", "北京市朝阳区建国路88号", "Room 1201, 12 Keji Rd", "Rm 406, Bldg 20, 513 Jiangnan West Ave",
    "１２３ Ｍａｉｎ Ｓｔ． Ｓｕｉｔｅ ４５０", "Ringstraße 7, Köln", "ul. Gagarina, d. 13", "24-3-204 Chuangye Building", "#12suite 5",
    "Apt 3B, 10 O'Connell St", "深圳市宝安区光明南街256号A座", "12 Tole Bi St, Customer code CN48213", "WH-48213, 12 Tole Bi St",
    "ул. Абая 10, кв. 12, Алматы", "12 Tole Bi St, ID: 48213", "no.26 yanjiang east st", "1200 Industrial Ave Suite 4521, Wilmington DE",
]


def test_the_sql_paths_give_exactly_what_the_python_normalisers_give(tmp_path):
    from linker import synth

    world = synth.generate(600, seed=3).parcels
    names = sorted(set(world["sender_name"].to_list() + world["receiver_name"].to_list() + TRICKY_NAMES))
    addresses = sorted(set(world["sender_address"].to_list() + world["receiver_address"].to_list() + TRICKY_ADDRESSES))
    con = _store(tmp_path, [parcel(parcel_id=f"T{i}", sender_name=names[i % len(names)], receiver_name=names[-1 - i % len(names)],
                                   sender_address=addresses[i % len(addresses)], receiver_address=addresses[-1 - i % len(addresses)])
                            for i in range(max(len(names), len(addresses)))])
    report = {}
    build_party_mentions(con, report=report)
    assert report["address"]["python"] < report["address"]["new"] / 10  # the SQL path did the work
    for raw, norm, key in con.execute("SELECT input, norm, key FROM norm_cache_name").fetchall():
        assert (norm, key) == (normalise_name(raw), name_key(normalise_name(raw))), raw
    for raw, norm, key, unit_ in con.execute("SELECT input, norm, key, unit FROM norm_cache_address").fetchall():
        assert (norm, key, unit_) == normalise_address(raw), raw


PHONE_REGIONS = ["CN", "US", "CA", "GB", "JE", "RU", "KZ", "JP", "DE", "IT", "BR", "AR", "IN", "AU", "KR", "FR", "AE"]


def test_the_sql_phone_path_reads_every_shape_as_phonenumbers_does():
    import random

    import duckdb
    import phonenumbers
    from phonenumbers import PhoneNumberType as T

    from linker.normalise import _phone_fast

    rng = random.Random(7)
    rows = set()
    for region in PHONE_REGIONS:
        cc = str(phonenumbers.country_code_for_region(region))
        for kind in (T.MOBILE, T.FIXED_LINE, T.TOLL_FREE):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            nsn = phonenumbers.national_significant_number(example)
            for digits in {nsn, nsn[:-1], nsn + "5", "".join(str(rng.randrange(10)) if rng.random() < 0.2 else d for d in nsn)}:
                for shape in ("+" + cc + digits, digits, "0" + digits, "8" + digits, cc + digits, "+" + cc + "0" + digits):
                    rows.update({(shape, region), (shape, rng.choice(PHONE_REGIONS))})
    con = duckdb.connect()
    con.execute("CREATE TABLE src (phone_clean VARCHAR, country VARCHAR)")
    con.executemany("INSERT INTO src VALUES (?, ?)", sorted(rows))
    _phone_fast(con, "src", "fast")
    fast = con.execute("SELECT phone_clean, country, e164 FROM fast").fetchall()
    assert len(fast) > len(rows) / 5
    assert [(p, c, e, True) for p, c, e in fast] == [(p, c, *normalise_phone(p, c)) for p, c, e in fast]


def test_a_second_run_normalises_nothing_new_and_gives_the_same_mentions(tmp_path):
    rows = [parcel(parcel_id=f"C{i}", sender_name=n, sender_address=f"{i} Jianguo Rd, Beijing", sender_phone=f"1380013{i:04d}")
            for i, n in enumerate(["张伟", "ZHANG Wei", "Olga Ivanova", "Huaxin Co., Ltd."])]
    con = _store(tmp_path, rows)
    first_report, second_report = {}, {}
    build_party_mentions(con, report=first_report)
    first = con.execute("SELECT * FROM party_mentions ORDER BY mention_id").fetchall()
    build_party_mentions(con, report=second_report)
    assert all(v["new"] > 0 for k, v in first_report.items() if k != "identifier")
    assert all(v["new"] == 0 for v in second_report.values())
    assert con.execute("SELECT * FROM party_mentions ORDER BY mention_id").fetchall() == first


def test_a_cache_made_by_another_version_of_the_normalisers_is_dropped(tmp_path):
    con = _store(tmp_path, [parcel(parcel_id="V1")])
    build_party_mentions(con)
    con.execute("UPDATE norm_cache_version SET version = 'older'")
    con.execute("UPDATE norm_cache_name SET norm = 'stale', key = 'stale'")
    report = {}
    build_party_mentions(con, report=report)
    assert report["name"]["new"] > 0
    assert con.execute("SELECT count(*) FROM party_mentions WHERE name_key = 'stale'").fetchall()[0][0] == 0
