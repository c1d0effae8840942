"""Quality range: reference mean ± k SD and the share of test lots inside."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from vein2vein.comparability import quality_range
from vein2vein.errors import InvalidInputError


def test_counts_against_a_hand_computed_range() -> None:
    reference = [10.0, 12.0, 14.0]  # mean 12, SD 2 -> range 6 to 18 with k = 3
    test = pd.Series([5.9, 6.0, 12.0, 17.99, 18.0, 18.01], index=[f"B{i}" for i in range(6)])
    res = quality_range(test, reference, k=3.0, required_share=0.5)
    assert (res.reference_mean, res.reference_sd, res.low, res.high) == (12.0, 2.0, 6.0, 18.0)
    assert (res.n_test, res.n_inside, res.n_below, res.n_above) == (6, 4, 1, 1)
    assert res.share_inside == pytest.approx(4 / 6)
    assert res.lots_outside == ("B0", "B5")  # the limits themselves count as inside
    assert res.meets and res.conclusion == "within quality range"


def test_required_share_is_decided_on_counts() -> None:
    reference = np.linspace(0, 10, 11)
    test = [5.0] * 9 + [100.0]  # 9 of 10 inside
    assert quality_range(test, reference, required_share=0.9).meets
    assert not quality_range(test, reference, required_share=0.91).meets
    res = quality_range(test, reference)
    assert res.lots_outside == ("9",)  # positions when no lot index is given


def test_k_widens_the_range() -> None:
    rng = np.random.default_rng(3)
    reference = rng.normal(50, 5, 40)
    test = rng.normal(58, 5, 40)  # shifted by 1.6 SD
    narrow = quality_range(test, reference, k=1.0)
    wide = quality_range(test, reference, k=3.0)
    assert narrow.n_inside < wide.n_inside
    assert wide.high - wide.low == pytest.approx(6 * np.std(reference, ddof=1))


def test_caveats_for_few_lots_and_always_the_power_note() -> None:
    small = quality_range([1.0, 2.0], [1.0, 2.0, 3.0])
    assert any("only 3 reference lots" in c for c in small.caveats)
    assert any("only 2 test lots" in c for c in small.caveats)
    big = quality_range(np.arange(20.0), np.arange(20.0))
    assert len(big.caveats) == 1 and "not means" in big.caveats[0]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"test": [], "reference": [1.0, 2.0]}, "test"),
        ({"test": [1.0], "reference": [1.0]}, "reference"),
        ({"test": [1.0], "reference": [1.0, 2.0], "k": 0}, "k"),
        ({"test": [1.0], "reference": [1.0, 2.0], "required_share": 1.2}, "required_share"),
        ({"test": [np.inf], "reference": [1.0, 2.0]}, "test"),
    ],
)
def test_bad_input(kwargs: dict, field: str) -> None:
    test, reference = kwargs.pop("test"), kwargs.pop("reference")
    with pytest.raises(InvalidInputError) as info:
        quality_range(test, reference, **kwargs)
    assert info.value.field == field
