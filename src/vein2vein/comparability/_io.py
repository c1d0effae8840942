"""Reading a comparability table from CSV; the analyses never read files themselves."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Final

import pandas as pd

from vein2vein.errors import InvalidInputError

from ._data import DONOR_COLUMN, REQUIRED_COLUMNS

__all__ = ["read_comparability_csv"]

_ALLOWED: Final = (*REQUIRED_COLUMNS, DONOR_COLUMN)
_MAX_NOTES: Final = 20


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
    path = Path(path)
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        msg = f"cannot read the file: {exc.strerror or exc}"
        raise InvalidInputError(msg, file=name) from None
    except UnicodeDecodeError as exc:
        msg = f"not UTF-8 text (byte {exc.start})"
        raise InvalidInputError(msg, file=name) from None

    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None or not any(h.strip() for h in header):
        msg = f"line 1: the file is empty; expected a header {','.join(REQUIRED_COLUMNS)}"
        raise InvalidInputError(msg, file=name)
    columns = [h.strip().lower() for h in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        msg = f"line 1: the header lacks column(s) {', '.join(missing)}"
        raise InvalidInputError(msg, file=name, field=missing[0])
    unknown = [c for c in columns if c not in _ALLOWED]
    if unknown:
        msg = f"line 1: unknown column(s) {', '.join(unknown)}; allowed: {', '.join(_ALLOWED)}"
        raise InvalidInputError(msg, file=name, field=unknown[0])
    repeated = sorted({c for c in columns if columns.count(c) > 1})
    if repeated:
        msg = f"line 1: column(s) {', '.join(repeated)} appear more than once"
        raise InvalidInputError(msg, file=name, field=repeated[0])

    problems: list[tuple[str, str]] = []  # (field, message)
    rows: list[dict[str, object]] = []
    first_line: dict[tuple[str, str], int] = {}
    site_of_lot: dict[str, tuple[str, int]] = {}
    for fields in reader:
        line = reader.line_num
        if not any(f.strip() for f in fields):
            continue
        if len(fields) != len(columns):
            problems.append(
                ("", f"line {line}: {len(fields)} fields, the header has {len(columns)}")
            )
            continue
        record = {c: f.strip() for c, f in zip(columns, fields, strict=True)}
        bad = False
        for column in ("lot", "site", "cqa"):
            if not record[column]:
                problems.append((column, f"line {line}, column {column!r}: empty"))
                bad = True
        try:
            value = float(record["value"])
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            shown = record["value"] or "(empty)"
            problems.append(("value", f"line {line}, column 'value': {shown!r} is not a number"))
            bad = True
        if bad:
            continue
        key = (record["lot"], record["cqa"])
        if key in first_line:
            problems.append(
                (
                    "lot",
                    f"line {line}, column 'lot': lot {key[0]} has a second value for cqa "
                    f"{key[1]} (first on line {first_line[key]})",
                )
            )
            continue
        first_line[key] = line
        seen = site_of_lot.setdefault(record["lot"], (record["site"], line))
        if seen[0] != record["site"]:
            problems.append(
                (
                    "site",
                    f"line {line}, column 'site': lot {record['lot']} is at {record['site']} "
                    f"here but at {seen[0]} on line {seen[1]}",
                )
            )
            continue
        row: dict[str, object] = {c: record[c] for c in ("lot", "site", "cqa")}
        row["value"] = value
        if DONOR_COLUMN in columns:
            row[DONOR_COLUMN] = record[DONOR_COLUMN] or None
        rows.append(row)

    if problems:
        field, message = problems[0]
        error = InvalidInputError(message, file=name, field=field or None)
        for _, other in problems[1 : 1 + _MAX_NOTES]:
            error.add_note(other)
        if len(problems) > 1 + _MAX_NOTES:
            error.add_note(f"... and {len(problems) - 1 - _MAX_NOTES} more problem(s)")
        raise error
    if not rows:
        msg = "no data lines after the header"
        raise InvalidInputError(msg, file=name)
    out_columns = [*REQUIRED_COLUMNS] + ([DONOR_COLUMN] if DONOR_COLUMN in columns else [])
    return pd.DataFrame(rows, columns=out_columns)
