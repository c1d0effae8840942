"""Cohort comparison of product profiles between two outcome groups, at the patient level.

One value per patient and metric: a patient's samples are aggregated first (the median
of the patient's sample values by default; restrict to one timepoint, e.g. ``"M0"`` for
the infusion product, with ``timepoint=``). Cells are never the unit: AnnData/MuData
input is refused, and a table with several rows per patient is aggregated by the same
rule. For each metric: the two-sided Mann-Whitney U test [1]_ (scipy), the
Hodges-Lehmann shift estimate [2]_ (median of all between-group differences), the
rank-biserial correlation [3]_ (``2U / (n1 n2) - 1``), a permutation p-value of U
(:func:`scipy.stats.permutation_test`, exact when the relabellings are few) [4]_, and
Holm's step-down adjustment [5]_ of the Mann-Whitney p-values across metrics.

References
----------
.. [1] Mann HB, Whitney DR (1947). On a test of whether one of two random variables is
   stochastically larger than the other. Ann Math Stat 18:50-60.
.. [2] Hodges JL, Lehmann EL (1963). Estimates of location based on rank tests.
   Ann Math Stat 34:598-611.
.. [3] Kerby DS (2014). The simple difference formula: an approach to teaching
   nonparametric correlation. Compr Psychol 3:11.IT.3.1.
.. [4] Good P (2005). Permutation, Parametric, and Bootstrap Tests of Hypotheses,
   3rd ed. Springer.
.. [5] Holm S (1979). A simple sequentially rejective multiple test procedure.
   Scand J Stat 6:65-70.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

import numpy as np
import pandas as pd

from ...errors import InvalidInputError, TableInputError
from ...support import Column, TableSchema, read_table
from ._model import ProductProfile, profiles_table

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["AGGREGATION_RULE", "CohortComparison", "compare_cohort", "read_groups"]

AGGREGATION_RULE: Final = (
    "one value per patient: the median of the patient's sample values "
    "(after any timepoint filter); cells are never the unit"
)
_ID_COLUMNS: Final = ("sample", "patient", "timepoint", "source", "sort")


@dataclass(frozen=True)
class CohortComparison:
    """The result of :func:`compare_cohort`.

    Attributes
    ----------
    table
        One row per metric: ``metric, group_a, group_b, n_a, n_b, median_a, median_b,
        u_statistic, p_value, p_holm, p_permutation, hodges_lehmann, rank_biserial``.
        ``hodges_lehmann`` estimates ``group_a - group_b``; a positive
        ``rank_biserial`` means larger values in ``group_a``.
    patients
        The patient-level values that were compared (one row per patient).
    rule
        The aggregation rule in words.
    """

    table: pd.DataFrame
    patients: pd.DataFrame
    rule: str

    def to_frame(self) -> pd.DataFrame:
        """The per-metric table (a copy)."""
        return self.table.copy()

    def plot(self, *, metrics: Sequence[str] | None = None) -> Figure:
        """Patient values per group for each metric, with the Holm-adjusted p-values."""
        from matplotlib.figure import Figure

        rows = self.table if metrics is None else self.table[self.table.metric.isin(metrics)]
        n = max(len(rows), 1)
        cols = min(n, 4)
        fig = Figure(figsize=(3.0 * cols, 2.8 * ((n + cols - 1) // cols)), layout="constrained")
        axes = np.atleast_1d(fig.subplots((n + cols - 1) // cols, cols)).ravel()
        rng = np.random.default_rng(0)
        for ax, row in zip(axes, rows.itertuples(index=False), strict=False):
            for i, group in enumerate((row.group_a, row.group_b)):
                values = self.patients.loc[self.patients.group == group, row.metric].dropna()
                x = i + rng.uniform(-0.12, 0.12, len(values))
                ax.scatter(x, values, s=18, color=("#1b6ca8", "#d95f02")[i])
                ax.hlines(values.median(), i - 0.25, i + 0.25, color="#333333")
            ax.set_xticks([0, 1], [str(row.group_a), str(row.group_b)])
            ax.set_title(f"{row.metric}\nHolm p = {row.p_holm:.3g}", fontsize=8)
        for ax in axes[len(rows) :]:
            ax.set_visible(False)
        return fig


# Further columns (a note, the criteria) are ignored.
_GROUPS_SCHEMA: Final = TableSchema(
    (Column("patient"), Column("group")), what="patients", extra="keep", short_rows="pad"
)


def read_groups(path: str | Path) -> dict[str, str]:
    """Read a groups CSV (columns ``patient,group``) into ``{patient: group}``.

    Parameters
    ----------
    path
        The CSV file.

    Returns
    -------
    dict
        Patient to outcome group.

    Raises
    ------
    InvalidInputError
        Unreadable file.
    TableInputError
        A missing column, a blank value or a patient listed twice, with the line.
    """
    source = str(path)
    frame = read_table(path, _GROUPS_SCHEMA)
    groups: dict[str, str] = {}
    for line, record in zip(frame.index.tolist(), frame.to_dict("records"), strict=True):
        patient = record["patient"]
        if patient in groups:
            msg = f"line {line}: patient {patient!r} is listed twice"
            raise TableInputError(msg, file=source, field="patient", line=line)
        groups[patient] = record["group"]
    return groups


def _as_frame(profiles: Sequence[ProductProfile] | pd.DataFrame) -> pd.DataFrame:
    if isinstance(profiles, pd.DataFrame):
        return profiles.copy()
    if type(profiles).__name__ in ("AnnData", "MuData"):
        msg = (
            "cell-level data cannot be compared between outcome groups: build one "
            "ProductProfile per sample (build_profile) and compare those"
        )
        raise InvalidInputError(msg, field="profiles")
    for p in profiles:
        if not isinstance(p, ProductProfile):
            msg = f"expected ProductProfile objects, got {type(p).__name__}"
            raise InvalidInputError(msg, field="profiles")
    return profiles_table(profiles)


def _patient_values(
    frame: pd.DataFrame, groups: Mapping[str, str], timepoint: str | None
) -> pd.DataFrame:
    if "patient" not in frame.columns:
        msg = "the profiles need a patient to be compared at the patient level"
        raise InvalidInputError(msg, field="patient")
    if frame["patient"].isna().any():
        msg = "a profile has no patient; every sample must name its patient"
        raise InvalidInputError(msg, field="patient")
    if timepoint is not None:
        frame = frame[frame.get("timepoint") == timepoint]
    frame = frame[frame["patient"].astype(str).isin(set(groups))]
    metrics = [
        c
        for c in frame.columns
        if c not in _ID_COLUMNS and c != "group" and pd.api.types.is_numeric_dtype(frame[c])
    ]
    values = frame.groupby(frame["patient"].astype(str))[metrics].median()
    values.insert(0, "group", [groups[p] for p in values.index])
    return values.reset_index()


def _hodges_lehmann(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.median(np.subtract.outer(x, y)))


def compare_cohort(
    profiles: Sequence[ProductProfile] | pd.DataFrame,
    groups: Mapping[str, str],
    *,
    metrics: Sequence[str] | None = None,
    timepoint: str | None = None,
    order: tuple[str, str] | None = None,
    n_resamples: int = 9999,
    seed: int = 0,
    min_per_group: int = 2,
    alternative: Literal["two-sided", "less", "greater"] = "two-sided",
) -> CohortComparison:
    """Compare profile metrics between two outcome groups, one value per patient.

    Parameters
    ----------
    profiles
        :class:`ProductProfile` objects, or a table with a ``patient`` column and one
        numeric column per metric (several rows per patient are aggregated).
    groups
        Patient to outcome group (exactly two groups among the patients present).
    metrics
        The metrics to test (:meth:`ProductProfile.metrics` keys); all by default.
    timepoint
        Use only samples of this timepoint (``"M0"``: the infusion product).
    order
        ``(group_a, group_b)``; sorted group names by default.
    n_resamples
        Resamples of the permutation check (exact when there are fewer relabellings).
    seed
        Seed of the permutation check.
    min_per_group
        Metrics with fewer patients in a group are left out of the table.
    alternative
        Alternative hypothesis of the Mann-Whitney test and the permutation check.

    Returns
    -------
    CohortComparison
        The per-metric table, the patient-level values and the aggregation rule.

    Raises
    ------
    InvalidInputError
        Cell-level (AnnData/MuData) input, profiles without a patient, not exactly two
        groups, or an unknown metric.

    References
    ----------
    .. [1] Mann HB, Whitney DR (1947). Ann Math Stat 18:50-60.
    .. [2] Hodges JL, Lehmann EL (1963). Ann Math Stat 34:598-611.
    .. [3] Kerby DS (2014). Compr Psychol 3:11.IT.3.1.
    .. [4] Holm S (1979). Scand J Stat 6:65-70.
    """
    from scipy import stats  # type: ignore[import-untyped]
    from statsmodels.stats.multitest import multipletests  # type: ignore[import-untyped]

    values = _patient_values(_as_frame(profiles), groups, timepoint)
    present = sorted(values["group"].unique())
    names = order or (tuple(present) if len(present) == 2 else None)
    if names is None or set(names) != set(present):
        msg = f"need exactly two outcome groups among the patients, found {present}"
        raise InvalidInputError(msg, field="groups")
    candidates = [c for c in values.columns if c not in ("patient", "group")]
    chosen = list(metrics) if metrics is not None else candidates
    for metric in chosen:
        if metric not in candidates:
            msg = f"unknown metric {metric!r}; known: {', '.join(candidates)}"
            raise InvalidInputError(msg, field="metrics")
    rows: list[dict[str, Any]] = []
    for metric in chosen:
        x = values.loc[values.group == names[0], metric].dropna().to_numpy(float)
        y = values.loc[values.group == names[1], metric].dropna().to_numpy(float)
        if min(len(x), len(y)) < max(min_per_group, 1):
            continue
        test = stats.mannwhitneyu(x, y, alternative=alternative)
        perm = stats.permutation_test(
            (x, y),
            lambda a, b, axis: stats.mannwhitneyu(a, b, axis=axis).statistic,
            permutation_type="independent",
            vectorized=True,
            n_resamples=n_resamples,
            alternative=alternative,
            rng=np.random.default_rng(seed),
        )
        u = float(test.statistic)
        rows.append(
            {
                "metric": metric,
                "group_a": names[0],
                "group_b": names[1],
                "n_a": len(x),
                "n_b": len(y),
                "median_a": float(np.median(x)),
                "median_b": float(np.median(y)),
                "u_statistic": u,
                "p_value": float(test.pvalue),
                "p_permutation": float(perm.pvalue),
                "hodges_lehmann": _hodges_lehmann(x, y),
                "rank_biserial": 2.0 * u / (len(x) * len(y)) - 1.0,
            }
        )
    table = pd.DataFrame(rows)
    if rows:
        table.insert(9, "p_holm", multipletests(table["p_value"], method="holm")[1])
    return CohortComparison(table=table, patients=values, rule=AGGREGATION_RULE)
