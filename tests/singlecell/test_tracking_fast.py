"""The tracking table equals one computed the simple way (joint clonotypes, plain loops)."""

from __future__ import annotations

import anndata as ad
import numpy as np
import pandas as pd
import pytest

from vein2vein.singlecell._io_tcr import quiet_awkward
from vein2vein.singlecell._tracking import jaccard, morisita_horn
from vein2vein.singlecell.io import read_tcr
from vein2vein.singlecell.tl import define_clonotypes, track_clones

from .conftest import CARPALL

# P02, TCR only: unsorted product (M0), sorted and unsorted marrow at month 5
SMALL = {"CAR-T11141512": "M0", "CAR-T10484037": "M05", "CAR-T10484038": "M05"}


def _read() -> dict[str, ad.AnnData]:
    if not CARPALL.exists():
        pytest.skip(f"shared data folder missing: {CARPALL}")
    return {
        name: read_tcr(CARPALL / "VDJ" / name / "filtered_contig_annotations.csv", sample=name)
        for name in SMALL
    }


def _reference(samples: dict[str, ad.AnnData]) -> pd.DataFrame:
    """Concatenate, define clonotypes once on the whole, count with plain Python."""
    with quiet_awkward():
        joint = ad.concat(list(samples.values()), join="inner")
    define_clonotypes(joint)
    obs = joint.obs.loc[joint.obs["clone_id"].notna()]
    per = {s: obs.loc[obs["sample"] == s, "clone_id"].astype(str).tolist() for s in SMALL}
    product = {c for s, tp in SMALL.items() if tp == "M0" for c in per[s]}
    clones = sorted({c for cells in per.values() for c in cells})
    vectors = {s: np.array([per[s].count(c) for c in clones]) for s in SMALL}
    pooled = sum(vectors[s] for s, tp in SMALL.items() if tp == "M0")
    rows = []
    for s in sorted(SMALL, key=lambda x: (int(SMALL[x][1:]), x)):
        present = set(per[s])
        rows.append(
            {
                "sample": s,
                "n_cells": len(per[s]),
                "n_clones": len(present),
                "fraction_in_product_clones": sum(c in product for c in per[s]) / len(per[s]),
                "n_product_clones_present": len(present & product),
                "morisita_horn_to_product": morisita_horn(vectors[s], pooled),
                "jaccard_to_product": jaccard(vectors[s], pooled),
            }
        )
    return pd.DataFrame(rows)


@pytest.mark.slow  # three TCR files through scirpy's reader and clonotype network (~8 s)
def test_tracking_equals_the_simple_joint_computation() -> None:
    samples = _read()
    reference = _reference({k: v.copy() for k, v in samples.items()})
    frame = track_clones(samples, timepoints=SMALL).to_frame()
    pd.testing.assert_frame_equal(
        frame[list(reference.columns)], reference, check_dtype=False, check_exact=True
    )
    assert frame["n_cells"].sum() > 500
    assert 0 < frame.loc[2, "fraction_in_product_clones"] < 1
