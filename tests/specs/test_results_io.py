"""Reading results from CSV files: the happy path and every refusal, with line numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from vein2vein.errors import InvalidInputError
from vein2vein.specs import Result, read_results_csv


def _write(tmp_path: Path, text: str, *, bom: bool = False) -> Path:
    path = tmp_path / "results.csv"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def test_reads_all_columns_in_any_order_with_a_bom(tmp_path: Path) -> None:
    text = (
        "Stage,Analyte,Value,Unit,Method\n"
        "final_product,viability,85,%,7-AAD\n"
        "\n"
        'final_product,car_t_dose,"1.2 x 10^6",cells/kg,\n'
        "final_product,sterility_14d,,,\n"
    )
    results = read_results_csv(_write(tmp_path, text, bom=True))
    assert results == [
        Result("viability", "85", "%", "7-AAD", "final_product"),
        Result("car_t_dose", "1.2 x 10^6", "cells/kg", None, "final_product"),
        Result("sterility_14d", "", None, None, "final_product"),
    ]


def test_only_the_required_columns(tmp_path: Path) -> None:
    results = read_results_csv(_write(tmp_path, "analyte,value\nmycoplasma,not detected\n"))
    assert results == [Result("mycoplasma", "not detected")]


def test_same_analyte_at_two_stages_is_allowed(tmp_path: Path) -> None:
    text = "analyte,value,stage\nviability,90,in_process\nviability,85,final_product\n"
    assert len(read_results_csv(_write(tmp_path, text))) == 2


@pytest.mark.parametrize(
    ("text", "field", "reason"),
    [
        ("", None, "line 1: the file is empty; expected a header with analyte,value"),
        ("\n\n", None, "line 1: the file is empty"),
        (
            "analyte\nviability\n",
            "value",
            "line 1: the header lacks column(s) value; found: analyte",
        ),
        ("value,unit\n85,%\n", "analyte", "line 1: the header lacks column(s) analyte"),
        ("analyte,value,unti\nviability,85,%\n", "unti", "line 1: unknown column(s) 'unti'"),
        ("analyte,value,value\nviability,85,86\n", "value", "line 1: column(s) value appear more"),
        ("analyte,value\n", None, "no results below the header"),
        ("analyte,value\nviability,85\n,90\n", "analyte", "line 3, column 'analyte': empty"),
        ("analyte,value\nviability,85,%\n", None, "line 2: 3 fields, the header has 2"),
        ("analyte,value,unit\nviability,85\n", None, "line 2: 2 fields, the header has 3"),
        (
            "analyte,value\nviability,85\nendotoxin,<0.5\nViability,86\n",
            "analyte",
            "line 4: a second result for 'Viability' (first on line 2)",
        ),
    ],
)
def test_bad_csv_files(tmp_path: Path, text: str, field: str | None, reason: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(InvalidInputError) as info:
        read_results_csv(path)
    assert info.value.file == str(path)
    assert info.value.field == field
    assert info.value.reason.startswith(reason)


def test_line_numbers_count_multiline_fields(tmp_path: Path) -> None:
    text = 'analyte,value\nappearance,"conforms\n(slightly turbid)"\n,1\n'
    with pytest.raises(InvalidInputError, match="line 4, column 'analyte': empty"):
        read_results_csv(_write(tmp_path, text))


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="cannot read the file"):
        read_results_csv(tmp_path / "missing.csv")
    latin = tmp_path / "latin.csv"
    latin.write_bytes("analyte,value\nviabilité,85\n".encode("latin-1"))
    with pytest.raises(InvalidInputError, match="not UTF-8"):
        read_results_csv(latin)
