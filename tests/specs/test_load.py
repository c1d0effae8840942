"""Loading specifications: hash, model, and errors that name file, field and line."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from vein2vein.errors import InvalidInputError, SpecError
from vein2vein.specs import SCHEMA_VERSION, load_spec, load_spec_text, shipped_spec

from .conftest import HEADER, TextFactory, spec_text

GOOD_ITEMS = """\
- analyte: viability
  name: viability
  method: 7-AAD
  unit: "%"
  criterion: {kind: ">=", value: 80}
- analyte: sterility
  name: sterility
  criterion: {kind: negative}
  conditional: true
"""
FIRST_ITEM_LINE = HEADER.count("\n") + 1  # the line of "- analyte: viability"


def _error(write_yaml: TextFactory, text: str) -> SpecError:
    path = write_yaml(text)
    with pytest.raises(SpecError) as info:
        load_spec(path)
    assert info.value.file == str(path)
    return info.value


def test_a_good_spec_loads_with_hash_and_path(write_yaml: TextFactory) -> None:
    path = write_yaml(spec_text(GOOD_ITEMS))
    spec = load_spec(path)
    assert spec.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert spec.path == str(path.resolve())
    assert spec.schema_version == SCHEMA_VERSION
    assert spec.analytes == ["viability", "sterility"]
    assert spec.item("viability").criterion_text == "≥ 80 %"
    assert spec.item("sterility").conditional
    assert spec.item("sterility").stage == "final_product"  # the spec's default stage
    with pytest.raises(KeyError):
        spec.item("nope")


def test_text_and_file_give_the_same_hash(write_yaml: TextFactory) -> None:
    text = spec_text(GOOD_ITEMS)
    from_text = load_spec_text(text, source_name="inline.yaml")
    assert from_text.sha256 == hashlib.sha256(text.encode()).hexdigest()
    assert from_text.sha256 == load_spec(write_yaml(text)).sha256
    assert from_text.path is None


def test_a_byte_order_mark_is_accepted_and_hashed(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + spec_text(GOOD_ITEMS).encode())
    assert load_spec(path).sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_spec_error_is_an_invalid_input_error(write_yaml: TextFactory) -> None:
    assert isinstance(_error(write_yaml, "[1, 2"), InvalidInputError)


def test_yaml_syntax_error_gives_the_line(write_yaml: TextFactory) -> None:
    text = spec_text(GOOD_ITEMS).replace("value: 80}", "value: 80")  # unclosed flow mapping
    err = _error(write_yaml, text)
    assert "not valid YAML" in err.reason
    assert err.reason.startswith(f"line {FIRST_ITEM_LINE + 5}:")  # where the parser noticed


def test_unquoted_operator_gets_a_hint(write_yaml: TextFactory) -> None:
    text = spec_text(
        GOOD_ITEMS.replace(
            'criterion: {kind: ">=", value: 80}', "criterion:\n    kind: >=\n    value: 80"
        )
    )
    err = _error(write_yaml, text)
    assert f"line {FIRST_ITEM_LINE + 5}" in err.reason
    assert 'kind: ">="' in err.reason


def test_range_without_high_names_field_and_line(write_yaml: TextFactory) -> None:
    items = (
        GOOD_ITEMS
        + """\
- analyte: dose
  name: dose
  unit: "10^6 cells/kg"
  criterion:
    kind: range
    low: 0.2
"""
    )
    err = _error(write_yaml, spec_text(items))
    assert err.field == "items[2].criterion.high"
    # the deepest line that exists: the criterion key
    assert err.reason.startswith(f"line {FIRST_ITEM_LINE + 12}: a range needs both low and high")
    assert str(err).startswith(f"file {err.file}, field 'items[2].criterion.high': line ")


def test_range_with_low_above_high(write_yaml: TextFactory) -> None:
    items = (
        GOOD_ITEMS
        + """\
- analyte: dose
  name: dose
  unit: "10^6 cells/kg"
  criterion:
    kind: range
    low: 5.0
    high: 0.2
"""
    )
    err = _error(write_yaml, spec_text(items))
    assert err.field == "items[2].criterion.low"
    assert err.reason == f"line {FIRST_ITEM_LINE + 14}: low (5) is greater than high (0.2)"


def test_unknown_criterion_kind(write_yaml: TextFactory) -> None:
    text = spec_text(GOOD_ITEMS.replace("kind: negative", "kind: sterile"))
    err = _error(write_yaml, text)
    assert err.field == "items[1].criterion.kind"
    assert err.reason.startswith(f"line {FIRST_ITEM_LINE + 7}: 'sterile' is not allowed")
    assert "not_detected" in err.reason


def test_duplicate_analytes(write_yaml: TextFactory) -> None:
    text = spec_text(GOOD_ITEMS.replace("analyte: sterility", "analyte: viability"))
    err = _error(write_yaml, text)
    assert err.field == "items[1].analyte"
    assert err.reason == (
        f"line {FIRST_ITEM_LINE + 5}: analyte 'viability' is already used by items[0]"
    )


@pytest.mark.parametrize(
    ("unit", "message"),
    [("bananas/uL", "unknown unit 'bananas/uL'"), ("cells/", "unknown unit 'cells/'")],
)
def test_unknown_unit(write_yaml: TextFactory, unit: str, message: str) -> None:
    err = _error(write_yaml, spec_text(GOOD_ITEMS.replace('unit: "%"', f'unit: "{unit}"')))
    assert err.field == "items[0].unit"
    assert err.reason.startswith(f"line {FIRST_ITEM_LINE + 3}: {message}")


def test_a_qualitative_item_takes_no_unit(write_yaml: TextFactory) -> None:
    items = GOOD_ITEMS.replace(
        "  criterion: {kind: negative}", '  unit: "%"\n  criterion: {kind: negative}'
    )
    err = _error(write_yaml, spec_text(items))
    assert err.field == "items[1].unit"
    assert "takes no unit" in err.reason


def test_per_kg_needs_a_per_kg_unit(write_yaml: TextFactory) -> None:
    items = GOOD_ITEMS.replace('unit: "%"', 'unit: "EU/mL"\n  per: kg')
    err = _error(write_yaml, spec_text(items))
    assert err.field == "items[0].per"
    assert "per kilogram" in err.reason


@pytest.mark.parametrize(
    ("criterion", "field", "message"),
    [
        ('{kind: ">=", value: high}', "value", "needs a number"),
        ('{kind: ">="}', "value", "needs a value"),
        ("{kind: negative, value: 1}", "value", "takes no value"),
        ('{kind: "<=", value: 1, low: 0}', "low", "only a range takes low"),
        ("{kind: equals}", "value", "needs a value"),
        ("{kind: range, low: .nan, high: 1}", "low", "finite number"),
    ],
)
def test_criterion_field_errors(
    write_yaml: TextFactory, criterion: str, field: str, message: str
) -> None:
    items = f"""\
- analyte: x
  name: x
  criterion: {criterion}
"""
    err = _error(write_yaml, spec_text(items))
    assert err.field == f"items[0].criterion.{field}"
    assert message in err.reason
    assert err.reason.startswith(f"line {FIRST_ITEM_LINE + 2}:")


def test_unknown_schema_version_is_refused_with_advice(write_yaml: TextFactory) -> None:
    text = spec_text(GOOD_ITEMS).replace("schema_version: 1", "schema_version: 2")
    err = _error(write_yaml, text)
    assert err.field == "schema_version"
    assert err.reason.startswith("line 1: schema_version 2 is not a version this vein2vein reads")
    assert "use a vein2vein release that supports it" in err.reason


def test_version_must_be_quoted(write_yaml: TextFactory) -> None:
    err = _error(write_yaml, spec_text(GOOD_ITEMS).replace('version: "1.0"', "version: 1.10"))
    assert err.field == "version"
    assert (
        err.reason == 'line 4: write the version in quotes (version: "1.1") so that 1.10 stays 1.10'
    )


def test_missing_and_unknown_fields(write_yaml: TextFactory) -> None:
    text = spec_text(GOOD_ITEMS).replace("product: test product\n", "prodcut: test product\n")
    err = _error(write_yaml, text)
    assert err.field == "product"
    assert err.reason == "line 1: required field is missing"
    notes = " ".join(getattr(err, "__notes__", []))
    assert "'prodcut': line 6: unknown field" in notes


def test_missing_item_name_points_at_the_item(write_yaml: TextFactory) -> None:
    err = _error(write_yaml, spec_text(GOOD_ITEMS.replace("  name: sterility\n", "")))
    assert err.field == "items[1].name"
    assert err.reason == f"line {FIRST_ITEM_LINE + 5}: required field is missing"


def test_duplicate_yaml_keys_are_refused(write_yaml: TextFactory) -> None:
    text = spec_text(GOOD_ITEMS.replace("  method: 7-AAD\n", "  method: 7-AAD\n  method: PI\n"))
    err = _error(write_yaml, text)
    assert err.field == "items[0].method"
    assert err.reason == (
        f"line {FIRST_ITEM_LINE + 3}: key 'method' appears twice (first on line "
        f"{FIRST_ITEM_LINE + 2})"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "a specification is a YAML mapping"),
        ("- 1\n- 2\n", "a specification is a YAML mapping"),
        ("just text", "a specification is a YAML mapping"),
        ("a: 1\n---\nb: 2\n", "not valid YAML"),
    ],
)
def test_documents_that_are_not_a_mapping(write_yaml: TextFactory, text: str, message: str) -> None:
    assert message in _error(write_yaml, text).reason


def test_loader_fields_cannot_be_written(write_yaml: TextFactory) -> None:
    err = _error(write_yaml, "sha256: abc\n" + spec_text(GOOD_ITEMS))
    assert (err.field, err.reason) == ("sha256", "line 1: sha256 is set by the loader; remove it")


def test_bad_date_and_bad_encoding(write_yaml: TextFactory, tmp_path: Path) -> None:
    err = _error(write_yaml, spec_text(GOOD_ITEMS).replace("2025-01-01", "2025-13-01"))
    assert "cannot be read" in err.reason
    path = tmp_path / "latin1.yaml"
    path.write_bytes(spec_text(GOOD_ITEMS).replace("test product", "prodüct").encode("latin-1"))
    with pytest.raises(SpecError, match="not UTF-8"):
        load_spec(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="cannot read the specification") as info:
        load_spec(tmp_path / "nope.yaml")
    assert info.value.file == str(tmp_path / "nope.yaml")


def test_numbers_in_yaml_1_1_exponent_form_are_numbers(write_yaml: TextFactory) -> None:
    items = '- {analyte: titer, name: titer, unit: "TU/mL", criterion: {kind: ">=", value: 1.0e8}}'
    spec = load_spec(write_yaml(spec_text(items)))
    assert spec.items[0].criterion.value == 1.0e8


def test_unknown_shipped_spec_lists_the_known_ones() -> None:
    with pytest.raises(SpecError, match="shipped: anti-cd19-cart-release, apheresis-intake"):
        shipped_spec("kymriah")
