"""Cohort comparison at the patient level, checked against published and scipy numbers."""

from __future__ import annotations

from pathlib import Path

import anndata as ad
import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from vein2vein.errors import InvalidInputError
from vein2vein.singlecell.profile._cohort import compare_cohort, read_groups
from vein2vein.singlecell.profile._model import ProductProfile

# Hollander & Wolfe (1973), p. 69: permeability constants of the human chorioamnion at
# term (x) and at 12-26 weeks (y); the worked example of R's ?wilcox.test, whose output
# is W = 35, two-sided p-value = 0.2544 (one-sided "greater" 0.1272) and a Hodges-Lehmann
# "difference in location" of 0.305.
X = [0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46]
Y = [1.15, 0.88, 0.90, 0.74, 1.21]


def _frame(
    x: list[float], y: list[float], column: str = "m"
) -> tuple[pd.DataFrame, dict[str, str]]:
    patients = [f"a{i}" for i in range(len(x))] + [f"b{i}" for i in range(len(y))]
    groups = {p: ("term" if p[0] == "a" else "early") for p in patients}
    return pd.DataFrame({"patient": patients, column: x + y}), groups


def test_hollander_wolfe_worked_example() -> None:
    frame, groups = _frame(X, Y)
    row = compare_cohort(frame, groups, order=("term", "early")).table.iloc[0]
    assert row.u_statistic == 35
    assert row.p_value == pytest.approx(0.2544, abs=5e-5)
    assert row.hodges_lehmann == pytest.approx(0.305)
    # Kerby (2014): r = f - u = 35/50 - 15/50
    assert row.rank_biserial == pytest.approx(0.4)
    # 3003 relabellings < n_resamples: the permutation test is exact and equals the exact U test
    assert row.p_permutation == pytest.approx(row.p_value, rel=1e-9)
    greater = compare_cohort(frame, groups, order=("term", "early"), alternative="greater")
    assert greater.table.iloc[0].p_value == pytest.approx(0.1272, abs=5e-5)


def test_matches_scipy_and_statsmodels_over_several_metrics() -> None:
    rng = np.random.default_rng(4)
    n = 9
    frame = pd.DataFrame(
        {
            "patient": [f"P{i}" for i in range(2 * n)],
            "a": rng.normal(size=2 * n) + np.r_[np.zeros(n), np.ones(n)],
            "b": rng.normal(size=2 * n),
            "c": rng.normal(size=2 * n) + np.r_[np.zeros(n), 2 * np.ones(n)],
        }
    )
    groups = {f"P{i}": ("R" if i < n else "NR") for i in range(2 * n)}
    table = compare_cohort(frame, groups, order=("R", "NR"), n_resamples=999).table
    ps = []
    for metric in ("a", "b", "c"):
        x = frame.loc[: n - 1, metric].to_numpy()
        y = frame.loc[n:, metric].to_numpy()
        expected = stats.mannwhitneyu(x, y)
        row = table.set_index("metric").loc[metric]
        assert row.u_statistic == expected.statistic
        assert row.p_value == pytest.approx(expected.pvalue)
        assert row.hodges_lehmann == pytest.approx(np.median([a - b for a in x for b in y]))
        assert 0 < row.p_permutation <= 1
        ps.append(expected.pvalue)
    assert table.p_holm.to_numpy() == pytest.approx(multipletests(ps, method="holm")[1])


def _profile(sample: str, patient: str, car: float) -> ProductProfile:
    return ProductProfile(
        sample=sample, patient=patient, package_version="0", n_cells=100, car_positive_fraction=car
    )


def test_samples_are_aggregated_to_one_value_per_patient() -> None:
    profiles = [
        _profile("s1", "P1", 0.1),
        _profile("s2", "P1", 0.3),  # P1 -> median 0.2
        _profile("s3", "P2", 0.4),
        _profile("s4", "P3", 0.8),
        _profile("s5", "P4", 0.9),
    ]
    groups = {"P1": "NR", "P2": "NR", "P3": "R", "P4": "R"}
    result = compare_cohort(profiles, groups, metrics=["car_positive_fraction"])
    assert len(result.patients) == 4
    p1 = result.patients.set_index("patient").loc["P1", "car_positive_fraction"]
    assert p1 == pytest.approx(0.2)
    row = result.table.iloc[0]
    assert (row.n_a, row.n_b) == (2, 2)
    expected = stats.mannwhitneyu([0.2, 0.4], [0.8, 0.9])
    assert row.p_value == pytest.approx(expected.pvalue)


def test_cell_level_input_is_refused_or_aggregated() -> None:
    cells = ad.AnnData(np.zeros((4, 2)))
    with pytest.raises(InvalidInputError, match="cell-level"):
        compare_cohort(cells, {"P1": "R"})  # type: ignore[arg-type]
    # a per-cell table: 50 cells per patient; aggregated to the patients' medians,
    # so the test sees 4 vs 4 values, never 200 vs 200 cells
    rng = np.random.default_rng(0)
    patients = np.repeat([f"P{i}" for i in range(8)], 50)
    frame = pd.DataFrame({"patient": patients, "score": rng.normal(size=400)})
    groups = {f"P{i}": ("R" if i < 4 else "NR") for i in range(8)}
    row = compare_cohort(frame, groups).table.iloc[0]
    assert (row.n_a, row.n_b) == (4, 4)
    medians = frame.groupby("patient")["score"].median()
    expected = stats.mannwhitneyu(medians.iloc[4:], medians.iloc[:4])  # NR sorts first
    assert row.p_value == pytest.approx(expected.pvalue)


def test_groups_file_and_refusals(tmp_path: Path) -> None:
    path = tmp_path / "groups.csv"
    path.write_text("patient,group\nP1,R\nP2,NR\n")
    assert read_groups(path) == {"P1": "R", "P2": "NR"}
    path.write_text("patient,outcome\nP1,R\n")
    with pytest.raises(InvalidInputError) as info:
        read_groups(path)
    assert (info.value.file, info.value.field) == (str(path), "group")
    path.write_text("patient,group\nP1,R\nP1,NR\n")
    with pytest.raises(InvalidInputError, match="twice"):
        read_groups(path)
    frame, groups = _frame(X, Y)
    with pytest.raises(InvalidInputError, match="exactly two"):
        compare_cohort(frame, {**groups, "a0": "third"})
    with pytest.raises(InvalidInputError, match="unknown metric"):
        compare_cohort(frame, groups, metrics=["nope"])


def test_plot_draws_one_panel_per_metric() -> None:
    frame, groups = _frame(X, Y)
    fig = compare_cohort(frame, groups).plot()
    assert len([ax for ax in fig.axes if ax.get_visible()]) == 1
