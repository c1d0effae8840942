"""Clone tracking on real CARPALL patient P02: infusion product through later samples.

CAR+ and state labels are the authors' own (``CARTcell_barcodes.txt``: their CAR T cells
with cell types, named by the GEX sample, whose barcodes the TCR library shares).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scirpy as ir
from anndata import AnnData
from scipy.spatial.distance import jaccard as jaccard_distance

from vein2vein.errors import InvalidInputError
from vein2vein.singlecell.io import read_tcr
from vein2vein.singlecell.tl import TrackingResult, timepoint_months, track_clones
from vein2vein.singlecell.tl._tracking import jaccard, morisita_horn

CARPALL = Path(__file__).parents[2].parent / "shared" / "data" / "carpall"
# P02: sorted CD3+CAT+ and unsorted product (M0), sorted blood M02, sorted marrow M05 and M15
P02 = ["CAR-T11141511", "CAR-T11141512", "CAR-T10310322", "CAR-T10484037", "CAR-T11252627"]


@pytest.fixture(scope="module")
def p02() -> TrackingResult:
    meta_path = CARPALL / "CARPALL_scRNAseq_CART_metadata.txt"
    if not meta_path.is_file():
        pytest.skip(f"shared data folder missing: {meta_path}")
    meta = pd.read_csv(meta_path, sep="\t").set_index("TCR_Sample")
    labels = pd.read_csv(CARPALL / "CARTcell_barcodes.txt", sep="\t")
    labels[["gex", "barcode"]] = labels["CellID"].str.rsplit("_", n=1, expand=True)
    samples = {}
    for tcr in P02:
        adata = read_tcr(CARPALL / "VDJ" / tcr / "filtered_contig_annotations.csv", sample=tcr)
        mine = labels.loc[labels["gex"] == meta.loc[tcr, "GEX_Sample"]].set_index("barcode")
        adata.obs["patient"] = "P02"
        adata.obs["car_positive"] = adata.obs["barcode"].isin(mine.index)
        adata.obs["v2v_state"] = adata.obs["barcode"].map(mine["CellType1"])
        samples[tcr] = adata
    timepoints = meta.loc[P02, "Timepoint"].to_dict()
    return track_clones(samples, patient="P02", timepoints=timepoints, top_n=10)


pytestmark = pytest.mark.slow  # reads and joins ~7,000 cells of five samples (~15 s)


def test_per_sample_table(p02: TrackingResult) -> None:
    frame = p02.to_frame()
    assert list(frame["sample"]) == P02  # ordered by months: M0, M0, M02, M05, M15
    assert list(frame["timepoint"]) == ["M0", "M0", "M02", "M05", "M15"]
    assert p02.product_samples == ("CAR-T11141511", "CAR-T11141512")
    assert frame["fraction_in_product_clones"].between(0, 1).all()
    assert (frame.loc[frame["is_product"], "fraction_in_product_clones"] == 1.0).all()
    later = frame.loc[~frame["is_product"]]
    # observed: 0.25 (M02 blood), 0.10 (M05 marrow), 0.075 (M15 marrow) of cells in
    # product clones; every later sample holds some product clones, none is mostly product
    assert (later["fraction_in_product_clones"] > 0.03).all()
    assert (later["fraction_in_product_clones"] < 0.5).all()
    assert (later["n_product_clones_present"] >= 5).all()
    assert frame["n_cells"].sum() > 6000
    # the authors' CAR T cells: in the sorted samples nearly all labelled cells have TCR
    assert (later["n_car_positive"] > 100).all()
    assert later["fraction_car_positive_in_product_clones"].between(0, 1).all()


def test_overlaps(p02: TrackingResult) -> None:
    for matrix in (p02.morisita_horn, p02.jaccard):
        assert np.allclose(matrix.to_numpy(), matrix.to_numpy().T)
        assert np.allclose(np.diag(matrix.to_numpy()), 1.0)
        assert ((matrix.to_numpy() >= 0) & (matrix.to_numpy() <= 1 + 1e-12)).all()
    # the sorted product shares more with later sorted samples than with nothing
    assert (p02.morisita_horn.loc["CAR-T11141511", P02[2:]] > 0).all()


def test_jaccard_agrees_with_scirpy_repertoire_overlap(p02: TrackingResult) -> None:
    # rebuild a cell table from the top-clone-free route: per-sample clone presence
    counts = pd.DataFrame({"a": [3, 0, 1, 2, 0], "b": [1, 1, 0, 5, 0], "c": [0, 0, 0, 1, 4]})
    cells = [
        (sample, f"clone{i}")
        for sample in counts
        for i, n in enumerate(counts[sample])
        for _ in range(n)
    ]
    obs = pd.DataFrame(cells, columns=["sample", "clone_id"])
    obs.index = obs.index.astype(str)
    with pytest.warns(FutureWarning, match="applymap"):  # scirpy 0.22 on pandas 2.3
        _, distance, _ = ir.tl.repertoire_overlap(AnnData(obs=obs), "sample", inplace=False)
    pairs = [("a", "b"), ("a", "c"), ("b", "c")]  # scipy's pdist order
    for (x, y), d in zip(pairs, distance, strict=True):
        assert jaccard(counts[x], counts[y]) == pytest.approx(1 - d)
        assert jaccard(counts[x], counts[y]) == pytest.approx(
            1 - jaccard_distance(counts[x] > 0, counts[y] > 0)
        )
    assert p02.jaccard.shape == (5, 5)


def test_morisita_horn_against_proportion_form() -> None:
    # Horn (1966) in relative abundances: 2 sum p q / (sum p^2 + sum q^2)
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 20, 50), rng.integers(0, 20, 50)
    p, q = x / x.sum(), y / y.sum()
    assert morisita_horn(x, y) == pytest.approx(2 * (p * q).sum() / ((p**2).sum() + (q**2).sum()))
    assert morisita_horn(x, x) == pytest.approx(1.0)
    assert morisita_horn([1, 0], [0, 1]) == 0.0


def test_top_clones_persist(p02: TrackingResult) -> None:
    top = p02.top_clones
    assert top["rank"].nunique() == 10
    assert len(top) == 10 * len(P02)
    first = top.loc[top["rank"] == 1]
    # observed: the largest product clone (77 cells) is found at every later timepoint
    assert first["product_cells"].iloc[0] >= 50
    assert first.loc[~first["sample"].isin(p02.product_samples), "present"].all()
    assert top.groupby("rank")["persists"].first().sum() >= 5
    assert (top["frequency"].between(0, 1)).all()
    assert p02.params["n_persisting_product_clones"] > 20


def test_state_origin_of_persisting_clones(p02: TrackingResult) -> None:
    origin = p02.state_origin
    assert origin is not None
    assert set(origin.columns) >= {"n_persisting", "fraction_persisting", "fraction_not_persisting"}
    assert origin["fraction_persisting"].sum() == pytest.approx(1.0)
    assert origin["n_persisting"].sum() > 10


def test_timepoints_and_bad_input() -> None:
    assert [timepoint_months(t) for t in ["M0", "M02", "M7.5", "M11.5", "M60"]] == [
        0,
        2,
        7.5,
        11.5,
        60,
    ]
    with pytest.raises(InvalidInputError) as err:
        timepoint_months("day 28")
    assert err.value.field == "timepoint"
    with pytest.raises(InvalidInputError) as err:
        track_clones({}, top_n=0)
    assert err.value.field == "top_n"


def test_tracking_plot_draws_each_top_clone(p02: TrackingResult) -> None:
    from matplotlib.figure import Figure

    from vein2vein.singlecell.pl import clonotype_tracking

    fig = clonotype_tracking(p02)
    assert isinstance(fig, Figure)
    left, right = fig.axes
    assert len(right.get_lines()) == 10
    assert len(left.get_lines()) == 2  # all cells and CAR+ cells
    assert "P02" in fig.texts[0].get_text()


def test_report_draws_the_tracking_plot_through_pl(p02: TrackingResult) -> None:
    from vein2vein.singlecell.profile._report import report_figures

    figures = report_figures(None, p02)
    assert [t for t, _ in figures] == ["Clone tracking: product clones over time"]
    fig = figures[0][1]
    assert fig.get_suptitle() == "Product clones of P02"
    assert [ax.get_xlabel() for ax in fig.axes[:2]] == ["months after infusion"] * 2
