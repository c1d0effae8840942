"""Process data from a CSV file: values with their subgroups, phases and sites, checked.

File format
-----------
One row per value, with a header (column names matched without regard to case):

``value``
    The measurement (required).
``subgroup``
    The subgroup (required for ``xbar-r`` and ``xbar-s``; a label for the other charts,
    whose points are the rows in file order). Subgroups are taken in order of first
    appearance.
``phase``
    ``I`` or ``II`` (also ``1``/``2``). Used only when ``--phase1`` is not given: the
    Phase I rows (subgroups) set the limits and must come first. Ignored with ``--phase1``.
``site``
    For ``capability --by site``.

Other columns are ignored. Points in the output are numbered from 1 in file order
(the Python API's ``Violation.index`` counts from 0).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InvalidInputError
from ..support import Column, TableSchema, read_table

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = ["ProcessTable", "read_process_csv"]

_PHASES = {"i": "I", "1": "I", "ii": "II", "2": "II"}


@dataclass(frozen=True)
class ProcessTable:
    """The rows of a process CSV file, checked.

    Attributes
    ----------
    source
        The file, for error messages.
    values
        The values, finite floats, in file order.
    lines
        The line of the file each value was read from.
    columns
        The ``subgroup``, ``phase`` and ``site`` columns present, as stripped text.
    """

    source: str
    values: NDArray[np.float64]
    lines: tuple[int, ...]
    columns: dict[str, tuple[str, ...]]

    def check_equal_subgroups(self) -> None:
        """Raise unless every subgroup has the same number of values (X-bar charts)."""
        keys = self.columns["subgroup"]
        counts: dict[str, int] = {}
        first_line: dict[str, int] = {}
        for key, line in zip(keys, self.lines, strict=True):
            counts[key] = counts.get(key, 0) + 1
            first_line.setdefault(key, line)
        if len(set(counts.values())) > 1:
            sizes = list(counts.values())
            usual = max(set(sizes), key=sizes.count)
            odd = next(k for k in _order(keys) if counts[k] != usual)
            msg = (
                f"line {first_line[odd]}: subgroup {odd!r} has {counts[odd]} value(s), the "
                f"others have {usual}; X-bar charts need subgroups of equal size"
            )
            raise InvalidInputError(msg, file=self.source, field="subgroup")

    def phase1_count(self, *, by_subgroup: bool) -> int | None:
        """Number of leading Phase I points (subgroups) from a ``phase`` column, if any."""
        if "phase" not in self.columns:
            return None
        phases = []
        for text, line in zip(self.columns["phase"], self.lines, strict=True):
            phase = _PHASES.get(text.casefold())
            if phase is None:
                msg = f"line {line}: phase {text!r} is not I or II"
                raise InvalidInputError(msg, file=self.source, field="phase")
            phases.append((phase, line))
        if by_subgroup:
            per_group: dict[str, tuple[str, int]] = {}
            for key, (phase, line) in zip(self.columns["subgroup"], phases, strict=True):
                seen = per_group.setdefault(key, (phase, line))
                if seen[0] != phase:
                    msg = f"line {line}: subgroup {key!r} has rows of both phases"
                    raise InvalidInputError(msg, file=self.source, field="phase")
            phases = list(per_group.values())
        n1 = 0
        for phase, _ in phases:
            if phase != "I":
                break
            n1 += 1
        for phase, line in phases[n1:]:
            if phase == "I":
                msg = f"line {line}: a Phase I row after Phase II rows; Phase I must come first"
                raise InvalidInputError(msg, file=self.source, field="phase")
        if n1 == 0:
            msg = "no Phase I rows to set the limits from"
            raise InvalidInputError(msg, file=self.source, field="phase")
        return n1


def read_process_csv(path: str | Path, *, required: tuple[str, ...] = ()) -> ProcessTable:
    """Read a ``value[,subgroup,phase,site,...]`` file; every error names file, line, column.

    Parameters
    ----------
    path
        The CSV file.
    required
        Columns needed besides ``value``.

    Returns
    -------
    ProcessTable
        The values (finite floats), the line of each row, and the other known columns as
        stripped text.
    """
    import numpy as np

    source = str(path)
    kept = tuple(c for c in ("subgroup", "phase", "site") if c not in required)
    schema = TableSchema(
        (
            Column("value", kind="number"),
            *(Column(c) for c in required),
            *(Column(c, required=False, blank=True) for c in kept),
        ),
        what="data rows",
        extra="keep",  # other columns are ignored
        short_rows="pad",
    )
    frame = read_table(path, schema)
    keep = [c for c in ("subgroup", "phase", "site") if c in frame.columns]
    return ProcessTable(
        source=source,
        values=frame["value"].to_numpy(dtype=np.float64),
        lines=tuple(int(line) for line in frame.index),
        columns={c: tuple(v or "" for v in frame[c]) for c in keep},
    )


def _order(keys: tuple[str, ...]) -> list[str]:
    return list(dict.fromkeys(keys))
