"""The one number formatter: how vein2vein writes a number for people to read.

Two house styles, one function:

- ``"plain"`` (specifications, decisions, certificates of analysis): the number itself,
  up to six significant digits without trailing zeros, and a power of ten written out
  (``1.2 × 10⁶``) for very large or very small numbers, as a limit is printed on a
  certificate.
- ``"report"`` (statistical reports): two significant digits *of a scale* (by default
  the number itself), so that an estimate and its interval limits, given the margin as
  scale, are written to the same decimals; e-notation for very large or very small
  scales, a true minus sign (−) and ``n/a`` for a missing or non-finite value.

Either switches to a power of ten outside 10⁻³ to 10⁵.
"""

from __future__ import annotations

import math
from typing import Final, Literal

__all__ = ["NumberStyle", "format_number", "round_sig"]

NumberStyle = Literal["plain", "report"]
"""The house styles of :func:`format_number`."""

_TO_SUPERSCRIPT: Final = str.maketrans("0123456789-+", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺")
_MINUS: Final = "\u2212"


def round_sig(x: float, digits: int = 12) -> float:
    """Round to ``digits`` significant digits (0, inf and nan pass through).

    Examples
    --------
    >>> round_sig(1234.5678, 3), round_sig(0.000123456, 2), round_sig(0.0, 3)
    (1230.0, 0.00012, 0.0)
    """
    if x == 0 or not math.isfinite(x):
        return x
    return round(x, digits - 1 - math.floor(math.log10(abs(x))))


def _plain(x: float) -> str:
    if x == 0 or not math.isfinite(x):
        return f"{x:g}"
    if 1e-3 <= abs(x) < 1e5:
        return f"{round_sig(x, 6):g}"
    mantissa, exp = f"{x:.3e}".split("e")  # 4 significant digits, rounding carried
    return f"{float(mantissa):g} × 10{str(int(exp)).translate(_TO_SUPERSCRIPT)}"


def _report(value: float | None, scale: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "n/a"
    ref = abs(scale if scale is not None and math.isfinite(scale) and scale != 0 else value)
    if ref == 0:
        text = "0"
    elif ref >= 1e5 or ref < 1e-3:
        text = f"{value:.2e}"
    else:
        decimals = max(0, 1 - math.floor(math.log10(ref)))
        text = f"{value:.{decimals}f}"
    return text.replace("-", _MINUS)


def format_number(
    value: float | None, scale: float | None = None, *, style: NumberStyle = "plain"
) -> str:
    """A number as a reviewer reads it, in one of the house styles.

    Parameters
    ----------
    value
        The number (``None`` only in the ``"report"`` style, written ``n/a``).
    scale
        ``"report"`` style: the number whose two significant digits set the decimals
        (an interval's margin); default the value itself. The ``"plain"`` style writes
        the value to its own six significant digits and takes no scale.
    style
        ``"plain"`` (specifications, decisions, certificates) or ``"report"``.

    Returns
    -------
    str
        The text.

    Raises
    ------
    TypeError
        A scale given with the ``"plain"`` style, or ``None`` as its value.

    Examples
    --------
    >>> format_number(80.0), format_number(0.25), format_number(1.2e6), format_number(-3e-5)
    ('80', '0.25', '1.2 × 10⁶', '-3 × 10⁻⁵')
    >>> format_number(4.123, style="report"), format_number(-1.24, 4.1, style="report")
    ('4.1', '−1.2')
    >>> format_number(2.5e8, 5e7, style="report"), format_number(None, style="report")
    ('2.50e+08', 'n/a')
    """
    if style == "report":
        return _report(value, scale)
    if scale is not None or value is None:
        msg = "the plain style writes a number to its own significant digits"
        raise TypeError(msg)
    return _plain(value)
