"""Survival by product attribute: Kaplan-Meier curves, the log-rank test, the Cox model.

"You can only correlate backwards": these functions look for associations between what
was measured on a product (release CQAs, intake attributes, single-cell profile values)
and what then happened to the patient (progression-free survival, duration of response).
An association in past patients is not evidence that changing the attribute would change
the outcome; every result says so through its caveats.

The input is a patient-level frame, one row per patient, with a time column (any unit,
``>= 0``), an event column (1 = event observed, 0 = censored) and the attribute columns.
Rows with a missing time, event or attribute are left out, and the count left out is
reported as a caveat (``dor_time`` is undefined for non-responders, for example).

References
----------
.. [1] Kaplan EL, Meier P (1958). Nonparametric estimation from incomplete observations.
   J Am Stat Assoc 53:457-481.
.. [2] Mantel N (1966). Evaluation of survival data and two new rank order statistics
   arising in its consideration. Cancer Chemother Rep 50:163-170.
.. [3] Cox DR (1972). Regression models and life-tables. J R Stat Soc B 34:187-220.
.. [4] Grambsch PM, Therneau TM (1994). Proportional hazards tests and diagnostics based
   on weighted residuals. Biometrika 81:515-526.
.. [5] Peduzzi P, Concato J, Feinstein AR, Holford TR (1995). Importance of events per
   independent variable in proportional hazards regression analysis. J Clin Epidemiol
   48:1503-1510.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import pandas as pd

from vein2vein.errors import InvalidInputError

__all__ = [
    "MIN_EVENTS",
    "CoxResult",
    "KaplanMeierResult",
    "cox_model",
    "kaplan_meier_by",
]

MIN_EVENTS: Final = 10
"""Fewest events :func:`cox_model` accepts; below it the model is refused.

:func:`kaplan_meier_by` does not refuse but reports a caveat below this count.
"""

_ALPHA: Final = 0.05


@contextmanager
def _collect_warnings(caveats: list[str], source: str) -> Iterator[None]:
    """Record every warning raised inside the block as a caveat instead of letting it escape.

    The library warnings (lifelines ``ConvergenceWarning``, ``ApproximationWarning``,
    ``StatisticalWarning``, scikit-learn ``ConvergenceWarning``, numpy ``RuntimeWarning``)
    are facts about the fit that belong in the result, not on stderr.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    seen: set[str] = set()
    for w in caught:
        text = " ".join(str(w.message).split())
        if len(text) > 300:
            text = text[:297] + "..."
        line = f"{source} warned ({w.category.__name__}): {text}"
        if line not in seen:
            seen.add(line)
            caveats.append(line)


def _require_columns(frame: pd.DataFrame, columns: Sequence[str]) -> None:
    if not isinstance(frame, pd.DataFrame):
        msg = f"expected a pandas DataFrame, got {type(frame).__name__}"
        raise InvalidInputError(msg, field="frame")
    for col in columns:
        if col not in frame.columns:
            msg = f"column not in the frame (columns: {', '.join(map(str, frame.columns))})"
            raise InvalidInputError(msg, field=col)


def _complete_cases(
    frame: pd.DataFrame, columns: Sequence[str], caveats: list[str]
) -> pd.DataFrame:
    data = frame.loc[:, list(dict.fromkeys(columns))]
    complete = data.notna().all(axis=1)
    dropped = int((~complete).sum())
    if dropped:
        caveats.append(
            f"{dropped} of {len(data)} patients left out for a missing value in "
            f"{', '.join(columns)}."
        )
    return data.loc[complete].copy()


def _check_time_event(data: pd.DataFrame, time: str, event: str) -> None:
    if not pd.api.types.is_numeric_dtype(data[time]):
        msg = "survival times must be numeric"
        raise InvalidInputError(msg, field=time)
    t = data[time].to_numpy(dtype=float)
    if not np.all(np.isfinite(t)) or np.any(t < 0):
        msg = "survival times must be finite and >= 0"
        raise InvalidInputError(msg, field=time)
    e = pd.to_numeric(data[event], errors="coerce").to_numpy(dtype=float)
    if not np.all(np.isin(e, (0.0, 1.0))):
        msg = "the event indicator must be 1 (event observed) or 0 (censored)"
        raise InvalidInputError(msg, field=event)
    data[event] = e.astype(int)


def _is_continuous(values: pd.Series) -> bool:
    return bool(pd.api.types.is_numeric_dtype(values)) and values.nunique() > 2


def _p_text(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3g}"


# ----------------------------------------------------------------- Kaplan-Meier
@dataclass(frozen=True)
class KaplanMeierResult:
    """Kaplan-Meier curves by the groups of one attribute, with the log-rank test.

    Attributes
    ----------
    attribute, time, event
        The column names used.
    cut
        The split point for a continuous attribute (the median unless one was given),
        ``None`` for a categorical or binary one.
    groups
        The group labels in order (``"<= cut"``, ``"> cut"`` for a split attribute).
    n, n_events
        Patients and events per group.
    median_survival
        Kaplan-Meier median survival per group; ``inf`` where the curve never falls
        to 0.5 (median not reached).
    curves
        Per group, a frame with ``time``, ``survival``, ``ci_low``, ``ci_high``
        (95 % pointwise, exponential Greenwood, as lifelines computes them).
    statistic, df, p_value
        The log-rank chi-square statistic, its degrees of freedom (groups - 1) and p-value.
    caveats
        Everything that limits the reading (few events, left-out patients, warnings).
    """

    attribute: str
    time: str
    event: str
    cut: float | None
    groups: tuple[str, ...]
    n: dict[str, int]
    n_events: dict[str, int]
    median_survival: dict[str, float]
    curves: dict[str, pd.DataFrame] = field(repr=False)
    statistic: float
    df: int
    p_value: float
    caveats: tuple[str, ...]

    @property
    def summary(self) -> str:
        """The result in one or two plain sentences."""
        split = "" if self.cut is None else f" split at {self.cut:.4g}"

        def _median(g: str) -> str:
            m = self.median_survival[g]
            return "not reached" if np.isinf(m) else f"{m:.3g}"

        medians = "; ".join(
            f"{g}: n = {self.n[g]}, {self.n_events[g]} events, median {_median(g)}"
            for g in self.groups
        )
        verdict = (
            "the curves differ" if self.p_value < _ALPHA else "no evidence that the curves differ"
        )
        return (
            f"{self.time} by {self.attribute}{split} ({medians}). Log-rank chi2 = "
            f"{self.statistic:.3g} on {self.df} df, {_p_text(self.p_value)}: {verdict}."
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values (the curves as lists)."""
        return {
            "attribute": self.attribute,
            "time": self.time,
            "event": self.event,
            "cut": self.cut,
            "groups": list(self.groups),
            "n": dict(self.n),
            "n_events": dict(self.n_events),
            "median_survival": {
                g: (None if np.isinf(m) else m) for g, m in self.median_survival.items()
            },
            "curves": {g: c.to_dict(orient="list") for g, c in self.curves.items()},
            "statistic": self.statistic,
            "df": self.df,
            "p_value": self.p_value,
            "summary": self.summary,
            "caveats": list(self.caveats),
        }


def kaplan_meier_by(
    frame: pd.DataFrame,
    *,
    time: str,
    event: str,
    by: str,
    cut: float | None = None,
) -> KaplanMeierResult:
    """Kaplan-Meier survival curves by the groups of one attribute, with the log-rank test.

    A continuous attribute (numeric with more than two distinct values) is split into
    ``"<= cut"`` and ``"> cut"``, at its median over the complete cases unless ``cut`` is
    given. A dichotomy at the median is easy to read but loses information and the
    median depends on the sample: prefer a pre-specified, clinically meaningful ``cut``
    and read the Cox model on the continuous value as well. A binary or categorical
    attribute gives one curve per level. Two groups are compared with the log-rank test
    (lifelines ``logrank_test``), more with its k-group form (``multivariate_logrank_test``).

    Fewer than :data:`MIN_EVENTS` events overall, or a group without events, does not
    refuse the analysis but adds a caveat: the test has little power then.

    Parameters
    ----------
    frame
        One row per patient.
    time
        Column of follow-up times (``>= 0``).
    event
        Column of event indicators (1 = event, 0 = censored).
    by
        The attribute column to group by.
    cut
        Split point for a continuous attribute (default: its median). Ignored
        with a caveat for a non-continuous attribute.

    Returns
    -------
    KaplanMeierResult

    Raises
    ------
    InvalidInputError
        A missing column, a negative or non-numeric time, an event not 0/1, fewer than
        two groups, or a split that leaves a group empty.

    References
    ----------
    .. [1] Kaplan EL, Meier P (1958). J Am Stat Assoc 53:457-481.
    .. [2] Mantel N (1966). Cancer Chemother Rep 50:163-170.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"t": [1, 2, 3, 4, 5, 6], "e": [1, 1, 0, 1, 1, 0],
    ...                    "high_cd8": [0, 0, 0, 1, 1, 1]})
    >>> r = kaplan_meier_by(df, time="t", event="e", by="high_cd8")
    >>> r.groups, r.df
    (('0', '1'), 1)
    """
    from lifelines import KaplanMeierFitter  # type: ignore[import-untyped]
    from lifelines.statistics import (  # type: ignore[import-untyped]
        logrank_test,
        multivariate_logrank_test,
    )

    _require_columns(frame, [time, event, by])
    caveats: list[str] = []
    data = _complete_cases(frame, [time, event, by], caveats)
    if data.empty:
        msg = "no patient has time, event and attribute all recorded"
        raise InvalidInputError(msg, field=by)
    _check_time_event(data, time, event)

    values = data[by]
    used_cut: float | None = None
    if _is_continuous(values):
        used_cut = float(np.median(values.to_numpy(dtype=float))) if cut is None else float(cut)
        how = "its median" if cut is None else "the given cut"
        caveats.append(
            f"{by} is continuous and was split at {how}, {used_cut:.4g} "
            "(<= cut vs > cut); a dichotomy loses information."
        )
        low = f"<= {used_cut:.4g}"
        high = f"> {used_cut:.4g}"
        labels = np.where(values.to_numpy(dtype=float) <= used_cut, low, high)
        order: list[str] = [low, high]
    else:
        if cut is not None:
            caveats.append(f"cut = {cut} ignored: {by} is not continuous.")
        labels = values.astype(str).to_numpy()
        order = [str(v) for v in sorted(values.unique(), key=lambda v: (str(type(v)), v))]
    present = [g for g in order if np.any(labels == g)]
    if len(present) < 2:
        msg = f"{by} gives fewer than two groups ({', '.join(present) or 'none'})"
        raise InvalidInputError(msg, field=by)

    t = data[time].to_numpy(dtype=float)
    e = data[event].to_numpy(dtype=int)
    n: dict[str, int] = {}
    n_events: dict[str, int] = {}
    medians: dict[str, float] = {}
    curves: dict[str, pd.DataFrame] = {}
    with _collect_warnings(caveats, "lifelines"):
        for g in present:
            mask = labels == g
            kmf = KaplanMeierFitter().fit(t[mask], e[mask], label=g)
            sf = kmf.survival_function_
            ci = kmf.confidence_interval_survival_function_
            curves[g] = pd.DataFrame(
                {
                    "time": sf.index.to_numpy(dtype=float),
                    "survival": sf.iloc[:, 0].to_numpy(dtype=float),
                    "ci_low": ci.iloc[:, 0].to_numpy(dtype=float),
                    "ci_high": ci.iloc[:, 1].to_numpy(dtype=float),
                }
            )
            n[g] = int(mask.sum())
            n_events[g] = int(e[mask].sum())
            medians[g] = float(kmf.median_survival_time_)
        if len(present) == 2:
            a, b = (labels == present[0]), (labels == present[1])
            test = logrank_test(t[a], t[b], event_observed_A=e[a], event_observed_B=e[b])
        else:
            test = multivariate_logrank_test(t, labels, e)
    total_events = int(e.sum())
    if total_events < MIN_EVENTS:
        caveats.append(
            f"only {total_events} events (fewer than {MIN_EVENTS}): the log-rank test has "
            "little power and the curves are imprecise."
        )
    if any(v == 0 for v in n_events.values()):
        empty = ", ".join(g for g, v in n_events.items() if v == 0)
        caveats.append(f"no events in group {empty}.")
    caveats.append("An association in past patients, not evidence that the attribute causes it.")
    return KaplanMeierResult(
        attribute=by,
        time=time,
        event=event,
        cut=used_cut,
        groups=tuple(present),
        n=n,
        n_events=n_events,
        median_survival=medians,
        curves=curves,
        statistic=float(test.test_statistic),
        df=len(present) - 1,
        p_value=float(test.p_value),
        caveats=tuple(caveats),
    )


# ----------------------------------------------------------------- Cox
@dataclass(frozen=True)
class CoxResult:
    """A Cox proportional-hazards fit with hazard ratios and the proportional-hazards check.

    Attributes
    ----------
    time, event
        The column names used.
    covariates
        The covariates in the model, in order.
    table
        One row per covariate: ``covariate``, ``coef`` (log hazard ratio), ``se``,
        ``hazard_ratio``, ``hr_low``, ``hr_high`` (95 % Wald interval), ``z``, ``p_value``,
        ``ph_statistic``, ``ph_p_value`` (Grambsch-Therneau test, rank time transform).
    concordance
        Harrell's C on the fitting data (optimistic: not cross-validated).
    n, n_events
        Patients and events in the fit.
    log_likelihood
        The maximised partial log-likelihood.
    penalizer
        The L2 penalty used (0 = ordinary partial likelihood).
    ph_violated
        Covariates whose proportional-hazards test has p < 0.05.
    caveats
        Everything that limits the reading.
    """

    time: str
    event: str
    covariates: tuple[str, ...]
    table: pd.DataFrame = field(repr=False)
    concordance: float
    n: int
    n_events: int
    log_likelihood: float
    penalizer: float
    ph_violated: tuple[str, ...]
    caveats: tuple[str, ...]

    @property
    def summary(self) -> str:
        """The result in plain sentences, one per covariate."""
        parts = [
            f"Cox model for {self.time} on {len(self.covariates)} covariate(s), "
            f"{self.n} patients, {self.n_events} events, concordance {self.concordance:.2f}."
        ]
        for row in self.table.itertuples(index=False):
            parts.append(
                f"{row.covariate}: HR {row.hazard_ratio:.3g} per unit "
                f"(95 % CI {row.hr_low:.3g} to {row.hr_high:.3g}), {_p_text(row.p_value)}."
            )
        if self.ph_violated:
            parts.append(
                "Proportional hazards doubtful for "
                + ", ".join(self.ph_violated)
                + ": their hazard ratio is an average over follow-up."
            )
        return " ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values."""
        return {
            "time": self.time,
            "event": self.event,
            "covariates": list(self.covariates),
            "table": self.table.to_dict(orient="records"),
            "concordance": self.concordance,
            "n": self.n,
            "n_events": self.n_events,
            "log_likelihood": self.log_likelihood,
            "penalizer": self.penalizer,
            "ph_violated": list(self.ph_violated),
            "summary": self.summary,
            "caveats": list(self.caveats),
        }


def cox_model(
    frame: pd.DataFrame,
    *,
    time: str,
    event: str,
    covariates: Sequence[str],
    penalizer: float = 0.0,
) -> CoxResult:
    """Fit a Cox proportional-hazards model and report hazard ratios with their caveats.

    Fitted with lifelines ``CoxPHFitter`` (Efron ties). Hazard ratios are per unit of
    each covariate as given (standardise beforehand for per-SD ratios). The
    proportional-hazards assumption is checked per covariate with lifelines
    ``proportional_hazard_test`` (Grambsch-Therneau scaled Schoenfeld residuals, rank
    time transform); a covariate with p < 0.05 is named in ``ph_violated`` and a caveat.

    Fewer than :data:`MIN_EVENTS` events are refused: a hazard ratio from so few events
    is not worth reporting. Fewer than 10 events per covariate is allowed but reported as
    a caveat (Peduzzi et al. 1995). Library warnings (convergence, approximations) are
    reported as caveats, not raised.

    Parameters
    ----------
    frame
        One row per patient.
    time
        Column of follow-up times (``>= 0``).
    event
        Column of event indicators (1 = event, 0 = censored).
    covariates
        Numeric covariate columns (binary 0/1 for categories).
    penalizer
        L2 penalty passed to ``CoxPHFitter``; with a penalty the intervals and p-values
        are approximate (a caveat says so).

    Returns
    -------
    CoxResult

    Raises
    ------
    InvalidInputError
        A missing or non-numeric column, a constant covariate, a bad time or event,
        fewer than :data:`MIN_EVENTS` events, or a fit that does not converge.

    References
    ----------
    .. [1] Cox DR (1972). J R Stat Soc B 34:187-220.
    .. [2] Grambsch PM, Therneau TM (1994). Biometrika 81:515-526.
    .. [3] Peduzzi P et al. (1995). J Clin Epidemiol 48:1503-1510.
    """
    from lifelines import CoxPHFitter
    from lifelines.exceptions import ConvergenceError  # type: ignore[import-untyped]
    from lifelines.statistics import proportional_hazard_test

    covs = list(covariates)
    if not covs:
        msg = "give at least one covariate"
        raise InvalidInputError(msg, field="covariates")
    if len(set(covs)) != len(covs) or time in covs or event in covs:
        msg = "covariates must be distinct and exclude the time and event columns"
        raise InvalidInputError(msg, field="covariates")
    if not (np.isfinite(penalizer) and penalizer >= 0):
        msg = "penalizer must be a finite number >= 0"
        raise InvalidInputError(msg, field="penalizer")
    _require_columns(frame, [time, event, *covs])
    caveats: list[str] = []
    data = _complete_cases(frame, [time, event, *covs], caveats)
    _check_time_event(data, time, event)
    for c in covs:
        if not pd.api.types.is_numeric_dtype(data[c]) or pd.api.types.is_bool_dtype(data[c]):
            if pd.api.types.is_bool_dtype(data[c]):
                data[c] = data[c].astype(int)
                continue
            msg = "Cox covariates must be numeric (code categories as 0/1 columns)"
            raise InvalidInputError(msg, field=c)
        if data[c].nunique() < 2:
            msg = "the covariate is constant among the complete cases"
            raise InvalidInputError(msg, field=c)
    n_events = int(data[event].sum())
    if n_events < MIN_EVENTS:
        msg = (
            f"only {n_events} events among {len(data)} patients; a Cox model needs at "
            f"least {MIN_EVENTS} events to be reported"
        )
        raise InvalidInputError(msg, field=event)
    if n_events < 10 * len(covs):
        caveats.append(
            f"{n_events} events for {len(covs)} covariate(s), fewer than 10 events per "
            "covariate: the hazard ratios may be biased and the intervals too narrow."
        )
    if penalizer > 0:
        caveats.append(
            f"L2 penalizer {penalizer:g}: estimates are shrunk toward HR 1 and the "
            "intervals and p-values are approximate."
        )

    cph = CoxPHFitter(penalizer=penalizer)
    try:
        with _collect_warnings(caveats, "lifelines CoxPHFitter"):
            cph.fit(data, duration_col=time, event_col=event)
            ph = proportional_hazard_test(cph, data, time_transform="rank")
    except ConvergenceError as exc:
        msg = (
            "the Cox model did not converge (often complete separation or collinear "
            f"covariates; try a penalizer): {' '.join(str(exc).split())[:300]}"
        )
        raise InvalidInputError(msg, field="covariates") from None

    s = cph.summary
    ph_summary = ph.summary
    table = pd.DataFrame(
        {
            "covariate": covs,
            "coef": s.loc[covs, "coef"].to_numpy(dtype=float),
            "se": s.loc[covs, "se(coef)"].to_numpy(dtype=float),
            "hazard_ratio": s.loc[covs, "exp(coef)"].to_numpy(dtype=float),
            "hr_low": s.loc[covs, "exp(coef) lower 95%"].to_numpy(dtype=float),
            "hr_high": s.loc[covs, "exp(coef) upper 95%"].to_numpy(dtype=float),
            "z": s.loc[covs, "z"].to_numpy(dtype=float),
            "p_value": s.loc[covs, "p"].to_numpy(dtype=float),
            "ph_statistic": ph_summary.loc[covs, "test_statistic"].to_numpy(dtype=float),
            "ph_p_value": ph_summary.loc[covs, "p"].to_numpy(dtype=float),
        }
    )
    violated = tuple(table.loc[table["ph_p_value"] < _ALPHA, "covariate"])
    if violated:
        caveats.append(
            "proportional-hazards test p < 0.05 for "
            + ", ".join(violated)
            + ": the hazard ratio averages an effect that changes over follow-up; "
            "consider stratifying or a time-varying effect."
        )
    if len(covs) > 1:
        caveats.append(
            f"{len(covs)} covariates tested in one model; p-values are not adjusted for "
            "multiplicity."
        )
    caveats.append("Concordance is measured on the fitting data and is optimistic.")
    caveats.append("An association in past patients, not evidence that the attribute causes it.")
    return CoxResult(
        time=time,
        event=event,
        covariates=tuple(covs),
        table=table,
        concordance=float(cph.concordance_index_),
        n=len(data),
        n_events=n_events,
        log_likelihood=float(cph.log_likelihood_),
        penalizer=float(penalizer),
        ph_violated=violated,
        caveats=tuple(caveats),
    )
