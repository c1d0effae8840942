"""The one tabular-input layer: declared columns, every problem named by file, line, column."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from vein2vein.errors import InvalidInputError, TableInputError
from vein2vein.support import Column, TableSchema, read_table, read_text_file

SCHEMA = TableSchema(
    (
        Column("lot"),
        Column("value", kind="number", quantity="percent", unit="%"),
        Column("method", required=False, blank=True),
        Column("status", required=False, allowed=("passed", "failed")),
        Column("dose", required=False, kind="number", blank=True),
    ),
    what="lots",
)


def _write(tmp_path: Path, text: str, name: str = "t.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _error(tmp_path: Path, text: str, schema: TableSchema = SCHEMA) -> TableInputError:
    path = _write(tmp_path, text)
    with pytest.raises(TableInputError) as info:
        read_table(path, schema)
    assert info.value.file == str(path)
    return info.value


def test_a_good_file(tmp_path: Path) -> None:
    path = tmp_path / "lots.csv"
    path.write_bytes(
        "\ufeff LOT , Value [%],Status,DOSE\nL1, 91.5 ,PASSED,\n\nL2,89,failed,2e6\n".encode()
    )
    frame = read_table(path, SCHEMA)
    assert frame.index.name == "line"
    assert frame.index.tolist() == [2, 4]
    assert list(frame.columns) == ["lot", "value", "status", "dose"]
    assert frame["lot"].tolist() == ["L1", "L2"]
    assert frame["value"].tolist() == [91.5, 89.0]
    assert frame["status"].tolist() == ["passed", "failed"]
    assert math.isnan(frame.loc[2, "dose"]) and frame.loc[4, "dose"] == 2e6


def test_blank_text_is_none_and_multiline_fields_count_their_lines(tmp_path: Path) -> None:
    text = 'lot,value,method\n"L\n1",90,\nL2,80,flow\n'
    frame = read_table(_write(tmp_path, text), SCHEMA)
    assert frame.index.tolist() == [3, 4]
    assert frame["method"].tolist() == [None, "flow"]


@pytest.mark.parametrize(
    ("text", "field", "line", "reason"),
    [
        ("", None, 1, "line 1: the file is empty; expected a header with lot,value"),
        ("\n\n", None, 1, "line 1: the file is empty"),
        ("\nlot,value\n", None, 1, "line 1: the first line (header) is empty"),
        ("lot,valu\nL1,9\n", "valu", 1, "line 1: unknown column(s) 'valu'; allowed: lot, value"),
        ("lot\nL1\n", "value", 1, "line 1: the header lacks column(s) value; found: lot"),
        ("lot,value,lot\n", "lot", 1, "line 1: column(s) lot appear more than once"),
        ("lot,value [mL]\nL1,9\n", "value", 1, "line 1: column 'value' is in 'mL'; give it in '%'"),
        ("lot,value\n", None, None, "no lots below the header"),
        ("lot,value\nL1,9,x\n", None, 2, "line 2: 3 fields, the header has 2 (is a comma"),
        ("lot,value\nL1\n", None, 2, "line 2: 1 fields, the header has 2"),
        ("lot,value\n,9\n", "lot", 2, "line 2, column 'lot': empty"),
        ("lot,value\nL1,\n", "value", 2, "line 2, column 'value': empty"),
        ("lot,value\nL1,abc\n", "value", 2, "line 2, column 'value': 'abc' is not a number"),
        ("lot,value\nL1,nan\n", "value", 2, "line 2, column 'value': 'nan' is not a finite"),
        ("lot,value\nL1,1e400\n", "value", 2, "line 2, column 'value': '1e400' is not a finite"),
        ("lot,value\nL1,150\n", "value", 2, "line 2, column 'value': 150 % is not a possible"),
        (
            "lot,value,status\nL1,9,pending\n",
            "status",
            2,
            "line 2, column 'status': 'pending' is not one of passed, failed",
        ),
        ("lot,value\nL1," + "9" * 200_000 + "\n", None, 2, "line 2: not a readable CSV file"),
    ],
)
def test_each_problem_names_file_line_and_column(
    tmp_path: Path, text: str, field: str | None, line: int | None, reason: str
) -> None:
    error = _error(tmp_path, text)
    assert isinstance(error, InvalidInputError)
    assert (error.field, error.line) == (field, line)
    assert error.reason.startswith(reason)


def test_every_problem_is_found_the_rest_are_notes(tmp_path: Path) -> None:
    rows = "".join(f"L{i},x{i}\n" for i in range(30))
    error = _error(tmp_path, "lot,value\n" + rows)
    assert error.line == 2
    assert error.__notes__[0] == "line 3, column 'value': 'x1' is not a number"
    assert len(error.__notes__) == 21
    assert error.__notes__[-1] == "... and 9 more problem(s)"


def test_extra_columns_kept_and_short_rows_padded(tmp_path: Path) -> None:
    schema = TableSchema(
        (Column("lot"), Column("method", required=False, blank=True)),
        extra="keep",
        short_rows="pad",
    )
    frame = read_table(_write(tmp_path, "lot,CD3 [%],method\nL1,45\nL2,50,flow\n"), schema)
    assert list(frame.columns) == ["lot", "method", "CD3 [%]"]
    assert frame.to_dict("records") == [
        {"lot": "L1", "method": None, "CD3 [%]": "45"},
        {"lot": "L2", "method": "flow", "CD3 [%]": "50"},
    ]


def test_a_row_converter_has_its_problems_located_and_collected_in_line_order(
    tmp_path: Path,
) -> None:
    def convert(cells: dict[str, object]) -> dict[str, object]:
        if cells["lot"] == "L2":
            raise InvalidInputError("lot L2 is withdrawn", field="lot")
        return {"lot": cells["lot"], "twice": 2 * float(str(cells["value"]))}

    path = _write(tmp_path, "lot,value\nL1,1\nL2,2\nL3,x\nL4,4\n")
    with pytest.raises(TableInputError) as info:
        read_table(path, SCHEMA, row=convert)
    assert (info.value.line, info.value.field) == (3, "lot")
    assert info.value.reason == "line 3: lot L2 is withdrawn"
    assert info.value.__notes__ == ["line 4, column 'value': 'x' is not a number"]
    path = _write(tmp_path, "lot,value\nL1,1\nL4,4\n")
    frame = read_table(path, SCHEMA, row=convert)
    assert frame.to_dict("index") == {
        2: {"lot": "L1", "twice": 2.0},
        3: {"lot": "L4", "twice": 8.0},
    }


def test_text_already_read(tmp_path: Path) -> None:
    frame = read_table("upload.csv", SCHEMA, text="lot,value\nL1,5\n")
    assert frame["value"].tolist() == [5.0]


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="cannot read the file"):
        read_table(tmp_path / "missing.csv", SCHEMA)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("lot,value\nviabilité,85\n".encode("latin-1"))
    with pytest.raises(InvalidInputError, match="not UTF-8 text"):
        read_text_file(latin)
