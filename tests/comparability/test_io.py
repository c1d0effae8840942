"""Reading the comparability CSV: every error names the file, the line and the column."""

from __future__ import annotations

from pathlib import Path

import pytest

from vein2vein.comparability import read_comparability_csv
from vein2vein.errors import InvalidInputError


def _write(tmp_path: Path, text: str, name: str = "lots.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_lots_with_optional_donor_and_bom(tmp_path: Path) -> None:
    path = tmp_path / "lots.csv"
    path.write_bytes(
        "\ufeffLot,Site,CQA,Value,Donor\nL1,HUB-A,viability,91.5,D1\n\nL2,HUB-B,viability,89,\n".encode()
    )
    frame = read_comparability_csv(path)
    assert list(frame.columns) == ["lot", "site", "cqa", "value", "donor"]
    assert frame["value"].tolist() == [91.5, 89.0]
    assert frame.loc[0, "donor"] == "D1" and frame["donor"].isna().tolist() == [False, True]


@pytest.mark.parametrize(
    ("text", "field", "message"),
    [
        ("", None, "line 1: the file is empty"),
        ("lot,site,value\n", "cqa", "line 1: the header lacks column(s) cqa"),
        ("lot,site,cqa,value,batch\n", "batch", "line 1: unknown column(s) 'batch'"),
        ("lot,site,cqa,value,value\n", "value", "appear more than once"),
        ("lot,site,cqa,value\n", None, "no data lines"),
        ("lot,site,cqa,value\nL1,HUB-A,vcn\n", None, "line 2: 3 fields, the header has 4"),
        (
            "lot,site,cqa,value\nL1,HUB-A,vcn,abc\n",
            "value",
            "line 2, column 'value': 'abc' is not a number",
        ),
        ("lot,site,cqa,value\nL1,HUB-A,vcn,inf\n", "value", "line 2, column 'value': 'inf'"),
        ("lot,site,cqa,value\nL1,,vcn,2\n", "site", "line 2, column 'site': empty"),
        (
            "lot,site,cqa,value\nL1,HUB-A,vcn,2\nL1,HUB-A,vcn,3\n",
            "lot",
            "line 3, column 'lot': lot L1 has a second value for cqa vcn (first on line 2)",
        ),
        (
            "lot,site,cqa,value\nL1,HUB-A,vcn,2\nL1,HUB-B,viability,90\n",
            "site",
            "line 3, column 'site': lot L1 is at HUB-B here but at HUB-A on line 2",
        ),
    ],
)
def test_errors_name_file_line_and_column(
    tmp_path: Path, text: str, field: str | None, message: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(InvalidInputError) as info:
        read_comparability_csv(path)
    assert info.value.file == str(path)
    assert info.value.field == field
    assert message in info.value.reason


def test_every_problem_is_reported_the_rest_as_notes(tmp_path: Path) -> None:
    lines = ["lot,site,cqa,value"] + [f"L{i},HUB-A,vcn,x{i}" for i in range(30)]
    path = _write(tmp_path, "\n".join(lines) + "\n")
    with pytest.raises(InvalidInputError) as info:
        read_comparability_csv(path)
    assert "line 2" in info.value.reason
    notes = info.value.__notes__
    assert notes[0].startswith("line 3, column 'value'")
    assert notes[-1] == "... and 9 more problem(s)"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="cannot read the file") as info:
        read_comparability_csv(tmp_path / "nope.csv")
    assert info.value.file == str(tmp_path / "nope.csv")
