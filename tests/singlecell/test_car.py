"""CAR+ calls: the rule on a hand-made matrix, and sorted vs unsorted CARPALL samples."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from vein2vein.errors import InvalidInputError
from vein2vein.singlecell.io import load_sample
from vein2vein.singlecell.tl import car_positive


def _tiny() -> ad.AnnData:
    # Hand-made counts (not data): 4 cells, a second construct feature for the sum.
    x = np.array([[0, 0, 5], [1, 0, 3], [0, 2, 9], [3, 1, 0]], dtype=np.float32)
    var = pd.DataFrame(index=["CAT_scFv", "OTHER_CAR", "ACTB"])
    obs = pd.DataFrame({"sample": ["a", "a", "b", "b"]}, index=[f"c{i}" for i in range(4)])
    return ad.AnnData(sparse.csr_matrix(x), obs=obs, var=var)


def test_rule_threshold_features_and_per_sample_table() -> None:
    a = _tiny()
    car_positive(a)
    assert a.obs["car_positive"].tolist() == [False, True, False, True]
    assert a.obs["car_positive_umi"].tolist() == [0, 1, 0, 3]
    res = a.uns["v2v_car_positive"]
    assert (res["n_car_positive"], res["fraction"]) == (2, 0.5)
    assert "lower bound" in res["caveat"]
    assert res["per_sample"].loc["a", "fraction"] == 0.5
    assert res["params"] == {
        "features": ["CAT_scFv"],
        "min_umi": 1,
        "layer": "X",
        "key_added": "car_positive",
    }

    b = car_positive(a, features=("CAT_scFv", "OTHER_CAR"), min_umi=2, copy=True)
    assert b is not None
    assert b.obs["car_positive"].tolist() == [False, False, True, True]
    assert a.obs["car_positive"].tolist() == [False, True, False, True]  # copy left a alone


def test_counts_layer_is_preferred_and_bad_options_rejected() -> None:
    a = _tiny()
    a.layers["counts"] = a.X.copy()
    a.X = np.log1p(a.X.toarray())  # normalized X, as after embedding
    car_positive(a)
    assert a.uns["v2v_car_positive"]["params"]["layer"] == "counts"
    assert a.obs["car_positive"].sum() == 2
    with pytest.raises(InvalidInputError, match="raw UMI counts") as err:
        car_positive(_log_only())
    assert err.value.field == "layer"
    with pytest.raises(InvalidInputError, match="not in var_names") as err:
        car_positive(a, features=("CD19CAR",))
    assert err.value.field == "features"
    with pytest.raises(InvalidInputError, match="at least 1"):
        car_positive(a, min_umi=0)


def _log_only() -> ad.AnnData:
    a = _tiny()
    a.X = np.log1p(a.X.toarray())
    return a


def test_sorted_sample_is_mostly_car_positive_unsorted_is_not(sorted_gex, unsorted_gex) -> None:
    # P02: month 5 marrow sorted CD3+CAT+, month 2 blood unsorted
    s = car_positive(sorted_gex, copy=True)
    u = car_positive(unsorted_gex, copy=True)
    assert s is not None and u is not None
    # Computed once on the real files: 232/337 = 0.688 and 2/1005 = 0.002.
    assert s.uns["v2v_car_positive"]["n_car_positive"] == 232
    assert u.uns["v2v_car_positive"]["n_car_positive"] == 2


@pytest.mark.slow
def test_car_fraction_separates_sorted_from_unsorted_in_every_carpall_pair(carpall_sheet) -> None:
    rows = []
    for sample in carpall_sheet:
        if sample.gex is None:
            continue
        gex = load_sample(sample.model_copy(update={"tcr": None}))["gex"]
        car_positive(gex)
        rows.append(
            {
                "patient": sample.patient,
                "timepoint": sample.timepoint,
                "source": sample.source,
                "sort": sample.sort,
                "fraction": gex.uns["v2v_car_positive"]["fraction"],
            }
        )
    table = pd.DataFrame(rows)
    sorted_ = table[table["sort"] == "CD3+CAT+"]
    unsorted = table[table["sort"] == "NoSo"]
    assert len(sorted_) == 22 and len(unsorted) == 12
    # Every unsorted sample is below 2 % (highest: the P02 product, 1.2 %).
    assert unsorted["fraction"].max() < 0.02
    # Sorted samples: median 0.42; 19 of 22 above 5 %. Two sorts (P09 M11.5 blood, P06 M7.5
    # marrow) hold almost no CAR+ and almost no CD8 cells (CAR T cells scarce by then), and
    # P06 M18 blood has 4 %.
    assert sorted_["fraction"].median() > 10 * max(unsorted["fraction"].median(), 0.01)
    assert (sorted_["fraction"] > 0.05).sum() == 19
    # Within every patient/timepoint/source pair the sorted sample has the higher fraction.
    pairs = sorted_.merge(unsorted, on=["patient", "timepoint", "source"], suffixes=("_s", "_u"))
    assert len(pairs) == 7
    assert (pairs["fraction_s"] > pairs["fraction_u"]).all()
