"""Normalisation of party mentions: each trap of DOMAIN.md "Identifiers and their traps" as a case."""

from __future__ import annotations

import pytest

from linker import store
from linker.stages.ingest import ingest_paths
from linker.stages.normalise import (
    COMPANY_GLOSSARY,
    build_party_mentions,
    canonical_identifier,
    clean_phone,
    name_key,
    name_readings,
    name_skeleton,
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


def test_a_national_form_that_is_no_number_of_the_mentions_country_gets_no_calling_code_of_it():
    # A Polish customer of a British forwarding warehouse writes his own national number.
    assert normalise_phone(clean_phone("696 672 022"), "GB") == ("696672022", False)
    assert normalise_phone(clean_phone("696 672 022"), "PL") == ("+48696672022", True)
    # A number that carries its own calling code keeps it, valid or not.
    assert normalise_phone(clean_phone("+44 48 696672022"), "GB") == ("+4448696672022", False)


@pytest.mark.parametrize("written, country", [("48-696672022", "PL"), ("48-696672022", "GB"), ("48 - 696 672 022", "CN"),
                                              ("48-696-672-022", "GB"), ("48-696672022", None)])
def test_a_calling_code_and_a_dash_is_read_as_international(written, country):
    assert normalise_phone(clean_phone(written), country) == ("+48696672022", True)


def test_a_dashed_calling_code_gives_way_to_a_valid_national_number_of_another_country():
    # 212 is Morocco's code and New York's area code; "5550123" is no Moroccan number anyway,
    # and 501 (Belize) is Arkansas: in the US the written number is American.
    assert normalise_phone(clean_phone("212-555-0123"), "US")[0] == "+12125550123"
    assert normalise_phone(clean_phone("501-376-1234"), "US")[0] == "+15013761234"
    # Shared code +7: a Russian mobile written "7-..." by a receiver in Kazakhstan.
    assert normalise_phone(clean_phone("7-912-345-6789"), "KZ") == ("+79123456789", True)


@pytest.mark.parametrize("written, country, e164", [
    ("020 7946 0958", "GB", "+442079460958"), ("07400 123456", "GB", "+447400123456"), ("+44 (0)20 7946 0958", "GB", "+442079460958"),
    ("030 123456", "DE", "+4930123456"), ("01 23 45 67 89", "FR", "+33123456789"), ("06 12 34 56 78", "FR", "+33612345678"),
    ("8 (912) 345-67-89", "RU", "+79123456789"), ("8 (771) 000 9998", "KZ", "+77710009998"), ("8 701 234 5678", "KZ", "+77012345678"),
    ("13800138000", "CN", "+8613800138000"), ("138-0013-8000", "CN", "+8613800138000"), ("010 1234 5678", "CN", "+861012345678"),
])
def test_a_national_form_with_its_trunk_prefix_meets_its_international_form(written, country, e164):
    assert normalise_phone(clean_phone(written), country) == (e164, True)


TRICKY_PHONES = ["+86 138-0013-8000", "13800138000", "008613800138000", "(+86)13800138000", "86-13800138000", " 48 - 696 672 022 ",
                 "48-696.672.022", "7-701-234-5678", "1-800-555-0199", "020-7946-0958", "138-0013-8000", "999-123", "0-123",
                 "48-", "-48-696", "+48-696672022", "0048-696672022", "86-(10)12345678", "48-696672022\n", "\t7-9123456789", "x48-1"]


def test_phones_are_cleaned_alike_in_sql_and_in_python():
    import duckdb

    from linker.stages.normalise import _phone_clean_sql

    con = duckdb.connect()
    con.execute("CREATE TABLE raw (raw VARCHAR)")
    con.executemany("INSERT INTO raw VALUES (?)", [(t,) for t in TRICKY_PHONES])
    cleaned = dict(con.execute(f"SELECT raw, {_phone_clean_sql('raw')} FROM raw").fetchall())
    assert cleaned == {t: clean_phone(t) for t in TRICKY_PHONES}
    assert cleaned["48-696.672.022"] == "48-696672022" and cleaned["020-7946-0958"] == "02079460958"
    assert cleaned["138-0013-8000"] == "13800138000"  # 138 is no calling code: a national number with dashes


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


# --- Issue 13: names in other scripts and orders ---------------------------------------------

def similarity(a: str, b: str) -> float:
    """The resolver's name similarity: rapidfuzz's ratio of the order-free keys."""
    from rapidfuzz import fuzz

    return fuzz.ratio(key(a), key(b)) / 100


@pytest.mark.parametrize("written", ["Андрей Попов", "АНДРЕЙ ПОПОВ", "Попов Андрей", "Popov, Andrey", "ANDREY POPOV"])
def test_a_cyrillic_name_meets_its_latin_spelling(written):
    assert key(written) == key("Andrey Popov") == "andrey popov"


@pytest.mark.parametrize("cyrillic, latin", [
    ("Андрей Попов", "Andrei Popov"), ("Юрий Фёдоров", "Yuri Fedorov"), ("Александр Кузнецов", "Alexander Kuznetsov"),
    ("Дмитрий Соколов", "Dmitry Sokolov"), ("Сергей Васильев", "Sergei Vasiliev"), ("Наталья Смирнова", "Natalia Smirnova"),
    ("Ерлан Нурланов", "Yerlan Nurlanov"), ("Ксения Орлова", "Ksenia Orlova"), ("Евгений Волков", "Yevgeny Volkov"),
    ("Екатерина Петрова", "Yekaterina Petrova"), ("Юлия Ким", "Iuliia Kim"),
])
def test_romanisation_variants_of_a_cyrillic_name_meet_on_the_skeleton(cyrillic, latin):
    # anyascii writes Андрей as andrey, Юрий as yuriy; other systems differ by a letter or two.
    # The keys differ, and their similarity varies (0.43 for Евгений / Yevgeny, whose tokens sort
    # the other way round; Natalia and Yuri are split as if pinyin); the skeletons are one.
    assert key(cyrillic) != key(latin)
    assert name_skeleton(cyrillic) == name_skeleton(latin)


@pytest.mark.parametrize("cyrillic, latin", [("Андрей Попов", "Andrei Popov"), ("Дмитрий Соколов", "Dmitry Sokolov"),
                                             ("Ксения Орлова", "Ksenia Orlova"), ("Сергей Васильев", "Sergey Vasilyev")])
def test_a_variant_of_one_or_two_letters_is_close_for_the_resolver(cyrillic, latin):
    assert similarity(cyrillic, latin) >= 0.88


@pytest.mark.parametrize("written", ["Nguyễn Văn An", "Nguyen Van An", "NGUYỄN VĂN AN", "An Nguyen Van", "Nguyen, Van An"])
def test_a_vietnamese_name_with_and_without_diacritics_shares_one_key(written):
    assert key(written) == key("Nguyen Van An")


def test_vietnamese_letters_without_a_decomposition_are_read_too():
    assert key("Đặng Thị Bích Ngọc") == key("Dang Thi Bich Ngoc")
    assert key("Trần Hưng Đạo") == key("Tran Hung Dao")


@pytest.mark.parametrize("local, plain", [("Müller", "Muller"), ("José García", "Jose Garcia"), ("Łukasz Wiśniewski", "Lukasz Wisniewski"),
                                          ("Ayşe Yılmaz", "Ayse Yilmaz"), ("Søren Ørsted", "Soren Orsted"), ("Straßer", "Strasser"),
                                          ("Paweł Woźniak", "Pawel Wozniak"), ("Zoë Ångström", "Zoe Angstrom")])
def test_latin_letters_of_local_alphabets_meet_their_plain_form(local, plain):
    assert key(local) == key(plain)


def test_mueller_and_mueller_without_its_umlaut_meet_on_the_skeleton_and_are_close():
    assert name_skeleton("Hans Mueller") == name_skeleton("Hans Müller") == name_skeleton("Hans Muller")
    assert similarity("Hans Mueller", "Hans Müller") >= 0.88


@pytest.mark.parametrize("latin", ["Mohammed Ali", "Muhammad Ali", "Mohamed Aly", "MOHAMMAD ALI", "Ali, Muhammad"])
def test_an_arabic_name_meets_its_romanisations_on_the_skeleton(latin):
    assert name_skeleton("محمد علي") == name_skeleton(latin) == "al mhmd"


def test_an_arabic_name_is_written_in_latin_consonants_with_its_initial_vowel():
    assert normalise_name("محمد علي") == "mhmd aly"
    assert normalise_name("أحمد") == normalise_name("احمد") == "ahmd"
    assert name_skeleton("أحمد") == name_skeleton("Ahmed") == name_skeleton("Ahmad")
    assert name_skeleton("مُحَمَّد") == name_skeleton("Muhammad")  # written with its vowels, anyascii reads them


def test_the_arabic_article_is_one_word_with_its_noun_on_either_side():
    assert name_skeleton("محمد المنصوري") == name_skeleton("Mohammed Al Mansouri") == name_skeleton("Mohamed Al-Mansoori")
    assert name_skeleton("Omar El Sayed") == name_skeleton("Omar Al-Sayed")


def test_different_arabic_names_keep_different_skeletons():
    assert name_skeleton("أحمد") != name_skeleton("حامد")  # Ahmed, Hamid
    assert name_skeleton("محمد علي") != name_skeleton("عمر خالد")  # Omar Khalid
    assert name_skeleton("Fatima Saleh") != name_skeleton("Aisha Saleh")


@pytest.mark.parametrize("thai, latin", [("สมชาย ใจดี", "Somchai Jaidee"), ("มาลี บุญมี", "Malee Boonmee"), ("สมศักดิ์ ศรีสุข", "Somsak Srisuk")])
def test_a_thai_name_is_romanised_and_meets_its_latin_spelling_on_the_skeleton(thai, latin):
    assert normalise_name(thai).isascii()
    assert name_skeleton(thai) == name_skeleton(latin)


def test_a_thai_name_shares_the_tokens_that_rtgs_spells_as_people_do():
    assert "somchai" in key("สมชาย ใจดี").split() and "somchai" in key("Somchai Jaidee").split()


def test_a_hangul_name_is_read_as_latin_labels_write_it_family_name_then_given_name_as_one_word():
    assert normalise_name("김민수") == "kim min su"  # minsu, then split as run-together pinyin is
    assert similarity("김민수", "Kim Min-su") >= 0.88
    # the family name in its passport spelling, other latin spellings read as it
    # (jiho: ji ho, syllables of pinyin and of Hong Kong romanisation, like "Ji Ho")
    assert name_key(normalise_name("이지호")) == name_key(normalise_name("Ji-ho Rhee")) == name_key(normalise_name("Ji Ho Lee")) == "ho ji lee"
    assert name_key(normalise_name("장 도윤")) == name_key(normalise_name("JANG DO-YUN"))
    assert name_key(normalise_name("남궁민수")) == name_key(normalise_name("Namgung Minsu"))
    assert similarity("박영희", "Young-hee Pak") >= 0.75
    assert name_skeleton("이지호") == name_skeleton("Ji-ho Rhee")


def test_a_kanji_name_also_has_its_japanese_and_a_hanzi_name_its_wade_giles_reading():
    # each reading is keyed as the latin name would be (the same syllable split)
    for kanji, latin in (("中村 結衣", "Yui Nakamura"), ("佐藤 健太", "Kenta Sato"), ("山田 悠斗", "YAMADA Yuto"),
                         ("王俊傑", "WANG Chun-Chieh")):
        assert name_key(normalise_name(latin)) in name_readings(kanji).split("|")
        assert name_key(normalise_name(latin)) != name_key(normalise_name(kanji))
    assert name_readings("Yui Nakamura") is None and name_readings("杭州顺发磁性玩具有限公司") is None


def test_a_chinese_name_also_has_its_cantonese_reading_and_its_family_name_as_the_south_spells_it():
    # Hong Kong writes Cantonese (Hong Kong Government romanisation), Singapore and Malaysia the
    # family name in Hokkien, Teochew or Cantonese with the given name often in pinyin
    for hanzi, latin in (("吳志強", "NG Chi-keung"), ("劉詠詩", "Lau Wing Sze"), ("陳大文", "Chan Tai Man"),
                         ("黃俊傑", "Wong Chun Kit"), ("陈丽华", "Tan Li Hua"), ("张伟明", "Teo Weiming"),
                         ("黄俊杰", "Ooi Jun Jie"), ("吴志强", "Goh Zhi Qiang")):
        assert name_key(normalise_name(latin)) in name_readings(hanzi).split("|"), (hanzi, latin)
        assert name_key(normalise_name(latin)) != name_key(normalise_name(hanzi))
    # another person is not one of them: the given name differs in every reading
    assert name_key(normalise_name("Ng Mei Ling")) not in name_readings("吳志強").split("|")


def test_a_given_name_run_together_or_hyphenated_in_hong_kong_romanisation_is_split_like_pinyin():
    for written in ("Lam Ho-yin", "Lam Hoyin", "LAM Ho Yin"):
        assert key(written) == "ho lam yin"
    assert key("Li KokWai") == key("Li Kok Wai") and key("Tse Hoi-lam") == key("Hoi Lam Tse")
    # a word that is not made of syllables stays whole
    assert key("Bartholomew Smith") == "bartholomew smith"


def test_a_name_with_a_patronymic_also_reads_as_labels_write_it_without():
    for full, short in (("Алексеев Дмитрий Андреевич", "ALEKSEEV Dmitriy"), ("SEMYONOVA SVETLANA IVANOVNA", "Semyonova Svetlana"),
                        ("Савченко Ірина Петрівна", "Iryna Savchenko")):
        readings = (name_readings(full) or "").split("|")
        assert any(similarity_of_keys(r, key(short)) >= 0.88 for r in readings), (full, readings)
    # a name of two words keeps both, even when one ends like a patronymic (a Belarusian family name)
    assert "anna" not in (name_readings("Anna Lukashevich") or "").split("|")


def similarity_of_keys(a: str, b: str) -> float:
    from rapidfuzz import fuzz

    return fuzz.ratio(a, b) / 100


def test_a_customer_code_written_into_a_name_is_not_a_word_of_it():
    for written in ("Lotte de Vries (NL79080)", "JACKSON Brian #58458", "X-52723 Lotte de Vries"):
        assert name_key(normalise_name(written)) in ("de lotte vries", "brian jackson")
    assert normalise_name("Room 12 Li Wei") is not None and "12" in normalise_name("Room 12 Li Wei")


def test_a_chinese_name_has_no_skeleton_but_other_names_do():
    for written in ("张伟", "Zhang Wei", "Wei-Ming Zhang", "欧阳娜娜"):
        assert name_skeleton(written) is None
    assert name_skeleton("Anna Petrova") is not None and name_skeleton("Ivan") == "avn"


def test_party_mentions_carry_the_name_skeleton(tmp_path):
    con = _store(tmp_path, [parcel(parcel_id="S1", sender_name="张伟", receiver_name="محمد علي")])
    build_party_mentions(con)
    rows = dict(con.execute("SELECT role, name_skeleton FROM party_mentions").fetchall())
    assert rows == {"sender": None, "receiver": "al mhmd"}


# --- Issue 13: organisations across scripts ---------------------------------------------------

def test_a_hanzi_company_its_short_name_and_its_english_name_have_keys_that_meet():
    full, short, english = key("杭州顺发磁性玩具有限公司"), key("顺发磁性玩具"), key("HANGZHOU SHUNFA MAGNETIC TOY CO., LIMITED")
    assert full == english == "fa hang magnetic shun toy zhou"
    assert set(short.split()) < set(full.split())
    assert key("杭州顺发磁性玩具有限公司") == key("Hangzhou Shunfa Magnetic Toys Co., Ltd.") == key("hangzhou shunfa magnetic toy co ltd")


def test_a_traditional_hanzi_company_name_meets_its_simplified_form():
    assert key("杭州順發磁性玩具有限公司") == key("杭州顺发磁性玩具有限公司")
    assert key("陳偉") == key("陈伟") == key("Chen Wei")


@pytest.mark.parametrize("shop, english", [("顺发玩具店", "Shunfa Toys Store"), ("顺发玩具旗舰店", "Shunfa Toys Official Store"),
                                           ("顺发玩具厂", "Shunfa Toy Factory"), ("华信电子专营店", "Huaxin Electronics Shop")])
def test_a_shop_name_meets_its_english_and_its_words_are_the_companys(shop, english):
    assert key(shop) == key(english)
    assert set(key(shop).split()) <= set(key("杭州顺发玩具有限公司").split()) | set(key("华信电子有限公司").split())


@pytest.mark.parametrize("hanzi, english", [
    # real companies, not from our generator
    ("华为技术有限公司", "Huawei Technologies Co., Ltd."),
    ("宁波韵升股份有限公司", "Ningbo Yunsheng Co., Ltd."),
    ("厦门钨业股份有限公司", "Xiamen Tungsten Co., Ltd."),
    ("江西赣锋锂业股份有限公司", "Jiangxi Ganfeng Lithium Co., Ltd."),
    ("上海振华重工（集团）股份有限公司", "Shanghai Zhenhua Heavy Industries Co., Ltd."),
    ("湖南有色金属控股集团有限公司", "Hunan Nonferrous Metals Holding Group Co., Ltd."),
    ("云南锗业股份有限公司", "Yunnan Germanium Co., Ltd."),
    ("中国电子科技集团公司", "China Electronics Technology Group Corporation"),
    ("深圳市华信电子科技有限公司", "Shenzhen Huaxin Electronic Technology Co., Ltd."),
    ("义乌市顺发饰品商行", "Yiwu Shunfa Jewellery"),
    ("宁波永久磁业有限公司", "Ningbo Yongjiu Magnetics Co., Ltd."),
    ("广州联创新材料科技有限公司", "Guangzhou Lianchuang New Material Technology Co., Ltd."),
    ("东莞市天成文创礼品有限公司", "Dongguan Tiancheng Creative Gifts Co., Ltd."),
    ("深圳市科磁电子有限公司", "Shenzhen Keci Electronics Co., Ltd."),
    ("浙江众合金属粉末有限公司", "Zhejiang Zhonghe Metal Powder Co., Ltd."),
    ("苏州精密五金制品厂", "Suzhou Precision Hardware Products Factory"),
    ("青岛海纳进出口贸易有限公司", "Qingdao Haina Import & Export Trading Co., Ltd."),
    ("上海通达国际货运代理有限公司", "Shanghai Tongda International Freight Forwarding Co., Ltd."),
    ("北京中科三环高技术股份有限公司", "Beijing Zhongke Sanhuan Hi-Tech Co., Ltd."),
])
def test_real_chinese_company_names_meet_their_english_names(hanzi, english):
    assert key(hanzi) == key(english)


def test_trade_words_are_read_from_the_end_so_a_brand_keeps_its_characters():
    # 联创 + 新材料, not 联 + 创新 + 材料; 科磁 + 电子, not 科 + 磁电 + 子
    assert normalise_name("联创新材料") == "lian chuang new material"
    assert normalise_name("科磁电子") == "ke ci electronic"
    assert normalise_name("深圳华信电子城") == "shen zhen hua xin dian zi cheng"  # 电子城, a market, is no trade


def test_a_person_whose_given_name_is_a_trade_word_stays_a_person():
    assert normalise_name("李文化") == "li wen hua"
    assert normalise_name("欧阳文化") == "ou yang wen hua"  # ouyang is split as Ouyang Nana is
    assert normalise_name("王建国") == "wang jian guo"


def test_the_glossary_covers_the_trades_of_the_generator_and_common_ones():
    from linker.synth import words as W

    assert len(COMPANY_GLOSSARY) >= 80 and all(len(k) >= 2 for k in COMPANY_GLOSSARY)
    # (not 磁乐园, whose pinyin the generator writes Ciyuan)
    for brand_hz, brand_py in [b for b in W.COMPANY_BRANDS + W.SHOP_BRANDS if b[0] != "磁乐园"]:
        for trade_hz, trade_en in W.COMPANY_TRADES:
            full = key(f"深圳市{brand_hz}{trade_hz}有限公司")
            assert full == key(f"Shenzhen {brand_py} {trade_en} Co., Ltd."), (brand_hz, trade_hz)
            assert set(key(f"{brand_hz}{trade_hz}").split()) <= set(full.split())


def test_jieba_loads_its_bundled_dictionary_without_the_network():
    import socket

    from linker.stages import normalise

    normalise._jieba.cache_clear()
    normalise._hanzi_company.cache_clear()
    normalise._company_segment.cache_clear()
    real = socket.socket

    def no_network(*args, **kwargs):
        raise OSError("no network in this test")

    socket.socket = no_network
    try:
        assert normalise._hanzi_company("杭州顺发磁性玩具") == ("hang", "zhou", "shun", "fa", "magnetic", "toy")
    finally:
        socket.socket = real


# --- Issue 13: addresses in local conventions --------------------------------------------------

@pytest.mark.parametrize("written", ["ул. Ленина, д. 5, кв. 12, Москва", "ul. Lenina, d. 5, kv. 12, Moskva", "Moskva, ul. Lenina 5, kv 12",
                                     "5 Lenina St, Apt 12, Moskva", "Lenina Street 5, flat 12, Moskva", "ulitsa Lenina, dom 5, kvartira 12, Moskva",
                                     "Москва, улица Ленина, д.5, кв.12"])
def test_a_russian_address_meets_its_transliterated_and_english_forms_with_its_flat_apart(written):
    assert address_key(written) == address_key("5 Lenina Street, Moskva")
    assert unit(written) == "12"


@pytest.mark.parametrize("written", ["Số 12 Đường Lê Lợi, Phường 3, Quận 1, Thành phố Hồ Chí Minh",
                                     "So 12 Duong Le Loi, Phuong 3, Quan 1, TP. Ho Chi Minh", "12 Duong Le Loi, P.3, Q.1, TP.Ho Chi Minh",
                                     "12 Le Loi Street, Ward 3, District 1, Ho Chi Minh City"])
def test_a_vietnamese_address_with_and_without_diacritics_meets_its_english_form(written):
    assert address_key(written) == address_key("12 Le Loi Street, Ward 3, District 1, Ho Chi Minh City")


@pytest.mark.parametrize("written", ["Tverskaya 12, 125009 Moskva", "125009, Moskva, Tverskaya 12", "12 Tverskaya, Moskva 125009"])
def test_house_number_and_postcode_may_stand_anywhere(written):
    assert address_key(written) == address_key("Moskva 125009 Tverskaya 12")


@pytest.mark.parametrize("written", ["sklad 3, ul. Tole Bi 12, Almaty", "склад 3, ул. Толе би 12, Алматы", "Warehouse 3, 12 Tole Bi St, Almaty",
                                     "12 Tole Bi Street, Warehouse No. 3, Almaty"])
def test_a_warehouse_number_is_the_unit_of_an_address_without_another(written):
    assert unit(written) == "3"
    assert address_key(written) == address_key("12 Tole Bi St, Almaty")


@pytest.mark.parametrize("written", ["Warehouse 3, 12 Tole Bi St, Almaty, customer code KZ48213", "склад 3, ул. Толе би 12, код клиента KZ48213",
                                     "12 Tole Bi St, sklad 3, Suite KZ48213", "Warehouse 3, 12 Tole Bi St, 客户编号：KZ48213"])
def test_at_a_forwarding_warehouse_the_customer_code_is_the_unit_and_the_warehouse_is_not(written):
    assert unit(written) == "kz48213"
    assert "3" not in (address_key(written) or "").split()


def test_a_traditional_hanzi_address_meets_its_simplified_form():
    assert normalise_address("台北市信義區忠孝東路五段68號") == normalise_address("台北市信义区忠孝东路五段68号")


def test_a_block_letter_before_a_number_is_no_house_marker():
    assert address_key("Block D 5, Main St") == "5 block d main street"
    assert address_key("d. 5, Main St") == "5 main street"


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


def test_one_phone_written_three_ways_is_stored_as_its_own_number_only(tmp_path):
    """Issue 11: a Polish receiver's 696 672 022 was stored as +44696672022 (national form at his
    British forwarding warehouse), +48696672022 and +4448696672022 ("48-696672022" there)."""
    rows = [parcel(parcel_id=f"W{i}", dest_country=dest, receiver_phone=written)
            for i, (written, dest) in enumerate([("696 672 022", "GB"), ("+48 696 672 022", "GB"), ("48-696672022", "GB"),
                                                  ("696 672 022", "PL"), ("48-696672022", "PL"), ("0048696672022", "PL")])]
    con = _store(tmp_path, rows)
    build_party_mentions(con)
    stored = con.execute("SELECT phone_raw, country, phone_e164, phone_valid FROM party_mentions WHERE role = 'receiver' ORDER BY mention_id").fetchall()
    assert stored == [("696 672 022", "GB", "696672022", False), ("+48 696 672 022", "GB", "+48696672022", True),
                      ("48-696672022", "GB", "+48696672022", True), ("696 672 022", "PL", "+48696672022", True),
                      ("48-696672022", "PL", "+48696672022", True), ("0048696672022", "PL", "+48696672022", True)]


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
                "Huaxin Trading Co., Ltd.", "ouyang nana", "Jean-Pierre", "x'", "-", "张伟", "Ｚｈａｎｇ　Ｗｅｉ",
                # English spellings, the Arabic article, skeletons of words of all vowels or of one letter
                "Mohammed Al Mansouri", "al al ali", "el", "Ali al", "Shunfa Toys Store", "Hi-Tech Lab", "Imp & Exp Co",
                "Yusuf Ay", "a e i", "Q X", "Anna Petrova (KZ48213)", "Андрей Попов", "محمد علي", "สมชาย ใจดี",
                "Nguyễn Văn An", "杭州順發磁性玩具有限公司", "김민수", "Müller-Lüdenscheidt"]
TRICKY_ADDRESSES = [
    "123 Main St #450", "Ste. 450, 123 MAIN ST", "Suite-450 Main", "PO Box 77, 5 High St", "p o box 12", "unit5 #6",
    "广东省深圳市南山区科技园路12号1201室", "北京市朝阳区建国路88号", "Room 1201, 12 Keji Rd", "Rm 406, Bldg 20, 513 Jiangnan West Ave",
    "１２３ Ｍａｉｎ Ｓｔ． Ｓｕｉｔｅ ４５０", "Ringstraße 7, Köln", "ul. Gagarina, d. 13", "24-3-204 Chuangye Building", "#12suite 5",
    "Apt 3B, 10 O'Connell St", "深圳市宝安区光明南街256号A座", "12 Tole Bi St, Customer code CN48213", "WH-48213, 12 Tole Bi St",
    "ул. Абая 10, кв. 12, Алматы", "12 Tole Bi St, ID: 48213", "no.26 yanjiang east st", "1200 Industrial Ave Suite 4521, Wilmington DE",
    # local conventions: house and unit markers, warehouses, Vietnamese and Chinese forms, traditional hanzi
    "ul. Lenina, d. 5, kv. 12, Moscow", "d.5 kv.12", "So 12 Duong Le Loi, P.3, Q.1, TP.HCM", "Thanh pho Ho Chi Minh",
    "thanh  pho thanh pho", "e.g. moskva", "g.Moskva, pr. Mira 5", "Warehouse 3, 12 Tole Bi St", "sklad no. 3",
    "Warehouse 3, 12 Tole Bi St, Suite 4821", "sklad-3 warehouse 4", "#12 warehouse 5", "quan 1 quan 2", "Block D 5",
    "nr. 7, Hauptstr.", "客户编号：KZ4821 广州", "广州市白云区机场路12号唛头KZ4821", "q.1p.3", "kod klienta 48213, ul. Abaya 5",
    "of. 12", "Office 5, Main St", "Phong 1201", "can ho 5", "12 d.5", "dom 5 g. almaty", "台北市信義區忠孝東路五段68號",
    "Số 12 Đường Lê Lợi, Phường 3, Quận 1, TP. Hồ Chí Minh", "склад 3, ул. Толе би 12", "Straße 5 – «Ost»",
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
    for raw, norm, key, skeleton in con.execute("SELECT input, norm, key, skeleton FROM norm_cache_name").fetchall():
        assert (norm, key, skeleton) == (normalise_name(raw), name_key(normalise_name(raw)), name_skeleton(raw)), raw
    for raw, norm, key, unit_ in con.execute("SELECT input, norm, key, unit FROM norm_cache_address").fetchall():
        assert (norm, key, unit_) == normalise_address(raw), raw


PHONE_REGIONS = ["CN", "US", "CA", "GB", "JE", "RU", "KZ", "JP", "DE", "IT", "BR", "AR", "IN", "AU", "KR", "FR", "AE", "PL", "VN"]


def test_the_sql_phone_path_reads_every_shape_as_phonenumbers_does():
    import random

    import duckdb
    import phonenumbers
    from phonenumbers import PhoneNumberType as T

    from linker.stages.normalise import _phone_fast

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
                for shape in ("+" + cc + digits, digits, "0" + digits, "8" + digits, cc + digits, "+" + cc + "0" + digits,
                              cc + "-" + digits, cc + "-0" + digits, "011" + cc + digits):
                    rows.update({(shape, region), (shape, rng.choice(PHONE_REGIONS))})
    con = duckdb.connect()
    con.execute("CREATE TABLE src (phone_clean VARCHAR, country VARCHAR)")
    con.executemany("INSERT INTO src VALUES (?, ?)", sorted(rows))
    _phone_fast(con, "src", "fast")
    fast = con.execute("SELECT phone_clean, country, e164 FROM fast").fetchall()
    assert len(fast) > len(rows) / 5
    assert sum("-" in p for p, _, _ in fast) > 50  # the dashed shape is read in SQL too
    assert [(p, c, e, True) for p, c, e in fast] == [(p, c, *normalise_phone(p, c)) for p, c, e in fast]


# Thirty-six countries; each example number of phonenumbers (mobile, fixed line) written as it is
# written at home (national format, with its trunk prefix), as its bare national digits, with
# +CC, 00CC and "CC-" at home and at a mention in GB and in CN, and with 011 from the US and CA.
PHONE_COUNTRIES = ["PL", "CN", "GB", "US", "DE", "RU", "VN", "IN", "AE", "KZ", "FR", "JP", "KR", "IT", "ES", "NL", "BR", "AR",
                   "MX", "CA", "AU", "TR", "TH", "MY", "SG", "ID", "PH", "HK", "TW", "UA", "SA", "EG", "NG", "ZA", "IL", "CH"]


def _written_forms(region: str) -> list[tuple[str, str, str, str]]:
    """(as written, mention's country, E.164, form) for the example numbers of `region`."""
    import phonenumbers
    from phonenumbers import PhoneNumberFormat as F
    from phonenumbers import PhoneNumberType as T

    cc = str(phonenumbers.country_code_for_region(region))
    forms = []
    for kind in (T.MOBILE, T.FIXED_LINE):
        example = phonenumbers.example_number_for_type(region, kind)
        e164, nsn = phonenumbers.format_number(example, F.E164), phonenumbers.national_significant_number(example)
        forms += [(phonenumbers.format_number(example, F.NATIONAL), region, e164, "national"), (nsn, region, e164, "digits")]
        for at in sorted({region, "GB", "CN"}):
            forms += [(phonenumbers.format_number(example, F.INTERNATIONAL), at, e164, "+CC"),
                      (f"00{cc} {nsn}", at, e164, "00"), (f"{cc}-{nsn}", at, e164, "CC-")]
        if cc != "1":
            forms += [(f"011 {cc} {nsn}", at, e164, "011") for at in ("US", "CA")]
    return forms


def _also_national_there(written: str, at: str, e164: str) -> bool:
    """A "CC-" form whose digits are also a valid national number of the mention's country of
    another calling code ("1-506-234-5678" at a mention in CN is the mobile 150 6234 5678): it
    is read in the mention's country, as `normalise_phone` says."""
    import phonenumbers

    cleaned = clean_phone(written)
    return ("-" in cleaned and normalise_phone(cleaned.replace("-", ""), at)[1]
            and phonenumbers.country_code_for_region(at) != phonenumbers.parse(e164).country_code)


def test_every_written_form_of_a_number_of_36_countries_gives_one_e164_in_python_and_in_sql():
    import duckdb

    from linker.stages.normalise import _phone_fast

    forms = [f for region in PHONE_COUNTRIES for f in _written_forms(region)]
    assert len(forms) > 30 * 2 * 10
    con = duckdb.connect()
    con.execute("CREATE TABLE src (phone_clean VARCHAR, country VARCHAR)")
    con.executemany("INSERT INTO src VALUES (?, ?)", sorted({(clean_phone(w), at) for w, at, _, _ in forms}))
    _phone_fast(con, "src", "fast")
    by_sql = {(p, c): e for p, c, e in con.execute("SELECT phone_clean, country, e164 FROM fast").fetchall()}
    read, ambiguous = {}, []
    for written, at, e164, form in forms:
        got = normalise_phone(clean_phone(written), at)
        sql = by_sql.get((clean_phone(written), at))
        assert sql is None or (sql, True) == got, (written, at)
        if _also_national_there(written, at, e164):
            assert got == normalise_phone(clean_phone(written).replace("-", ""), at)
            ambiguous.append((written, at))
            continue
        read.setdefault(e164, set()).add(got)
    assert all(got == {(e164, True)} for e164, got in read.items()), {e: g for e, g in read.items() if g != {(e, True)}}
    assert len(ambiguous) <= 6, ambiguous
    assert len(by_sql) > len({(clean_phone(w), at) for w, at, _, _ in forms}) / 2  # SQL read most of them


def test_a_dashed_number_that_is_also_a_national_number_of_the_mentions_country_is_read_there():
    assert normalise_phone(clean_phone("1-506-234-5678"), "CN") == ("+8615062345678", True)
    assert normalise_phone(clean_phone("1-506-234-5678"), "GB") == ("+15062345678", True)


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


def test_the_phone_cache_never_hands_one_countrys_reading_to_a_mention_in_another(tmp_path):
    rows = [parcel(parcel_id=f"K{i}", dest_country=dest, receiver_phone="696672022") for i, dest in enumerate(["PL", "GB", "PL"])]
    con = _store(tmp_path, rows[:1])
    build_party_mentions(con)
    ingest_paths(con, [write_csv(tmp_path / "q.csv", rows[1:])])
    report = {}
    build_party_mentions(con, report=report, new_only=True)
    assert report["phone"]["new"] == 1  # (696672022, GB) is new although 696672022 is cached for PL
    stored = con.execute("SELECT country, phone_e164 FROM party_mentions WHERE role = 'receiver' ORDER BY mention_id").fetchall()
    assert stored == [("PL", "+48696672022"), ("GB", "696672022"), ("PL", "+48696672022")]
    assert sorted(con.execute("SELECT input, country, e164 FROM norm_cache_phone WHERE input = '696672022'").fetchall()) == [
        ("696672022", "GB", "696672022"), ("696672022", "PL", "+48696672022")]


def test_phones_cached_by_another_version_of_the_normaliser_are_read_again(tmp_path):
    con = _store(tmp_path, [parcel(parcel_id="O1", dest_country="GB", receiver_phone="48-696672022")])
    build_party_mentions(con)
    # What the normaliser of issue 11 had cached: the dash lost and the digits read as British.
    con.execute("UPDATE norm_cache_phone SET input = '48696672022', e164 = '+4448696672022', valid = FALSE WHERE country = 'GB'")
    con.execute("UPDATE norm_cache_version SET version = 'before-issue-11'")
    build_party_mentions(con)
    assert con.execute("SELECT phone_e164 FROM party_mentions WHERE role = 'receiver'").fetchall() == [("+48696672022",)]
    assert con.execute("SELECT count(*) FROM norm_cache_phone WHERE e164 = '+4448696672022'").fetchall() == [(0,)]


def test_linker_ingest_and_run_store_one_e164_per_number_of_nine_countries(tmp_path):
    """End to end through the CLI: each example number of nine countries in every written form,
    at home and at mentions in GB and CN, is one E.164 form in party_mentions and one phone node."""
    import subprocess
    import sys

    import duckdb

    countries = ["PL", "CN", "GB", "US", "DE", "RU", "VN", "IN", "AE"]
    forms = [f for region in countries for f in _written_forms(region) if f[3] != "011"]
    forms += [f for f in _written_forms("PL") if f[3] == "011"][:2]
    rows = []
    for i, (written, at, e164, form) in enumerate(forms):
        # Half as receivers (read in dest_country), half as senders (read in origin_country).
        role = ("sender", "origin_country") if i % 2 else ("receiver", "dest_country")
        rows.append(parcel(parcel_id=f"E{i:04d}", **{f"{role[0]}_phone": written, role[1]: at},
                           **{"receiver_phone" if i % 2 else "sender_phone": ""}))
    db = tmp_path / "e2e.duckdb"
    for command in (["ingest", str(write_csv(tmp_path / "forms.csv", rows))], ["run"]):
        proc = subprocess.run([sys.executable, "-m", "linker", *command, "--db", str(db)], capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
    con = duckdb.connect(str(db), read_only=True)
    stored = dict(con.execute(
        """SELECT parcel_id, phone_e164 || '|' || phone_valid FROM party_mentions
           WHERE phone_raw IS NOT NULL AND phone_raw <> ''""").fetchall())
    expected = {f"E{i:04d}": e164 for i, (_, _, e164, _) in enumerate(forms)}
    ambiguous = {p for p, (w, at, e164, _) in zip(expected, forms) if _also_national_there(w, at, e164)}
    assert {p: v for p, v in stored.items() if p not in ambiguous} == {p: f"{e}|true" for p, e in expected.items() if p not in ambiguous}
    nodes = {k for (k,) in con.execute("SELECT key FROM graph_nodes WHERE kind = 'phone'").fetchall()}
    assert {e for p, e in expected.items() if p not in ambiguous} <= nodes


def test_with_linker_sql_profile_set_each_statement_of_normalisation_is_timed_to_the_file(tmp_path, monkeypatch):
    import json

    profile = tmp_path / "sql-profile.jsonl"
    monkeypatch.setenv("LINKER_SQL_PROFILE", str(profile))
    con = _store(tmp_path, [parcel(parcel_id="P1", sender_name="张伟"), parcel(parcel_id="P2")])
    build_party_mentions(con)
    lines = [json.loads(line) for line in profile.read_text(encoding="utf-8").splitlines()]
    assert lines and all(line["seconds"] >= 0 and line["statement"] for line in lines)
    assert any(line["python_udf"] for line in lines) and not all(line["python_udf"] for line in lines)
    # the names SQL cannot read were normalised in a thread beside the statements, and say so
    beside = [line for line in lines if line.get("beside")]
    assert len(beside) == 1 and beside[0]["statement"].startswith("PYTHON names in Python (1 names)")


def test_a_failure_in_the_names_thread_reaches_the_caller_and_the_switch_interval_is_restored(tmp_path, monkeypatch):
    import sys

    from linker.stages import normalise

    before = sys.getswitchinterval()

    def broken(values, stop=None):
        raise RuntimeError("the names broke")

    monkeypatch.setattr(normalise, "_python_names", broken)
    con = _store(tmp_path, [parcel(parcel_id="P1", sender_name="张伟")])
    with pytest.raises(RuntimeError, match="the names broke"):
        build_party_mentions(con)
    assert sys.getswitchinterval() == before
    assert con.execute("SELECT count(*) FROM norm_cache_name").fetchall() == [(0,)]


def test_when_the_sql_beside_it_fails_the_names_thread_stops_at_once_instead_of_finishing(tmp_path, monkeypatch):
    import threading
    import time

    from linker.stages import normalise

    seen = []
    real = normalise.normalise_name

    def slow(value):  # ten seconds for the 200 names, were the thread not told to stop
        seen.append(value)
        time.sleep(0.05)
        return real(value)

    failed_at = []

    def broken(con):
        deadline = time.perf_counter() + 30
        while not seen and time.perf_counter() < deadline:  # (the thread is at work)
            time.sleep(0.01)
        failed_at.append(time.perf_counter())
        raise RuntimeError("the addresses broke")

    monkeypatch.setattr(normalise, "normalise_name", slow)
    monkeypatch.setattr(normalise, "_STOP_EVERY", 5)
    monkeypatch.setattr(normalise, "_fill_addresses", broken)
    con = _store(tmp_path, [parcel(parcel_id=f"P{i}", sender_name=f"张伟{chr(0x4e00 + i)}") for i in range(200)])
    with pytest.raises(RuntimeError, match="the addresses broke"):
        build_party_mentions(con)
    assert time.perf_counter() - failed_at[0] < 3  # (the 200 names would take 10 s)
    assert 0 < len(seen) < 200
    assert not [t for t in threading.enumerate() if t.name.startswith("linker-names")]


def test_a_python_step_of_a_script_runs_in_order_between_its_sql_statements_and_an_unknown_one_is_refused(tmp_path):
    from linker.store.sql import PYTHON_STEPS, execute_script, python_step

    @python_step("test_double")
    def _double(con, source, out):
        rows = con.execute(f"SELECT x FROM {source} ORDER BY x").fetchall()
        con.execute(f"CREATE TEMP TABLE {out} AS SELECT unnest(?::INTEGER[]) AS x", [[2 * x for (x,) in rows]])

    try:
        con = store.connect(tmp_path / "s.duckdb")
        execute_script(con, """CREATE TEMP TABLE a AS SELECT * FROM range(3) t(x);
        -- a comment before the step
        PYTHON test_double a b;
        CREATE TEMP TABLE c AS SELECT sum(x) AS s FROM b""")
        assert con.execute("SELECT s FROM c").fetchall() == [(6,)]
        with pytest.raises(KeyError, match="no Python step 'nowhere'"):
            execute_script(con, "PYTHON nowhere a b")
    finally:
        PYTHON_STEPS.pop("test_double", None)


def test_a_run_together_name_of_a_thousand_letters_is_read_without_passing_the_recursion_limit(tmp_path):
    # (the syllable split was recursive: "na" * 600 raised RecursionError and failed the stage)
    long_name = "na" * 600
    assert normalise_name(long_name) == long_name  # more than three syllables, no family name: whole
    con = _store(tmp_path, [parcel(parcel_id="P1", sender_name=long_name.upper()), parcel(parcel_id="P2", sender_name="Weiming Li")])
    build_party_mentions(con)
    assert con.execute("SELECT name_norm FROM party_mentions WHERE role = 'sender' ORDER BY parcel_id").fetchall() == [
        (long_name,), ("wei ming li",)]
