"""Run rules for Shewhart charts: Western Electric rules 1-4 and Nelson tests 1-8.

Each rule is a function of ``(values, center, sigma)`` that returns :class:`Violation`
records. ``sigma`` is the standard deviation of the *plotted statistic* (for an X-bar
chart, sigma / sqrt(n)); the zones are ``center +/- 1, 2, 3 sigma``.

Conventions, the same for every rule:

* **Where a signal is reported.** At the point that completes the pattern: the last point
  of the run, or, for "m out of w" rules, a point that is itself beyond the zone boundary
  and brings the count in the trailing window of ``w`` points up to ``m``. ``points`` lists
  the points that form the pattern, ending with that point.
* **Overlapping runs.** A run longer than the rule's length signals again at every further
  point, because each further point completes a qualifying window of the last ``length``
  points (the convention of Minitab and of the R package qcc). Group consecutive
  violations of one rule to get one deviation per episode.
* **Windows at the start.** "m out of w" windows are truncated at the first point, so two
  points beyond 2 sigma at positions 0 and 1 already signal N5/WE2 at position 1.
* **Boundaries.** "Beyond k sigma" is strict (``|z| > k``); "within 1 sigma" is strict
  (``|z| < 1``); a point exactly on the center line is on neither side and breaks a
  same-side run; equal consecutive values break a trend (N3) and an alternation (N4).
* **Missing points.** NaN values break every run and never count as beyond a boundary.

References
----------
.. [1] Western Electric Company (1956). Statistical Quality Control Handbook.
   Indianapolis: Western Electric Co. Section 1.B, "Tests for unnatural patterns".
.. [2] Nelson, L. S. (1984). The Shewhart control chart - tests for special causes.
   Journal of Quality Technology 16(4), 237-239.
.. [3] Montgomery, D. C. (2009). Introduction to Statistical Quality Control, 6th ed.
   Wiley. Section 5.3 (Western Electric rules and other sensitizing rules).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import InvalidInputError
from ._spc_results import Violation

__all__ = [
    "NELSON",
    "RULES",
    "WESTERN_ELECTRIC",
    "RuleSpec",
    "evaluate_rules",
    "nelson",
    "nelson_1",
    "nelson_2",
    "nelson_3",
    "nelson_4",
    "nelson_5",
    "nelson_6",
    "nelson_7",
    "nelson_8",
    "resolve_rules",
    "western_electric",
    "western_electric_1",
    "western_electric_2",
    "western_electric_3",
    "western_electric_4",
]

FloatArray = NDArray[np.float64]


# ---------------------------------------------------------------- input


def _prepare(values: ArrayLike, center: float, sigma: float) -> tuple[FloatArray, float, float]:
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        msg = "values must be numbers"
        raise InvalidInputError(msg, field="values") from None
    if array.ndim != 1:
        msg = f"values must be one-dimensional, got shape {array.shape}"
        raise InvalidInputError(msg, field="values")
    if np.isinf(array).any():
        msg = "values must be finite (NaN marks a missing point; infinities are refused)"
        raise InvalidInputError(msg, field="values")
    center = float(center)
    sigma = float(sigma)
    if not math.isfinite(center):
        msg = f"the center line must be a finite number, not {center}"
        raise InvalidInputError(msg, field="center")
    if not (math.isfinite(sigma) and sigma > 0):
        msg = f"sigma must be a finite number above 0, not {sigma}"
        raise InvalidInputError(msg, field="sigma")
    return array, center, sigma


def _limits(
    center: float, sigma: float, lcl: float | None, ucl: float | None
) -> tuple[float, float]:
    low = center - 3.0 * sigma if lcl is None else float(lcl)
    high = center + 3.0 * sigma if ucl is None else float(ucl)
    return low, high


def _side_beyond(z: FloatArray, k: float) -> NDArray[np.int8]:
    """+1 where z > k, -1 where z < -k, 0 otherwise (NaN included)."""
    side = np.zeros(z.shape, dtype=np.int8)
    with np.errstate(invalid="ignore"):
        side[z > k] = 1
        side[z < -k] = -1
    return side


def _trailing_runs(flags: NDArray[np.bool_]) -> NDArray[np.int64]:
    """Length of the run of True ending at each position."""
    runs = np.zeros(flags.shape, dtype=np.int64)
    count = 0
    for i, flag in enumerate(flags):
        count = count + 1 if flag else 0
        runs[i] = count
    return runs


@dataclass(frozen=True, slots=True)
class _Context:
    x: FloatArray
    z: FloatArray
    center: float
    sigma: float
    lcl: float
    ucl: float

    def violation(self, rule: str, detail: str, points: Sequence[int]) -> Violation:
        pts = tuple(int(p) for p in points)
        return Violation(
            rule=rule,
            description=f"{rule}: {RULES[rule].text}; {detail}",
            index=pts[-1],
            points=pts,
            values=tuple(float(self.x[p]) for p in pts),
            center=self.center,
            sigma=self.sigma,
            lcl=self.lcl,
            ucl=self.ucl,
        )


def _context(
    values: ArrayLike,
    center: float,
    sigma: float,
    lcl: float | None = None,
    ucl: float | None = None,
) -> _Context:
    x, center, sigma = _prepare(values, center, sigma)
    low, high = _limits(center, sigma, lcl, ucl)
    return _Context(x=x, z=(x - center) / sigma, center=center, sigma=sigma, lcl=low, ucl=high)


def _word(side: int) -> str:
    return "above" if side > 0 else "below"


# ---------------------------------------------------------------- pattern kernels


def _beyond_limits(ctx: _Context, rule: str) -> tuple[Violation, ...]:
    out = []
    with np.errstate(invalid="ignore"):
        above = ctx.x > ctx.ucl
        below = ctx.x < ctx.lcl
    for i in np.flatnonzero(above | below):
        where = (
            f"above the upper limit {ctx.ucl:.6g}"
            if above[i]
            else f"below the lower limit {ctx.lcl:.6g}"
        )
        out.append(ctx.violation(rule, f"{ctx.x[i]:.6g} is {where}", [int(i)]))
    return tuple(out)


def _same_side_run(ctx: _Context, rule: str, length: int) -> tuple[Violation, ...]:
    side = _side_beyond(ctx.z, 0.0)
    out = []
    for s in (1, -1):
        runs = _trailing_runs(side == s)
        for i in np.flatnonzero(runs >= length):
            pts = range(i - length + 1, i + 1)
            detail = f"all {length} are {_word(s)} the center line {ctx.center:.6g}"
            out.append(ctx.violation(rule, detail, pts))
    return tuple(sorted(out, key=lambda v: v.index))


def _m_of_w(ctx: _Context, rule: str, m: int, w: int, k: float) -> tuple[Violation, ...]:
    side = _side_beyond(ctx.z, k)
    out = []
    for i in np.flatnonzero(side != 0):
        s = int(side[i])
        start = max(0, int(i) - w + 1)
        hits = [p for p in range(start, int(i) + 1) if side[p] == s]
        if len(hits) >= m:
            bound = ctx.center + s * k * ctx.sigma
            detail = (
                f"{len(hits)} of {int(i) - start + 1} are {_word(s)} "
                f"center {'+' if s > 0 else '-'} {k:g} sigma = {bound:.6g}"
            )
            out.append(ctx.violation(rule, detail, hits))
    return tuple(out)


def _trend(ctx: _Context, rule: str, length: int) -> tuple[Violation, ...]:
    # A run of `length` points steadily rising (or falling) is `length - 1` rising steps.
    diffs = np.diff(ctx.x)
    out = []
    for s in (1, -1):
        with np.errstate(invalid="ignore"):
            steps = diffs > 0 if s > 0 else diffs < 0
        runs = _trailing_runs(steps)
        for j in np.flatnonzero(runs >= length - 1):
            i = int(j) + 1
            pts = range(i - length + 1, i + 1)
            word = "increasing" if s > 0 else "decreasing"
            detail = f"from {ctx.x[pts[0]]:.6g} to {ctx.x[i]:.6g}, steadily {word}"
            out.append(ctx.violation(rule, detail, pts))
    return tuple(sorted(out, key=lambda v: v.index))


def _alternating(ctx: _Context, rule: str, length: int) -> tuple[Violation, ...]:
    # `length` alternating points are `length - 1` steps with `length - 2` sign changes.
    steps = np.sign(np.diff(ctx.x))
    flips = np.zeros(steps.shape, dtype=bool)
    with np.errstate(invalid="ignore"):
        flips[1:] = steps[1:] * steps[:-1] < 0
    runs = _trailing_runs(flips)
    out = []
    for j in np.flatnonzero(runs >= length - 2):
        i = int(j) + 1
        pts = range(i - length + 1, i + 1)
        out.append(ctx.violation(rule, f"the last {length} points alternate", pts))
    return tuple(out)


def _within_one(ctx: _Context, rule: str, length: int) -> tuple[Violation, ...]:
    with np.errstate(invalid="ignore"):
        inside = np.abs(ctx.z) < 1.0
    runs = _trailing_runs(inside)
    out = []
    for i in np.flatnonzero(runs >= length):
        pts = range(int(i) - length + 1, int(i) + 1)
        low, high = ctx.center - ctx.sigma, ctx.center + ctx.sigma
        detail = f"all {length} are within {low:.6g} .. {high:.6g}"
        out.append(ctx.violation(rule, detail, pts))
    return tuple(out)


def _outside_one_both_sides(ctx: _Context, rule: str, length: int) -> tuple[Violation, ...]:
    side = _side_beyond(ctx.z, 1.0)
    runs = _trailing_runs(side != 0)
    out = []
    for i in np.flatnonzero(runs >= length):
        pts = range(int(i) - length + 1, int(i) + 1)
        window = side[pts[0] : int(i) + 1]
        if (window > 0).any() and (window < 0).any():
            low, high = ctx.center - ctx.sigma, ctx.center + ctx.sigma
            detail = f"none of the {length} is within {low:.6g} .. {high:.6g}; both sides"
            out.append(ctx.violation(rule, detail, pts))
    return tuple(out)


# ---------------------------------------------------------------- the rules


def nelson_1(
    values: ArrayLike,
    center: float,
    sigma: float,
    *,
    lcl: float | None = None,
    ucl: float | None = None,
) -> tuple[Violation, ...]:
    """Nelson test 1: one point more than 3 sigma from the center line.

    Parameters
    ----------
    values
        The plotted statistic, in time order.
    center
        The center line.
    sigma
        Standard deviation of the plotted statistic.
    lcl, ucl
        Control limits to use instead of ``center -/+ 3 sigma`` (asymmetric limits of a
        range or s chart).

    Returns
    -------
    tuple of Violation
        One per point beyond the limits.

    References
    ----------
    .. [1] Nelson, L. S. (1984). J. Qual. Technol. 16(4), 237-239, test 1.
    """
    return _beyond_limits(_context(values, center, sigma, lcl, ucl), "N1")


def nelson_2(values: ArrayLike, center: float, sigma: float) -> tuple[Violation, ...]:
    """Nelson test 2: nine points in a row on the same side of the center line.

    Parameters
    ----------
    values, center, sigma
        As for :func:`nelson_1`.

    Returns
    -------
    tuple of Violation
        One at each point that ends such a run (see the module notes on overlapping runs).

    References
    ----------
    .. [1] Nelson, L. S. (1984). J. Qual. Technol. 16(4), 237-239, test 2 ("nine points in a
       row in zone C or beyond", one side).
    """
    return _same_side_run(_context(values, center, sigma), "N2", 9)


def nelson_3(values: ArrayLike, center: float, sigma: float) -> tuple[Violation, ...]:
    """Nelson test 3: six points in a row steadily increasing or decreasing.

    Parameters
    ----------
    values, center, sigma
        As for :func:`nelson_1`.

    Returns
    -------
    tuple of Violation
        One at each point that ends such a run.

    References
    ----------
    .. [1] Nelson, L. S. (1984). J. Qual. Technol. 16(4), 237-239, test 3.
    """
    return _trend(_context(values, center, sigma), "N3", 6)


def nelson_4(values: ArrayLike, center: float, sigma: float) -> tuple[Violation, ...]:
    """Nelson test 4: fourteen points in a row alternating up and down.

    Parameters
    ----------
    values, center, sigma
        As for :func:`nelson_1`.

    Returns
    -------
    tuple of Violation
        One at each point that ends such a run.

    References
    ----------
    .. [1] Nelson, L. S. (1984). J. Qual. Technol. 16(4), 237-239, test 4.
    """
    return _alternating(_context(values, center, sigma), "N4", 14)


def nelson_5(values: ArrayLike, center: float, sigma: float) -> tuple[Violation, ...]:
    """Nelson test 5: two out of three points in a row more than 2 sigma out, same side.

    Parameters
    ----------
    values, center, sigma
        As for :func:`nelson_1`.

    Returns
    -------
    tuple of Violation
        One at each point beyond 2 sigma that completes such a window.

    References
    ----------
    .. [1] Nelson, L. S. (1984). J. Qual. Technol. 16(4), 237-239, test 5 (zone A or beyond).
    """
    return _m_of_w(_context(values, center, sigma), "N5", 2, 3, 2.0)


def nelson_6(values: ArrayLike, center: float, sigma: float) -> tuple[Violation, ...]:
    """Nelson test 6: four out of five points in a row more than 1 sigma out, same side.

    Parameters
    ----------
    values, center, sigma
        As for :func:`nelson_1`.

    Returns
    -------
    tuple of Violation
        One at each point beyond 1 sigma that completes such a window.

    References
    ----------
    .. [1] Nelson, L. S. (1984). J. Qual. Technol. 16(4), 237-239, test 6 (zone B or beyond).
    """
    return _m_of_w(_context(values, center, sigma), "N6", 4, 5, 1.0)


def nelson_7(values: ArrayLike, center: float, sigma: float) -> tuple[Violation, ...]:
    """Nelson test 7: fifteen points in a row within 1 sigma of the center line.

    Parameters
    ----------
    values, center, sigma
        As for :func:`nelson_1`.

    Returns
    -------
    tuple of Violation
        One at each point that ends such a run (stratification: sigma overestimated).

    References
    ----------
    .. [1] Nelson, L. S. (1984). J. Qual. Technol. 16(4), 237-239, test 7 (zone C, both
       sides).
    """
    return _within_one(_context(values, center, sigma), "N7", 15)


def nelson_8(values: ArrayLike, center: float, sigma: float) -> tuple[Violation, ...]:
    """Nelson test 8: eight points in a row more than 1 sigma out, on both sides.

    Parameters
    ----------
    values, center, sigma
        As for :func:`nelson_1`.

    Returns
    -------
    tuple of Violation
        One at each point that ends such a run (mixture). The run must hold points on
        both sides of the center line.

    References
    ----------
    .. [1] Nelson, L. S. (1984). J. Qual. Technol. 16(4), 237-239, test 8 (none in zone C).
    """
    return _outside_one_both_sides(_context(values, center, sigma), "N8", 8)


def western_electric_1(
    values: ArrayLike,
    center: float,
    sigma: float,
    *,
    lcl: float | None = None,
    ucl: float | None = None,
) -> tuple[Violation, ...]:
    """Western Electric rule 1: one point beyond the 3-sigma control limits.

    Parameters
    ----------
    values, center, sigma
        As for :func:`nelson_1`.
    lcl, ucl
        Control limits to use instead of ``center -/+ 3 sigma``.

    Returns
    -------
    tuple of Violation
        One per point beyond the limits.

    References
    ----------
    .. [1] Western Electric Company (1956). Statistical Quality Control Handbook, test 1.
    """
    return _beyond_limits(_context(values, center, sigma, lcl, ucl), "WE1")


def western_electric_2(values: ArrayLike, center: float, sigma: float) -> tuple[Violation, ...]:
    """Western Electric rule 2: two out of three successive points beyond 2 sigma, same side.

    Parameters
    ----------
    values, center, sigma
        As for :func:`nelson_1`.

    Returns
    -------
    tuple of Violation
        One at each point beyond 2 sigma that completes such a window.

    References
    ----------
    .. [1] Western Electric Company (1956). Statistical Quality Control Handbook, test 2.
    """
    return _m_of_w(_context(values, center, sigma), "WE2", 2, 3, 2.0)


def western_electric_3(values: ArrayLike, center: float, sigma: float) -> tuple[Violation, ...]:
    """Western Electric rule 3: four out of five successive points beyond 1 sigma, same side.

    Parameters
    ----------
    values, center, sigma
        As for :func:`nelson_1`.

    Returns
    -------
    tuple of Violation
        One at each point beyond 1 sigma that completes such a window.

    References
    ----------
    .. [1] Western Electric Company (1956). Statistical Quality Control Handbook, test 3.
    """
    return _m_of_w(_context(values, center, sigma), "WE3", 4, 5, 1.0)


def western_electric_4(values: ArrayLike, center: float, sigma: float) -> tuple[Violation, ...]:
    """Western Electric rule 4: eight successive points on one side of the center line.

    Parameters
    ----------
    values, center, sigma
        As for :func:`nelson_1`.

    Returns
    -------
    tuple of Violation
        One at each point that ends such a run.

    References
    ----------
    .. [1] Western Electric Company (1956). Statistical Quality Control Handbook, test 4.
    """
    return _same_side_run(_context(values, center, sigma), "WE4", 8)


# ---------------------------------------------------------------- registry and sets


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """A run rule: its id, its wording, and whether it takes explicit limits."""

    rule: str
    text: str
    function: Callable[..., tuple[Violation, ...]]
    takes_limits: bool = False


RULES: dict[str, RuleSpec] = {
    spec.rule: spec
    for spec in (
        RuleSpec("N1", "1 point beyond the 3-sigma control limits", nelson_1, takes_limits=True),
        RuleSpec("N2", "9 points in a row on the same side of the center line", nelson_2),
        RuleSpec("N3", "6 points in a row steadily increasing or decreasing", nelson_3),
        RuleSpec("N4", "14 points in a row alternating up and down", nelson_4),
        RuleSpec("N5", "2 of 3 points in a row more than 2 sigma out, same side", nelson_5),
        RuleSpec("N6", "4 of 5 points in a row more than 1 sigma out, same side", nelson_6),
        RuleSpec("N7", "15 points in a row within 1 sigma of the center line", nelson_7),
        RuleSpec("N8", "8 points in a row more than 1 sigma out, on both sides", nelson_8),
        RuleSpec(
            "WE1",
            "1 point beyond the 3-sigma control limits",
            western_electric_1,
            takes_limits=True,
        ),
        RuleSpec("WE2", "2 of 3 successive points beyond 2 sigma, same side", western_electric_2),
        RuleSpec("WE3", "4 of 5 successive points beyond 1 sigma, same side", western_electric_3),
        RuleSpec("WE4", "8 successive points on one side of the center line", western_electric_4),
    )
}

#: Rule ids of the Nelson set, in order.
NELSON: tuple[str, ...] = ("N1", "N2", "N3", "N4", "N5", "N6", "N7", "N8")
#: Rule ids of the Western Electric set, in order.
WESTERN_ELECTRIC: tuple[str, ...] = ("WE1", "WE2", "WE3", "WE4")

_SETS = {
    "nelson": NELSON,
    "western_electric": WESTERN_ELECTRIC,
    "western-electric": WESTERN_ELECTRIC,
}


def resolve_rules(rules: str | Sequence[str] | None) -> tuple[str, ...]:
    """The rule ids a ``rules=`` argument names.

    Parameters
    ----------
    rules
        ``"nelson"``, ``"western_electric"`` (or ``"western-electric"``), a sequence of rule
        ids such as ``["N1", "WE2"]``, or ``None``/``()`` for no rules.

    Returns
    -------
    tuple of str
        Rule ids, without duplicates, in the given order.

    Raises
    ------
    InvalidInputError
        An unknown set name or rule id (field ``rules``).
    """
    if rules is None:
        return ()
    if isinstance(rules, str):
        key = rules.strip().casefold()
        if key in _SETS:
            return _SETS[key]
        if rules.upper() in RULES:
            return (rules.upper(),)
        msg = (
            f"unknown rule set {rules!r}; use 'nelson', 'western_electric' or a list of rule "
            f"ids ({', '.join(RULES)})"
        )
        raise InvalidInputError(msg, field="rules")
    ids: list[str] = []
    for rule in rules:
        rid = str(rule).strip().upper()
        if rid not in RULES:
            msg = f"unknown rule {rule!r}; the rules are {', '.join(RULES)}"
            raise InvalidInputError(msg, field="rules")
        if rid not in ids:
            ids.append(rid)
    return tuple(ids)


def evaluate_rules(
    values: ArrayLike,
    *,
    center: float,
    sigma: float,
    rules: str | Sequence[str] | None = "nelson",
    lcl: float | None = None,
    ucl: float | None = None,
) -> tuple[Violation, ...]:
    """Evaluate a set of run rules on a series.

    Parameters
    ----------
    values
        The plotted statistic, in time order (NaN = missing point).
    center
        The center line.
    sigma
        Standard deviation of the plotted statistic (the zone width).
    rules
        ``"nelson"`` (tests 1-8), ``"western_electric"`` (rules 1-4), or a list of rule ids.
    lcl, ucl
        Limits for rule 1 instead of ``center -/+ 3 sigma``.

    Returns
    -------
    tuple of Violation
        Ordered by point, then by the rule's place in ``rules``.

    References
    ----------
    .. [1] Nelson, L. S. (1984). J. Qual. Technol. 16(4), 237-239.
    .. [2] Western Electric Company (1956). Statistical Quality Control Handbook.

    Examples
    --------
    >>> [v.rule for v in evaluate_rules([0, 0, 0, 4.0], center=0, sigma=1)]
    ['N1']
    """
    ids = resolve_rules(rules)
    found: list[tuple[int, int, Violation]] = []
    for order, rid in enumerate(ids):
        spec = RULES[rid]
        if spec.takes_limits:
            hits = spec.function(values, center, sigma, lcl=lcl, ucl=ucl)
        else:
            hits = spec.function(values, center, sigma)
        found.extend((v.index, order, v) for v in hits)
    if not ids:
        _prepare(values, center, sigma)  # still validate the input
    found.sort(key=lambda t: (t[0], t[1]))
    return tuple(v for _, _, v in found)


def nelson(
    values: ArrayLike,
    center: float,
    sigma: float,
    *,
    lcl: float | None = None,
    ucl: float | None = None,
) -> tuple[Violation, ...]:
    """All eight Nelson tests.

    Parameters
    ----------
    values, center, sigma
        As for :func:`evaluate_rules`.
    lcl, ucl
        Limits for test 1 instead of ``center -/+ 3 sigma``.

    Returns
    -------
    tuple of Violation
        Ordered by point, then test number.

    References
    ----------
    .. [1] Nelson, L. S. (1984). The Shewhart control chart - tests for special causes.
       J. Qual. Technol. 16(4), 237-239.
    """
    return evaluate_rules(values, center=center, sigma=sigma, rules=NELSON, lcl=lcl, ucl=ucl)


def western_electric(
    values: ArrayLike,
    center: float,
    sigma: float,
    *,
    lcl: float | None = None,
    ucl: float | None = None,
) -> tuple[Violation, ...]:
    """The four Western Electric rules.

    Parameters
    ----------
    values, center, sigma
        As for :func:`evaluate_rules`.
    lcl, ucl
        Limits for rule 1 instead of ``center -/+ 3 sigma``.

    Returns
    -------
    tuple of Violation
        Ordered by point, then rule number.

    References
    ----------
    .. [1] Western Electric Company (1956). Statistical Quality Control Handbook.
       Indianapolis: Western Electric Co.
    """
    return evaluate_rules(
        values, center=center, sigma=sigma, rules=WESTERN_ELECTRIC, lcl=lcl, ucl=ucl
    )
