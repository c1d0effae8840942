"""The one tabular-input layer: a CSV file read against declared columns.

A reader declares its columns (:class:`Column`: name, required or optional, text or
number, whether a cell may be blank, the values allowed, the physical quantity a number
measures and its unit) in a :class:`TableSchema`, and :func:`read_table` gives back a
:class:`pandas.DataFrame` of the checked cells indexed by the file's line numbers, or
raises one :class:`~vein2vein.errors.TableInputError` that names the file, the line
and the column of the first problem, with the others found in the same pass (up to
20) attached as notes. The same rules hold for every CSV file vein2vein reads:

- UTF-8, with or without a byte-order mark; the header is the first line, its names
  matched without regard to case or surrounding blanks (an undeclared column the
  schema keeps is named as the header writes it); blank rows below it are skipped;
  every cell is stripped of surrounding blanks.
- A header that names a column that is not declared (reported first: a misspelt
  name is the likely cause of a missing one), lacks a required one or names one
  twice is refused, unless the schema keeps undeclared columns: a misspelt optional
  column (``units`` for ``unit``) would otherwise be ignored silently and a value
  judged in the wrong unit.
- A row with more fields than the header is refused (a comma that lost its quotes);
  one with fewer is refused too unless the schema pads short rows with blanks.
- A number column holds finite numbers only (not NaN, not ``inf``, not ``1e400``),
  inside the range of its declared :data:`~vein2vein.support.QUANTITIES` entry.
- A column whose unit is declared may carry it in the header (``value [%]``); a
  different unit there is refused rather than converted.

Line numbers are those of the file as an editor shows them, a quoted field with a line
break counted in full, which is why rows are tokenised with the standard ``csv``
module (pandas' parser does not report lines) and the checked table is pandas.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

from ..errors import InvalidInputError, TableInputError
from ._quantities import check_quantity

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "MAX_NOTES",
    "Column",
    "ColumnKind",
    "TableSchema",
    "raise_collected",
    "read_table",
    "read_text_file",
]

MAX_NOTES: Final = 20
"""How many further problems an error carries as notes."""

ColumnKind = Literal["text", "number"]
"""What a column's cells hold: text, or a finite number (``float``)."""

_HEADER_UNIT: Final = re.compile(r"^(?P<name>[^\[\]]*?)\s*\[(?P<unit>[^\[\]]*)\]$")


@dataclass(frozen=True, slots=True)
class Column:
    """One declared column of a table file.

    Attributes
    ----------
    name
        The header name, lower case (the header is matched without regard to case).
    required
        The header must name the column.
    kind
        ``"text"`` (stripped text) or ``"number"`` (a finite float).
    blank
        A cell may be empty: ``None`` in a text column, NaN in a number column.
        Otherwise an empty cell is refused.
    allowed
        The only values a text cell may take, matched without regard to case and
        given back as written here.
    quantity
        For a number column: the :data:`~vein2vein.support.QUANTITIES` entry whose
        possible range each value must lie in.
    unit
        The unit the values are in; the header may then say it (``value [%]``), and a
        header giving another unit is refused.

    Examples
    --------
    >>> column = Column("viability", kind="number", quantity="percent", unit="%")
    >>> column.parse("91.5", line=2, file="qc.csv")
    91.5
    >>> try:
    ...     column.parse("abc", line=3, file="qc.csv")
    ... except TableInputError as exc:
    ...     print(exc.line, exc.reason)
    3 line 3, column 'viability': 'abc' is not a number
    """

    name: str
    required: bool = True
    kind: ColumnKind = "text"
    blank: bool = False
    allowed: tuple[str, ...] | None = None
    quantity: str | None = None
    unit: str | None = None

    def parse(self, cell: str, *, line: int, file: str) -> Any:
        """The cell's value, or raise :class:`~vein2vein.errors.TableInputError`."""
        where = f"line {line}, column {self.name!r}"
        if not cell:
            if self.blank:
                return math.nan if self.kind == "number" else None
            msg = f"{where}: empty"
            raise TableInputError(msg, file=file, field=self.name, line=line)
        if self.kind == "number":
            return self._number(cell, where=where, line=line, file=file)
        if self.allowed is not None:
            for value in self.allowed:
                if cell.casefold() == value.casefold():
                    return value
            msg = f"{where}: {cell!r} is not one of {', '.join(self.allowed)}"
            raise TableInputError(msg, file=file, field=self.name, line=line)
        return cell

    def _number(self, cell: str, *, where: str, line: int, file: str) -> float:
        try:
            number = float(cell)
        except ValueError:
            msg = f"{where}: {cell!r} is not a number"
            raise TableInputError(msg, file=file, field=self.name, line=line) from None
        if not math.isfinite(number):
            msg = f"{where}: {cell!r} is not a finite number"
            raise TableInputError(msg, file=file, field=self.name, line=line)
        if self.quantity is not None:
            try:
                check_quantity(self.quantity, number, field=self.name)
            except InvalidInputError as exc:
                msg = f"{where}: {exc.reason}"
                raise TableInputError(msg, file=file, field=self.name, line=line) from None
        return number


@dataclass(frozen=True, slots=True)
class TableSchema:
    """The declared columns of one kind of table file, and how lenient its rows are.

    Attributes
    ----------
    columns
        The declared columns, in the order the table is given back.
    what
        What one row is, in the plural, for messages (``"results"``, ``"lots"``).
    extra
        ``"refuse"`` a header column that is not declared, or ``"keep"`` it as text
        (a table whose further columns are named by the data, such as one column per
        analyte).
    short_rows
        ``"refuse"`` a row with fewer fields than the header, or ``"pad"`` it with
        blank cells (an export that leaves trailing optional cells out).

    Examples
    --------
    >>> schema = TableSchema((Column("lot"), Column("value", kind="number")), what="lots")
    >>> schema.names, schema.required
    (('lot', 'value'), ('lot', 'value'))
    """

    columns: tuple[Column, ...]
    what: str = "rows"
    extra: Literal["refuse", "keep"] = "refuse"
    short_rows: Literal["refuse", "pad"] = "refuse"

    @property
    def names(self) -> tuple[str, ...]:
        """Every declared column's name."""
        return tuple(c.name for c in self.columns)

    @property
    def required(self) -> tuple[str, ...]:
        """The names the header must have."""
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column | None:
        """The declared column of that name, if any."""
        return next((c for c in self.columns if c.name == name), None)


def read_text_file(path: str | os.PathLike[str]) -> str:
    """A text input file's content (UTF-8, a byte-order mark dropped), or raise.

    Raises
    ------
    InvalidInputError
        The file cannot be read (its reason from the system) or is not UTF-8 text.

    Examples
    --------
    >>> try:
    ...     read_text_file("/nonexistent/results.csv")
    ... except InvalidInputError as exc:
    ...     print(exc.reason)
    cannot read the file: No such file or directory
    """
    name = os.fspath(path)
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        msg = f"not UTF-8 text (byte {exc.start} cannot be decoded)"
        raise InvalidInputError(msg, file=name) from None
    except OSError as exc:
        msg = f"cannot read the file: {exc.strerror or exc}"
        raise InvalidInputError(msg, file=name) from None


def _at_line(exc: InvalidInputError, line: int, name: str) -> TableInputError:
    where = f"line {line}"
    located = TableInputError(f"{where}: {exc.reason}", file=name, field=exc.field, line=line)
    for note in getattr(exc, "__notes__", ()):
        located.add_note(f"{where}: {note}")
    return located


def raise_collected(problems: Sequence[InvalidInputError]) -> None:
    """Raise the first problem with the next :data:`MAX_NOTES` as notes; none: return.

    A note is the problem's reason, with its field when the reason does not name it.

    Examples
    --------
    >>> problems = [InvalidInputError(f"line {n}: bad", field="dose") for n in (2, 3)]
    >>> try:
    ...     raise_collected(problems)
    ... except InvalidInputError as exc:
    ...     print(exc.reason, exc.__notes__)
    line 2: bad ["line 3: bad (field 'dose')"]
    """
    if not problems:
        return
    first = problems[0]
    for other in problems[1 : 1 + MAX_NOTES]:
        named = other.field is None or repr(other.field) in other.reason
        first.add_note(other.reason if named else f"{other.reason} (field {other.field!r})")
    if len(problems) > 1 + MAX_NOTES:
        first.add_note(f"... and {len(problems) - 1 - MAX_NOTES} more problem(s)")
    raise first


def _rows(text: str, name: str) -> Iterator[tuple[int, list[str]]]:
    """Every row with its line, cells stripped (blank rows too: line 1 must be the header)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for row in reader:
            yield reader.line_num, [cell.strip() for cell in row]
    except csv.Error as exc:
        msg = f"line {reader.line_num}: not a readable CSV file: {exc}"
        raise TableInputError(msg, file=name, line=reader.line_num) from None


def _blank(cells: list[str]) -> bool:
    return not any(cells)


def _header(
    cells: list[str], line: int, schema: TableSchema, name: str
) -> tuple[list[str], dict[str, str]]:
    """The column names of the header, and the units it states for declared columns."""
    where = f"line {line}"
    columns: list[str] = []
    units: dict[str, str] = {}
    for written in cells:
        match = _HEADER_UNIT.match(written)
        declared = schema.column(match["name"].casefold()) if match else None
        cell = written
        if match and declared is not None and declared.unit is not None:
            units[declared.name] = match["unit"].strip()
            cell = declared.name  # the unit is taken off the name
        # A declared column by its declared name; any other as the data writes it.
        columns.append(cell.casefold() if schema.column(cell.casefold()) else cell)
    if schema.extra == "refuse":
        unknown = [c for c in columns if schema.column(c) is None]
        if unknown:
            shown = ", ".join(repr(c) for c in unknown)
            msg = f"{where}: unknown column(s) {shown}; allowed: {', '.join(schema.names)}"
            field = unknown[0] or f"column {columns.index(unknown[0]) + 1}"
            raise TableInputError(msg, file=name, field=field, line=line)
    missing = [c for c in schema.required if c not in columns]
    if missing:
        msg = (
            f"{where}: the header lacks column(s) {', '.join(missing)}; "
            f"found: {', '.join(c for c in columns if c) or 'none'}"
        )
        raise TableInputError(msg, file=name, field=missing[0], line=line)
    repeated = list(dict.fromkeys(c for c in columns if columns.count(c) > 1))
    if repeated:
        msg = f"{where}: column(s) {', '.join(repeated)} appear more than once"
        raise TableInputError(msg, file=name, field=repeated[0], line=line)
    for column, unit in units.items():
        declared_unit = schema.column(column).unit  # type: ignore[union-attr]  # declared above
        if unit != declared_unit:
            msg = f"{where}: column {column!r} is in {unit!r}; give it in {declared_unit!r}"
            raise TableInputError(msg, file=name, field=column, line=line)
    return columns, units


def read_table(
    source: str | os.PathLike[str],
    schema: TableSchema,
    *,
    text: str | None = None,
    row: Callable[[dict[str, Any]], Mapping[str, Any]] | None = None,
) -> pd.DataFrame:
    r"""Read a CSV file against ``schema``: the checked cells, indexed by line.

    Parameters
    ----------
    source
        The CSV file (read as UTF-8, a byte-order mark dropped).
    schema
        The declared columns.
    text
        The file's content when it is already read (``source`` then only names it).
    row
        Converts the checked cells of one row (by column) into the row's values; an
        :class:`~vein2vein.errors.InvalidInputError` it raises is located at the row's
        line and collected with the other problems, in line order.

    Returns
    -------
    pandas.DataFrame
        One row per non-blank data row, indexed by its line (``line``), with the
        declared columns the header names, in declared order (text as ``str`` or
        ``None``, numbers as ``float``), then, when the schema keeps them, the other
        columns, named as the header writes them, as stripped text; with ``row``, the
        values it gives.

    Raises
    ------
    InvalidInputError
        The file cannot be read or is not UTF-8.
    TableInputError
        The header or a cell breaks the declaration, or there are no rows; the first
        problem's reason names the line and ``field`` the column, others are notes.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "lots.csv"
    >>> _ = path.write_text("Lot,Value [%]\nL1,91.5\n\nL2,89\n", encoding="utf-8")
    >>> schema = TableSchema(
    ...     (Column("lot"), Column("value", kind="number", quantity="percent", unit="%")),
    ...     what="lots",
    ... )
    >>> frame = read_table(path, schema)
    >>> frame.index.tolist(), frame["lot"].tolist(), frame["value"].tolist()
    ([2, 4], ['L1', 'L2'], [91.5, 89.0])
    >>> _ = path.write_text("lot,value\nL1,150\nL2,inf\n", encoding="utf-8")
    >>> try:
    ...     read_table(path, schema)
    ... except TableInputError as exc:
    ...     print(exc.line, exc.field, exc.reason, exc.__notes__, sep="\n")
    2
    value
    line 2, column 'value': 150 % is not a possible percent (0 to 100 %: a share of a whole)
    ["line 3, column 'value': 'inf' is not a finite number"]
    """
    import pandas as pd

    name = os.fspath(source)
    content = read_text_file(source) if text is None else text
    rows = _rows(content, name)
    first = next(rows, None)
    if first is None or _blank(first[1]):
        needed = ",".join(schema.required)
        expected = f"; expected a header with {needed}" if needed else ""
        what = "the file" if all(_blank(cells) for _, cells in rows) else "the first line (header)"
        msg = f"line 1: {what} is empty{expected}"
        raise TableInputError(msg, file=name, line=1)
    columns, _ = _header(first[1], first[0], schema, name)
    declared = [c for c in schema.columns if c.name in columns]
    extra = [c for c in columns if schema.column(c) is None]
    parsers: dict[str, Callable[..., Any]] = {c.name: c.parse for c in declared}
    problems: list[InvalidInputError] = []
    records: list[dict[str, Any]] = []
    lines: list[int] = []
    for line, cells in rows:
        if _blank(cells):
            continue
        if len(cells) > len(columns) or (
            len(cells) < len(columns) and schema.short_rows == "refuse"
        ):
            hint = " (is a comma missing its quotes?)" if len(cells) > len(columns) else ""
            msg = f"line {line}: {len(cells)} fields, the header has {len(columns)}{hint}"
            problems.append(TableInputError(msg, file=name, line=line))
            continue
        by_name = dict(zip(columns, cells, strict=False))
        record: dict[str, Any] = {}
        bad = False
        for column, parse in parsers.items():
            try:
                record[column] = parse(by_name.get(column, ""), line=line, file=name)
            except TableInputError as exc:
                problems.append(exc)
                bad = True
        if bad:
            continue
        record.update((c, by_name.get(c, "")) for c in extra)
        if row is not None:
            try:
                record = dict(row(record))
            except InvalidInputError as exc:
                problems.append(_at_line(exc, line, name))
                continue
        records.append(record)
        lines.append(line)
    raise_collected(problems)
    if not records:
        msg = f"no {schema.what} below the header"
        raise TableInputError(msg, file=name)
    index = pd.Index(lines, name="line")
    if row is not None:
        return pd.DataFrame(records, index=index)
    order = [c.name for c in declared] + extra
    frame = pd.DataFrame(records, columns=order, index=index)
    for declared_column in declared:
        if declared_column.kind == "text":
            frame[declared_column.name] = frame[declared_column.name].astype(object)
    return frame
