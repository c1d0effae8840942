"""Process CSV files: values with subgroups and phases, every error naming file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from vein2vein.errors import InvalidInputError
from vein2vein.process import read_process_csv


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "data.csv"
    path.write_text(text)
    return path


def test_reads_values_subgroups_and_the_phase_one_count(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "Value,Subgroup,Phase,note\n1.0,a,I,x\n2.0,a,I,\n\n3.0,b,II,\n4.5,b,2,\n",
    )
    table = read_process_csv(path, required=("subgroup",))
    assert table.values.tolist() == [1.0, 2.0, 3.0, 4.5]
    assert table.lines == (2, 3, 5, 6)
    assert table.columns["subgroup"] == ("a", "a", "b", "b")
    table.check_equal_subgroups()
    assert table.phase1_count(by_subgroup=True) == 1
    assert table.phase1_count(by_subgroup=False) == 2


def test_unequal_subgroups_name_the_odd_one(tmp_path: Path) -> None:
    table = read_process_csv(_write(tmp_path, "value,subgroup\n1,a\n2,a\n3,b\n4,b\n5,c\n"))
    with pytest.raises(InvalidInputError, match="line 6: subgroup 'c' has 1 value") as caught:
        table.check_equal_subgroups()
    assert caught.value.field == "subgroup"


@pytest.mark.parametrize(
    ("text", "field", "reason"),
    [
        ("value\n1\nabc\n", "value", "line 3, column 'value': 'abc' is not a number"),
        ("value\n1\ninf\n", "value", "line 3, column 'value': 'inf' is not a finite number"),
        ("val\n1\n", "value", "line 1: the header lacks column(s) value; found: val"),
        ("value,phase\n1,II\n2,I\n", "phase", "line 3: a Phase I row after Phase II rows"),
        ("value,phase\n1,III\n", "phase", "line 2: phase 'III' is not I or II"),
    ],
)
def test_bad_rows_name_file_line_and_field(
    tmp_path: Path, text: str, field: str, reason: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(InvalidInputError) as caught:
        read_process_csv(path).phase1_count(by_subgroup=False)
    assert (caught.value.file, caught.value.field) == (str(path), field)
    assert caught.value.reason.startswith(reason)
