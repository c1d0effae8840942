"""Reading results from a CSV file (one row per result)."""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import TextIO

from ..errors import InvalidInputError
from ._values import Result

__all__ = ["RESULT_COLUMNS", "read_results_csv"]

RESULT_COLUMNS = ("analyte", "value", "unit", "method", "stage")
_REQUIRED = ("analyte", "value")


def read_results_csv(path: str | os.PathLike[str]) -> list[Result]:
    r"""Read results from a CSV file.

    The file has a header row with the columns ``analyte`` and ``value`` and,
    optionally, ``unit``, ``method`` and ``stage`` (any order, any case). It is read
    as UTF-8, with or without a byte-order mark. Blank lines are skipped; an empty
    ``value`` means the result is pending.

    Parameters
    ----------
    path
        The CSV file.

    Returns
    -------
    list[Result]
        The results, in file order.

    Raises
    ------
    InvalidInputError
        When the file cannot be read, is empty, lacks a required column, has an
        unknown or repeated column, a row with too many or too few fields, a blank
        analyte, or two results for one analyte at one stage; the reason gives the
        line number and ``field`` the column.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "r.csv"
    >>> _ = p.write_text("analyte,value,unit\nviability,85,%\n", encoding="utf-8")
    >>> read_results_csv(p)
    [Result(analyte='viability', value='85', unit='%', method=None, stage=None)]
    """
    name = os.fspath(path)
    try:
        with Path(path).open(encoding="utf-8-sig", newline="") as handle:
            return _read(handle, name)
    except UnicodeDecodeError as exc:
        msg = f"not UTF-8 text (byte {exc.start} cannot be decoded)"
        raise InvalidInputError(msg, file=name) from None
    except csv.Error as exc:
        msg = f"not a readable CSV file: {exc}"
        raise InvalidInputError(msg, file=name) from None
    except OSError as exc:
        msg = f"cannot read the results: {exc.strerror or exc}"
        raise InvalidInputError(msg, file=name) from None


def _read(handle: TextIO, name: str) -> list[Result]:
    reader = csv.reader(handle)
    header: list[str] | None = None
    for row in reader:
        if any(cell.strip() for cell in row):
            header = [cell.strip().casefold() for cell in row]
            break
    if header is None:
        msg = f"empty file: expected a header row with the columns {', '.join(_REQUIRED)}"
        raise InvalidInputError(msg, file=name)
    header_line = reader.line_num
    for index, column in enumerate(header):
        if column not in RESULT_COLUMNS:
            msg = (
                f"line {header_line}: unknown column {column!r}; the columns are "
                f"{', '.join(RESULT_COLUMNS)}"
            )
            raise InvalidInputError(msg, file=name, field=column or f"column {index + 1}")
        if header.index(column) != index:
            msg = f"line {header_line}: column {column!r} appears twice"
            raise InvalidInputError(msg, file=name, field=column)
    for column in _REQUIRED:
        if column not in header:
            msg = f"line {header_line}: missing column {column!r} (found: {', '.join(header)})"
            raise InvalidInputError(msg, file=name, field=column)
    results: list[Result] = []
    first_line: dict[tuple[str, str | None], int] = {}
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            msg = f"line {line}: {len(row)} fields, but the header has {len(header)}"
            raise InvalidInputError(msg, file=name)
        cells = {column: cell.strip() for column, cell in zip(header, row, strict=True)}
        analyte = cells["analyte"]
        if not analyte:
            msg = f"line {line}: blank analyte"
            raise InvalidInputError(msg, file=name, field="analyte")
        stage = cells.get("stage") or None
        key = (analyte.casefold(), stage)
        if key in first_line:
            msg = f"line {line}: a second result for {analyte!r} (first on line {first_line[key]})"
            raise InvalidInputError(msg, file=name, field="analyte")
        first_line[key] = line
        results.append(
            Result(
                analyte=analyte,
                value=cells["value"],
                unit=cells.get("unit") or None,
                method=cells.get("method") or None,
                stage=stage,
            )
        )
    if not results:
        msg = f"line {header_line}: a header but no results"
        raise InvalidInputError(msg, file=name)
    return results
