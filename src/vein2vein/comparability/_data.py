"""The plain data the comparability analyses take, checked once, and shared helpers.

A comparability data set is a long table with one row per lot and critical quality
attribute (CQA): ``lot, site, cqa, value`` and, for split-apheresis studies, ``donor``.
Nothing here reads files or the database (see ``_io.py`` for the CSV reader).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from vein2vein.errors import InvalidInputError

#: Columns every comparability table has.
REQUIRED_COLUMNS: Final = ("lot", "site", "cqa", "value")
#: The optional column that links the lots of one split apheresis.
DONOR_COLUMN: Final = "donor"
#: Below this many lots in a group the result carries a small-sample caveat.
SMALL_N: Final = 10
#: A ratio of standard deviations beyond this is reported as unequal spread.
SD_RATIO_FLAG: Final = 2.0


def as_values(values: npt.ArrayLike, *, field: str) -> npt.NDArray[np.float64]:
    """``values`` as a 1-D float array of finite numbers, or :class:`InvalidInputError`."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        msg = "must be numbers"
        raise InvalidInputError(msg, field=field) from None
    if array.ndim != 1:
        msg = f"must be one-dimensional, got shape {array.shape}"
        raise InvalidInputError(msg, field=field)
    if not np.all(np.isfinite(array)):
        msg = f"{int(np.sum(~np.isfinite(array)))} value(s) are missing or not finite"
        raise InvalidInputError(msg, field=field)
    return array


def require_n(values: npt.NDArray[np.float64], minimum: int, *, field: str) -> None:
    """Refuse fewer than ``minimum`` values."""
    if values.size < minimum:
        msg = f"needs at least {minimum} values, got {values.size}"
        raise InvalidInputError(msg, field=field)


def check_alpha(alpha: float) -> None:
    """``alpha`` must lie in (0, 0.5) for a 1 - 2 alpha interval to exist."""
    if not (isinstance(alpha, int | float) and 0 < alpha < 0.5):
        msg = f"alpha must be between 0 and 0.5, got {alpha!r}"
        raise InvalidInputError(msg, field="alpha")


def check_positive(value: float, *, field: str) -> None:
    """``value`` must be a finite positive number."""
    if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        msg = f"must be a finite positive number, got {value!r}"
        raise InvalidInputError(msg, field=field)


def resolve_margin(
    margin: float | None, k: float, reference_sd: float, n_reference: int
) -> tuple[float, str]:
    """The equivalence margin and how it was set (``"given"`` or ``"k_reference_sd"``)."""
    if margin is not None:
        check_positive(margin, field="margin")
        return float(margin), "given"
    check_positive(k, field="k")
    if not reference_sd > 0:
        msg = (
            f"the {n_reference} reference values have no spread (SD 0), so k x SD gives no "
            "margin; give an absolute margin"
        )
        raise InvalidInputError(msg, field="margin")
    return float(k) * reference_sd, "k_reference_sd"


def margin_caveat(k: float, n_reference: int) -> str:
    """The caveat every estimated margin carries."""
    return (
        f"the margin is {k:g} × the reference SD estimated from {n_reference} lots; that SD is "
        "itself uncertain (each new reference lot moves the margin), so a margin fixed in "
        "advance from process and clinical knowledge is preferable"
    )


def small_n_caveat(counts: Iterable[tuple[str, int]]) -> str | None:
    """A caveat naming the groups with fewer than :data:`SMALL_N` lots, or None."""
    small = [(name, n) for name, n in counts if n < SMALL_N]
    if not small:
        return None
    which = ", ".join(f"{n} {name}" for name, n in small)
    return (
        f"small sample ({which} lots; fewer than {SMALL_N} per group): the test has little "
        "power, normality cannot be checked, and 'not shown equivalent' may only mean too "
        "few lots"
    )


def sd_ratio_caveat(sd_test: float, sd_reference: float, *, pooled: bool) -> str | None:
    """A caveat when the two standard deviations differ by more than :data:`SD_RATIO_FLAG`."""
    low, high = sorted((sd_test, sd_reference))
    if low > 0 and high / low <= SD_RATIO_FLAG:
        return None
    ratio = "infinite" if low == 0 else f"{high / low:.2g}"
    consequence = (
        "the pooled-variance t test assumes equal spreads; use Welch's test (usevar='unequal')"
        if pooled
        else "Welch's test keeps the comparison of means valid, but a different spread is "
        "itself a comparability finding"
    )
    return (
        f"unequal variances: SD {sd_test:.3g} (test) vs {sd_reference:.3g} (reference), "
        f"ratio {ratio}; {consequence}"
    )


def _text_column(frame: pd.DataFrame, column: str) -> pd.Series:
    series = frame[column]
    text = series.astype("string").str.strip()
    bad = series.isna() | (text == "")
    if bool(bad.any()):
        rows = ", ".join(str(i) for i in list(frame.index[bad.to_numpy()])[:5])
        msg = f"{int(bad.sum())} row(s) have no {column} (rows {rows})"
        raise InvalidInputError(msg, field=column)
    return text.astype(object)


def validate_frame(frame: pd.DataFrame, *, extra: Sequence[str] = ()) -> pd.DataFrame:
    """A checked copy of a comparability table.

    ``lot``, ``site`` and ``cqa`` become non-empty text, ``value`` a finite float,
    ``donor`` (when present) text or None. A lot belongs to one site and has at most
    one value per CQA. ``extra`` names further columns to keep (model covariates).
    """
    if not isinstance(frame, pd.DataFrame):
        msg = f"expected a pandas DataFrame, got {type(frame).__name__}"
        raise InvalidInputError(msg, field="frame")
    missing = [c for c in (*REQUIRED_COLUMNS, *extra) if c not in frame.columns]
    if missing:
        needs = ", ".join(REQUIRED_COLUMNS)
        msg = f"missing column(s) {', '.join(missing)}; the table needs {needs}"
        raise InvalidInputError(msg, field=missing[0])
    if frame.empty:
        msg = "the table has no rows"
        raise InvalidInputError(msg, field="frame")
    out = pd.DataFrame(index=frame.index)
    for column in ("lot", "site", "cqa"):
        out[column] = _text_column(frame, column)
    values = pd.to_numeric(frame["value"], errors="coerce").astype(np.float64)
    bad = ~np.isfinite(values.to_numpy())
    if bad.any():
        rows = ", ".join(str(i) for i in list(frame.index[bad])[:5])
        msg = f"{int(bad.sum())} value(s) are missing, not numbers or not finite (rows {rows})"
        raise InvalidInputError(msg, field="value")
    out["value"] = values
    if DONOR_COLUMN in frame.columns:
        donor = frame[DONOR_COLUMN].astype("string").str.strip()
        out[DONOR_COLUMN] = [None if pd.isna(d) or d == "" else str(d) for d in donor]
    for column in extra:
        out[column] = frame[column]
    duplicated = out.duplicated(["lot", "cqa"], keep=False)
    if bool(duplicated.any()):
        first = out[duplicated].iloc[0]
        msg = f"lot {first['lot']} has more than one value for cqa {first['cqa']}"
        raise InvalidInputError(msg, field="lot")
    sites_per_lot = out.groupby("lot", sort=False)["site"].nunique()
    if bool((sites_per_lot > 1).any()):
        lot = str(sites_per_lot[sites_per_lot > 1].index[0])
        sites = sorted(out.loc[out["lot"] == lot, "site"].unique())
        msg = f"lot {lot} is recorded at more than one site ({', '.join(sites)})"
        raise InvalidInputError(msg, field="site")
    return out


def require_known(value: str, known: Sequence[str], *, what: str, field: str) -> None:
    """Refuse a site or CQA name that is not in the data, listing the ones that are."""
    if value not in known:
        msg = f"unknown {what} {value!r}; the data have {', '.join(map(repr, known))}"
        raise InvalidInputError(msg, field=field)


def unique_in_order(values: Iterable[str]) -> list[str]:
    """The distinct values in order of first appearance."""
    return list(dict.fromkeys(values))
