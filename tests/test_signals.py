"""Goods signals per parcel: each signal fires on what it should and stays quiet on look-alikes."""

from __future__ import annotations

import math

import pytest

from linker import store
from linker.settings.catalogue import default_catalogue_path, load_catalogue
from linker.stages.signals import compute_parcel_signals

DEFAULTS = dict(
    carrier="EMS", origin_country="CN", dest_country="DE", sender_name="Li Na", sender_address="1 Road",
    receiver_name="Anna", receiver_address="2 Strasse", declared_description="cotton t-shirts",
    hs_code=None, declared_weight_kg=1.0, gross_weight_kg=None, declared_value=None, currency="USD",
    declared_origin=None,
)


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue()


def load(tmp_path, *parcels: dict):
    """A real store holding the given parcels (the rest of each row from DEFAULTS)."""
    con = store.connect(tmp_path / "s.duckdb")
    for seq, fields in enumerate(parcels, 1):
        row = {**DEFAULTS, **fields}
        con.execute(
            """INSERT INTO parcels (parcel_seq, parcel_id, carrier, accepted_at, origin_country, dest_country,
                   sender_name, sender_address, receiver_name, receiver_address, declared_description, hs_code,
                   declared_weight_kg, gross_weight_kg, declared_value, currency, declared_origin,
                   file_id, source_line)
               VALUES (?, ?, ?, TIMESTAMP '2025-06-01 10:00', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?)""",
            [seq, f"EE{seq:09d}CN", row["carrier"], row["origin_country"], row["dest_country"], row["sender_name"],
             row["sender_address"], row["receiver_name"], row["receiver_address"], row["declared_description"],
             row["hs_code"], row["declared_weight_kg"], row["gross_weight_kg"], row["declared_value"], row["currency"],
             row["declared_origin"], seq],
        )
    return con


PARCELS: dict[str, dict] = {}


def parcel(name: str, **fields) -> str:
    """Declare a parcel of the shared store; tests refer to it by name."""
    assert name not in PARCELS, name
    PARCELS[name] = fields
    return name


class World:
    """The shared store, with all declared parcels, after one run of compute_parcel_signals."""

    def __init__(self, con):
        self.con = con
        self.seq = {name: seq for seq, name in enumerate(PARCELS, 1)}

    def signals(self, name: str) -> dict[str, tuple[str, float, str]]:
        """signal -> (commodity, strength, evidence) of one parcel."""
        rows = self.con.execute(
            "SELECT signal, commodity, strength, evidence FROM parcel_signals WHERE parcel_seq = ?", [self.seq[name]]
        ).fetchall()
        return {signal: (commodity, strength, evidence) for signal, commodity, strength, evidence in rows}

    def matched(self, name: str) -> set[str]:
        """Commodities that controlled_match finds in one parcel."""
        rows = self.con.execute(
            "SELECT commodity FROM parcel_signals WHERE signal = 'controlled_match' AND parcel_seq = ?", [self.seq[name]]
        ).fetchall()
        return {r[0] for r in rows}

    def goods(self, name: str) -> list[tuple]:
        return self.con.execute(
            "SELECT commodity, est_controlled_kg, basis FROM parcel_goods WHERE parcel_seq = ?", [self.seq[name]]
        ).fetchall()


@pytest.fixture(scope="module")
def world(tmp_path_factory, catalogue):
    con = load(tmp_path_factory.mktemp("signals"), *PARCELS.values())
    compute_parcel_signals(con, catalogue)
    yield World(con)
    con.close()


# --- controlled_match --------------------------------------------------------------------------

ENGLISH = parcel("english", declared_description="Dysprosium oxide 99.5%")
CHINESE = parcel("chinese", declared_description="高纯氧化铽粉末")
RUSSIAN = parcel("russian", declared_description="Оксид диспрозия, 1 кг")
UPPER_FORMULA = parcel("upper_formula", declared_description="DY2O3 POWDER")
FULL_WIDTH = parcel("full_width", declared_description="Ｔｂ４Ｏ７ sample")
TYPO = parcel("typo", declared_description="dysprosuim metal lumps")
IRIDIUM = parcel("iridium", declared_description="iridium crucible")
GERMANY = parcel("germany", declared_description="Посылка в Германия, одежда")
TERBIUM = parcel("terbium", declared_description="terbium metal")
WORDS = parcel("words", declared_description="In stock: Mo and Ga style shoes, W 30 L 32, made in EU, 1 TB drive, Y-neck")
SYMBOL_PURITY = parcel("symbol_purity", declared_description="Tb 99.99%")
SYMBOL_UPPER = parcel("symbol_upper", declared_description="TB 99.99% capacity")
DYSON = parcel("dyson", declared_description="Dyson vacuum cleaner parts, metal")
HEADING_ONLY = parcel("heading_only", declared_description="powder", hs_code="284690")
GENERIC = parcel("generic", declared_description="dysprosium rare earth oxide")
TWO = parcel("two", declared_description="镝铽合金 Dy/Tb alloy")
TSHIRTS = parcel("tshirts", declared_description="cotton t-shirts", hs_code="610910")


def test_english_name_is_matched(world):
    assert world.matched(ENGLISH) == {"dysprosium"}


def test_chinese_name_is_matched_inside_a_longer_word(world):
    assert world.matched(CHINESE) == {"terbium"}


def test_russian_name_is_matched(world):
    assert world.matched(RUSSIAN) == {"dysprosium"}


def test_formula_is_matched_as_a_whole_token_in_any_case(world):
    assert world.matched(UPPER_FORMULA) == {"dysprosium"}


def test_full_width_characters_are_folded_before_matching(world):
    assert world.matched(FULL_WIDTH) == {"terbium"}


def test_a_name_with_a_typo_is_matched_as_a_typo(world, catalogue):
    commodity, strength, evidence = world.signals(TYPO)["controlled_match"]
    assert commodity == "dysprosium" and "dysprosuim" in evidence and "typo" in evidence
    assert strength == pytest.approx(catalogue.signals.fuzzy_match_strength)


def test_a_near_miss_word_on_the_never_list_is_not_a_typo(world):
    assert world.matched(IRIDIUM) == set()


def test_russian_word_for_germany_is_not_germanium(world):
    assert world.matched(GERMANY) == set()


def test_one_controlled_name_is_not_taken_for_its_neighbour(world):
    assert world.matched(TERBIUM) == {"terbium"}


def test_bare_element_symbols_do_not_match_ordinary_words(world):
    assert world.matched(WORDS) == set()


def test_bare_element_symbol_matches_beside_a_purity(world):
    assert world.matched(SYMBOL_PURITY) == {"terbium"}


def test_bare_element_symbol_is_case_sensitive(world):
    assert world.matched(SYMBOL_UPPER) == set()


def test_symbol_inside_a_longer_word_does_not_match(world):
    assert world.matched(DYSON) == set()


def test_controlled_heading_alone_is_a_weaker_match(world, catalogue):
    commodity, strength, evidence = world.signals(HEADING_ONLY)["controlled_match"]
    assert commodity == "rare_earths" and "284690" in evidence
    assert strength == pytest.approx(catalogue.signals.heading_match_strength)
    assert strength < catalogue.signals.name_match_strength


def test_generic_rare_earths_give_way_to_the_specific_commodity(world):
    assert world.matched(GENERIC) == {"dysprosium"}


def test_two_named_commodities_give_two_matches(world):
    assert world.matched(TWO) == {"dysprosium", "terbium"}


def test_ordinary_goods_match_nothing(world):
    assert world.signals(TSHIRTS) == {}


# --- cover_description -------------------------------------------------------------------------

NICKEL_EN = parcel("nickel_en", declared_description="Nickel powder for lab")
NICKEL_ZH = parcel("nickel_zh", declared_description="镍粉")
FERRO_ZH = parcel("ferro_zh", declared_description="铁合金")
COVER_HEADING = parcel("cover_heading", declared_description="lumps", hs_code="72029900")
DY_FERRO = parcel("dy_ferro", declared_description="镝铁合金")


def test_cover_description_in_english_is_flagged(world, catalogue):
    commodity, strength, evidence = world.signals(NICKEL_EN)["cover_description"]
    assert "nickel powder" in evidence.lower() and strength == pytest.approx(catalogue.covers["nickel_powder"].strength)


def test_cover_used_only_for_rare_earths_is_attributed_to_rare_earths(world):
    assert world.signals(NICKEL_ZH)["cover_description"][0] == "rare_earths"


def test_cover_shared_by_unrelated_commodities_is_attributed_to_unknown(world):
    assert world.signals(FERRO_ZH)["cover_description"][0] == "unknown"


def test_cover_heading_alone_is_weaker_than_a_cover_description(world, catalogue):
    assert world.signals(COVER_HEADING)["cover_description"][1] == pytest.approx(catalogue.signals.cover_heading_strength)
    assert catalogue.signals.cover_heading_strength < catalogue.covers["ferro_alloy"].strength


def test_description_naming_the_controlled_metal_is_not_a_cover(world):
    got = world.signals(DY_FERRO)
    assert "cover_description" not in got and got["controlled_match"][0] == "dysprosium"


NI_POWDER = parcel("ni_powder", declared_description="Ni powder 500g")
FE_ALLOY = parcel("fe_alloy", declared_description="Fe alloy lumps")
GENERAL_MERCHANDISE = parcel("general_merchandise", declared_description="General Merchandise")
MERCHANDISE = parcel("merchandise", declared_description="sports merchandise, goods for fans")
MINI_POWDER = parcel("mini_powder", declared_description="Uni mini powder puff")
DY_FE_ALLOY = parcel("dy_fe_alloy", declared_description="Dy-Fe alloy")


def test_symbol_and_noun_form_of_a_cover_is_recognised(world, catalogue):
    commodity, strength, evidence = world.signals(NI_POWDER)["cover_description"]
    assert "nickel powder" in evidence and strength == pytest.approx(catalogue.covers["nickel_powder"].strength)


def test_fe_alloy_is_the_ferro_alloy_cover(world):
    assert "ferro-alloys" in world.signals(FE_ALLOY)["cover_description"][2]


def test_general_merchandise_is_the_weakest_cover(world, catalogue):
    strength = world.signals(GENERAL_MERCHANDISE)["cover_description"][1]
    assert strength == pytest.approx(catalogue.covers["ordinary_goods"].strength)
    assert strength <= min(k.strength for k in catalogue.covers.values())


def test_plain_shopping_words_are_no_cover(world):
    assert world.signals(MERCHANDISE) == {}


def test_a_symbol_inside_another_word_makes_no_cover(world):
    assert world.signals(MINI_POWDER) == {}


def test_symbol_alloy_naming_a_controlled_metal_is_no_cover(world):
    got = world.signals(DY_FE_ALLOY)
    assert "cover_description" not in got and got["controlled_match"][0] == "dysprosium"


# --- heading_mismatch --------------------------------------------------------------------------

DY_UNDER_COVER = parcel("dy_under_cover", declared_description="dysprosium metal", hs_code="72029980")
DY_UNDER_TOYS = parcel("dy_under_toys", declared_description="dysprosium metal", hs_code="950300")
DY_UNDER_OWN = parcel("dy_under_own", declared_description="dysprosium oxide", hs_code="28469019")
NICKEL_UNDER_2846 = parcel("nickel_under_2846", declared_description="nickel powder", hs_code="2846")
NICKEL_UNDER_OWN = parcel("nickel_under_own", declared_description="nickel powder", hs_code="750420")
DY_NO_HEADING = parcel("dy_no_heading", declared_description="dysprosium metal", hs_code=None)


def test_controlled_goods_under_their_cover_heading_is_a_strong_mismatch(world, catalogue):
    commodity, strength, evidence = world.signals(DY_UNDER_COVER)["heading_mismatch"]
    assert commodity == "dysprosium" and "72029980" in evidence and "ferro-alloys" in evidence
    assert strength == pytest.approx(catalogue.signals.mismatch_cover_heading_strength)


def test_controlled_goods_under_an_unrelated_heading_is_a_weaker_mismatch(world, catalogue):
    strength = world.signals(DY_UNDER_TOYS)["heading_mismatch"][1]
    assert strength == pytest.approx(catalogue.signals.mismatch_other_heading_strength)


def test_controlled_goods_under_their_own_heading_is_no_mismatch(world):
    assert "heading_mismatch" not in world.signals(DY_UNDER_OWN)


def test_cover_goods_under_a_controlled_heading_is_a_mismatch(world, catalogue):
    commodity, strength, evidence = world.signals(NICKEL_UNDER_2846)["heading_mismatch"]
    assert commodity == "rare_earths" and "nickel powder" in evidence
    assert strength == pytest.approx(catalogue.signals.mismatch_controlled_heading_strength)


def test_cover_goods_under_their_own_heading_is_no_mismatch(world):
    assert "heading_mismatch" not in world.signals(NICKEL_UNDER_OWN)


def test_no_heading_declared_is_no_mismatch(world):
    assert "heading_mismatch" not in world.signals(DY_NO_HEADING)


GE_UNDER_4_DIGITS = parcel("ge_under_4_digits", declared_description="germanium oxide", hs_code="2825")
GE_UNDER_10_DIGITS = parcel("ge_under_10_digits", declared_description="germanium oxide", hs_code="2825600010")
GE_UNDER_RARE_EARTHS = parcel("ge_under_rare_earths", declared_description="germanium oxide", hs_code="2846")
GE_UNDER_OTHER_2825 = parcel("ge_under_other_2825", declared_description="germanium oxide", hs_code="282550")
POWDER_UNDER_2825 = parcel("powder_under_2825", declared_description="powder", hs_code="2825")
DIAMOND_UNDER_2818 = parcel("diamond_under_2818", declared_description="diamond powder", hs_code="2818")


def test_a_less_precise_form_of_the_right_heading_is_no_mismatch(world):
    got = world.signals(GE_UNDER_4_DIGITS)
    assert "heading_mismatch" not in got and "less precise form of 282560" in got["controlled_match"][2]


def test_a_national_extension_of_the_right_heading_is_no_mismatch(world):
    assert "heading_mismatch" not in world.signals(GE_UNDER_10_DIGITS)


def test_another_controlled_heading_is_still_a_mismatch(world):
    assert world.signals(GE_UNDER_RARE_EARTHS)["heading_mismatch"][0] == "germanium"


def test_a_sibling_subheading_is_still_a_mismatch(world):
    assert "heading_mismatch" in world.signals(GE_UNDER_OTHER_2825)


def test_a_less_precise_code_alone_claims_no_controlled_heading(world):
    assert world.signals(POWDER_UNDER_2825) == {}


def test_a_less_precise_form_of_a_cover_heading_is_not_taken_for_the_cover(world, catalogue):
    # 2818 is aluminium oxides; only 2818.10 (artificial corundum) is the abrasive cover of diamond powder
    strength = world.signals(DIAMOND_UNDER_2818)["heading_mismatch"][1]
    assert strength == pytest.approx(catalogue.signals.mismatch_other_heading_strength)


# --- value_per_kg_anomaly ----------------------------------------------------------------------

DY_CHEAP = parcel("dy_cheap", declared_description="Dy2O3", declared_weight_kg=0.5, declared_value=3.0)
DY_REALISTIC = parcel("dy_realistic", declared_description="Dy2O3", declared_weight_kg=1.0, declared_value=260.0)
# 1000 per kg is a realistic dysprosium price in US dollars but not in roubles
DY_1000_USD = parcel("dy_1000_usd", declared_description="Dy2O3", declared_value=1000.0, currency="USD")
DY_1000_RUB = parcel("dy_1000_rub", declared_description="Dy2O3", declared_value=1000.0, currency="RUB")
DY_ODD_CURRENCY = parcel("dy_odd_currency", declared_description="Dy2O3", declared_value=1.0, currency="XXX")
FERRO_DEAR = parcel("ferro_dear", declared_description="ferrous alloy", declared_value=800.0)
FERRO_CHEAP = parcel("ferro_cheap", declared_description="ferrous alloy", declared_value=0.5)


def test_controlled_goods_declared_far_below_their_price_are_an_anomaly(world, catalogue):
    commodity, strength, evidence = world.signals(DY_CHEAP)["value_per_kg_anomaly"]
    price = catalogue.commodities["dysprosium"].price_usd_per_kg
    expected = min(1.0, math.log10(price / 6.0) / catalogue.signals.value_full_strength_decades)
    assert commodity == "dysprosium" and strength == pytest.approx(expected) and "6.00 USD/kg" in evidence


def test_controlled_goods_at_a_realistic_price_are_no_anomaly(world):
    assert "value_per_kg_anomaly" not in world.signals(DY_REALISTIC)


def test_declared_value_is_converted_to_usd_before_comparing(world):
    assert "value_per_kg_anomaly" not in world.signals(DY_1000_USD)
    assert "value_per_kg_anomaly" in world.signals(DY_1000_RUB)


def test_unknown_currency_gives_no_value_judgement(world):
    assert "value_per_kg_anomaly" not in world.signals(DY_ODD_CURRENCY)


def test_cover_goods_priced_like_a_controlled_metal_are_an_anomaly(world):
    assert "ferro-alloys" in world.signals(FERRO_DEAR)["value_per_kg_anomaly"][2]


def test_cover_goods_below_their_own_price_are_no_anomaly(world):
    assert "value_per_kg_anomaly" not in world.signals(FERRO_CHEAP)


# --- concealment -------------------------------------------------------------------------------

# The seed line of detection (scoring.toml [graph] seed_min_confidence): a signal at least this
# strong makes a parcel the start of an operation, so "meaningful" means at least this.
SEED_CONFIDENCE = 0.2


def allowance(s, declared: float) -> float:
    return s.packaging_allowance_kg + s.packaging_allowance_ratio * declared


def hidden_strength(s, declared: float, gross: float) -> float:
    r = (gross - declared - allowance(s, declared)) / (declared + s.packaging_small_max_kg)
    return r * r / (r * r + s.concealment_half_strength_ratio ** 2)


SHIPPED = load_catalogue().signals  # parcels at the edges below are placed relative to its allowance
HEAVY = parcel("heavy", declared_weight_kg=1.0, gross_weight_kg=4.0)
BOOKS = parcel("books", declared_description="books", declared_weight_kg=2.0, gross_weight_kg=2.3)
DOCUMENT = parcel("document", declared_description="documents", declared_weight_kg=0.1, gross_weight_kg=0.25)
TEA_SET = parcel("tea_set", declared_description="ceramic tea set", declared_weight_kg=0.6, gross_weight_kg=1.0)
NOTHING_DECLARED = parcel("nothing_declared", declared_weight_kg=0.0, gross_weight_kg=0.6)
KILO_HIDDEN = parcel("kilo_hidden", declared_weight_kg=1.0, gross_weight_kg=1.0 + allowance(SHIPPED, 1.0) + 1.0)
# The same 0.5 kg beyond the allowance on light and on heavy declared contents.
LIGHT_GAP = parcel("light_gap", declared_weight_kg=0.5, gross_weight_kg=0.5 + allowance(SHIPPED, 0.5) + 0.5)
HEAVY_GAP = parcel("heavy_gap", declared_weight_kg=5.0, gross_weight_kg=5.0 + allowance(SHIPPED, 5.0) + 0.5)
# Excess over the allowance just below and just above the minimum, and a ladder of growing
# excess on the same declared weight.
EDGE = 1.0 + allowance(SHIPPED, 1.0) + SHIPPED.concealment_min_excess_kg
BELOW_MINIMUM = parcel("below_minimum", declared_weight_kg=1.0, gross_weight_kg=round(EDGE - 0.01, 3))
ABOVE_MINIMUM = parcel("above_minimum", declared_weight_kg=1.0, gross_weight_kg=round(EDGE + 0.01, 3))
LADDER = [parcel(f"ladder_{k}", declared_weight_kg=1.0, gross_weight_kg=round(EDGE + k, 3))
          for k in (0.01, 0.03, 0.05, 0.15, 0.4, 0.65, 1.15, 1.65, 2.65, 4.65)]


def test_gross_weight_far_above_declared_is_concealment(world, catalogue):
    s = catalogue.signals
    hidden = 4.0 - 1.0 - allowance(s, 1.0)
    commodity, strength, evidence = world.signals(HEAVY)["concealment"]
    assert commodity == "unknown" and f"{hidden:.2f} kg" in evidence
    assert strength == pytest.approx(hidden_strength(s, 1.0, 4.0))


def test_packaging_of_a_book_parcel_is_not_concealment(world):
    assert "concealment" not in world.signals(BOOKS)


def test_packaging_that_outweighs_a_tiny_item_is_not_concealment(world):
    assert "concealment" not in world.signals(DOCUMENT)


def test_four_hundred_grams_over_a_small_declared_parcel_is_a_weak_row_that_seeds_nothing(world):
    # a gift box and filling can weigh that much: evidence to add to others, not a start on its own
    assert 0 < world.signals(TEA_SET)["concealment"][1] < SEED_CONFIDENCE


def test_a_kilo_unexplained_on_a_kilo_declared_is_a_seed(world):
    assert world.signals(KILO_HIDDEN)["concealment"][1] >= SEED_CONFIDENCE


def test_weight_with_nothing_declared_is_strong_concealment(world):
    assert world.signals(NOTHING_DECLARED)["concealment"][1] > 0.8


def test_the_same_excess_weighs_more_on_lighter_declared_contents(world):
    assert world.signals(LIGHT_GAP)["concealment"][1] > 2 * world.signals(HEAVY_GAP)["concealment"][1]


def test_an_excess_below_the_minimum_gives_no_row(world):
    assert "concealment" not in world.signals(BELOW_MINIMUM)


def test_an_excess_just_above_the_minimum_gives_a_weak_row(world):
    assert 0 < world.signals(ABOVE_MINIMUM)["concealment"][1] < 0.1


def test_concealment_strength_rises_smoothly_with_the_excess(world):
    strengths = [world.signals(name)["concealment"][1] for name in LADDER]
    assert strengths == sorted(strengths) and len(set(strengths)) == len(strengths)
    assert strengths[0] < 0.1 and strengths[-1] > 0.9
    # no step just above the minimum: 20 g more moves the strength by little
    assert all(b - a < 0.05 for a, b in zip(strengths[:2], strengths[1:3]))


def test_concealed_goods_count_the_excess_with_the_strength_as_confidence(world, catalogue):
    s = catalogue.signals
    [(commodity, kg, basis, confidence)] = world.con.execute(
        "SELECT commodity, est_controlled_kg, basis, confidence FROM parcel_goods WHERE parcel_seq = ?",
        [world.seq[TEA_SET]]).fetchall()
    assert (commodity, basis) == ("unknown", "concealed")
    assert kg == pytest.approx(1.0 - 0.6 - allowance(s, 0.6))
    assert confidence == pytest.approx(world.signals(TEA_SET)["concealment"][1])


def test_concealment_settings_come_from_the_catalogue_file(tmp_path):
    text = default_catalogue_path().read_text(encoding="utf-8").replace(
        "concealment_min_excess_kg = 0.1", "concealment_min_excess_kg = 5.0", 1)
    (tmp_path / "strict.toml").write_text(text, encoding="utf-8")
    con = load(tmp_path, dict(declared_weight_kg=1.0, gross_weight_kg=4.0))
    compute_parcel_signals(con, load_catalogue(tmp_path / "strict.toml"))
    assert con.execute("SELECT count(*) FROM parcel_signals WHERE signal = 'concealment'").fetchone()[0] == 0


# --- false_origin, transshipment ---------------------------------------------------------------

ORIGIN_DE = parcel("origin_de", declared_origin="DE", origin_country="CN")
ORIGIN_JP = parcel("origin_jp", declared_origin="JP")
ORIGIN_JP_GOODS = parcel("origin_jp_goods", declared_origin="JP", declared_description="Tb4O7")
ORIGIN_SAME = parcel("origin_same", declared_origin="cn", origin_country="CN")
DY_TO_KZ = parcel("dy_to_kz", declared_description="Dy2O3", dest_country="KZ")
DY_TO_DE = parcel("dy_to_de", declared_description="Dy2O3", dest_country="DE")
TSHIRTS_TO_KZ = parcel("tshirts_to_kz", declared_description="cotton t-shirts", dest_country="KZ")


def test_declared_origin_other_than_posting_country_is_false_origin(world):
    evidence = world.signals(ORIGIN_DE)["false_origin"][2]
    assert "DE" in evidence and "CN" in evidence


def test_false_origin_weighs_more_on_controlled_goods(world):
    assert world.signals(ORIGIN_JP)["false_origin"][1] < world.signals(ORIGIN_JP_GOODS)["false_origin"][1]


def test_declared_origin_equal_to_posting_country_is_no_false_origin(world):
    assert "false_origin" not in world.signals(ORIGIN_SAME)


def test_controlled_goods_to_a_transit_country_is_transshipment(world):
    commodity, _, evidence = world.signals(DY_TO_KZ)["transshipment"]
    assert commodity == "dysprosium" and "KZ" in evidence


def test_controlled_goods_elsewhere_is_no_transshipment(world):
    assert "transshipment" not in world.signals(DY_TO_DE)


def test_ordinary_goods_to_a_transit_country_is_no_transshipment(world):
    assert "transshipment" not in world.signals(TSHIRTS_TO_KZ)


# --- legitimate look-alikes --------------------------------------------------------------------

LICENSED = parcel(
    "licensed", declared_description="Dysprosium oxide 99.5%", hs_code="28469019", declared_weight_kg=25.0,
    gross_weight_kg=26.0, declared_value=6500.0, declared_origin="CN", dest_country="JP")
MAGNET_SHOP = parcel(
    "magnet_shop", declared_description="NdFeB fridge magnets N52, 100 pcs", hs_code="85051110",
    declared_weight_kg=0.8, gross_weight_kg=1.0, declared_value=45.0, dest_country="US")
MAGNET_BLOCKS = parcel(
    "magnet_blocks", declared_description="NdFeB block magnets N52 20x10x5mm", hs_code="85051110",
    declared_weight_kg=0.8, gross_weight_kg=1.0, declared_value=45.0, dest_country="US")
MAGNET_TILES = parcel(
    "magnet_tiles", declared_description="Magnetic building tiles 35pcs", hs_code="8505.19",
    declared_weight_kg=1.4, gross_weight_kg=1.7, declared_value=38.0, dest_country="DE")
MAGNET_TOYS_ZH = parcel(
    "magnet_toys_zh", declared_description="磁力片玩具 64片", hs_code="9503",
    declared_weight_kg=1.1, gross_weight_kg=1.3, declared_value=29.0, dest_country="FR")
ALLOY_PARTS = parcel(
    "alloy_parts", declared_description="iron alloy bicycle parts", hs_code="871496",
    declared_weight_kg=2.0, gross_weight_kg=2.3, declared_value=35.0, dest_country="US")
GERMANIUM_BRACELET = parcel(
    "germanium_bracelet", declared_description="titanium germanium bracelet", hs_code="7117.19",
    declared_weight_kg=0.1, gross_weight_kg=0.15, declared_value=25.0, dest_country="US")
COTTON_VN = parcel(
    "cotton_vn", declared_description="T-shirt 100% cotton, made in Vietnam", hs_code="6109",
    declared_weight_kg=2.0, gross_weight_kg=2.2, declared_value=40.0, dest_country="US")
INNER_MONGOLIA = parcel(
    "inner_mongolia", declared_description="内蒙古产氧化镝 99.5%", hs_code="2846.90",
    declared_weight_kg=50.0, gross_weight_kg=52.0, declared_value=20000.0, dest_country="JP")
DY_PELLETS = parcel(
    "dy_pellets", declared_description="镝 10粒", hs_code="9503", declared_weight_kg=0.5, gross_weight_kg=0.6,
    declared_value=10.0, dest_country="US")
PARTS_UNDER_FERRO = parcel(
    "parts_under_ferro", declared_description="spare parts", hs_code="7202.99", declared_weight_kg=1.0,
    gross_weight_kg=1.1, declared_value=5.0, dest_country="KZ")
DY_TOY = parcel(
    "dy_toy", declared_description="dysprosium oxide toy set", hs_code="9503",
    declared_weight_kg=0.5, gross_weight_kg=0.6, declared_value=10.0, dest_country="US")
RELABELLED = parcel(
    "relabelled", declared_description="metal powder, not of Chinese origin", hs_code="8112",
    declared_weight_kg=0.9, gross_weight_kg=1.1, declared_value=20.0, dest_country="KZ")
SHOES_MADE_IN_VN = parcel(
    "shoes_vn", declared_description="sports shoes made in Vietnam", hs_code="6404",
    declared_weight_kg=0.9, gross_weight_kg=1.2, declared_value=40.0, dest_country="US")


def test_licensed_exporter_correctly_declaring_dysprosium_oxide_raises_only_the_match(world):
    assert set(world.signals(LICENSED)) == {"controlled_match"}


def test_shop_selling_ndfeb_magnet_blocks_at_retail_raises_only_a_moderate_match(world, catalogue):
    got = world.signals(MAGNET_BLOCKS)
    assert set(got) == {"controlled_match"}
    assert got["controlled_match"][1] < catalogue.signals.name_match_strength


def test_finished_magnet_articles_are_not_magnet_material(world):
    # fridge magnets, magnetic building tiles and magnetic toys under 8505.11, 8505.19 or 9503
    # (DOMAIN.md): not a controlled match, not a cover, no value anomaly against ferrite's price
    for p in (MAGNET_SHOP, MAGNET_TILES, MAGNET_TOYS_ZH):
        assert world.signals(p) == {}, p
        assert world.goods(p) == [], p


def test_a_cover_word_in_a_finished_article_makes_no_controlled_kg(world):
    assert world.signals(ALLOY_PARTS) == {}
    assert world.goods(ALLOY_PARTS) == []


def test_a_finished_article_does_not_hide_a_named_controlled_material(world):
    assert "controlled_match" in world.signals(DY_TOY)  # "dysprosium oxide toy set": an oxide


def test_jewellery_named_after_a_metal_is_jewellery(world):
    assert world.signals(GERMANIUM_BRACELET) == {}


def test_relabelling_wording_is_a_strong_false_origin_and_makes_material_a_seed(world, catalogue):
    got = world.signals(RELABELLED)
    assert got["false_origin"][1] == catalogue.signals.relabel_strength
    assert "not of Chinese origin" in got["false_origin"][2]
    assert world.goods(RELABELLED) == [("unknown", 0.9, "relabelled")]


def test_relabelling_wording_on_ordinary_goods_is_weak(world, catalogue):
    got = world.signals(SHOES_MADE_IN_VN)
    assert got["false_origin"][1] == catalogue.signals.false_origin_strength
    assert world.goods(SHOES_MADE_IN_VN) == []


# --- parcel_goods and the tables as a whole ----------------------------------------------------

NAMED_GOODS = parcel("named_goods", declared_description="氧化镝", declared_weight_kg=0.4)
COVER_HEAVY = parcel("cover_heavy", declared_description="nickel powder", declared_weight_kg=1.0, gross_weight_kg=4.0)
PLAIN = parcel("plain", declared_description="cotton t-shirts", gross_weight_kg=1.2)


def test_named_goods_count_their_declared_weight(world):
    assert world.goods(NAMED_GOODS) == [("dysprosium", 0.4, "declared")]


def test_concealed_goods_count_the_unexplained_weight_as_unknown(world, catalogue):
    [(commodity, kg, basis)] = world.goods(HEAVY)
    assert (commodity, basis) == ("unknown", "concealed")
    assert kg == pytest.approx(3.0 - allowance(catalogue.signals, 1.0))


def test_cover_goods_with_a_weight_gap_count_both(world, catalogue):
    s = catalogue.signals
    [(commodity, kg, basis)] = world.goods(COVER_HEAVY)
    assert (commodity, basis) == ("rare_earths", "cover+concealed")
    assert kg == pytest.approx(1.0 + 3.0 - allowance(s, 1.0))


def test_ordinary_parcels_carry_no_controlled_goods(world):
    assert world.goods(PLAIN) == []


def test_every_signal_has_a_strength_between_0_and_1_and_evidence(world):
    bad = world.con.execute(
        "SELECT count(*) FROM parcel_signals WHERE NOT (strength > 0 AND strength <= 1) OR coalesce(evidence, '') = ''"
    ).fetchone()[0]
    assert bad == 0


def test_thresholds_of_every_commodity_are_available_in_sql(world, catalogue):
    rows = dict(world.con.execute("SELECT commodity, threshold_kg FROM catalogue_commodities").fetchall())
    assert rows["terbium"] == catalogue.commodities["terbium"].threshold_kg
    assert rows["unknown"] == catalogue.signals.unknown_threshold_kg


def test_recomputing_replaces_the_tables_with_the_same_rows(tmp_path, catalogue):
    con = load(tmp_path, dict(declared_description="Dy2O3", dest_country="KZ", declared_origin="DE", declared_value=1.0),
               dict(declared_description="nickel powder", hs_code="2846", gross_weight_kg=5.0))
    first_n = compute_parcel_signals(con, catalogue)
    first = con.execute("SELECT * FROM parcel_signals").fetchall()
    assert compute_parcel_signals(con, catalogue) == first_n == len(first)
    assert con.execute("SELECT * FROM parcel_signals").fetchall() == first


def test_no_parcels_give_no_signals(tmp_path, catalogue):
    con = load(tmp_path)
    assert compute_parcel_signals(con, catalogue) == 0


def test_a_percentage_or_a_powder_is_no_metal_material_to_relabel(world):
    # "100% cotton, made in Vietnam": honest wording on clothes, no seed
    assert world.goods(COTTON_VN) == []


def test_inner_mongolia_is_china_not_mongolia(world):
    assert "false_origin" not in world.signals(INNER_MONGOLIA)


def test_a_sold_count_does_not_hide_a_named_metal(world):
    assert "controlled_match" in world.signals(DY_PELLETS)


def test_an_article_under_a_cover_heading_that_does_not_fit_it_is_still_a_cover(world):
    assert "cover_description" in world.signals(PARTS_UNDER_FERRO)
