"""Exposure by response and the kinetics plot, on the NCA and the Stein (2019) model.

* :func:`exposure_by_response`: geometric mean ratio of exposure, responders over
  non-responders, per indication;
* :func:`plot_kinetics`: observed levels and a fitted curve on a log axis.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats  # type: ignore[import-untyped]

from vein2vein.errors import InvalidInputError

from ._nca import check_lloq, check_times
from ._stein import SteinFit, SteinParameters, stein_curve

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["exposure_by_response", "plot_kinetics"]

_EXPOSURE_COLUMNS = [
    "exposure",
    "n_responders",
    "n_nonresponders",
    "n_missing",
    "gmean_responders",
    "gmean_nonresponders",
    "gmr",
    "ci_low",
    "ci_high",
    "ci_level",
    "df",
    "p_value",
]


def _responder_flags(values: pd.Series, column: str) -> npt.NDArray[np.bool_]:
    """The response column as booleans; only True/False or 1/0 are accepted."""
    if values.isna().any():
        reason = f"{int(values.isna().sum())} row(s) have no response; classify or drop them"
        raise InvalidInputError(reason, field=column)
    bad = [v for v in values.unique() if isinstance(v, str | bytes) or v not in (0, 1)]
    if bad:
        reason = f"must be True/False or 1/0 (responder/non-responder), got {bad[:5]!r}"
        raise InvalidInputError(reason, field=column)
    flags: npt.NDArray[np.bool_] = values.astype(bool).to_numpy(dtype=np.bool_)
    return flags


def _welch_log_ratio(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], level: float
) -> tuple[float, float, float, float, float]:
    """GMR and CI of exp(mean ln x - mean ln y) by Welch's t on the logs."""
    lx, ly = np.log(x), np.log(y)
    diff = float(lx.mean() - ly.mean())
    if x.size < 2 or y.size < 2:
        return math.exp(diff), math.nan, math.nan, math.nan, math.nan
    vx, vy = float(lx.var(ddof=1)) / x.size, float(ly.var(ddof=1)) / y.size
    se = math.sqrt(vx + vy)
    if se == 0:
        return math.exp(diff), math.nan, math.nan, math.nan, math.nan
    df = (vx + vy) ** 2 / (vx**2 / (x.size - 1) + vy**2 / (y.size - 1))
    q = float(stats.t.ppf(0.5 + level / 2.0, df))
    p = float(2.0 * stats.t.sf(abs(diff) / se, df))
    return math.exp(diff), math.exp(diff - q * se), math.exp(diff + q * se), df, p


def exposure_by_response(
    frame: pd.DataFrame,
    *,
    exposure: str = "auc0_28",
    response: str = "responder",
    by: str | None = "indication",
    level: float = 0.95,
) -> pd.DataFrame:
    """Geometric mean exposure of responders and non-responders, and their ratio.

    Parameters
    ----------
    frame
        One row per patient with an exposure column (e.g. ``auc0_28`` or ``cmax``
        from :func:`nca`), a response column and, normally, an indication column.
    exposure
        Name of the exposure column (``"auc0_28"`` or ``"cmax"`` by convention). Values
        must be positive; a missing value (NaN: not evaluable, e.g. no quantifiable
        sample) leaves the patient out and is counted in ``n_missing``.
    response
        Name of the response column: True/1 responder, False/0 non-responder.
    by
        Column to stratify by (default ``"indication"``). None pools all rows, which
        should only be done within one indication (see Notes).
    level
        Confidence level of the interval of the ratio (default 0.95).

    Returns
    -------
    pandas.DataFrame
        One row per value of ``by`` (sorted), with ``exposure``, ``n_responders``,
        ``n_nonresponders``, ``n_missing``, the geometric means of both groups,
        ``gmr`` (responders / non-responders), ``ci_low``/``ci_high``, ``ci_level``,
        the Welch degrees of freedom ``df`` and the two-sided ``p_value``. The interval
        is NaN when a group has fewer than two patients.

    Notes
    -----
    On the natural log scale the difference of means, responders minus non-responders,
    gets a Welch (unequal-variance) t-interval with Welch-Satterthwaite degrees of
    freedom; exponentiating gives the geometric mean ratio and its interval.

    The exposure-response relationship of CAR-T cells differs between indications: in
    B-ALL (and CLL) responders had higher expansion than non-responders, while in
    DLBCL exposure was similar regardless of response [1]_. Pooling indications would
    mix these relationships (and the indications' different exposure levels), so the
    ratio is computed **per indication**.

    Patients with missing exposure are excluded. If non-expanders are recorded as
    missing, they are excluded too and the ratio is biased towards 1 or away from it;
    report ``n_missing``.

    References
    ----------
    .. [1] Awasthi R, Pacaud L, Waldron E, et al. Tisagenlecleucel cellular kinetics,
       dose, and immunogenicity in relation to clinical factors in relapsed/refractory
       DLBCL. *Blood Adv* 2020;4(3):560-572.
    .. [2] Welch BL. The generalization of 'Student's' problem when several different
       population variances are involved. *Biometrika* 1947;34:28-35.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({
    ...     "indication": ["B-ALL"] * 6,
    ...     "responder": [True, True, True, False, False, False],
    ...     "cmax": [40000.0, 25000.0, 60000.0, 9000.0, 20000.0, 12000.0],
    ... })
    >>> row = exposure_by_response(frame, exposure="cmax").iloc[0]
    >>> round(float(row.gmr), 2), int(row.n_responders), int(row.n_nonresponders)
    (3.03, 3, 3)
    """
    if not isinstance(frame, pd.DataFrame):
        reason = f"must be a pandas DataFrame, got {type(frame).__name__}"
        raise InvalidInputError(reason, field="frame")
    for column in (exposure, response) + (() if by is None else (by,)):
        if column not in frame.columns:
            reason = f"column not found; the frame has {list(frame.columns)}"
            raise InvalidInputError(reason, field=column)
    if not 0 < level < 1:
        reason = f"must be between 0 and 1, got {level!r}"
        raise InvalidInputError(reason, field="level")
    try:
        values = pd.to_numeric(frame[exposure], errors="raise").to_numpy(dtype=np.float64)
    except (TypeError, ValueError) as exc:
        reason = f"must be numbers ({exc})"
        raise InvalidInputError(reason, field=exposure) from exc
    bad = np.isfinite(values) & (values <= 0) | np.isinf(values)
    if bad.any():
        reason = (
            f"{int(bad.sum())} value(s) are not positive and finite; geometric means need "
            "positive exposures (leave a not-evaluable patient's value missing)"
        )
        raise InvalidInputError(reason, field=exposure)
    responder = _responder_flags(frame[response], response)
    if by is None:
        groups = np.full(len(frame), "all", dtype=object)
        key = "group"
    else:
        if frame[by].isna().any():
            reason = "rows without a value; the stratification needs one for every patient"
            raise InvalidInputError(reason, field=by)
        groups = frame[by].to_numpy(dtype=object)
        key = by

    rows: list[dict[str, Any]] = []
    for group in sorted(set(groups), key=str):
        in_group = groups == group
        present = in_group & ~np.isnan(values)
        x = values[present & responder]
        y = values[present & ~responder]
        gx = math.exp(float(np.log(x).mean())) if x.size else math.nan
        gy = math.exp(float(np.log(y).mean())) if y.size else math.nan
        if x.size and y.size:
            gmr, lo, hi, df, p = _welch_log_ratio(x, y, level)
        else:
            gmr = lo = hi = df = p = math.nan
        rows.append(
            {
                key: group,
                "exposure": exposure,
                "n_responders": int(x.size),
                "n_nonresponders": int(y.size),
                "n_missing": int(np.count_nonzero(in_group & np.isnan(values))),
                "gmean_responders": gx,
                "gmean_nonresponders": gy,
                "gmr": gmr,
                "ci_low": lo,
                "ci_high": hi,
                "ci_level": level,
                "df": df,
                "p_value": p,
            }
        )
    return pd.DataFrame(rows, columns=[key, *_EXPOSURE_COLUMNS])


def plot_kinetics(
    time: npt.ArrayLike,
    conc: npt.ArrayLike,
    fit: SteinFit | SteinParameters | None = None,
    *,
    ax: Axes | None = None,
    lloq: float | None = None,
    unit: str = "copies/µg gDNA",
    label: str | None = None,
) -> Axes:
    """Draw a transgene profile on a log axis, with a fitted Stein curve if given.

    Parameters
    ----------
    time
        Days after infusion, strictly increasing.
    conc
        Levels at those days. Quantifiable values are drawn as filled circles; BLQ
        values (below ``lloq``, or ``<= 0``) as open circles at the LLOQ (or left out
        when there is no LLOQ), since they have no place on a log axis.
    fit
        A :class:`SteinFit` or :class:`SteinParameters` whose curve is drawn from day 0
        to the last sample.
    ax
        Axes to draw on; a new figure (no pyplot state) when None.
    lloq
        Lower limit of quantification, drawn as a dashed line.
    unit
        Unit for the y-axis label.
    label
        Legend label of the observations.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.

    References
    ----------
    .. [1] Stein AM, Grupp SA, Levine JE, et al. Tisagenlecleucel model-based cellular
       kinetic analysis of chimeric antigen receptor-T cells. *CPT Pharmacometrics
       Syst Pharmacol* 2019;8:285-295. doi:10.1002/psp4.12388
    """
    t = check_times(time, name="time")
    c = np.asarray(conc, dtype=np.float64)
    if c.shape != t.shape:
        reason = f"has shape {c.shape} but time has {t.shape}"
        raise InvalidInputError(reason, field="conc")
    lq = check_lloq(lloq)
    if ax is None:
        from matplotlib.figure import Figure

        ax = Figure(figsize=(6.0, 4.0), layout="constrained").add_subplot()
    quant = c > 0 if lq is None else c >= lq
    ax.plot(t[quant], c[quant], "o", color="C0", label=label or "observed")
    if lq is not None:
        if (~quant).any():
            ax.plot(
                t[~quant],
                np.full((~quant).sum(), lq),
                "o",
                mfc="none",
                color="C0",
                label="BLQ (at LLOQ)",
            )
        ax.axhline(lq, linestyle="--", color="0.5", linewidth=1.0, label="LLOQ")
    if fit is not None:
        params = fit.params if isinstance(fit, SteinFit) else fit
        grid = np.linspace(0.0, float(max(t.max(), params.tmax)), 500)
        ax.plot(grid, stein_curve(grid, params), "-", color="C1", label="Stein model")
    ax.set_yscale("log")
    ax.set_xlabel("Days after infusion")
    ax.set_ylabel(f"CAR transgene ({unit})")
    ax.legend(loc="best", fontsize="small")
    return ax
