"""The sliding scale: exposure-response and exposure-toxicity against dose, on one chart.

Two logistic regressions (binomial GLM, logit link, fitted by statsmodels' IRLS) of a
yes/no outcome per patient on the log of the dose (or of Cmax): the probability of
response and the probability of grade >= 3 CRS. Their 95% confidence bands come from
the delta method on the logit scale, ``expit(eta +- z se(eta))`` with
``se(eta)^2 = x' Cov(beta) x``, so they stay inside [0, 1]. The chart puts both curves
on one dose axis with the dose each design recommends marked.

References
----------
.. [1] McCullagh P, Nelder JA. *Generalized Linear Models*. 2nd ed. Chapman & Hall;
   1989, ch. 4 (binary data, logit link, IRLS).
.. [2] Seabold S, Perktold J. statsmodels: econometric and statistical modeling with
   Python. *Proc 9th Python in Science Conf* 2010 (``GLM``, ``families.Binomial``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats  # type: ignore[import-untyped]

from ..errors import InvalidInputError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["LogisticFit", "fit_logistic", "plot_sliding_scale", "sliding_scale"]

FloatArray = npt.NDArray[np.float64]
_MIN_PATIENTS: Final = 4


@dataclass(frozen=True, eq=False)
class LogisticFit:
    """A logistic regression of a yes/no outcome on log dose (or log Cmax).

    Attributes
    ----------
    endpoint
        What the outcome is, e.g. ``"response"`` or ``"crs_grade3"``.
    predictor
        ``"log_dose"`` or ``"log_cmax"`` (natural logs), or the name given.
    intercept, slope
        Estimates on the logit scale; ``slope`` per unit of the natural log.
    cov
        2 x 2 covariance of (intercept, slope) (inverse Fisher information).
    n, n_events
        Patients and outcomes (1s) fitted.
    log
        Whether the predictor is the log of the values given.
    """

    endpoint: str
    predictor: str
    intercept: float
    slope: float
    cov: FloatArray
    n: int
    n_events: int
    log: bool

    @property
    def odds_ratio_per_doubling(self) -> float:
        """Odds ratio for a doubling of dose (or Cmax): ``exp(slope ln 2)`` on a log scale."""
        return math.exp(self.slope * (math.log(2.0) if self.log else 1.0))

    def predict(self, x: npt.ArrayLike, *, level: float = 0.95) -> pd.DataFrame:
        """Probability and its delta-method confidence band at ``x`` (dose or Cmax).

        Parameters
        ----------
        x
            Values on the original scale (> 0 when ``log``).
        level
            Confidence level of the band.

        Returns
        -------
        pandas.DataFrame
            ``x, p, low, high``.
        """
        if not 0 < level < 1:
            reason = f"must be between 0 and 1, got {level!r}"
            raise InvalidInputError(reason, field="level")
        values = _predictor(x, log=self.log, field="x")
        design = np.column_stack([np.ones_like(values), values])
        eta = self.intercept + self.slope * values
        se = np.sqrt(np.einsum("ij,jk,ik->i", design, self.cov, design))
        z = float(stats.norm.ppf(0.5 + level / 2))
        expit = stats.logistic.cdf
        return pd.DataFrame(
            {
                "x": np.asarray(x, dtype=np.float64).reshape(-1),
                "p": expit(eta),
                "low": expit(eta - z * se),
                "high": expit(eta + z * se),
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """Estimates as JSON-ready values."""
        se = np.sqrt(np.diag(self.cov))
        return {
            "endpoint": self.endpoint,
            "predictor": self.predictor,
            "intercept": self.intercept,
            "slope": self.slope,
            "se_intercept": float(se[0]),
            "se_slope": float(se[1]),
            "odds_ratio_per_doubling": self.odds_ratio_per_doubling,
            "n": self.n,
            "n_events": self.n_events,
        }


def _predictor(x: npt.ArrayLike, *, log: bool, field: str) -> FloatArray:
    values = np.asarray(x, dtype=np.float64).reshape(-1)
    if not np.all(np.isfinite(values)) or (log and np.any(values <= 0)):
        reason = "must be finite" + (" and positive (its log is taken)" if log else "")
        raise InvalidInputError(reason, field=field)
    out: FloatArray = np.log(values) if log else values
    return out


def fit_logistic(
    x: npt.ArrayLike,
    events: npt.ArrayLike,
    *,
    endpoint: str,
    predictor: str = "log_dose",
    log: bool = True,
) -> LogisticFit:
    """Fit ``logit P(event) = b0 + b1 log(x)`` by maximum likelihood (binomial GLM).

    Parameters
    ----------
    x
        Dose (or Cmax) per patient, > 0 when ``log``.
    events
        1 when the patient had the outcome (response; grade >= 3 CRS), else 0.
    endpoint
        Name of the outcome, carried into the result.
    predictor
        Name of the predictor, carried into the result.
    log
        Regress on ``log(x)`` (default) or on ``x``.

    Returns
    -------
    LogisticFit
        Estimates and their covariance.

    Raises
    ------
    InvalidInputError
        Fewer than 4 patients, outcomes other than 0/1, all outcomes alike, a single
        dose, or complete separation (the maximum likelihood estimate does not exist;
        Firth's penalized likelihood would be needed and is not implemented).

    References
    ----------
    .. [1] McCullagh P, Nelder JA. *Generalized Linear Models*. 2nd ed. 1989, ch. 4.
    .. [2] Seabold S, Perktold J. statsmodels. *Proc 9th Python in Science Conf* 2010.

    Examples
    --------
    >>> fit = fit_logistic([1, 1, 3, 3, 10, 10, 30, 30], [0, 0, 0, 1, 0, 1, 1, 1],
    ...                    endpoint="response")
    >>> round(fit.slope, 3)
    1.484
    """
    import statsmodels.api as sm  # type: ignore[import-untyped]
    from statsmodels.tools.sm_exceptions import (  # type: ignore[import-untyped]
        PerfectSeparationWarning,
    )

    values = _predictor(x, log=log, field="x")
    y = np.asarray(events, dtype=np.float64).reshape(-1)
    if y.size != values.size:
        reason = f"has {y.size} outcomes for {values.size} patients"
        raise InvalidInputError(reason, field="events")
    if not np.all(np.isin(y, (0.0, 1.0))):
        reason = "outcomes must be 0 or 1"
        raise InvalidInputError(reason, field="events")
    if y.size < _MIN_PATIENTS or y.min() == y.max() or np.ptp(values) == 0:
        reason = (
            f"needs at least {_MIN_PATIENTS} patients, both outcomes and more than one "
            f"dose to fit {endpoint}; got {y.size} patients, {int(y.sum())} events"
        )
        raise InvalidInputError(reason, field="events")
    design = sm.add_constant(values, has_constant="add")
    with warnings.catch_warnings():
        warnings.simplefilter("error", PerfectSeparationWarning)
        try:
            result = sm.GLM(y, design, family=sm.families.Binomial()).fit()
        except PerfectSeparationWarning:
            reason = (
                f"{endpoint} is completely separated by {predictor}: the maximum "
                "likelihood estimate does not exist (more patients are needed)"
            )
            raise InvalidInputError(reason, field="events") from None
    return LogisticFit(
        endpoint=endpoint,
        predictor=predictor,
        intercept=float(result.params[0]),
        slope=float(result.params[1]),
        cov=np.asarray(result.cov_params(), dtype=np.float64),
        n=int(y.size),
        n_events=int(y.sum()),
        log=log,
    )


def sliding_scale(
    table: pd.DataFrame,
    *,
    x: str = "dose",
    response: str = "responder",
    toxicity: str = "crs_grade3",
    grid: Sequence[float] | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Efficacy and toxicity curves with confidence bands against dose (or Cmax).

    Parameters
    ----------
    table
        One row per patient with the columns named by ``x``, ``response`` and
        ``toxicity`` (0/1). Rows with a missing value in a model's columns are left
        out of that model.
    x
        Predictor column (regressed on its log).
    response, toxicity
        The 0/1 outcome columns.
    grid
        Values of ``x`` at which to draw; default 100 log-spaced points over the data.
    level
        Confidence level of the bands.

    Returns
    -------
    pandas.DataFrame
        ``x, p_response, response_low, response_high, p_toxicity, toxicity_low,
        toxicity_high`` (tidy, for :func:`plot_sliding_scale` or a dashboard). The
        fits are in ``frame.attrs["fits"]`` (``to_dict`` of each).

    References
    ----------
    .. [1] McCullagh P, Nelder JA. *Generalized Linear Models*. 2nd ed. 1989, ch. 4.
    """
    missing = [c for c in (x, response, toxicity) if c not in table.columns]
    if missing:
        reason = f"the table has no column {missing[0]!r}"
        raise InvalidInputError(reason, field=missing[0])
    fits = {}
    for name, column in (("response", response), ("toxicity", toxicity)):
        rows = table[[x, column]].dropna()
        fits[name] = fit_logistic(
            rows[x], rows[column], endpoint=column, predictor=f"log_{x}", log=True
        )
    xs = table[x].dropna().to_numpy(dtype=np.float64)
    if grid is None:
        values = np.geomspace(xs.min(), xs.max(), 100)
    else:
        _predictor(grid, log=True, field="grid")  # validates: finite, positive
        values = np.asarray(grid, dtype=np.float64).reshape(-1)
    frame = pd.DataFrame({"x": values})
    for name, fit in fits.items():
        band = fit.predict(values, level=level)
        frame[f"p_{name}"] = band["p"].to_numpy()
        frame[f"{name}_low"] = band["low"].to_numpy()
        frame[f"{name}_high"] = band["high"].to_numpy()
    frame.attrs["fits"] = {k: f.to_dict() for k, f in fits.items()}
    return frame


def plot_sliding_scale(
    curves: pd.DataFrame,
    *,
    recommendations: Sequence[tuple[str, float]] = (),
    observed: pd.DataFrame | None = None,
    x_label: str = "dose",
    title: str | None = None,
) -> Figure:
    """Draw efficacy and toxicity against dose on one chart, with designs' doses marked.

    Parameters
    ----------
    curves
        The frame of :func:`sliding_scale`.
    recommendations
        ``(design name, dose)`` pairs, each drawn as a labelled vertical line.
    observed
        Optional per-dose observed rates: columns ``x, response_rate,
        toxicity_rate, n`` (points sized by ``n``).
    x_label
        Axis label (with the unit).
    title
        Chart title.

    Returns
    -------
    matplotlib.figure.Figure
        The chart (log dose axis, shaded confidence bands).
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.5, 4.5))
    ax = fig.subplots()
    for name, colour, label in (
        ("response", "#1a7f37", "P(response)"),
        ("toxicity", "#cf222e", "P(grade >= 3 CRS)"),
    ):
        ax.fill_between(
            curves["x"], curves[f"{name}_low"], curves[f"{name}_high"], color=colour, alpha=0.18
        )
        ax.plot(curves["x"], curves[f"p_{name}"], color=colour, label=label)
        if observed is not None:
            ax.scatter(
                observed["x"],
                observed[f"{name}_rate"],
                s=20 + 12 * observed["n"],
                color=colour,
                edgecolor="white",
                zorder=3,
            )
    for i, (design, dose) in enumerate(recommendations):
        ax.axvline(dose, color="#57606a", linestyle=("--", ":", "-.")[i % 3], linewidth=1.2)
        ax.annotate(
            design,
            (dose, 0.98 - 0.07 * i),
            xycoords=("data", "axes fraction"),
            rotation=0,
            fontsize=8,
            ha="left",
            va="top",
        )
    ax.set_xscale("log")
    ax.set_ylim(0, 1)
    ax.set_xlabel(x_label)
    ax.set_ylabel("probability (95% CI)")
    ax.legend(loc="center left", fontsize=8)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig
