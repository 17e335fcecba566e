"""The synthetic world: deterministic, in every contract format, with truth for every parcel, every
ring typology and look-alike present, realistic identifiers, and no truth hidden in the fields."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import phonenumbers
import polars as pl
import pytest

from linker.synth import words as W
from linker.store import COLUMN_NAMES
from linker.synth import TYPOLOGIES, World, generate, synthesise, truth_paths

N = 5000


@pytest.fixture(scope="module")
def world() -> World:
    return generate(N, seed=7)


@pytest.fixture(scope="module")
def joined(world: World) -> pl.DataFrame:
    return world.parcels.join(world.truth, on=["parcel_id", "carrier"], how="left")


def _read(path: Path) -> pl.DataFrame:
    name = path.name
    if name.endswith(".parquet"):
        return pl.read_parquet(path)
    if ".jsonl" in name:
        return pl.read_ndjson(path, infer_schema_length=None)
    return pl.read_csv(path, infer_schema=False)


def test_same_seed_writes_byte_identical_files(tmp_path: Path) -> None:
    for run in ("a", "b"):
        synthesise(1500, tmp_path / run / "p.csv.gz", seed=5)
    for name in ("p.csv.gz", "p.truth.parquet", "p.rings.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    truth = pl.read_parquet(tmp_path / "a" / "p.truth.parquet")
    assert {"sender_household", "receiver_household"} <= set(truth.columns)
    assert truth["sender_household"].is_not_null().any() and truth["receiver_household"].is_not_null().any()


def test_different_seed_gives_a_different_world() -> None:
    a, b = generate(800, seed=1), generate(800, seed=2)
    assert not a.parcels.equals(b.parcels)


@pytest.mark.parametrize("ext", [".csv", ".csv.gz", ".parquet", ".jsonl", ".jsonl.gz"])
def test_every_format_reads_back_with_the_contract_columns(tmp_path: Path, ext: str) -> None:
    out = tmp_path / f"parcels{ext}"
    summary = synthesise(600, out, seed=3)
    back = _read(out)
    assert tuple(back.columns) == COLUMN_NAMES
    assert back.height == summary.parcels == 600
    assert back["parcel_id"].null_count() == 0


def test_generated_parcels_have_exactly_the_contract_columns_in_order(world: World) -> None:
    assert tuple(world.parcels.columns) == COLUMN_NAMES
    assert world.parcels.height == N


def test_unknown_extension_is_a_clear_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\.csv, \.csv\.gz, \.parquet, \.jsonl or \.jsonl\.gz"):
        synthesise(100, tmp_path / "parcels.xlsx")


def test_truth_and_rings_lie_beside_the_parcels_without_data_extensions(tmp_path: Path) -> None:
    out = tmp_path / "data" / "p.csv.gz"
    summary = synthesise(400, out, seed=3)
    truth, rings = truth_paths(out)
    assert truth == tmp_path / "data" / "p.truth.parquet"
    assert rings == tmp_path / "data" / "p.rings.csv"
    assert truth.exists() and rings.exists()
    assert set(summary.files) == {out, truth, rings}
    assert "400 parcels" in summary.describe()


def test_truth_covers_every_parcel_exactly_once(world: World) -> None:
    keys = ["parcel_id", "carrier"]
    assert world.truth.height == world.parcels.height
    assert world.truth.select(keys).sort(keys).equals(world.parcels.select(keys).sort(keys))
    assert world.truth["sender_entity"].null_count() == 0
    assert world.truth["receiver_entity"].null_count() == 0


def test_parcel_id_and_carrier_are_unique(world: World) -> None:
    assert world.parcels.select(pl.struct("parcel_id", "carrier").n_unique()).item() == N


def test_every_typology_has_at_least_two_rings_at_five_thousand_parcels(world: World) -> None:
    counts = dict(world.rings["typology"].value_counts().iter_rows())
    assert all(counts.get(t, 0) >= 2 for t in TYPOLOGIES), counts


def test_ring_parcels_are_at_most_two_percent_of_traffic(joined: pl.DataFrame) -> None:
    share = (joined["actor_kind"] == "ring").mean()
    assert 0 < share <= 0.02


def test_rings_file_agrees_with_the_truth(world: World) -> None:
    per_ring = (world.truth.filter(pl.col("ring_id").is_not_null())
                .group_by("ring_id").agg(pl.len().alias("n"), pl.col("true_controlled_kg").sum().alias("kg")))
    merged = world.rings.join(per_ring, on="ring_id")
    assert merged.height == world.rings.height
    assert (merged["parcels"] == merged["n"]).all()
    assert ((merged["true_controlled_kg"] - merged["kg"]).abs() < 0.01).all()


def test_ring_parcels_are_small_but_each_ring_adds_up_to_kilograms(joined: pl.DataFrame, world: World) -> None:
    ring = joined.filter(pl.col("actor_kind") == "ring")
    assert ring["true_controlled_kg"].max() <= 2.0
    assert world.rings["true_controlled_kg"].min() >= 5.0


def test_lookalike_kinds_are_present(joined: pl.DataFrame) -> None:
    kinds = set(joined["actor_kind"].unique().to_list())
    assert {"background", "shop", "exporter", "forwarder_customer", "outlet_customer", "ring"} <= kinds


def test_shops_declare_headings_that_fit_the_goods_of_their_trade(joined: pl.DataFrame) -> None:
    shops = joined.filter((pl.col("actor_kind") == "shop") & pl.col("hs_code").is_not_null())
    assert shops.height > 0
    for kind, (_, _, lines) in W.SHOP_KINDS.items():
        allowed = {code[:4] for line in lines for code in line[2]}
        allowed |= {t.partition("|")[2][:4] for line in lines for t in line[1] if "|" in t}
        hs = shops.filter(pl.col("lookalike_kind") == kind)["hs_code"].str.replace_all(r"\D", "").str.slice(0, 4)
        assert hs.is_in(sorted(allowed)).all(), kind


def test_exporters_declare_large_consignments_of_controlled_goods_correctly(joined: pl.DataFrame) -> None:
    exp = joined.filter(pl.col("lookalike_kind") == "licensed_exporter")
    assert exp["declared_weight_kg"].min() >= 50
    assert exp["commodity"].null_count() == 0


def test_forwarding_warehouse_receives_for_many_customers_told_apart_by_suite(joined: pl.DataFrame) -> None:
    fwd = joined.filter(pl.col("actor_kind") == "forwarder_customer")
    assert fwd["receiver_entity"].n_unique() >= 50
    # The customer code is in the address or in the name line, in one of the warehouses' forms.
    code = r"(Suite|Ste\.?|Unit|Box|PMB|ID:|#|customer|code) ?[A-Z]{0,2}-?\d{4,5}|[A-Z]{1,2}-?\d{4,5}"
    with_code = (fwd["receiver_address"] + " " + fwd["receiver_name"]).str.contains(code).mean()
    assert with_code > 0.95


def test_outlet_shares_its_account_across_unrelated_walk_in_customers(joined: pl.DataFrame) -> None:
    out = joined.filter((pl.col("actor_kind") == "outlet_customer") & pl.col("payer_account").is_not_null())
    per_account = out.group_by("payer_account").agg(pl.col("sender_entity").n_unique().alias("senders"))
    assert per_account["senders"].max() >= 10


def test_recruited_senders_are_distinct_people_paid_from_one_account(joined: pl.DataFrame) -> None:
    rec = joined.filter(pl.col("typology") == "recruited_senders")
    paid = rec.filter(pl.col("payer_account").is_not_null())
    per_ring = rec.group_by("ring_id").agg(pl.col("sender_entity").n_unique().alias("senders"))
    # One account pays for most of them (a ring that also switches channels mixes in a few wallets).
    top_share = (paid.group_by("ring_id", "payer_account").len()
                 .group_by("ring_id").agg((pl.col("len").max() / pl.col("len").sum()).alias("share")))
    assert (per_ring["senders"] >= 3).all()
    assert (top_share["share"] >= 0.5).all()


def test_splitting_organiser_is_one_entity_behind_several_names(joined: pl.DataFrame) -> None:
    split = joined.filter(pl.col("typology") == "splitting")
    per_ring = split.group_by("ring_id").agg(pl.col("sender_entity").n_unique().alias("entities"),
                                             pl.col("sender_name").n_unique().alias("names"))
    assert (per_ring["entities"] == 1).all()
    assert (per_ring["names"] >= 2).all()


def test_concealment_gross_weight_is_well_above_the_declared_weight(joined: pl.DataFrame) -> None:
    gap = joined.filter(pl.col("gross_weight_kg").is_not_null()).with_columns(
        excess=pl.col("gross_weight_kg") - pl.col("declared_weight_kg"))
    hidden = gap.filter(pl.col("typology") == "concealment")["excess"].median()
    ordinary = gap.filter(pl.col("actor_kind") == "background")["excess"].median()
    assert hidden > 0.4 > ordinary


def test_false_origin_rings_declare_another_origin_or_ship_via_a_transit_country(joined: pl.DataFrame) -> None:
    transit = {"KZ", "AE", "TR", "VN", "MY", "TH", "KG", "AM", "GE"}
    rings = joined.filter(pl.col("typology") == "false_origin").group_by("ring_id").agg(
        ((pl.col("declared_origin").is_not_null() & (pl.col("declared_origin") != pl.col("origin_country"))).any()
         | pl.col("dest_country").is_in(list(transit)).any()).alias("ok"))
    assert rings["ok"].all()


def test_ring_parcels_look_cheap_for_what_they_are(joined: pl.DataFrame) -> None:
    ring = joined.filter((pl.col("actor_kind") == "ring") & pl.col("declared_value").is_not_null()
                         & (pl.col("currency").fill_null("USD") == "USD"))
    assert (ring["declared_value"] / ring["true_controlled_kg"]).median() < 60


def test_s10_ids_carry_a_valid_check_digit(world: World) -> None:
    ids = world.parcels.filter(pl.col("parcel_id").str.contains(r"^[A-Z]{2}\d{9}[A-Z]{2}$"))["parcel_id"].to_list()
    assert len(ids) > 500
    for item in ids:
        digits = [int(d) for d in item[2:10]]
        check = 11 - sum(d * w for d, w in zip(digits, (8, 6, 4, 2, 3, 5, 9, 7))) % 11
        assert int(item[10]) == {10: 0, 11: 5}.get(check, check), item


def test_waybill_styles_do_not_tell_ring_parcels_apart(joined: pl.DataFrame) -> None:
    shape = pl.col("parcel_id").str.replace_all(r"[A-Z]", "A").str.replace_all(r"\d", "9")
    shapes = joined.with_columns(shape=shape)
    ring = set(shapes.filter(pl.col("actor_kind") == "ring").select("carrier", "shape").unique().iter_rows())
    background = set(shapes.filter(pl.col("actor_kind") == "background").select("carrier", "shape").unique().iter_rows())
    assert ring <= background


def test_most_phones_are_valid_for_their_country(world: World) -> None:
    p = world.parcels
    checks = list(zip(p["sender_phone"].to_list(), p["origin_country"].to_list())) + list(
        zip(p["receiver_phone"].to_list(), p["dest_country"].to_list()))
    checks = [(phone, region) for phone, region in checks if phone]
    valid = 0
    for phone, region in checks:
        try:
            valid += phonenumbers.is_valid_number(phonenumbers.parse(phone, region))
        except phonenumbers.NumberParseException:
            pass
    assert valid / len(checks) > 0.9


def test_names_come_in_hanzi_pinyin_and_full_width_forms(world: World) -> None:
    names = world.parcels["sender_name"]
    assert names.str.contains(r"^[\u4e00-\u9fff]{2,4}$").mean() > 0.1
    assert names.str.contains(r"^[A-Z][a-z]+ [A-Z][a-z]+$").mean() > 0.1
    assert names.str.contains(r"[\uff21-\uff5a]").any()


def test_acceptance_times_lie_in_the_fixed_synthetic_year(world: World) -> None:
    ts = world.parcels["accepted_at"].str.slice(0, 19).str.to_datetime("%Y-%m-%dT%H:%M:%S")
    assert str(ts.min()) >= "2024-12-01" and str(ts.max()) < "2025-12-01"


def test_optional_fields_are_sometimes_empty_for_rings_and_background_alike(joined: pl.DataFrame) -> None:
    for column in ("sender_phone", "hs_code", "payer_account", "gross_weight_kg"):
        for kind in ("ring", "background"):
            nulls = joined.filter(pl.col("actor_kind") == kind)[column].null_count()
            assert nulls > 0, (column, kind)


def test_generate_rejects_a_world_without_parcels() -> None:
    with pytest.raises(ValueError):
        generate(0)


def test_ids_and_text_fields_never_name_the_truth(world: World) -> None:
    text_columns = [c for c in world.parcels.columns if world.parcels[c].dtype == pl.String]
    for column in text_columns:
        values = world.parcels[column].drop_nulls()
        assert not values.str.contains(r"^R\d{4}$|CNP-|FXP-|CNC-|FXC-|HH-\d").any(), column


def test_ring_descriptions_state_the_typology_and_commodity(world: World) -> None:
    for row in world.rings.iter_rows(named=True):
        assert row["typology"].replace("_", " ") in row["description"]
        assert row["commodity"] in row["description"]
        assert re.match(r"^R\d{4}$", row["ring_id"])


# --- look-alikes as hard as real ones (issue 12) -------------------------------------------------

BIG = 150_000
TRANSIT = {"KZ", "AE", "TR", "VN", "MY", "TH", "KG", "AM", "GE"}
HANZI = r"[\u4e00-\u9fff]"
NOT_CHINESE = r"not of Chinese origin|non-Chinese origin|origin: |country of origin|made in|非中国原产|原产地|не китайского|страна происхождения"


@pytest.fixture(scope="module")
def big() -> pl.DataFrame:
    world = generate(BIG, seed=12)
    return world.parcels.join(world.truth, on=["parcel_id", "carrier"], how="left")


def _usd_per_kg(frame: pl.DataFrame) -> pl.Series:
    usd = frame.filter((pl.col("currency").fill_null("USD") == "USD") & pl.col("declared_value").is_not_null())
    return usd["declared_value"] / usd["declared_weight_kg"]


def _largest_groups(frame: pl.DataFrame, kind: str, n: int = 3) -> list[pl.DataFrame]:
    sized = frame.filter(pl.col("lookalike_kind") == kind).group_by("lookalike_group").len().sort(["len", "lookalike_group"],
                                                                                                  descending=True)
    return [frame.filter(pl.col("lookalike_group") == g) for g in sized["lookalike_group"].head(n).to_list()]


def test_a_magnet_toy_shop_writes_its_name_many_ways_to_many_one_off_buyers_at_toy_prices(big: pl.DataFrame) -> None:
    for shop in _largest_groups(big, "magnet_toy_shop"):
        assert shop.height >= 80
        names = shop["sender_name"]
        assert names.n_unique() >= 8
        assert names.str.contains(HANZI).any() and names.str.contains(r"^[A-Za-z]").any()
        assert shop["sender_entity"].n_unique() == 1
        assert shop["receiver_entity"].n_unique() >= 0.8 * shop.height
        assert shop["dest_country"].n_unique() >= 5
        assert shop["carrier"].n_unique() >= 2
        price = _usd_per_kg(shop)
        assert 10 <= price.median() <= 60
        assert shop["declared_weight_kg"].is_between(0.19, 3.01).all()
        hs = shop["hs_code"].drop_nulls().str.replace_all(r"\D", "")
        assert (hs.str.starts_with("9503") | hs.str.starts_with("850519") | (hs == "8505")).all()
        assert shop["declared_description"].str.contains(r"磁|冰箱贴|magnet|fridge").mean() > 0.95


def test_shops_also_post_under_their_staffs_own_names(big: pl.DataFrame) -> None:
    shops = big.filter(pl.col("actor_kind") == "shop")
    person_like = shops["sender_name"].str.contains(r"^[\u4e00-\u9fff]{2,3}$")
    assert 0.03 < person_like.mean() < 0.4


def test_one_account_pays_for_a_large_part_of_every_shops_parcels(big: pl.DataFrame) -> None:
    # A shop pays from its one account, or posts from one warehouse and lets staff pay some parcels.
    paid = big.filter((pl.col("actor_kind") == "shop") & pl.col("payer_account").is_not_null())
    top = (paid.group_by("lookalike_group", "payer_account").len()
           .group_by("lookalike_group").agg((pl.col("len").max() / pl.col("len").sum()).alias("share"), n=pl.col("len").sum())
           .filter(pl.col("n") >= 30))
    assert top.height >= 10
    # Where staff pay half of a shop's parcels the shop's own share is about one half, binomially spread
    # (17 of 50 happens).
    assert (top["share"] >= 0.3).all()
    assert (top["share"] == 1).mean() > 0.5


def test_shop_buyers_buy_once_or_twice(big: pl.DataFrame) -> None:
    per_buyer = big.filter(pl.col("actor_kind") == "shop").group_by("lookalike_group", "receiver_entity").len()
    assert per_buyer["len"].max() <= 2
    assert (per_buyer["len"] == 1).mean() > 0.7


def test_honest_sellers_of_cover_like_goods_charge_the_price_of_those_goods(big: pl.DataFrame) -> None:
    cover = big.filter(pl.col("lookalike_kind") == "cover_goods_shop")
    assert cover["lookalike_group"].n_unique() >= 3
    words = cover["declared_description"]
    assert words.str.contains(r"(?i)ferrite|magnet|磁铁|nickel|Ni powder|镍粉|铁氧体|powder|合金粉|铁粉|bismuth|铋|graphite|石墨").mean() > 0.95
    nickel = cover.filter(pl.col("declared_description").str.contains(r"(?i)nickel powder|镍粉|Ni powder"))
    if nickel.height:
        assert _usd_per_kg(nickel).median() >= 40  # retail packs, dearer than a ring's cover price
    assert cover["receiver_entity"].n_unique() >= 0.8 * cover.height


def test_every_kind_of_retail_shop_is_present_in_a_large_world(big: pl.DataFrame) -> None:
    kinds = set(big["lookalike_kind"].drop_nulls().unique().to_list())
    assert {"magnet_toy_shop", "jewellery_shop", "alloy_parts_shop", "cover_goods_shop", "licensed_exporter",
            "forwarder_customer", "outlet_customer"} <= kinds


def test_warehouse_customer_codes_come_in_several_forms_also_in_the_name_line(big: pl.DataFrame) -> None:
    for wh in _largest_groups(big, "forwarder_customer", 2):
        assert wh["receiver_entity"].n_unique() >= 200
        forms = (wh["receiver_address"].str.extract(
            r"(Suite [A-Z]*-?\d+|Ste\. \d+|Ste \d+|#[A-Z]*\d+|Box \d+|PMB \d+|Unit \d+|c/o customer [A-Z]+-\d+|ID: \d+|Customer code [A-Z]+\d+)")
            .drop_nulls().str.replace_all(r"\d+", "9"))
        assert forms.n_unique() >= 5
        in_name = wh["receiver_name"].str.contains(r"\(\w*\d{4,5}\)|^\w+-\d{4,5} |#\d{4,5}$| [A-Z]+\d{4,5}$")
        assert 0.03 < in_name.mean() < 0.3
        # The warehouse desk's phone is written on many customers' parcels.
        desk = wh.filter(pl.col("receiver_phone").is_not_null()).with_columns(
            digits=pl.col("receiver_phone").str.replace_all(r"\D", "").str.slice(-8))
        assert desk.group_by("digits").agg(pl.col("receiver_entity").n_unique().alias("n"))["n"].max() >= 50


def test_some_warehouse_customers_honestly_buy_goods_with_cover_like_words(big: pl.DataFrame) -> None:
    fwd = big.filter(pl.col("actor_kind") == "forwarder_customer")
    coverlike = fwd["declared_description"].str.contains(r"(?i)nickel|alloy|ferrite|tungsten|metal sample|magnetic")
    assert 0.005 < coverlike.mean() < 0.08


def test_licensed_exporters_ship_regularly_to_few_recurring_consignees(big: pl.DataFrame) -> None:
    exp = big.filter(pl.col("lookalike_kind") == "licensed_exporter").with_columns(
        day=pl.col("accepted_at").str.slice(0, 10).str.to_date())
    assert exp["lookalike_group"].n_unique() >= 1
    for group in exp.partition_by("lookalike_group"):
        assert group["receiver_entity"].n_unique() <= 3
        assert group.height >= 5
        gaps = group["day"].sort().diff().drop_nulls().dt.total_days()
        assert 10 <= gaps.median() <= 65


def test_lab_sample_exporters_send_moderate_correctly_declared_samples(big: pl.DataFrame) -> None:
    # A world of 150k parcels has two or three exporters, each a lab exporter with probability 0.3:
    # where this one has none, the next worlds of the same size are looked at.
    lab = big.filter(pl.col("lookalike_kind") == "lab_sample_exporter")
    for seed in (13, 14, 15, 16):
        if lab.height:
            break
        world = generate(BIG, seed=seed)
        lab = world.parcels.join(world.truth, on=["parcel_id", "carrier"]).filter(pl.col("lookalike_kind") == "lab_sample_exporter")
    assert lab.height > 0
    assert lab["declared_weight_kg"].is_between(4.9, 31).all()
    assert (lab["category"].drop_nulls() == "sample").all()
    assert lab["hs_code"].drop_nulls().str.replace_all(r"\D", "").str.slice(0, 4).is_in(["2846", "2805", "8112", "2825"]).all()


def test_false_origin_rings_carry_a_mix_of_relabelling_traits(big: pl.DataFrame) -> None:
    fo = big.filter(pl.col("typology") == "false_origin")
    per_ring = fo.group_by("ring_id").agg(
        label=pl.col("declared_description").str.contains(NOT_CHINESE).any(),
        origin=(pl.col("declared_origin").is_not_null() & (pl.col("declared_origin") != pl.col("origin_country"))).any(),
        transit=pl.col("dest_country").is_in(list(TRANSIT)).any(),
        leg=(pl.col("origin_country") != "CN").any(),
    )
    assert per_ring.height >= 8
    for trait in ("label", "origin", "transit", "leg"):
        assert per_ring[trait].any(), trait
    # A realistic mix: not every ring shows every trait.
    assert not per_ring.select(pl.all_horizontal("label", "origin", "transit", "leg")).to_series().all()
    labels = fo["declared_description"].filter(fo["declared_description"].str.contains(NOT_CHINESE))
    assert labels.str.contains(HANZI).any() and labels.str.contains(r"[а-я]").any() and labels.str.contains(r"[a-z]").any()


def test_a_transit_consignee_sends_the_goods_on_from_the_transit_country(big: pl.DataFrame) -> None:
    fo = big.filter(pl.col("typology") == "false_origin")
    first = fo.filter((pl.col("origin_country") == "CN") & pl.col("dest_country").is_in(list(TRANSIT)))
    later = fo.filter(pl.col("origin_country") != "CN")
    assert later.height > 0
    legs = later.join(first.select("ring_id", pl.col("receiver_entity").alias("sender_entity"),
                                   pl.col("dest_country").alias("origin_country")).unique(),
                      on=["ring_id", "sender_entity", "origin_country"])
    assert legs.height == later.height
    assert (legs["dest_country"] != legs["origin_country"]).all()
    assert legs["true_controlled_kg"].min() > 0


def test_parcels_between_third_countries_are_not_only_transshipment(big: pl.DataFrame) -> None:
    abroad = big.filter((pl.col("origin_country") != "CN") & (pl.col("dest_country") != "CN"))
    assert (abroad["actor_kind"] == "ring").mean() < 0.1
    honest_labels = big.filter((pl.col("actor_kind") != "ring")
                               & pl.col("declared_description").str.contains(r"made in|原产地|制造|страна происхождения"))
    assert honest_labels.height > 0.002 * BIG


def test_no_field_names_a_lookalike_group(big: pl.DataFrame) -> None:
    rows = big.filter(pl.col("lookalike_group").is_not_null())
    for column in ("sender_name", "receiver_name", "receiver_address", "sender_address", "declared_description"):
        assert not rows.select(pl.col(column).str.contains(pl.col("lookalike_group"), literal=True).any()).item(), column


def test_lookalike_groups_grow_with_the_traffic(big: pl.DataFrame) -> None:
    # Small worlds hold a handful of shops whose sizes are drawn at random: two of them, averaged.
    smalls = [generate(BIG // 5, seed=seed).truth for seed in (12, 112)]
    count = lambda t, kind: t.filter(pl.col("actor_kind") == kind)["lookalike_group"].n_unique()  # noqa: E731
    for kind in ("shop", "forwarder_customer"):
        assert 3 <= count(big, kind) / np.mean([count(small, kind) for small in smalls]) <= 8, kind


def test_a_higher_lookalike_strength_makes_the_lookalikes_harder() -> None:
    worlds = {s: generate(30_000, seed=9, lookalike_strength=s) for s in (0.0, 1.0, 2.0)}
    figures = {}
    for s, world in worlds.items():
        j = world.parcels.join(world.truth, on=["parcel_id", "carrier"])
        shops = j.filter(pl.col("actor_kind") == "shop")
        # How often a shop's name is not written in its most common way.
        spellings = shops.group_by("lookalike_group", "sender_name").len().group_by("lookalike_group").agg(
            r=1 - pl.col("len").max() / pl.col("len").sum())
        figures[s] = {
            "shop_parcels": shops.height,
            "spellings": spellings["r"].mean(),
            "cover_shop_parcels": (shops["lookalike_kind"] == "cover_goods_shop").sum(),
            "forwarder_customers": j.filter(pl.col("actor_kind") == "forwarder_customer")["receiver_entity"].n_unique(),
        }
    assert figures[0.0]["cover_shop_parcels"] == 0
    for key in ("shop_parcels", "cover_shop_parcels", "forwarder_customers"):
        assert figures[0.0][key] <= figures[1.0][key] < figures[2.0][key], key
    assert figures[0.0]["spellings"] < figures[2.0]["spellings"]
    # The rings are the same whatever the look-alikes.
    assert worlds[0.0].rings.height == worlds[2.0].rings.height


def test_a_negative_lookalike_strength_is_refused() -> None:
    with pytest.raises(ValueError, match="look-alike strength"):
        generate(500, lookalike_strength=-1)


# --- receivers abroad as hard as real ones: scripts, romanisations, conventions, households -------

CYRILLIC, ARABIC, THAI, HANGUL = r"[\u0400-\u04FF]", r"[\u0600-\u06FF]", r"[\u0E00-\u0E7F]", r"[\uAC00-\uD7AF]"
VIET = r"[ạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹĐđƠơƯư]"


def test_receivers_abroad_write_their_names_in_their_own_scripts_and_in_latin(big: pl.DataFrame) -> None:
    abroad = big.filter(pl.col("dest_country") != "CN")
    names = abroad["receiver_name"]
    for script in (CYRILLIC, ARABIC, THAI, HANGUL, VIET):
        assert names.str.contains(script).mean() > 0.0005, script
    cyrillic_lands = abroad.filter(pl.col("dest_country").is_in(["RU", "KZ", "BY", "UA", "KG"]))
    share = cyrillic_lands["receiver_name"].str.contains(CYRILLIC).mean()
    assert 0.2 < share < 0.8
    # One person, both scripts: Андрей Попов on one parcel, Andrei Popov on another.
    both = (cyrillic_lands.filter(pl.col("actor_kind") == "background").group_by("receiver_entity")
            .agg(pl.col("receiver_name").str.contains(CYRILLIC).any().alias("own"),
                 pl.col("receiver_name").str.contains(r"^[A-Za-z .,-]+$").any().alias("latin")))
    assert both.filter(pl.col("own") & pl.col("latin")).height >= 20
    # Several romanisations of one name, several spellings of another.
    assert len({v for v in ("Yuriy", "Yuri", "Iurii", "Yury") if names.str.contains(v, literal=True).any()}) >= 3
    assert len({v for v in ("Mohammed", "Muhammad", "Mohamed", "Mohammad") if names.str.contains(v, literal=True).any()}) >= 3
    vietnam = abroad.filter(pl.col("dest_country") == "VN")["receiver_name"]
    assert vietnam.str.contains(VIET).any() and vietnam.str.contains(r"^[A-Za-z ]+$").any()
    assert vietnam.str.contains(r"^NGUYEN |^Nguyen ").any() and vietnam.str.contains(r" Nguyen( |$)").any()
    thailand = abroad.filter(pl.col("dest_country") == "TH")["receiver_name"]
    assert thailand.str.contains(THAI).any() and thailand.str.contains(r"^[A-Za-z .,-]+$").any()
    accents = abroad.filter(pl.col("dest_country") == "DE")["receiver_name"]
    assert accents.str.contains("ü").any() and accents.str.contains("ue", literal=True).any()


def test_a_receiver_keeps_a_habitual_way_of_writing_his_name_but_writes_others_too(big: pl.DataFrame) -> None:
    frequent = (big.filter((pl.col("actor_kind") == "background") & (pl.col("dest_country") != "CN")
                           & pl.col("receiver_entity").str.starts_with("FXP-"))
                .group_by("receiver_entity", "receiver_name").len()
                .group_by("receiver_entity").agg(n=pl.col("len").sum(), top=pl.col("len").max(), forms=pl.len())
                .filter(pl.col("n") >= 6))
    assert frequent.height >= 100
    assert (frequent["top"] / frequent["n"]).median() >= 0.45
    assert (frequent["forms"] >= 2).mean() > 0.5


def test_addresses_abroad_follow_their_countrys_conventions_and_scripts(big: pl.DataFrame) -> None:
    addr = lambda iso: big.filter(pl.col("dest_country") == iso)["receiver_address"]  # noqa: E731
    russia = addr("RU")
    for word in ("ul. ", "ул. ", "kv. ", "кв. ", "д. "):
        assert russia.str.contains(word, literal=True).any(), word
    assert russia.str.contains(r"^\d{6}, ").any()  # postcode first
    assert russia.str.contains(r", \d{6}(, |$)").any()  # postcode last
    assert (~russia.str.contains(r"\d{6}")).any()  # or none
    vietnam = addr("VN")
    for word in ("Phường", "Phuong", "Ward", "Quận", "District", "Số "):
        assert vietnam.str.contains(word, literal=True).any(), word
    assert addr("TH").str.contains(THAI).any() and addr("KR").str.contains(HANGUL).any()
    assert addr("AE").str.contains(ARABIC).any() and addr("JP").str.contains(r"〒\d{3}-\d{4}").any()
    assert addr("US").str.contains(r"^\d+ [A-Z]").mean() > 0.5  # the number before the street
    assert addr("DE").str.contains(r"^[A-ZÄÖÜ][a-zäöüß]+(straße|str\.|strasse|weg|allee|platz|pl\.) \d+").mean() > 0.5


def test_warehouses_write_their_premises_and_their_customers_are_the_consignees(big: pl.DataFrame) -> None:
    fwd = big.filter(pl.col("actor_kind") == "forwarder_customer")
    premises = r"sklad|склад|Warehouse|WH \d|Bldg|Building|Halle|Lager|magazyn|hala|مستودع|倉庫|Soko"
    assert fwd["receiver_address"].str.contains(premises).mean() > 0.5
    # The consignee is the customer, never the warehouse, and the code tells the customers apart.
    assert fwd["receiver_entity"].str.starts_with("FXP-").all()
    code = fwd["receiver_address"].str.extract(r"(?:Suite|Ste\.?|Unit|Box|PMB|ID:|#|customer|code) ?[A-Z]{0,2}-?(\d{4,5})\b")
    code = code.fill_null(fwd["receiver_name"].str.extract(r"(?:\([A-Z]*|^[A-Z]+-|#| [A-Z]+)(\d{4,5})(?:\)| |$)"))
    coded = fwd.with_columns(code=code).filter(pl.col("code").is_not_null())
    assert coded.height > 0.9 * fwd.height
    assert coded.group_by("lookalike_group", "code").agg(pl.col("receiver_entity").n_unique())["receiver_entity"].max() == 1
    assert coded.group_by("lookalike_group", "receiver_entity").agg(pl.col("code").n_unique())["code"].max() == 1
    # Customers write their names in their own scripts too, mostly in Latin.
    own_script = fwd["receiver_name"].str.contains(f"{CYRILLIC}|{ARABIC}|{THAI}|{HANGUL}|[\u4e00-\u9fff\u3040-\u30ff]")
    assert 0 < own_script.mean() < 0.2


def _members(frame: pl.DataFrame, role: str) -> pl.DataFrame:
    return (frame.filter(pl.col(f"{role}_household").is_not_null())
            .group_by(f"{role}_household").agg(people=pl.col(f"{role}_entity").n_unique(),
                                                names=pl.col(f"{role}_name").unique()))


def test_households_are_different_people_at_one_flat_with_one_phone(big: pl.DataFrame) -> None:
    for role, local in (("sender", pl.col("origin_country") == "CN"), ("receiver", pl.col("dest_country") != "CN")):
        rows = big.filter(local)
        households = _members(rows, role)
        shared = households.filter(pl.col("people") >= 2)
        assert shared.height >= 50, role
        assert households["people"].max() >= 3, role
        # A person belongs to one household; a few percent of people live in one.
        per_person = rows.group_by(f"{role}_entity").agg(pl.col(f"{role}_household").n_unique())
        assert per_person[f"{role}_household"].max() == 1
        people = rows.select(pl.col(f"{role}_entity"), pl.col(f"{role}_household")).unique()
        assert 0.01 < people[f"{role}_household"].is_not_null().mean() < 0.1, role
        # One flat, one phone: the phone's digits on the parcels of two of its people are the same.
        phones = (rows.filter(pl.col(f"{role}_household").is_not_null() & pl.col(f"{role}_phone").is_not_null())
                  .with_columns(digits=pl.col(f"{role}_phone").str.replace_all(r"\D", "").str.slice(-8))
                  .group_by(f"{role}_household", "digits").agg(pl.col(f"{role}_entity").n_unique().alias("n")))
        assert phones.filter(pl.col("n") >= 2).height >= 0.5 * shared.height, role
        # Each under his own name: one name written for two of them is rare (a typo at most).
        overlap = (rows.filter(pl.col(f"{role}_household").is_not_null())
                   .group_by(f"{role}_household", f"{role}_name").agg(pl.col(f"{role}_entity").n_unique().alias("n")))
        assert (overlap["n"] >= 2).sum() <= 0.02 * shared.height, role


def test_a_chinese_shop_writes_its_short_and_full_names_from_the_same_account(big: pl.DataFrame) -> None:
    firms = big.filter(pl.col("sender_entity").str.starts_with("CNC-") & pl.col("payer_account").is_not_null())
    kind = (pl.when(pl.col("sender_name").str.contains("有限公司|Co\\.|CO\\.|Co Ltd|Limited|LIMITED")).then(pl.lit("full"))
            .when(pl.col("sender_name").str.contains(r"^[\u4e00-\u9fff]+$") | pl.col("sender_name").str.contains(r"(?i)store|shop|toys")).then(pl.lit("short")))
    accounts = (firms.with_columns(kind=kind).filter(pl.col("kind").is_not_null())
                .group_by("sender_entity", "kind").agg(pl.col("payer_account").unique())
                .pivot(on="kind", index="sender_entity", values="payer_account").drop_nulls())
    assert accounts.height >= 20
    common = accounts.select(pl.col("full").list.set_intersection(pl.col("short")).list.len() > 0).to_series()
    assert common.mean() > 0.5
