"""Reading results from a CSV file (one row per result)."""

from __future__ import annotations

import os
from typing import Final

from ..errors import TableInputError
from ..support import Column, TableSchema, read_table
from ._values import Result

__all__ = ["RESULT_COLUMNS", "read_results_csv"]

RESULT_COLUMNS = ("analyte", "value", "unit", "method", "stage")
_SCHEMA: Final = TableSchema(
    (
        Column("analyte"),
        Column("value", blank=True),  # empty: the result is pending
        *(Column(name, required=False, blank=True) for name in ("unit", "method", "stage")),
    ),
    what="results",
)


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
        When the file cannot be read.
    TableInputError
        When the file is empty, lacks a required column, has an unknown or repeated
        column, a row with too many or too few fields, a blank analyte, or two results
        for one analyte at one stage; the reason gives the line number and ``field``
        the column.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "r.csv"
    >>> _ = p.write_text("analyte,value,unit\nviability,85,%\n", encoding="utf-8")
    >>> read_results_csv(p)
    [Result(analyte='viability', value='85', unit='%', method=None, stage=None)]
    """
    frame = read_table(path, _SCHEMA)
    name = os.fspath(path)
    results: list[Result] = []
    first_line: dict[tuple[str, str | None], int] = {}
    for line, cells in zip(frame.index, frame.to_dict("records"), strict=True):
        analyte = cells["analyte"]
        stage = cells.get("stage")
        key = (analyte.casefold(), stage)
        if key in first_line:
            msg = f"line {line}: a second result for {analyte!r} (first on line {first_line[key]})"
            raise TableInputError(msg, file=name, field="analyte", line=int(line))
        first_line[key] = int(line)
        results.append(
            Result(
                analyte=analyte,
                value=cells["value"] or "",
                unit=cells.get("unit"),
                method=cells.get("method"),
                stage=stage,
            )
        )
    return results
