"""Split-apheresis pairs: statsmodels' ttost_paired exactly, scipy's paired interval, and
every lot that cannot be paired reported rather than dropped."""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.weightstats import ttost_paired

from vein2vein.comparability import paired_equivalence
from vein2vein.errors import InvalidInputError


def test_p_values_and_ci_match_statsmodels_and_scipy(
    split_apheresis: Callable[..., pd.DataFrame],
) -> None:
    frame = split_apheresis(donors=12, shift=0.4)
    res = paired_equivalence(
        frame, cqa="viability", test_site="HUB-B", reference_site="HUB-A", margin=2.0
    )
    wide = frame.pivot(index="donor", columns="site", values="value").sort_index()
    b, a = wide["HUB-B"].to_numpy(), wide["HUB-A"].to_numpy()
    p, (t1, p1, df1), (t2, p2, _) = ttost_paired(b, a, -2.0, 2.0)
    assert (res.p_value, res.p_lower, res.p_upper, res.t_lower, res.t_upper) == (p, p1, p2, t1, t2)
    assert res.df == df1 == 11
    ci = stats.ttest_rel(b, a).confidence_interval(0.90)
    assert (res.ci_low, res.ci_high) == pytest.approx((ci.low, ci.high), rel=1e-12)
    assert res.mean_difference == pytest.approx(np.mean(b - a))
    assert res.equivalent == (res.ci_low > -2.0 and res.ci_high < 2.0)
    assert res.n_pairs == 12 and not res.unmatched
    assert list(res.pairs_frame()["donor"]) == sorted(wide.index)


def test_pairing_removes_donor_variation(split_apheresis: Callable[..., pd.DataFrame]) -> None:
    """Donor SD 4, process SD 1: paired is equivalent where the same lots unpaired are not."""
    from vein2vein.comparability import equivalence

    frame = split_apheresis(donors=10, shift=0.0, donor_sd=6.0, process_sd=0.8)
    paired = paired_equivalence(
        frame, cqa="viability", test_site="HUB-B", reference_site="HUB-A", margin=2.0
    )
    unpaired = equivalence(
        frame.loc[frame["site"] == "HUB-B", "value"],
        frame.loc[frame["site"] == "HUB-A", "value"],
        margin=2.0,
    )
    assert paired.equivalent and not unpaired.equivalent
    assert paired.ci_high - paired.ci_low < (unpaired.ci_high - unpaired.ci_low) / 3


def test_unmatched_lots_are_reported_not_dropped(
    split_apheresis: Callable[..., pd.DataFrame],
) -> None:
    frame = split_apheresis(donors=10)
    extra = pd.DataFrame(
        [
            # a test lot whose reference half was never made
            {
                "lot": "HUB-B-D99",
                "site": "HUB-B",
                "cqa": "viability",
                "value": 84.0,
                "donor": "D99",
            },
            # a reference lot with no donor recorded
            {"lot": "HUB-A-X1", "site": "HUB-A", "cqa": "viability", "value": 86.0, "donor": None},
            # a second HUB-B lot of donor D01: which one pairs is ambiguous
            {
                "lot": "HUB-B-D01b",
                "site": "HUB-B",
                "cqa": "viability",
                "value": 83.0,
                "donor": "D01",
            },
        ]
    )
    res = paired_equivalence(
        pd.concat([frame, extra], ignore_index=True),
        cqa="viability",
        test_site="HUB-B",
        reference_site="HUB-A",
    )
    unmatched = {u.lot: u for u in res.unmatched}
    assert set(unmatched) == {"HUB-B-D99", "HUB-A-X1", "HUB-B-D01b", "HUB-B-D01", "HUB-A-D01"}
    assert unmatched["HUB-B-D99"].reason == "no lot of donor D99 at HUB-A"
    assert unmatched["HUB-A-X1"].reason == "no donor recorded"
    assert "ambiguous" in unmatched["HUB-B-D01b"].reason
    assert unmatched["HUB-A-D01"].reason == "no lot of donor D01 at HUB-B"
    assert res.n_pairs == 9  # D02..D10
    caveat = next(c for c in res.caveats if "could not be paired" in c)
    assert caveat.startswith("5 lot(s)") and "HUB-B-D99" in caveat
    d = res.to_dict()
    json.dumps(d, allow_nan=False)
    assert {u["lot"] for u in d["unmatched"]} == set(unmatched)
    row = res.to_frame().iloc[0]
    assert set(row["unmatched_lots"].split("; ")) == set(unmatched)
    assert "pairs" not in row.index and row["n_pairs"] == 9


def test_default_margin_and_small_n_caveats(split_apheresis: Callable[..., pd.DataFrame]) -> None:
    frame = split_apheresis(donors=6)
    res = paired_equivalence(frame, cqa="viability", test_site="HUB-B", reference_site="HUB-A")
    ref = frame.loc[frame["site"] == "HUB-A", "value"]
    assert res.margin == pytest.approx(1.5 * ref.std(ddof=1))
    assert res.margin_basis == "1.5 × reference SD"
    assert any(c.startswith("small sample (6 pairs of lots") for c in res.caveats)
    assert any("itself uncertain" in c for c in res.caveats)


def test_bad_input(split_apheresis: Callable[..., pd.DataFrame]) -> None:
    frame = split_apheresis(donors=4)
    kwargs = {"cqa": "viability", "test_site": "HUB-B", "reference_site": "HUB-A"}
    with pytest.raises(InvalidInputError) as info:
        paired_equivalence(frame.drop(columns="donor"), **kwargs)
    assert info.value.field == "donor"
    with pytest.raises(InvalidInputError, match=r"unknown reference site 'HUB-Z'.*'HUB-A'"):
        paired_equivalence(frame, **{**kwargs, "reference_site": "HUB-Z"})
    with pytest.raises(InvalidInputError, match="both 'HUB-B'"):
        paired_equivalence(frame, **{**kwargs, "reference_site": "HUB-B"})
    one_pair = frame[frame["donor"].isin(["D01", "D02"]) | (frame["site"] == "HUB-A")]
    one_pair = one_pair[~((one_pair["donor"] == "D02") & (one_pair["site"] == "HUB-A"))]
    with pytest.raises(InvalidInputError, match=r"1 donor.*at least 2"):
        paired_equivalence(one_pair, **kwargs)
