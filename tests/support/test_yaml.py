"""Strict YAML mappings: repeated and unknown keys are refused with their line."""

from __future__ import annotations

from pathlib import Path

import pytest

from vein2vein.errors import InvalidInputError
from vein2vein.support import read_yaml_mapping

KEYS = ("true_tox", "true_eff", "name")


def _read(tmp_path: Path, text: bytes) -> dict[str, object]:
    path = tmp_path / "s.yaml"
    path.write_bytes(text)
    return read_yaml_mapping(path, keys=KEYS, required=("true_tox",))


def test_a_good_mapping_is_read(tmp_path: Path) -> None:
    doc = _read(tmp_path, b"\xef\xbb\xbftrue_tox: [0.1]\nname: a\n")
    assert doc == {"true_tox": [0.1], "name": "a"}


@pytest.mark.parametrize(
    ("text", "field", "reason"),
    [
        (b"true_tox: [0.1]\ntrue_tox: [0.2]\n", "true_tox", "line 2: key 'true_tox' appears twice"),
        (b"name: {a: 1, a: 2}\ntrue_tox: [0.1]\n", "name.a", "line 1: key 'a' appears twice"),
        (b"true_tox: [0.1]\ntrue_efx: [0.2]\n", "true_efx", "line 2: unknown key 'true_efx'"),
        (b"name: a\n", "true_tox", "missing key 'true_tox'"),
        (b"- 1\n- 2\n", None, "expected a mapping"),
        (b"", None, "expected a mapping"),
        (b"true_tox: [0.1\n", None, "not valid YAML"),
        (b"name: \xff\xfe\n", None, "not UTF-8 text"),
    ],
)
def test_bad_documents_name_the_line_and_key(
    tmp_path: Path, text: bytes, field: str | None, reason: str
) -> None:
    with pytest.raises(InvalidInputError) as info:
        _read(tmp_path, text)
    assert info.value.field == field
    assert info.value.file == str(tmp_path / "s.yaml")
    assert reason in info.value.reason


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="cannot read"):
        read_yaml_mapping(tmp_path / "nope.yaml", keys=KEYS)
