"""Diversity metrics against scikit-bio 0.7 and scirpy on real CARPALL clone counts.

The clone counts come from Cell Ranger's own clonotypes (``raw_clonotype_id``) of real
CARPALL TCR samples, so these tests need no clonotype step of ours.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scirpy as ir
import skbio.diversity.alpha as skalpha
from anndata import AnnData
from scipy.special import gammaln

from vein2vein.errors import InvalidInputError
from vein2vein.singlecell.tl import DIVERSITY_METRICS, diversity

CARPALL = Path(__file__).parents[2].parent / "shared" / "data" / "carpall"
# P02 product (sorted CD3+CAT+ and unsorted) and P01 unsorted product and an M01 blood sample
SAMPLES = ["CAR-T11141511", "CAR-T11141512", "CAR-T11388817", "CAR-T11528950"]


def _cells(sample: str) -> pd.DataFrame:
    path = CARPALL / "VDJ" / sample / "filtered_contig_annotations.csv"
    if not path.is_file():
        pytest.skip(f"shared data folder missing: {path}")
    table = pd.read_csv(path, usecols=["barcode", "raw_clonotype_id"])
    return table.drop_duplicates("barcode").dropna()


@pytest.fixture(scope="module")
def counts() -> dict[str, np.ndarray]:
    return {s: _cells(s)["raw_clonotype_id"].value_counts().to_numpy() for s in SAMPLES}


def test_metrics_equal_scikit_bio_on_real_clone_counts(counts: dict[str, np.ndarray]) -> None:
    table = diversity(counts, n_boot=20)
    for sample, c in counts.items():
        row = table.loc[sample]
        assert row["n_cells"] == c.sum()
        assert row["richness"] == skalpha.observed_features(c)
        assert row["shannon"] == pytest.approx(skalpha.shannon(c, base=np.e), rel=1e-12)
        assert row["pielou"] == pytest.approx(skalpha.pielou_e(c), rel=1e-12)
        assert row["simpson"] == pytest.approx(skalpha.simpson(c), rel=1e-12)
        assert 1 - row["simpson"] == pytest.approx(skalpha.dominance(c), rel=1e-12)
        assert row["inverse_simpson"] == pytest.approx(skalpha.enspie(c), rel=1e-12)
        assert row["chao1"] == pytest.approx(skalpha.chao1(c, bias_corrected=True), rel=1e-12)
        # Gini: ours is the exact mean-difference form = scikit-bio's trapezoid Lorenz area;
        # scikit-bio's default (rectangles) is lower by exactly 1/S.
        assert row["gini"] == pytest.approx(skalpha.gini_index(c, method="trapezoids"), rel=1e-9)
        assert row["gini"] - 1 / len(c) == pytest.approx(skalpha.gini_index(c), rel=1e-9)
        assert row["clonality"] == pytest.approx(1 - skalpha.pielou_e(c), rel=1e-12)
        top = np.sort(c)[::-1]
        assert row["top10_fraction"] == pytest.approx(top[:10].sum() / c.sum())


def test_gini_equals_mean_absolute_difference_definition(counts: dict[str, np.ndarray]) -> None:
    c = counts["CAR-T11141512"].astype(float)
    mad = np.abs(c[:, None] - c[None, :]).sum() / (2 * len(c) ** 2 * c.mean())
    assert diversity(c, n_boot=2).loc["all", "gini"] == pytest.approx(mad, rel=1e-12)


def test_normalized_shannon_and_d50_equal_scirpy(counts: dict[str, np.ndarray]) -> None:
    cells = pd.concat([_cells(s).assign(sample=s) for s in SAMPLES], ignore_index=True).rename(
        columns={"raw_clonotype_id": "clone_id"}
    )
    adata = AnnData(obs=cells.set_index(cells["sample"] + "_" + cells["barcode"]))
    ours = diversity(adata, n_boot=5)
    shannon = ir.tl.alpha_diversity(adata, "sample", inplace=False)
    d50 = ir.tl.alpha_diversity(adata, "sample", metric="D50", inplace=False)
    agree = 0
    for sample in SAMPLES:
        assert ours.loc[sample, "pielou"] == pytest.approx(shannon.loc[sample].iloc[0], rel=1e-9)
        # scirpy reports D50 as a percentage of the number of clones
        scirpy_d50 = round(d50.loc[sample].iloc[0] * ours.loc[sample, "richness"] / 100)
        c = np.sort(counts[sample])[::-1]
        exact = int(np.argmax(2 * np.cumsum(c) >= c.sum())) + 1  # integer arithmetic
        assert ours.loc[sample, "d50"] == exact
        # scirpy sums float frequencies: where the top clones hold exactly half of the
        # cells, rounding can leave its sum just below 0.5 and it takes one clone more
        exactly_half = 2 * np.cumsum(c)[exact - 1] == c.sum()
        assert scirpy_d50 == exact or (exactly_half and scirpy_d50 == exact + 1)
        agree += scirpy_d50 == exact
    assert agree >= 3
    assert adata.uns["v2v_diversity"]["params"]["groupby"] is None
    assert list(adata.uns["v2v_diversity"]["table"].index) == list(ours.index)


def test_rarefaction_to_a_common_depth(counts: dict[str, np.ndarray]) -> None:
    small, large = counts["CAR-T11141512"], counts["CAR-T11141511"]
    table = diversity({"small": small, "large": large}, n_boot=100, seed=1)
    depth = int(small.sum())
    assert (table["depth"] == depth).all()
    # the smaller sample is drawn whole: no spread
    assert table.loc["small", "shannon_lo"] == table.loc["small", "shannon_hi"]
    assert table.loc["small", "shannon_rarefied"] == pytest.approx(table.loc["small", "shannon"])
    # the larger one loses clones when drawn down, with an interval around the median
    row = table.loc["large"]
    assert row["richness_rarefied"] < row["richness"]
    assert row["richness_lo"] <= row["richness_rarefied"] <= row["richness_hi"]
    assert row["richness_lo"] < row["richness_hi"]
    # Hurlbert (1971) eq. 3: expected clones among n cells drawn without replacement
    total = large.sum()
    log_ratio = (
        gammaln(total - large + 1)
        - gammaln(total - large - depth + 1)
        - gammaln(total + 1)
        + gammaln(total - depth + 1)
    )
    hurlbert = np.sum(1 - np.exp(log_ratio))
    assert row["richness_lo"] <= hurlbert <= row["richness_hi"]
    assert abs(row["richness_rarefied"] - hurlbert) < 0.02 * hurlbert


def test_rarefaction_is_seeded_and_skips_small_groups(counts: dict[str, np.ndarray]) -> None:
    c = counts["CAR-T11141511"]
    first = diversity(c, depth=500, n_boot=30, seed=7)
    again = diversity(c, depth=500, n_boot=30, seed=7)
    pd.testing.assert_frame_equal(first, again)
    other = diversity(c, depth=500, n_boot=30, seed=8)
    assert not first.equals(other)
    too_deep = diversity(c, depth=int(c.sum()) + 1, n_boot=3)
    assert np.isnan(too_deep.loc["all", "shannon_rarefied"])
    assert first.attrs["params"] == {
        "clone_key": "clone_id",
        "groupby": None,
        "depth": 500,
        "n_boot": 30,
        "seed": 7,
    }


def test_single_clone_edge_case() -> None:
    row = diversity([5], n_boot=3).loc["all"]
    assert row["shannon"] == 0
    assert np.isnan(row["pielou"])
    assert row["gini"] == 0
    assert row["d50"] == 1
    assert DIVERSITY_METRICS[0] == "richness"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"data": [3, -1]}, "counts"),
        ({"data": [1.5, 2]}, "counts"),
        ({"data": []}, "counts"),
        ({"data": [0, 0]}, "counts"),
        ({"data": [3, 1], "depth": 0}, "depth"),
        ({"data": [3, 1], "n_boot": 0}, "n_boot"),
        ({"data": AnnData(obs=pd.DataFrame(index=["a"])), "clone_key": "clone_id"}, "clone_id"),
    ],
)
def test_bad_input_names_the_field(kwargs: dict, field: str) -> None:
    data = kwargs.pop("data")
    with pytest.raises(InvalidInputError) as err:
        diversity(data, **kwargs)
    assert err.value.field == field
