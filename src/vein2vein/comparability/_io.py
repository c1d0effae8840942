"""Reading a comparability table from CSV; the analyses never read files themselves."""

from __future__ import annotations

from pathlib import Path
from typing import Final

import pandas as pd

from vein2vein.errors import InvalidInputError, TableInputError
from vein2vein.support import Column, TableSchema, raise_collected, read_table

from ._data import DONOR_COLUMN, REQUIRED_COLUMNS

__all__ = ["read_comparability_csv"]

_SCHEMA: Final = TableSchema(
    (
        *(Column(name, kind="number" if name == "value" else "text") for name in REQUIRED_COLUMNS),
        Column(DONOR_COLUMN, required=False, blank=True),
    ),
    what="data lines",
)


def read_comparability_csv(path: str | Path) -> pd.DataFrame:
    r"""Read ``lot,site,cqa,value[,donor]`` from a CSV file (UTF-8, optional BOM).

    One row per lot and CQA. Every problem is found in one pass: the first is
    raised as :class:`~vein2vein.errors.InvalidInputError` naming the file, the
    line and the column; the others (up to 20) are attached as notes.

    Parameters
    ----------
    path
        The CSV file. The header must name ``lot``, ``site``, ``cqa`` and ``value``
        (any order); ``donor`` is optional; other columns are refused.

    Returns
    -------
    pandas.DataFrame
        Columns ``lot, site, cqa, value`` (and ``donor``, None where empty), one row
        per data line, ``value`` as float.

    Raises
    ------
    InvalidInputError
        An unreadable file, a header without a required column or with an unknown
        one, a line with the wrong number of fields, an empty ``lot``/``site``/``cqa``,
        a ``value`` that is not a finite number, a lot with two values for one CQA, or
        a lot recorded at two sites.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "lots.csv"
    >>> _ = path.write_text("lot,site,cqa,value\nL1,HUB-A,viability,91.5\n")
    >>> read_comparability_csv(path).to_dict("records")
    [{'lot': 'L1', 'site': 'HUB-A', 'cqa': 'viability', 'value': 91.5}]
    """
    name = str(path)
    frame = read_table(path, _SCHEMA)
    problems: list[InvalidInputError] = []
    first_line: dict[tuple[str, str], int] = {}
    site_of_lot: dict[str, tuple[str, int]] = {}
    for line, record in zip(frame.index.tolist(), frame.to_dict("records"), strict=True):
        key = (record["lot"], record["cqa"])
        if key in first_line:
            msg = (
                f"line {line}, column 'lot': lot {key[0]} has a second value for cqa "
                f"{key[1]} (first on line {first_line[key]})"
            )
            problems.append(TableInputError(msg, file=name, field="lot", line=line))
            continue
        first_line[key] = line
        seen = site_of_lot.setdefault(record["lot"], (record["site"], line))
        if seen[0] != record["site"]:
            msg = (
                f"line {line}, column 'site': lot {record['lot']} is at {record['site']} "
                f"here but at {seen[0]} on line {seen[1]}"
            )
            problems.append(TableInputError(msg, file=name, field="site", line=line))
    raise_collected(problems)
    return frame.reset_index(drop=True)
