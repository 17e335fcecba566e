"""The controlled-items catalogue: the shipped default, overriding it, and refusing bad files."""

from __future__ import annotations

import pytest

from linker.settings.catalogue import CatalogueError, default_catalogue_path, load_catalogue

DOMAIN_COMMODITIES = {
    "gallium", "germanium", "graphite", "antimony", "superhard", "tungsten", "tellurium", "bismuth",
    "molybdenum", "indium", "samarium", "gadolinium", "terbium", "dysprosium", "lutetium", "scandium",
    "yttrium", "holmium", "erbium", "thulium", "europium", "ytterbium", "ndfeb_magnets",
}


@pytest.fixture(scope="module")
def default_text() -> str:
    return default_catalogue_path().read_text(encoding="utf-8")


def write(tmp_path, text: str, name: str = "catalogue.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, fragment: str) -> int:
    """1-based line of the first line containing fragment (the test's own edit)."""
    return next(n for n, line in enumerate(text.splitlines(), 1) if fragment in line)


def header_line(text: str, header: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if line.strip() == header)


def edited(text: str, old: str, new: str) -> str:
    assert text.count(old) >= 1, old
    return text.replace(old, new, 1)


def test_shipped_catalogue_lists_every_commodity_of_the_domain():
    cat = load_catalogue()
    assert DOMAIN_COMMODITIES <= set(cat.commodities)


def test_shipped_catalogue_says_its_thresholds_are_not_legal_advice(default_text):
    head = "\n".join(default_text.splitlines()[:5]).lower()
    assert "illustrative" in head and "not legal advice" in head


def test_headings_are_stored_as_digits_only():
    cat = load_catalogue()
    assert "280530" in cat.commodities["dysprosium"].headings
    assert "850511" in cat.commodities["ndfeb_magnets"].headings
    assert "720" not in cat.covers["ferro_alloy"].headings and "7202" in cat.covers["ferro_alloy"].headings


def test_names_come_in_chinese_english_and_russian():
    dy = load_catalogue().commodities["dysprosium"]
    assert "镝" in dy.names["zh"] and "dysprosium" in dy.names["en"] and "диспрозий" in dy.names["ru"]


def test_cover_goods_carry_their_own_price_far_below_the_controlled_metal():
    cat = load_catalogue()
    assert cat.covers["nickel_powder"].price_usd_per_kg * 5 < cat.commodities["terbium"].price_usd_per_kg


def test_a_path_overrides_the_shipped_catalogue(tmp_path, default_text):
    text = edited(default_text, "threshold_kg = 2.0\nwindow_days = 30\nprice_usd_per_kg = 230.0",
                  "threshold_kg = 0.5\nwindow_days = 14\nprice_usd_per_kg = 230.0")
    cat = load_catalogue(write(tmp_path, text))
    assert cat.threshold_for("dysprosium") == (0.5, 14)


def test_environment_variable_names_the_catalogue_when_no_path_is_given(tmp_path, default_text, monkeypatch):
    text = edited(default_text, "unknown_threshold_kg = 5.0", "unknown_threshold_kg = 7.5")
    monkeypatch.setenv("LINKER_CATALOGUE", str(write(tmp_path, text)))
    assert load_catalogue().threshold_for("unknown")[0] == 7.5


def test_an_explicit_path_wins_over_the_environment_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("LINKER_CATALOGUE", str(tmp_path / "absent.toml"))
    assert load_catalogue(default_catalogue_path()).commodities


def test_a_missing_file_is_refused_with_its_path(tmp_path):
    with pytest.raises(CatalogueError, match="absent.toml.*no such file"):
        load_catalogue(tmp_path / "absent.toml")


def test_a_toml_syntax_error_is_refused_with_its_line(tmp_path, default_text):
    text = edited(default_text, "value_low_ratio = 0.2", "value_low_ratio = = 0.2")
    path = write(tmp_path, text)
    with pytest.raises(CatalogueError) as err:
        load_catalogue(path)
    assert err.value.line == line_of(text, "value_low_ratio = = 0.2")
    assert str(path) in str(err.value) and "not valid TOML" in str(err.value)


def test_an_unknown_key_is_refused_at_its_line(tmp_path, default_text):
    text = edited(default_text, "threshold_kg = 1.0\nwindow_days = 30\nprice_usd_per_kg = 900.0",
                  "threshold_kg = 1.0\nwindow_days = 30\nthreshold_kgs = 3\nprice_usd_per_kg = 900.0")
    with pytest.raises(CatalogueError, match="unknown key commodities.terbium.threshold_kgs") as err:
        load_catalogue(write(tmp_path, text))
    assert err.value.line == line_of(text, "threshold_kgs = 3")


def test_a_missing_threshold_is_refused_at_its_table(tmp_path, default_text):
    text = edited(default_text, "threshold_kg = 1.0\nwindow_days = 30\nprice_usd_per_kg = 900.0",
                  "window_days = 30\nprice_usd_per_kg = 900.0")
    with pytest.raises(CatalogueError, match="lacks the required key threshold_kg") as err:
        load_catalogue(write(tmp_path, text))
    assert err.value.line == header_line(text, "[commodities.terbium]")


def test_a_negative_price_is_refused_at_its_line(tmp_path, default_text):
    text = edited(default_text, "price_usd_per_kg = 30.0\nstrength = 0.4", "price_usd_per_kg = -30.0\nstrength = 0.4")
    with pytest.raises(CatalogueError, match="covers.nickel_powder.price_usd_per_kg must not be negative") as err:
        load_catalogue(write(tmp_path, text))
    assert err.value.line == line_of(text, "price_usd_per_kg = -30.0")


def test_a_heading_that_is_not_digits_is_refused_at_its_line(tmp_path, default_text):
    text = edited(default_text, 'headings = ["8110", "2825.80", "2617.10"]', 'headings = ["8110", "28A5.80", "2617.10"]')
    with pytest.raises(CatalogueError, match="'28A5.80', which is not 4 to 10 digits") as err:
        load_catalogue(write(tmp_path, text))
    assert err.value.line == line_of(text, '"28A5.80"')


def test_a_strength_above_one_is_refused(tmp_path, default_text):
    text = edited(default_text, "transshipment_strength = 0.3", "transshipment_strength = 3")
    with pytest.raises(CatalogueError, match="between 0 and 1") as err:
        load_catalogue(write(tmp_path, text))
    assert err.value.line == line_of(text, "transshipment_strength = 3")


def test_a_commodity_naming_an_undefined_cover_is_refused(tmp_path, default_text):
    text = edited(default_text, 'covers = ["carbon_powder", "ordinary_goods"]', 'covers = ["carbon_dust", "ordinary_goods"]')
    with pytest.raises(CatalogueError, match="'carbon_dust', which is no \\[covers.\\*\\] entry") as err:
        load_catalogue(write(tmp_path, text))
    assert err.value.line == line_of(text, '"carbon_dust"')


def test_a_symbol_context_pattern_that_does_not_compile_is_refused(tmp_path, default_text):
    start = line_of(default_text, "symbol_context_pattern =")
    lines = default_text.splitlines()
    lines[start - 1] = "symbol_context_pattern = '(powder'"
    text = "\n".join(lines) + "\n"
    with pytest.raises(CatalogueError, match="not a usable regular expression") as err:
        load_catalogue(write(tmp_path, text))
    assert err.value.line == start


def test_a_missing_signals_setting_is_refused(tmp_path, default_text):
    text = edited(default_text, "concealment_min_excess_kg = 0.1", "")
    with pytest.raises(CatalogueError, match="signals lacks the required key concealment_min_excess_kg") as err:
        load_catalogue(write(tmp_path, text))
    assert err.value.line == header_line(text, "[signals]")


def test_the_error_is_one_line_naming_file_line_and_problem(tmp_path, default_text):
    text = edited(default_text, "window_days = 30", "window_days = 0")
    path = write(tmp_path, text)
    with pytest.raises(CatalogueError) as err:
        load_catalogue(path)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"catalogue {path}, line {line_of(text, 'window_days = 0')}: ")
    assert "window_days must be greater than 0" in message


def cover_names() -> set[str]:
    return {name.lower() for k in load_catalogue().covers.values() for names in k.names.values() for name in names}


def test_shipped_covers_hold_the_cover_forms_of_the_domain():
    forms = {"ferrous alloy", "nickel powder", "alloy powder", "metal sample", "ordinary goods",
             "镍粉", "铁合金", "合金粉", "ni powder", "fe alloy"}
    assert forms <= cover_names()


def test_shipped_covers_hold_no_plain_shopping_word():
    assert not {"goods", "merchandise", "items", "products", "gift", "parts", "sample"} & cover_names()


def test_a_zero_minimum_concealment_excess_is_refused(tmp_path, default_text):
    text = edited(default_text, "concealment_min_excess_kg = 0.1", "concealment_min_excess_kg = 0")
    with pytest.raises(CatalogueError, match="concealment_min_excess_kg must be greater than 0") as err:
        load_catalogue(write(tmp_path, text))
    assert err.value.line == line_of(text, "concealment_min_excess_kg = 0")
