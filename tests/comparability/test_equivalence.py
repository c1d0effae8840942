"""TOST equivalence: statsmodels' numbers exactly, scipy's Welch interval, Schuirmann's
interval-inclusion rule, margins and caveats."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.weightstats import ttost_ind

from vein2vein.comparability import EquivalenceResult, equivalence
from vein2vein.errors import InvalidInputError


def _groups(seed: int, *, n_test: int = 14, n_ref: int = 17, shift: float = 0.3, sd_test=1.4):
    rng = np.random.default_rng(seed)
    return rng.normal(10 + shift, sd_test, n_test), rng.normal(10, 1.0, n_ref)


@pytest.mark.parametrize("usevar", ["unequal", "pooled"])
@pytest.mark.parametrize("seed", range(5))
def test_p_values_equal_statsmodels_ttost_ind_exactly(seed: int, usevar: str) -> None:
    x, y = _groups(seed)
    res = equivalence(x, y, margin=0.8, usevar=usevar)
    p, (t1, p1, df1), (t2, p2, _) = ttost_ind(x, y, -0.8, 0.8, usevar=usevar)
    assert (res.p_value, res.p_lower, res.p_upper) == (p, p1, p2)
    assert (res.t_lower, res.t_upper, res.df) == (t1, t2, df1)


@pytest.mark.parametrize("seed", range(5))
def test_welch_ci_equals_an_independent_scipy_computation(seed: int) -> None:
    x, y = _groups(seed)
    res = equivalence(x, y, k=1.5, alpha=0.05)
    ci = stats.ttest_ind(x, y, equal_var=False).confidence_interval(0.90)
    assert res.ci_level == pytest.approx(0.90)
    assert res.ci_low == pytest.approx(ci.low, rel=1e-12, abs=1e-12)
    assert res.ci_high == pytest.approx(ci.high, rel=1e-12, abs=1e-12)
    # The Welch-Satterthwaite degrees of freedom, by hand.
    vx, vy = x.var(ddof=1) / x.size, y.var(ddof=1) / y.size
    df = (vx + vy) ** 2 / (vx**2 / (x.size - 1) + vy**2 / (y.size - 1))
    assert res.df == pytest.approx(df, rel=1e-12)


def test_pooled_ci_equals_scipy_student() -> None:
    x, y = _groups(3)
    res = equivalence(x, y, margin=1.0, usevar="pooled", alpha=0.025)
    ci = stats.ttest_ind(x, y, equal_var=True).confidence_interval(0.95)
    assert (res.ci_low, res.ci_high) == pytest.approx((ci.low, ci.high), rel=1e-12)
    assert res.df == x.size + y.size - 2


def test_one_sided_p_values_equal_scipy_shifted_t_tests() -> None:
    """Schuirmann's two one-sided tests, each done with scipy on shifted data."""
    x, y = _groups(4)
    m = 0.9
    res = equivalence(x, y, margin=m)
    lower = stats.ttest_ind(x + m, y, equal_var=False, alternative="greater")
    upper = stats.ttest_ind(x - m, y, equal_var=False, alternative="less")
    assert res.p_lower == pytest.approx(lower.pvalue, rel=1e-10)
    assert res.p_upper == pytest.approx(upper.pvalue, rel=1e-10)
    assert res.p_value == max(res.p_lower, res.p_upper)


def test_conclusion_agrees_with_ci_inside_the_margin() -> None:
    """TOST at alpha rejects exactly when the 1 - 2 alpha CI lies in (-m, m) (Schuirmann 1987)."""
    rng = np.random.default_rng(2024)
    seen = set()
    for _ in range(400):
        n_t, n_r = rng.integers(3, 25, size=2)
        x = rng.normal(rng.uniform(-1.5, 1.5), rng.uniform(0.3, 2.0), n_t)
        y = rng.normal(0, rng.uniform(0.3, 2.0), n_r)
        alpha = float(rng.choice([0.05, 0.025, 0.1]))
        res = equivalence(x, y, margin=float(rng.uniform(0.2, 2.0)), alpha=alpha)
        inside = -res.margin < res.ci_low and res.ci_high < res.margin
        assert res.equivalent == inside
        seen.add(res.equivalent)
    assert seen == {True, False}


def test_margin_is_k_reference_sd_by_default_and_absolute_when_given() -> None:
    x, y = _groups(1)
    res = equivalence(x, y, k=2.0)
    assert res.margin == pytest.approx(2.0 * np.std(y, ddof=1))
    assert (res.margin_source, res.k, res.margin_basis) == (
        "k_reference_sd",
        2.0,
        "2 × reference SD",
    )
    assert any("itself uncertain" in c for c in res.caveats)

    given = equivalence(x, y, margin=0.5, k=99)
    assert (given.margin, given.margin_source, given.k, given.margin_basis) == (
        0.5,
        "given",
        None,
        "given",
    )
    assert not any("itself uncertain" in c for c in given.caveats)


def test_small_n_caveat_only_below_ten_per_group() -> None:
    x, y = _groups(0, n_test=6, n_ref=12)
    small = equivalence(x, y, margin=1.0)
    assert any("small sample (6 test lots" in c for c in small.caveats)
    x, y = _groups(0, n_test=10, n_ref=10)
    assert not any("small sample" in c for c in equivalence(x, y, margin=1.0).caveats)


def test_unequal_variances_caveat() -> None:
    x, y = _groups(0, sd_test=3.5, n_test=20, n_ref=20)
    res = equivalence(x, y, margin=2.0)
    assert any(c.startswith("unequal variances") and "Welch" in c for c in res.caveats)
    pooled = equivalence(x, y, margin=2.0, usevar="pooled")
    assert any("assumes equal spreads" in c for c in pooled.caveats)
    x, y = _groups(0, sd_test=1.1, n_test=20, n_ref=20)
    assert not any("unequal" in c for c in equivalence(x, y, margin=2.0).caveats)


def test_result_is_typed_frozen_and_serialisable() -> None:
    x, y = _groups(5)
    res = equivalence(x, y)
    assert isinstance(res, EquivalenceResult)
    with pytest.raises(AttributeError):
        res.margin = 3.0  # type: ignore[misc]
    d = res.to_dict()
    json.dumps(d, allow_nan=False)
    assert d["conclusion"] == res.conclusion and d["margin_basis"] == "1.5 × reference SD"
    assert isinstance(d["caveats"], list)
    frame = res.to_frame()
    assert len(frame) == 1 and frame.loc[0, "p_value"] == res.p_value
    assert res.difference == pytest.approx(x.mean() - y.mean())


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"test": [1.0], "reference": [1.0, 2.0]}, "test"),
        ({"test": [1.0, np.nan], "reference": [1.0, 2.0]}, "test"),
        ({"test": [1.0, 2.0], "reference": ["a", "b"]}, "reference"),
        ({"test": [1.0, 2.0], "reference": [1.0, 2.0], "margin": 0}, "margin"),
        ({"test": [1.0, 2.0], "reference": [1.0, 2.0], "k": -1}, "k"),
        ({"test": [1.0, 2.0], "reference": [3.0, 3.0]}, "margin"),
        ({"test": [1.0, 1.0], "reference": [3.0, 3.0], "margin": 1}, "value"),
        ({"test": [1.0, 2.0], "reference": [1.0, 2.0], "alpha": 0.5}, "alpha"),
        ({"test": [1.0, 2.0], "reference": [1.0, 2.0], "usevar": "welch"}, "usevar"),
    ],
)
def test_bad_input_names_the_field(kwargs: dict, field: str) -> None:
    test, reference = kwargs.pop("test"), kwargs.pop("reference")
    with pytest.raises(InvalidInputError) as info:
        equivalence(test, reference, **kwargs)
    assert info.value.field == field
