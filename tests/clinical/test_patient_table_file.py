"""A patient table read from a file: types as pandas infers them, bad cells named."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from vein2vein.clinical import read_patient_table
from vein2vein.errors import InvalidInputError, TableInputError

COHORT = Path(__file__).resolve().parents[2] / "docs" / "tour" / "cohort.csv"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "patients.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_tour_cohort_reads_as_pandas_reads_it() -> None:
    pd.testing.assert_frame_equal(read_patient_table(COHORT), pd.read_csv(COHORT))


def test_blanks_booleans_and_text_keep_their_meaning(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "patient_id,vcn,lymphodepleted,site\nP1,1.5,true,HUB-A\n\nP2,,FALSE,HUB-B\n",
    )
    frame = read_patient_table(path)
    assert frame["patient_id"].tolist() == ["P1", "P2"]
    assert frame["vcn"].iloc[0] == 1.5 and pd.isna(frame["vcn"].iloc[1])
    assert frame["lymphodepleted"].tolist() == [True, False]
    assert frame["site"].tolist() == ["HUB-A", "HUB-B"]


@pytest.mark.parametrize("cell", ["inf", "1e400", "NaN", "-inf"])
def test_a_number_that_is_not_finite_is_named_by_line_and_column(tmp_path: Path, cell: str) -> None:
    path = _write(tmp_path, f"patient_id,vcn\nP1,1.5\n\nP2,{cell}\n")
    with pytest.raises(TableInputError) as caught:
        read_patient_table(path)
    assert (caught.value.file, caught.value.field, caught.value.line) == (str(path), "vcn", 4)
    assert "is not a finite number" in caught.value.reason


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("patient_id,vcn,vcn\nP1,1,2\n", "more than once"),
        ("id,vcn\nP1,1\n", "patient_id"),
        ("patient_id,vcn\nP1,1,7\n", "line 2"),
    ],
)
def test_a_malformed_file_is_refused(tmp_path: Path, text: str, fragment: str) -> None:
    with pytest.raises(InvalidInputError, match=fragment):
        read_patient_table(_write(tmp_path, text))
